/**
 * The exact byte strings that Ed25519 signatures cover on the wire: the AUTH transcript and the
 * two prekey-bundle signatures. Both sides build them with these functions.
 *
 * @module
 */

import { concatBytes, utf8Encode } from "../crypto/bytes.ts";
import { AUTH_LABEL, CHALLENGE_BYTES, KEY_BYTES } from "./frames.ts";
import { isName } from "./_names.ts";

/** ASCII label of the identity DH key signature. */
export const IDENTITY_DH_LABEL = "hush-identity-dh-v1";

/** ASCII label of the signed prekey signature. */
export const SIGNED_PREKEY_LABEL = "hush-signed-prekey-v1";

/** Inputs of {@link authTranscript}. */
export interface AuthTranscriptInput {
  /** The HELLO's protocol version (u16). */
  version: number;
  /** The 32-byte CHALLENGE nonce. */
  challenge: Uint8Array;
  /** The HELLO's 32-byte Ed25519 identity public key. */
  identityKey: Uint8Array;
  /** The nick the HELLO asked for (not the granted one). */
  nick: string;
}

/**
 * Builds the bytes an AUTH signature covers:
 * `"hush-auth-v1" (12 ASCII bytes) || u16be(version) || challenge (32) || identityKey (32) ||
 * u8(len(nick)) || nick (ASCII)`.
 *
 * @param input Version, challenge, identity key and requested nick.
 * @returns The transcript (79 + len(nick) bytes).
 * @throws {RangeError} If a length is wrong or the nick is invalid.
 */
export function authTranscript(input: AuthTranscriptInput): Uint8Array {
  if (input.challenge.length !== CHALLENGE_BYTES) {
    throw new RangeError(`Cannot build transcript: challenge of ${input.challenge.length} bytes`);
  }
  if (input.identityKey.length !== KEY_BYTES) {
    throw new RangeError(
      `Cannot build transcript: identity key of ${input.identityKey.length} bytes`,
    );
  }
  if (!isName(input.nick)) throw new RangeError(`Cannot build transcript: nick "${input.nick}"`);
  if (!Number.isInteger(input.version) || input.version < 0 || input.version > 0xffff) {
    throw new RangeError(`Cannot build transcript: version ${input.version}`);
  }
  const nick = utf8Encode(input.nick);
  return concatBytes(
    utf8Encode(AUTH_LABEL),
    new Uint8Array([input.version >> 8, input.version & 0xff]),
    input.challenge,
    input.identityKey,
    new Uint8Array([nick.length]),
    nick,
  );
}

/**
 * Builds the bytes the identity DH key signature covers: `"hush-identity-dh-v1" || dhKey (32)`.
 *
 * @param dhPublicKey The X25519 identity DH public key.
 * @returns The signed message (51 bytes).
 * @throws {RangeError} If the key is not 32 bytes.
 */
export function identityDhSignedMessage(dhPublicKey: Uint8Array): Uint8Array {
  if (dhPublicKey.length !== KEY_BYTES) {
    throw new RangeError(`Cannot build message: DH key of ${dhPublicKey.length} bytes`);
  }
  return concatBytes(utf8Encode(IDENTITY_DH_LABEL), dhPublicKey);
}

/**
 * Builds the bytes the signed prekey signature covers:
 * `"hush-signed-prekey-v1" || u32be(prekeyId) || prekey (32)`.
 *
 * @param prekeyId The signed prekey's u32 id.
 * @param prekey The X25519 signed prekey.
 * @returns The signed message (57 bytes).
 * @throws {RangeError} If the id is not a u32 or the key is not 32 bytes.
 */
export function signedPrekeySignedMessage(prekeyId: number, prekey: Uint8Array): Uint8Array {
  if (!Number.isInteger(prekeyId) || prekeyId < 0 || prekeyId > 0xffff_ffff) {
    throw new RangeError(`Cannot build message: prekey id ${prekeyId}`);
  }
  if (prekey.length !== KEY_BYTES) {
    throw new RangeError(`Cannot build message: prekey of ${prekey.length} bytes`);
  }
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, prekeyId);
  return concatBytes(utf8Encode(SIGNED_PREKEY_LABEL), id, prekey);
}
