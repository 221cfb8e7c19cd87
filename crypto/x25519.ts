/**
 * X25519 key agreement (RFC 7748 §5), from `@noble/curves`.
 *
 * Private keys are 32 random bytes (clamped inside the scalar multiplication, RFC 7748 §5);
 * public keys are 32-byte little-endian u-coordinates. A peer public key of low order (the
 * shared secret would be all zeros, RFC 7748 §6.1) is rejected with
 * `CryptoError` `LOW_ORDER_PUBLIC_KEY`.
 *
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { CryptoError } from "./errors.ts";
import { randomBytes } from "./random.ts";

/** An X25519 key pair: 32-byte private scalar, 32-byte public u-coordinate. */
export interface X25519KeyPair {
  /** 32 random bytes. Keep secret. */
  privateKey: Uint8Array;
  /** 32 bytes, RFC 7748 little-endian u-coordinate. */
  publicKey: Uint8Array;
}

const KEY_LENGTH = 32;

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

/**
 * Generates a fresh X25519 key pair from `crypto.getRandomValues`.
 *
 * @returns The key pair.
 */
export function generateX25519KeyPair(): X25519KeyPair {
  const privateKey = randomBytes(KEY_LENGTH);
  return { privateKey, publicKey: x25519PublicKey(privateKey) };
}

/**
 * Computes the public key of an X25519 private key (scalar multiplication of the base point 9).
 *
 * @param privateKey 32 bytes.
 * @returns The 32-byte public key.
 * @throws {CryptoError} `BAD_PRIVATE_KEY` if `privateKey` is not 32 bytes.
 */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  checkPrivate(privateKey);
  return x25519.getPublicKey(privateKey);
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
  checkPrivate(privateKey);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_LENGTH) {
    throw new CryptoError(
      "BAD_PUBLIC_KEY",
      `Invalid X25519 public key length "${
        publicKey instanceof Uint8Array ? publicKey.length : typeof publicKey
      }": expected 32 bytes`,
    );
  }
  let shared: Uint8Array;
  try {
    // With both lengths checked, noble throws only for a low-order point (it checks the
    // blocklist before the ladder and the all-zero result after it).
    shared = x25519.getSharedSecret(privateKey, publicKey);
  } catch {
    throw new CryptoError(
      "LOW_ORDER_PUBLIC_KEY",
      "Rejected X25519 public key: low order, the shared secret would be all zeros",
    );
  }
  let acc = 0;
  for (const byte of shared) acc |= byte;
  if (acc === 0) {
    throw new CryptoError(
      "LOW_ORDER_PUBLIC_KEY",
      "Rejected X25519 public key: low order, the shared secret would be all zeros",
    );
  }
  return shared;
}
