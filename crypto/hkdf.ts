/**
 * Hashes and key derivation: SHA-256, SHA-512, HMAC-SHA-256, HKDF-SHA-256 (RFC 5869) and the
 * per-peer, per-direction key helper `derivePeerKeys`.
 *
 * Two backends with identical outputs: `node:crypto` (`createHash`, `createHmac`, `hkdfSync`)
 * and `noble` (`@noble/hashes`, pure TypeScript, the browser fallback). Each function uses the
 * backend measured fastest for its input size ({@link NODE_HASH_FROM_BYTES}; figures in
 * docs/CRYPTO.md).
 *
 * @module
 */
import { hkdf as nobleHkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { loadNodeCrypto, type NodeCrypto } from "./_node_crypto.ts";
import { concatBytes, utf8Encode } from "./bytes.ts";
import { CryptoError } from "./errors.ts";

/** Default HKDF `info` label of {@link derivePeerKeys}. */
export const PEER_KEYS_LABEL = "hush-peer-keys-v1";

/** Largest HKDF-SHA-256 output: 255 * 32 bytes (RFC 5869 §2.3). */
export const HKDF_MAX_LENGTH = 255 * 32;

/**
 * One raw hash implementation. Arguments are `Uint8Array`s and `length` is in 1..8160 (checked
 * by {@link bindHashes}); results are fresh plain `Uint8Array`s.
 */
export interface HashBackend {
  /** `"node:crypto"` or `"noble"`. */
  readonly backend: string;
  /** SHA-256 (FIPS 180-4). */
  sha256(data: Uint8Array): Uint8Array;
  /** SHA-512 (FIPS 180-4). */
  sha512(data: Uint8Array): Uint8Array;
  /** HMAC-SHA-256 (RFC 2104). */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-SHA-256 (RFC 5869); `salt` undefined means 32 zero bytes. */
  hkdf(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array;
}

/** The hash functions over one backend, with every check of the public functions. */
export interface Hashes {
  /** `"node:crypto"` or `"noble"`. */
  readonly backend: string;
  /** See {@link sha256}. */
  sha256(data: Uint8Array): Uint8Array;
  /** See {@link sha512}. */
  sha512(data: Uint8Array): Uint8Array;
  /** See {@link hmacSha256}. */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** See {@link hkdf}. */
  hkdf(
    ikm: Uint8Array,
    options: { salt?: Uint8Array; info: string | Uint8Array; length: number },
  ): Uint8Array;
}

/** The `noble` backend (`@noble/hashes`): pure TypeScript, works everywhere. */
export const HASHES_NOBLE: HashBackend = Object.freeze({
  backend: "noble",
  sha256: (data: Uint8Array) => nobleSha256(data),
  sha512: (data: Uint8Array) => nobleSha512(data),
  hmacSha256: (key: Uint8Array, data: Uint8Array) => hmac(nobleSha256, key, data),
  hkdf: (ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number) =>
    nobleHkdf(nobleSha256, ikm, salt, info, length),
});

/** Longest HKDF `info` `node:crypto` `hkdfSync` takes; longer ones go to noble. */
const NODE_HKDF_MAX_INFO = 1024;
const ZERO_SALT = new Uint8Array(32);

/**
 * The `node:crypto` backend, or `undefined` where the runtime has no `node:crypto` (a
 * browser). HKDF with an `info` longer than 1,024 bytes (the limit of `hkdfSync`) is computed
 * by noble, with the same result.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined`.
 * @returns The backend, or `undefined`.
 */
export function hashesNode(nodeCrypto: NodeCrypto | undefined): HashBackend | undefined {
  if (!nodeCrypto || typeof nodeCrypto.hkdfSync !== "function") return undefined;
  const nc = nodeCrypto;
  try {
    const hashes = nc.getHashes();
    if (!hashes.includes("sha256") || !hashes.includes("sha512")) return undefined;
  } catch {
    return undefined;
  }
  // `new Uint8Array(buffer)` copies into a plain Uint8Array, never a possibly pooled Buffer.
  return Object.freeze({
    backend: "node:crypto",
    sha256: (data: Uint8Array) => new Uint8Array(nc.createHash("sha256").update(data).digest()),
    sha512: (data: Uint8Array) => new Uint8Array(nc.createHash("sha512").update(data).digest()),
    hmacSha256: (key: Uint8Array, data: Uint8Array) =>
      new Uint8Array(nc.createHmac("sha256", key).update(data).digest()),
    hkdf(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number) {
      if (info.length > NODE_HKDF_MAX_INFO) return HASHES_NOBLE.hkdf(ikm, salt, info, length);
      return new Uint8Array(nc.hkdfSync("sha256", ikm, salt ?? ZERO_SALT, info, length));
    },
  });
}

function checkBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot hash ${name}: expected a Uint8Array, got ${typeof value}`);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Binds a backend with the checks of the public functions: `Uint8Array` arguments (else
 * `TypeError`), HKDF `length` an integer in 0..8160 (else `RangeError`), a string `info` UTF-8
 * encoded, length 0 giving an empty result.
 *
 * @param raw The backend.
 * @returns The checked functions.
 */
export function bindHashes(raw: HashBackend): Hashes {
  return Object.freeze({
    backend: raw.backend,
    sha256(data: Uint8Array): Uint8Array {
      checkBytes(data, "data");
      return raw.sha256(data);
    },
    sha512(data: Uint8Array): Uint8Array {
      checkBytes(data, "data");
      return raw.sha512(data);
    },
    hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
      checkBytes(key, "key");
      checkBytes(data, "data");
      return raw.hmacSha256(key, data);
    },
    hkdf(
      ikm: Uint8Array,
      options: { salt?: Uint8Array; info: string | Uint8Array; length: number },
    ): Uint8Array {
      const { length, salt } = options;
      if (!Number.isInteger(length) || length < 0 || length > HKDF_MAX_LENGTH) {
        throw new RangeError(`Invalid HKDF length "${length}": expected 0..${HKDF_MAX_LENGTH}`);
      }
      checkBytes(ikm, "ikm");
      if (salt !== undefined) checkBytes(salt, "salt");
      // An omitted `info` (possible from plain JavaScript) is empty, as noble always had it.
      const info = typeof options.info === "string"
        ? utf8Encode(options.info)
        : (options.info ?? EMPTY);
      checkBytes(info, "info");
      if (length === 0) return new Uint8Array(0);
      return raw.hkdf(ikm, salt, info, length);
    },
  });
}

/**
 * Every hash backend a runtime offers (`node:crypto`, then `noble`), each bound with
 * {@link bindHashes}.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined` (a browser): then only noble.
 * @returns The bound backends.
 */
export function buildHashes(nodeCrypto: NodeCrypto | undefined): readonly Hashes[] {
  const raws = [hashesNode(nodeCrypto), HASHES_NOBLE].filter((b) => b !== undefined);
  return Object.freeze(raws.map(bindHashes));
}

/** The hash backends of this runtime, `node:crypto` first where present. */
export const HASH_BACKENDS: readonly Hashes[] = buildHashes(loadNodeCrypto());

/**
 * Input size (bytes: `data`, or `key` + `data` for HMAC) from which each function uses
 * `node:crypto` when the runtime has it; below it, noble. Chosen by measurement (Deno 2.9.6,
 * docs/CRYPTO.md): a `node:crypto` call costs a fixed ~2-4 µs (hash object, Buffer), so noble
 * wins on short inputs and native code on long ones; SHA-512 and HKDF are faster native at
 * every size.
 */
export const NODE_HASH_FROM_BYTES: Readonly<
  Record<"sha256" | "sha512" | "hmacSha256" | "hkdf", number>
> = Object.freeze({
  sha256: 256,
  sha512: 0,
  hmacSha256: 512,
  hkdf: 0,
});

const NATIVE: Hashes | undefined = HASH_BACKENDS.find((h) => h.backend === "node:crypto");
const NOBLE: Hashes = HASH_BACKENDS.find((h) => h.backend === "noble")!;

function pick(name: keyof typeof NODE_HASH_FROM_BYTES, size: number): Hashes {
  return NATIVE !== undefined && size >= NODE_HASH_FROM_BYTES[name] ? NATIVE : NOBLE;
}

/**
 * SHA-256 (FIPS 180-4).
 *
 * @param data The message.
 * @returns The 32-byte digest.
 * @throws {TypeError} If `data` is not a Uint8Array.
 */
export function sha256(data: Uint8Array): Uint8Array {
  return pick("sha256", data?.length ?? 0).sha256(data);
}

/**
 * SHA-512 (FIPS 180-4).
 *
 * @param data The message.
 * @returns The 64-byte digest.
 * @throws {TypeError} If `data` is not a Uint8Array.
 */
export function sha512(data: Uint8Array): Uint8Array {
  return pick("sha512", data?.length ?? 0).sha512(data);
}

/**
 * HMAC-SHA-256 (RFC 2104).
 *
 * @param key The MAC key, any length.
 * @param data The message.
 * @returns The 32-byte MAC.
 * @throws {TypeError} If `key` or `data` is not a Uint8Array.
 */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return pick("hmacSha256", (key?.length ?? 0) + (data?.length ?? 0)).hmacSha256(key, data);
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
 * @throws {TypeError} If `ikm`, `salt` or a non-string `info` is not a Uint8Array.
 */
export function hkdf(
  ikm: Uint8Array,
  options: { salt?: Uint8Array; info: string | Uint8Array; length: number },
): Uint8Array {
  return pick("hkdf", 0).hkdf(ikm, options);
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
