/**
 * The typed error of the sessions library.
 *
 * @module
 */
import { HushError } from "../crypto/errors.ts";

/**
 * Every stable `code` a {@linkcode SessionError} can carry. Codes never change meaning; new ones
 * may be added.
 *
 * - `BAD_BUNDLE_SIGNATURE`: a fetched prekey bundle's identity-DH or signed-prekey signature does
 *   not verify under the bundle's Ed25519 identity key (forged or swapped bundle).
 * - `BAD_BUNDLE`: a bundle field has the wrong length or type.
 * - `BAD_MESSAGE`: a body is truncated, too long, or has an unknown type byte.
 * - `UNSUPPORTED_VERSION`: a body's version byte is not 1.
 * - `BAD_INITIAL_SIGNATURE`: an initial message's identity-DH signature does not verify.
 * - `UNKNOWN_PREKEY`: an initial message names a signed or one-time prekey we do not hold
 *   (already used, rotated away, or never ours).
 * - `REPLAYED_INITIAL`: an initial message whose ephemeral key was already used for a session.
 * - `NO_SESSION`: a ratchet message arrived from a nick we have no session with.
 * - `DECRYPT_FAILED`: authentication failed (tampered, wrong key, or not for us).
 * - `DUPLICATE_MESSAGE`: the message key was already used (replay or duplicate delivery).
 * - `TOO_MANY_SKIPPED`: opening the message would skip more message keys than the bound allows.
 * - `INSECURE_SUITE_REFUSED`: the message uses an insecure suite and the policy refuses those.
 * - `INSECURE_KEY_MATERIAL`: key material (a sender-key distribution) arrived sealed under an
 *   insecure suite (Caesar), which the relay can read: refused whatever the policy.
 * - `UNKNOWN_CIPHER_SUITE`: the suite id or wire id is not in the crypto registry.
 * - `IDENTITY_CHANGED`: the identity key seen for a known nick differs from the pinned one;
 *   sending to that nick is blocked until the new key is accepted.
 * - `NO_IDENTITY`: no identity key is known for the nick (nothing to verify).
 * - `NO_BUNDLE_FETCHER`: a session must be started but no bundle fetcher was configured.
 * - `NO_SENDER_KEY`: a room message names a sender key we have not received (yet).
 * - `BEFORE_SENDER_KEY`: a room message under a sender key we hold, at an iteration before the
 *   one its distribution started at: sent before the sender shared the key with us (we joined as
 *   it was sent); no distribution will open it, only the sender can send it again.
 * - `BAD_ROOM_SIGNATURE`: a room message's signature does not verify (forged or altered).
 * - `BAD_STATE`: stored state is corrupt or belongs to another identity.
 */
export type SessionErrorCode =
  | "BAD_BUNDLE_SIGNATURE"
  | "BAD_BUNDLE"
  | "BAD_MESSAGE"
  | "UNSUPPORTED_VERSION"
  | "BAD_INITIAL_SIGNATURE"
  | "UNKNOWN_PREKEY"
  | "REPLAYED_INITIAL"
  | "NO_SESSION"
  | "DECRYPT_FAILED"
  | "DUPLICATE_MESSAGE"
  | "TOO_MANY_SKIPPED"
  | "INSECURE_SUITE_REFUSED"
  | "INSECURE_KEY_MATERIAL"
  | "UNKNOWN_CIPHER_SUITE"
  | "IDENTITY_CHANGED"
  | "NO_IDENTITY"
  | "NO_BUNDLE_FETCHER"
  | "NO_SENDER_KEY"
  | "BEFORE_SENDER_KEY"
  | "BAD_ROOM_SIGNATURE"
  | "BAD_STATE";

/**
 * An error of the end-to-end layer, with a stable {@linkcode SessionErrorCode}.
 *
 * A `SessionError` thrown while opening a message never leaves a session changed: the caller may
 * drop the body, or keep it and retry later (for example after `NO_SENDER_KEY`).
 */
export class SessionError extends HushError {
  /** One of the documented {@linkcode SessionErrorCode} values. */
  declare readonly code: SessionErrorCode;

  /**
   * Creates a session error.
   *
   * @param code One of the documented {@linkcode SessionErrorCode} values.
   * @param message Sentence-case text, no final period, values quoted.
   * @param options Standard error options (`cause`).
   */
  constructor(code: SessionErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "SessionError";
  }
}
