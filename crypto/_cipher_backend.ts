/**
 * Folder-private shape of one backend of one cipher suite, before the registry wraps it.
 *
 * @module
 */
import type { CipherSuite } from "./cipher_suite.ts";

/**
 * One backend of one suite. Its `seal`/`open` get arguments whose lengths the registry has
 * already checked and an `aad` that is always present (empty when the caller gave none);
 * `open` may throw anything on failure (the registry maps it to `DECRYPT_FAILED`).
 */
export type CipherBackend = Omit<CipherSuite, "seal" | "open"> & {
  /** Returns ciphertext || tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Returns the plaintext; throws on authentication failure. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
};
