/**
 * Hashes and key derivation: SHA-256, SHA-512, HMAC-SHA-256, HKDF-SHA-256 (RFC 5869) and the
 * per-peer, per-direction key helper `derivePeerKeys`. All from `@noble/hashes`.
 *
 * @module
 */
import { hkdf as nobleHkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8Encode } from "./bytes.ts";
import { CryptoError } from "./errors.ts";

/** Default HKDF `info` label of {@link derivePeerKeys}. */
export const PEER_KEYS_LABEL = "hush-peer-keys-v1";

/** Largest HKDF-SHA-256 output: 255 * 32 bytes (RFC 5869 §2.3). */
export const HKDF_MAX_LENGTH = 255 * 32;

/**
 * SHA-256 (FIPS 180-4).
 *
 * @param data The message.
 * @returns The 32-byte digest.
 */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * SHA-512 (FIPS 180-4).
 *
 * @param data The message.
 * @returns The 64-byte digest.
 */
export function sha512(data: Uint8Array): Uint8Array {
  return nobleSha512(data);
}

/**
 * HMAC-SHA-256 (RFC 2104).
 *
 * @param key The MAC key, any length.
 * @param data The message.
 * @returns The 32-byte MAC.
 */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}

/**
 * HKDF-SHA-256 (RFC 5869): extract with `salt`, expand with `info` to `length` bytes.
 *
 * @param ikm Input keying material (e.g. an X25519 shared secret).
 * @param options `salt` (default: 32 zero bytes, per RFC 5869 §2.2), `info` (a string is
 *   UTF-8 encoded; Hush labels are ASCII like `"hush-peer-keys-v1"`), `length` in bytes
 *   (0..8160).
 * @returns `length` bytes of output keying material.
 * @throws {RangeError} If `length` is not an integer in 0..8160.
 */
export function hkdf(
  ikm: Uint8Array,
  options: { salt?: Uint8Array; info: string | Uint8Array; length: number },
): Uint8Array {
  const { length } = options;
  if (!Number.isInteger(length) || length < 0 || length > HKDF_MAX_LENGTH) {
    throw new RangeError(`Invalid HKDF length "${length}": expected 0..${HKDF_MAX_LENGTH}`);
  }
  const info = typeof options.info === "string" ? utf8Encode(options.info) : options.info;
  if (length === 0) return new Uint8Array(0);
  return nobleHkdf(nobleSha256, ikm, options.salt, info, length);
}

/**
 * Derives a per-peer, per-direction key pair from a shared secret, so that Alice's `sendKey`
 * is Bob's `receiveKey` (and vice versa) and never equal to Alice's own `receiveKey`.
 *
 * Each direction's key is `HKDF-SHA-256(ikm = sharedSecret, salt = none,
 * info = utf8(label) || 0x00 || senderPublicKey || receiverPublicKey, length = keyLength)`:
 * `sendKey` uses (myPublicKey, peerPublicKey), `receiveKey` uses (peerPublicKey, myPublicKey).
 *
 * @param sharedSecret The shared secret (e.g. from `x25519SharedSecret`).
 * @param options `myPublicKey` and `peerPublicKey` (32 bytes each, different), `keyLength`
 *   (default 32), `label` (default `"hush-peer-keys-v1"`).
 * @returns `{ sendKey, receiveKey }`, each `keyLength` bytes.
 * @throws {CryptoError} `BAD_PUBLIC_KEY` if a public key is not 32 bytes or both are equal.
 * @throws {RangeError} If `keyLength` is not in 1..8160.
 */
export function derivePeerKeys(
  sharedSecret: Uint8Array,
  options: {
    myPublicKey: Uint8Array;
    peerPublicKey: Uint8Array;
    keyLength?: number;
    label?: string;
  },
): { sendKey: Uint8Array; receiveKey: Uint8Array } {
  const { myPublicKey, peerPublicKey } = options;
  const keyLength = options.keyLength ?? 32;
  const label = options.label ?? PEER_KEYS_LABEL;
  for (const [name, key] of [["my", myPublicKey], ["peer", peerPublicKey]] as const) {
    if (!(key instanceof Uint8Array) || key.length !== 32) {
      throw new CryptoError(
        "BAD_PUBLIC_KEY",
        `Invalid ${name} public key length "${
          key instanceof Uint8Array ? key.length : typeof key
        }": expected 32 bytes`,
      );
    }
  }
  let same = true;
  for (let i = 0; i < 32; i++) if (myPublicKey[i] !== peerPublicKey[i]) same = false;
  if (same) {
    throw new CryptoError(
      "BAD_PUBLIC_KEY",
      "Cannot derive peer keys: my public key equals the peer public key",
    );
  }
  if (!Number.isInteger(keyLength) || keyLength < 1 || keyLength > HKDF_MAX_LENGTH) {
    throw new RangeError(`Invalid key length "${keyLength}": expected 1..${HKDF_MAX_LENGTH}`);
  }
  const prefix = concatBytes(utf8Encode(label), new Uint8Array([0]));
  return {
    sendKey: hkdf(sharedSecret, {
      info: concatBytes(prefix, myPublicKey, peerPublicKey),
      length: keyLength,
    }),
    receiveKey: hkdf(sharedSecret, {
      info: concatBytes(prefix, peerPublicKey, myPublicKey),
      length: keyLength,
    }),
  };
}
