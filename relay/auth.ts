/**
 * Authentication: checking the AUTH signature and granting a nick.
 *
 * @module
 */

import { equalBytes } from "../crypto/bytes.ts";
import { verify } from "../crypto/ed25519.ts";
import { authTranscript, MAX_NAME_BYTES } from "../protocol/mod.ts";

/** Highest suffix tried (`bob_999`). */
export const MAX_NICK_SUFFIX = 999;

/**
 * Checks an AUTH signature over the transcript of a HELLO and a challenge.
 *
 * @param hello The HELLO's version, requested nick and identity key.
 * @param challenge The 32-byte CHALLENGE nonce.
 * @param signature The AUTH signature.
 * @returns True only for a valid Ed25519 signature.
 */
export function verifyAuth(
  hello: { version: number; nick: string; identityKey: Uint8Array },
  challenge: Uint8Array,
  signature: Uint8Array,
): boolean {
  const transcript = authTranscript({
    version: hello.version,
    challenge,
    identityKey: hello.identityKey,
    nick: hello.nick,
  });
  return verify(hello.identityKey, transcript, signature);
}

/**
 * The nick candidates in order: `nick`, `nick_1`, ... `nick_999`, each cut to 32 bytes.
 *
 * @param nick A valid requested nick.
 * @param index 0 for the nick itself, K for the K-th suffix.
 * @returns The candidate.
 */
export function nickCandidate(nick: string, index: number): string {
  if (index === 0) return nick;
  const suffix = `_${index}`;
  return nick.slice(0, MAX_NAME_BYTES - suffix.length) + suffix;
}

/**
 * Grants a nick: the first candidate that is unbound or already bound to this identity.
 *
 * @param nick The requested nick.
 * @param identityKey The client's identity key.
 * @param ownerOf Looks up the identity key bound to a nick.
 * @returns The granted nick and whether it is a new binding, or null when every candidate is
 *   bound to another identity.
 */
export function grantNick(
  nick: string,
  identityKey: Uint8Array,
  ownerOf: (nick: string) => Uint8Array | undefined,
): { nick: string; isNew: boolean } | null {
  for (let i = 0; i <= MAX_NICK_SUFFIX; i++) {
    const candidate = nickCandidate(nick, i);
    const owner = ownerOf(candidate);
    if (owner === undefined) return { nick: candidate, isNew: true };
    if (equalBytes(owner, identityKey)) return { nick: candidate, isNew: false };
  }
  return null;
}
