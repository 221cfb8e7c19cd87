/**
 * The chat engine's typed error. Codes (stable, SCREAMING_SNAKE):
 *
 * - `BAD_SERVER_URL`: the relay URL has an unknown scheme or lacks a host or port.
 * - `CONNECT_FAILED`: the transport could not connect.
 * - `FRAME_TOO_LARGE`: the relay sent a frame over the size limit (the connection is closed).
 * - `INSECURE_TRANSPORT`: `requireSecure` is set and the URL is not `tls://` or `wss://`.
 * - `NOT_CONNECTED`: an operation needs a live relay connection.
 * - `HANDSHAKE_FAILED`: the relay refused or broke off the HELLO/CHALLENGE/AUTH exchange.
 * - `IDENTITY_CHANGED`: sending to a peer whose identity key changed, before `trust(nick)`.
 * - `UNKNOWN_PEER`: a nick the relay's key directory does not know.
 * - `DECRYPT_FAILED`: an incoming message could not be opened (reported as an `error` event).
 * - `BAD_HOME`: the home directory or one of its files is unreadable or malformed.
 * - `CLOSED`: the engine was closed.
 *
 * @module
 */

import { HushError } from "../crypto/errors.ts";

/** An error of the chat engine, with a stable {@linkcode HushError.code}. */
export class ChatError extends HushError {
  /**
   * Creates a chat error.
   *
   * @param code A stable SCREAMING_SNAKE code from the module documentation.
   * @param message A sentence-case message without a final period.
   * @param options Standard error options (`cause`).
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "ChatError";
  }
}
