/**
 * Typed errors shared by every Hush module.
 *
 * Every error a user can act on extends {@link HushError} and carries a stable SCREAMING_SNAKE
 * `code`. Programmer mistakes (wrong argument types, impossible sizes) use the built-in
 * `TypeError` / `RangeError` instead.
 *
 * @module
 */

/**
 * Base class of every typed Hush error: an `Error` with a stable, documented `code`.
 *
 * Other folders subclass it (`ProtocolError`, `SessionError`, `RelayError`, ...).
 */
export class HushError extends Error {
  /** Stable SCREAMING_SNAKE error code, e.g. `"DECRYPT_FAILED"`. */
  readonly code: string;

  /**
   * Creates a typed error.
   *
   * @param code Stable SCREAMING_SNAKE code.
   * @param message Sentence-case message, no final period, value quoted, detail after a colon.
   * @param options Standard `ErrorOptions` (e.g. `cause`).
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The codes a {@link CryptoError} can carry:
 * - `DECRYPT_FAILED`: authentication failed (tampered, wrong key/nonce/AAD, truncated).
 * - `BAD_KEY_LENGTH`: a cipher key of the wrong length.
 * - `BAD_NONCE_LENGTH`: a nonce of the wrong length.
 * - `UNKNOWN_CIPHER_SUITE`: no suite (or no such backend of a suite) with that id / wire id.
 * - `LOW_ORDER_PUBLIC_KEY`: an X25519 public key of low order (all-zero shared secret).
 * - `BAD_PUBLIC_KEY`: a public key of the wrong length or otherwise unusable.
 * - `BAD_PRIVATE_KEY`: a private key (X25519 scalar or Ed25519 seed) of the wrong length.
 * - `BAD_IDENTITY_ENCODING`: text that is not a valid serialized identity.
 */
export type CryptoErrorCode =
  | "DECRYPT_FAILED"
  | "BAD_KEY_LENGTH"
  | "BAD_NONCE_LENGTH"
  | "UNKNOWN_CIPHER_SUITE"
  | "LOW_ORDER_PUBLIC_KEY"
  | "BAD_PUBLIC_KEY"
  | "BAD_PRIVATE_KEY"
  | "BAD_IDENTITY_ENCODING";

/** Every {@link CryptoErrorCode}, for documentation and exhaustive tests. */
export const CRYPTO_ERROR_CODES: readonly CryptoErrorCode[] = Object.freeze([
  "DECRYPT_FAILED",
  "BAD_KEY_LENGTH",
  "BAD_NONCE_LENGTH",
  "UNKNOWN_CIPHER_SUITE",
  "LOW_ORDER_PUBLIC_KEY",
  "BAD_PUBLIC_KEY",
  "BAD_PRIVATE_KEY",
  "BAD_IDENTITY_ENCODING",
]);

/** An error raised by `crypto/`: its `code` is one of {@link CryptoErrorCode}. */
export class CryptoError extends HushError {
  /** One of {@link CryptoErrorCode}. */
  declare readonly code: CryptoErrorCode;

  /**
   * Creates a crypto error.
   *
   * @param code One of {@link CryptoErrorCode}.
   * @param message Sentence-case message, no final period.
   * @param options Standard `ErrorOptions`.
   */
  constructor(code: CryptoErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
