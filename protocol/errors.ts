/**
 * The typed error of the wire codec and its stable codes.
 *
 * @module
 */

import { HushError } from "../crypto/errors.ts";

/**
 * The codes a {@link ProtocolError} can carry (documented in `docs/PROTOCOL.md`, "Errors"):
 * - `EMPTY_FRAME`: a frame of zero bytes (or a TCP length prefix of 0).
 * - `FRAME_TOO_LARGE`: a frame (or TCP length prefix) above the maximum frame size.
 * - `TRUNCATED_FRAME`: the frame ends before a field it must hold.
 * - `TRAILING_BYTES`: bytes left over after the last field of a fixed-layout frame.
 * - `UNKNOWN_FRAME_TYPE`: a type byte no frame uses.
 * - `WRONG_DIRECTION`: a relay-to-client frame sent by a client, or the reverse.
 * - `BAD_NICK`: a nick that is empty, longer than 32 bytes or outside `[A-Za-z0-9_-]`.
 * - `BAD_ROOM`: a room name that is empty, longer than 32 bytes or outside `[A-Za-z0-9_-]`.
 * - `BAD_RECIPIENT_KIND`: an envelope recipient kind other than 0x01 (nick) or 0x02 (room).
 * - `BAD_CIPHER_ID`: an envelope cipher-suite wire id of 0x00.
 * - `BAD_FLAGS`: a flags byte with a reserved bit set, or a status byte out of range.
 * - `BAD_CODE`: an error code that is empty, longer than 32 bytes or outside `[A-Z0-9_]`.
 * - `BAD_UTF8`: a text field that is not valid UTF-8 (or too long).
 * - `TOO_MANY_ITEMS`: a list longer than its documented maximum.
 */
export type ProtocolErrorCode =
  | "EMPTY_FRAME"
  | "FRAME_TOO_LARGE"
  | "TRUNCATED_FRAME"
  | "TRAILING_BYTES"
  | "UNKNOWN_FRAME_TYPE"
  | "WRONG_DIRECTION"
  | "BAD_NICK"
  | "BAD_ROOM"
  | "BAD_RECIPIENT_KIND"
  | "BAD_CIPHER_ID"
  | "BAD_FLAGS"
  | "BAD_CODE"
  | "BAD_UTF8"
  | "TOO_MANY_ITEMS";

/** Every {@link ProtocolErrorCode}, for documentation and exhaustive tests. */
export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = Object.freeze([
  "EMPTY_FRAME",
  "FRAME_TOO_LARGE",
  "TRUNCATED_FRAME",
  "TRAILING_BYTES",
  "UNKNOWN_FRAME_TYPE",
  "WRONG_DIRECTION",
  "BAD_NICK",
  "BAD_ROOM",
  "BAD_RECIPIENT_KIND",
  "BAD_CIPHER_ID",
  "BAD_FLAGS",
  "BAD_CODE",
  "BAD_UTF8",
  "TOO_MANY_ITEMS",
]);

/** An error raised by the wire codec: its `code` is one of {@link ProtocolErrorCode}. */
export class ProtocolError extends HushError {
  /** One of {@link ProtocolErrorCode}. */
  declare readonly code: ProtocolErrorCode;

  /**
   * Creates a protocol error.
   *
   * @param code One of {@link ProtocolErrorCode}.
   * @param message Sentence-case message, no final period.
   * @param options Standard `ErrorOptions`.
   */
  constructor(code: ProtocolErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
