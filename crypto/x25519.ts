/**
 * X25519 key agreement (RFC 7748 §5).
 *
 * Two backends with identical behaviour: `node:crypto` (the runtime's native code, the
 * default where it exists) and `noble` (`@noble/curves`, pure TypeScript, the browser
 * fallback). Private keys are 32 random bytes (clamped inside the scalar multiplication, RFC
 * 7748 §5); public keys are 32-byte little-endian u-coordinates. A peer public key of low order
 * (the shared secret would be all zeros, RFC 7748 §6.1) is rejected with `CryptoError`
 * `LOW_ORDER_PUBLIC_KEY` by both backends.
 *
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { concatBytes, fromHex } from "./bytes.ts";
import { type DerBytes, loadNodeCrypto, type NodeCrypto } from "./_node_crypto.ts";
import { CryptoError } from "./errors.ts";
import { randomBytes } from "./random.ts";

/** An X25519 key pair: 32-byte private scalar, 32-byte public u-coordinate. */
export interface X25519KeyPair {
  /** 32 random bytes. Keep secret. */
  privateKey: Uint8Array;
  /** 32 bytes, RFC 7748 little-endian u-coordinate. */
  publicKey: Uint8Array;
}

/**
 * One raw X25519 implementation. Both arguments are 32-byte `Uint8Array`s (checked by
 * {@link bindX25519}). `sharedSecret` may throw or return all zeros for a low-order key; the
 * binding maps both to `LOW_ORDER_PUBLIC_KEY`.
 */
export interface X25519Backend {
  /** `"node:crypto"` or `"noble"`. */
  readonly backend: string;
  /** The public key of a private key (a fresh plain `Uint8Array`). */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** The raw shared secret (a fresh plain `Uint8Array`). */
  sharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

/** X25519 over one backend, with every check of the public functions. */
export interface X25519 {
  /** `"node:crypto"` or `"noble"`. */
  readonly backend: string;
  /** See {@link generateX25519KeyPair}. */
  generateKeyPair(): X25519KeyPair;
  /** See {@link x25519PublicKey}. */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /** See {@link x25519SharedSecret}. */
  sharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

const KEY_LENGTH = 32;

/** The `noble` backend (`@noble/curves`): pure TypeScript, works everywhere. */
export const X25519_NOBLE: X25519Backend = Object.freeze({
  backend: "noble",
  publicKey: (privateKey: Uint8Array) => x25519.getPublicKey(privateKey),
  // noble throws for a low-order point: it checks the blocklist of the low-order encodings
  // before the ladder and the all-zero result after it.
  sharedSecret: (privateKey: Uint8Array, publicKey: Uint8Array) =>
    x25519.getSharedSecret(privateKey, publicKey),
});

// DER framing of raw X25519 keys (RFC 8410): PKCS#8 for a private key, SPKI for a public key.
const PKCS8_PREFIX = fromHex("302e020100300506032b656e04220420");
const SPKI_PREFIX = fromHex("302a300506032b656e032100");

// RFC 7748 §6.1: Alice's private key and public key, the start-up self-test.
const PROBE_PRIVATE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const PROBE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

/**
 * The `node:crypto` backend, or `undefined` where the runtime has no `node:crypto` X25519 (a
 * browser, an older runtime): keys enter as DER (PKCS#8 / SPKI prefix || raw key), the shared
 * secret comes from `diffieHellman`. A start-up self-test (RFC 7748 §6.1 public key) must pass.
 *
 * Whenever `diffieHellman` throws (it does for exactly the low-order keys: the all-zero
 * result), the call is recomputed with noble, so the outcome is noble's by construction.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined`.
 * @returns The backend, or `undefined`.
 */
export function x25519Node(nodeCrypto: NodeCrypto | undefined): X25519Backend | undefined {
  if (!nodeCrypto || typeof nodeCrypto.diffieHellman !== "function") return undefined;
  const nc = nodeCrypto;
  const privateKeyObject = (privateKey: Uint8Array) =>
    nc.createPrivateKey({
      key: concatBytes(PKCS8_PREFIX, privateKey) as DerBytes,
      format: "der",
      type: "pkcs8",
    });
  const backend: X25519Backend = Object.freeze({
    backend: "node:crypto",
    publicKey(privateKey: Uint8Array): Uint8Array {
      const spki = nc.createPublicKey(privateKeyObject(privateKey)).export({
        format: "der",
        type: "spki",
      });
      if (spki.length !== SPKI_PREFIX.length + KEY_LENGTH) {
        throw new Error(`Unexpected X25519 SPKI length "${spki.length}"`);
      }
      return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
    },
    sharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
      let shared: Uint8Array;
      try {
        shared = nc.diffieHellman({
          privateKey: privateKeyObject(privateKey),
          publicKey: nc.createPublicKey({
            key: concatBytes(SPKI_PREFIX, publicKey) as DerBytes,
            format: "der",
            type: "spki",
          }),
        });
      } catch {
        // OpenSSL refuses an all-zero result ("failed during derivation"); let noble decide
        // (it throws for a low-order key), so no other failure can change the outcome.
        return X25519_NOBLE.sharedSecret(privateKey, publicKey);
      }
      return new Uint8Array(shared); // a plain copy, never a possibly pooled Buffer
    },
  });
  try {
    const probe = backend.publicKey(fromHex(PROBE_PRIVATE));
    const want = fromHex(PROBE_PUBLIC);
    if (probe.length !== KEY_LENGTH || probe.some((b, i) => b !== want[i])) return undefined;
  } catch {
    return undefined;
  }
  return backend;
}

function checkPrivate(privateKey: Uint8Array): void {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== KEY_LENGTH) {
    throw new CryptoError(
      "BAD_PRIVATE_KEY",
      `Invalid X25519 private key length "${
        privateKey instanceof Uint8Array ? privateKey.length : typeof privateKey
      }": expected 32 bytes`,
    );
  }
}

function checkPublic(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_LENGTH) {
    throw new CryptoError(
      "BAD_PUBLIC_KEY",
      `Invalid X25519 public key length "${
        publicKey instanceof Uint8Array ? publicKey.length : typeof publicKey
      }": expected 32 bytes`,
    );
  }
}

function lowOrder(): CryptoError {
  return new CryptoError(
    "LOW_ORDER_PUBLIC_KEY",
    "Rejected X25519 public key: low order, the shared secret would be all zeros",
  );
}

/**
 * Binds a backend with the checks of the public functions: lengths (`BAD_PRIVATE_KEY`,
 * `BAD_PUBLIC_KEY`), and any throw or all-zero result of `sharedSecret` mapped to
 * `LOW_ORDER_PUBLIC_KEY`.
 *
 * @param raw The backend.
 * @returns The checked functions.
 */
export function bindX25519(raw: X25519Backend): X25519 {
  const publicKey = (privateKey: Uint8Array): Uint8Array => {
    checkPrivate(privateKey);
    return raw.publicKey(privateKey);
  };
  return Object.freeze({
    backend: raw.backend,
    generateKeyPair(): X25519KeyPair {
      const privateKey = randomBytes(KEY_LENGTH);
      return { privateKey, publicKey: publicKey(privateKey) };
    },
    publicKey,
    sharedSecret(privateKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array {
      checkPrivate(privateKey);
      checkPublic(peerPublicKey);
      let shared: Uint8Array;
      try {
        // With both lengths checked, a backend throws only for a low-order point.
        shared = raw.sharedSecret(privateKey, peerPublicKey);
      } catch {
        throw lowOrder();
      }
      let acc = 0;
      for (const byte of shared) acc |= byte;
      if (acc === 0) throw lowOrder();
      return shared;
    },
  });
}

/**
 * Every X25519 backend a runtime offers, default first (`node:crypto`, then `noble`), each
 * bound with {@link bindX25519}.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined` (a browser): then only noble.
 * @returns The bound backends.
 */
export function buildX25519(nodeCrypto: NodeCrypto | undefined): readonly X25519[] {
  const raws = [x25519Node(nodeCrypto), X25519_NOBLE].filter((b) => b !== undefined);
  return Object.freeze(raws.map(bindX25519));
}

/** The X25519 backends of this runtime, default first (tests and benchmarks use them all). */
export const X25519_BACKENDS: readonly X25519[] = buildX25519(loadNodeCrypto());

const DEFAULT: X25519 = X25519_BACKENDS[0]!;

/**
 * Generates a fresh X25519 key pair: 32 bytes from `crypto.getRandomValues`, and its public
 * key.
 *
 * @returns The key pair.
 */
export function generateX25519KeyPair(): X25519KeyPair {
  return DEFAULT.generateKeyPair();
}

/**
 * Computes the public key of an X25519 private key (scalar multiplication of the base point 9).
 *
 * @param privateKey 32 bytes.
 * @returns The 32-byte public key.
 * @throws {CryptoError} `BAD_PRIVATE_KEY` if `privateKey` is not 32 bytes.
 */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return DEFAULT.publicKey(privateKey);
}

/**
 * Computes the X25519 shared secret of my private key and a peer's public key.
 *
 * The result is raw key material: feed it to HKDF (`derivePeerKeys`), never use it as a key.
 *
 * @param privateKey My 32-byte private key.
 * @param publicKey The peer's 32-byte public key. Non-canonical u-coordinates (>= 2^255 - 19)
 *   are reduced and the top bit is ignored, as RFC 7748 §5 requires.
 * @returns The 32-byte shared secret, never all zeros.
 * @throws {CryptoError} `BAD_PRIVATE_KEY` / `BAD_PUBLIC_KEY` for a key that is not 32 bytes;
 *   `LOW_ORDER_PUBLIC_KEY` if the peer key has low order (the shared secret would be all
 *   zeros, RFC 7748 §6.1).
 */
export function x25519SharedSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return DEFAULT.sharedSecret(privateKey, publicKey);
}
