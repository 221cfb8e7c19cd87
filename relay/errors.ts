/**
 * The relay's typed error and the codes it sends in ERROR and REJECTED frames.
 *
 * @module
 */

import { HushError } from "../crypto/errors.ts";

/**
 * Codes the relay puts in ERROR / REJECTED frames (see `docs/PROTOCOL.md`, section 9), besides
 * the codec's `ProtocolErrorCode`s. Also used by {@link RelayError} for start-up failures
 * (`BAD_OPTION`, `STORE_FAILED`, `LISTEN_FAILED`).
 */
export type RelayErrorCode =
  | "UNSUPPORTED_VERSION"
  | "BAD_TOKEN"
  | "AUTH_FAILED"
  | "AUTH_TIMEOUT"
  | "NICK_UNAVAILABLE"
  | "UNEXPECTED_FRAME"
  | "SENDER_MISMATCH"
  | "BAD_ACK"
  | "UNACKED_LIMIT"
  | "RATE_LIMITED"
  | "TOO_MANY_CONNECTIONS"
  | "HEARTBEAT_TIMEOUT"
  | "REPLACED"
  | "SHUTTING_DOWN"
  | "INTERNAL_ERROR"
  | "SLOW_READER"
  | "NOT_IN_ROOM"
  | "TOO_MANY_ROOMS"
  | "BAD_SIGNATURE"
  | "TOO_MANY_PREKEYS"
  | "BAD_BUNDLE"
  | "NO_SUCH_USER"
  | "QUEUE_FULL"
  | "BAD_OPTION"
  | "STORE_FAILED"
  | "LISTEN_FAILED";

/** Every {@link RelayErrorCode}. */
export const RELAY_ERROR_CODES: readonly RelayErrorCode[] = Object.freeze([
  "UNSUPPORTED_VERSION",
  "BAD_TOKEN",
  "AUTH_FAILED",
  "AUTH_TIMEOUT",
  "NICK_UNAVAILABLE",
  "UNEXPECTED_FRAME",
  "SENDER_MISMATCH",
  "BAD_ACK",
  "UNACKED_LIMIT",
  "RATE_LIMITED",
  "TOO_MANY_CONNECTIONS",
  "HEARTBEAT_TIMEOUT",
  "REPLACED",
  "SHUTTING_DOWN",
  "INTERNAL_ERROR",
  "SLOW_READER",
  "NOT_IN_ROOM",
  "TOO_MANY_ROOMS",
  "BAD_SIGNATURE",
  "TOO_MANY_PREKEYS",
  "BAD_BUNDLE",
  "NO_SUCH_USER",
  "QUEUE_FULL",
  "BAD_OPTION",
  "STORE_FAILED",
  "LISTEN_FAILED",
]);

/** An error raised by the relay: its `code` is one of {@link RelayErrorCode}. */
export class RelayError extends HushError {
  /** One of {@link RelayErrorCode}. */
  declare readonly code: RelayErrorCode;

  /**
   * Creates a relay error.
   *
   * @param code One of {@link RelayErrorCode}.
   * @param message Sentence-case message, no final period.
   * @param options Standard `ErrorOptions`.
   */
  constructor(
    code: RelayErrorCode,
    message: string,
    options?: ErrorOptions & { hint?: string },
  ) {
    super(code, message, options);
    if (options?.hint !== undefined) this.hint = options.hint;
  }

  /** What the operator can do about it (printed by `server.ts` as `hush: hint: ...`), if known. */
  readonly hint?: string;
}
