/**
 * Ed25519 identity keys (RFC 8032 §5.1), from `@noble/curves`.
 *
 * Self-contained on purpose: it imports only `errors.ts`, `bytes.ts`, `random.ts` and noble, so
 * the relay can verify signatures without pulling in any cipher suite.
 *
 * Verification is strict RFC 8032 / FIPS 186-5 (noble `zip215: false`): non-canonical point
 * encodings and `S >= L` are rejected, so signatures are not malleable.
 *
 * Identity text form (stable, version 1), one line, lowercase hex:
 * `hush-identity-v1:<64 hex: 32-byte seed>:<64 hex: 32-byte public key>`.
 * It holds the PRIVATE seed: store it like a password.
 *
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { fromHex, toHex } from "./bytes.ts";
import { CryptoError } from "./errors.ts";
import { randomBytes } from "./random.ts";

/** An Ed25519 identity key pair. */
export interface IdentityKeyPair {
  /** The 32-byte private seed (RFC 8032 §5.1.5 "private key"). Keep secret. */
  privateKey: Uint8Array;
  /** The 32-byte public key (RFC 8032 §5.1.5 encoding). */
  publicKey: Uint8Array;
}

/** Prefix of the identity text form. */
export const IDENTITY_TEXT_PREFIX = "hush-identity-v1:";

const IDENTITY_PATTERN = /^hush-identity-v1:([0-9a-f]{64}):([0-9a-f]{64})$/;

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new CryptoError(
      "BAD_PRIVATE_KEY",
      `Invalid Ed25519 private key length "${
        seed instanceof Uint8Array ? seed.length : typeof seed
      }": expected a 32-byte seed`,
    );
  }
}

/**
 * Generates a fresh identity from 32 bytes of `crypto.getRandomValues`.
 *
 * @returns The key pair.
 */
export function generateIdentityKeyPair(): IdentityKeyPair {
  return identityFromSeed(randomBytes(32));
}

/**
 * Rebuilds an identity key pair from its 32-byte seed.
 *
 * @param seed The 32-byte private seed.
 * @returns The key pair (a copy of the seed and its public key).
 * @throws {CryptoError} `BAD_PRIVATE_KEY` if `seed` is not 32 bytes.
 */
export function identityFromSeed(seed: Uint8Array): IdentityKeyPair {
  checkSeed(seed);
  const privateKey = seed.slice();
  return { privateKey, publicKey: ed25519.getPublicKey(privateKey) };
}

/**
 * Signs a message (pure Ed25519, RFC 8032 §5.1.6; deterministic).
 *
 * @param privateKey The 32-byte seed.
 * @param message Any bytes.
 * @returns The 64-byte signature `R || S`.
 * @throws {CryptoError} `BAD_PRIVATE_KEY` if `privateKey` is not 32 bytes.
 * @throws {TypeError} If `message` is not a Uint8Array.
 */
export function sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  checkSeed(privateKey);
  if (!(message instanceof Uint8Array)) {
    throw new TypeError("Cannot sign: message must be a Uint8Array");
  }
  return ed25519.sign(message, privateKey);
}

/**
 * Verifies a signature (strict RFC 8032 §5.1.7, no ZIP-215 leniency). Never throws: any bad
 * input (wrong lengths, wrong types, invalid points) gives `false`.
 *
 * @param publicKey The signer's 32-byte public key.
 * @param message The signed bytes.
 * @param signature The 64-byte signature.
 * @returns `true` only for a valid signature.
 */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (
    !(publicKey instanceof Uint8Array) || publicKey.length !== 32 ||
    !(message instanceof Uint8Array) ||
    !(signature instanceof Uint8Array) || signature.length !== 64
  ) {
    return false;
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Serializes an identity to its stable text form
 * `hush-identity-v1:<hex seed>:<hex public key>` (lowercase hex, 145 characters).
 *
 * @param pair The key pair.
 * @returns The text form. It contains the private seed.
 * @throws {CryptoError} `BAD_PRIVATE_KEY` for a seed that is not 32 bytes; `BAD_PUBLIC_KEY` if
 *   the public key does not belong to the seed.
 */
export function encodeIdentity(pair: IdentityKeyPair): string {
  const derived = identityFromSeed(pair.privateKey);
  if (
    !(pair.publicKey instanceof Uint8Array) || toHex(pair.publicKey) !== toHex(derived.publicKey)
  ) {
    throw new CryptoError(
      "BAD_PUBLIC_KEY",
      "Cannot encode identity: the public key does not belong to the private key",
    );
  }
  return `${IDENTITY_TEXT_PREFIX}${toHex(derived.privateKey)}:${toHex(derived.publicKey)}`;
}

/**
 * Parses the text form written by {@link encodeIdentity}. Leading and trailing whitespace
 * (e.g. a final newline in a file) is ignored; anything else must match exactly.
 *
 * @param text `hush-identity-v1:<64 lowercase hex>:<64 lowercase hex>`.
 * @returns The key pair.
 * @throws {CryptoError} `BAD_IDENTITY_ENCODING` if the text does not match the form or the
 *   public key does not belong to the seed.
 */
export function decodeIdentity(text: string): IdentityKeyPair {
  const match = typeof text === "string" ? IDENTITY_PATTERN.exec(text.trim()) : null;
  if (!match) {
    throw new CryptoError(
      "BAD_IDENTITY_ENCODING",
      `Invalid identity encoding: expected "${IDENTITY_TEXT_PREFIX}<64 hex>:<64 hex>"`,
    );
  }
  const seedHex = match[1]!;
  const publicHex = match[2]!;
  const pair = identityFromSeed(fromHex(seedHex));
  if (toHex(pair.publicKey) !== publicHex) {
    throw new CryptoError(
      "BAD_IDENTITY_ENCODING",
      "Invalid identity encoding: the public key does not belong to the seed",
    );
  }
  return pair;
}
