/**
 * The chat engine's typed error. Codes (stable, SCREAMING_SNAKE):
 *
 * - `BAD_SERVER_URL`: the relay URL has an unknown scheme or lacks a host or port.
 * - `CONNECT_FAILED`: the transport could not connect.
 * - `WRONG_PROTOCOL`: the URL's scheme does not match the relay port it points at (`tcp://` at
 *   the WebSocket port, `ws://` at the TCP port); the message names the right URL.
 * - `NO_IDENTITY`: `homeFingerprint` without `create` and no identity in the home yet.
 * - `FRAME_TOO_LARGE`: the relay sent a frame over the size limit (the connection is closed).
 * - `INSECURE_TRANSPORT`: `requireSecure` is set and the URL is not `tls://` or `wss://`.
 * - `HANDSHAKE_FAILED`: the relay refused or broke off the HELLO/CHALLENGE/AUTH exchange.
 * - `HANDSHAKE_TIMEOUT`: no READY within 15 s of connecting (the connection is dropped and
 *   retried).
 * - `BAD_TOKEN`: a `token` option longer than 255 UTF-8 bytes.
 * - `IDENTITY_CHANGED`: sending to a peer whose identity key changed, before `trust(nick)`.
 * - `UNKNOWN_PEER`: a nick the relay's key directory does not know (never bound).
 * - `NO_BUNDLE`: the peer exists but has not published keys yet.
 * - `BAD_NICK` / `BAD_ROOM`: a nick or room name outside 1-32 characters of `A-Z a-z 0-9 _ -`.
 * - `BAD_RECIPIENT`: a private message to oneself, or verifying oneself.
 * - `BAD_OPTION`: an engine option outside its values (`roomKeys`).
 * - `BAD_REQUEST`: a request the codec refuses to encode (a bug guard; names are checked first).
 * - `NOT_CONNECTED`: a request that needs the relay while disconnected, or a relay answer that
 *   did not come within `requestTimeoutMs`.
 * - `UNKNOWN_CIPHER_SUITE`: a cipher-suite id the crypto registry does not know.
 * - `NOT_IN_ROOM`: leaving a room the client is not in.
 * - `PROTOCOL_ERROR`: the relay sent a frame that does not decode (the connection is dropped
 *   and re-established).
 * - `BAD_HOME`: the home directory or one of its files is unreadable or malformed.
 * - `HOME_LOCKED`: another process holds the home's lock (the message names it).
 * - `HOME_TAKEN_OVER`: another session claimed the home since this one started: nothing is
 *   written, and the engine stops.
 * - `STOPPED`: the session ended for good (`REPLACED` by the same identity elsewhere, refused by
 *   the relay, or the home taken over): nothing more is encrypted or saved.
 * - `CLOSED`: the engine was closed.
 * - `INTERNAL_ERROR`: an unexpected failure (a bug), reported as one line.
 *
 * `error` events also carry the codes of the layers below unchanged: `SessionError` codes
 * (`DECRYPT_FAILED`, `IDENTITY_CHANGED`, `NO_SENDER_KEY`, ... see `sessions/errors.ts`) and the
 * relay's codes (`QUEUE_FULL`, `NO_SUCH_USER`, `RATE_LIMITED`, ... see `docs/PROTOCOL.md`).
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
