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
 * Grants a nick: the first candidate whose skeleton is unbound, or bound to this identity.
 *
 * A candidate is taken when a nick with the same skeleton (`nickSkeleton` in protocol/names.ts: case and
 * look-alikes folded) is bound. When one of those is bound to this identity, that binding is
 * granted with its stored spelling (`bob` asking `Bob` gets `bob`; the exact spelling first when
 * an old store holds several look-alikes).
 *
 * @param nick The requested nick.
 * @param identityKey The client's identity key.
 * @param ownerOf Looks up the identity key bound to a nick (exact spelling).
 * @param lookAlikes The bound nicks with the same skeleton as a candidate; omitted: the
 *   candidate itself when bound (exact comparison).
 * @returns The granted nick and whether it is a new binding, or null when every candidate is
 *   bound to another identity.
 */
export function grantNick(
  nick: string,
  identityKey: Uint8Array,
  ownerOf: (nick: string) => Uint8Array | undefined,
  lookAlikes: (nick: string) => Iterable<string> = (n) => ownerOf(n) === undefined ? [] : [n],
): { nick: string; isNew: boolean } | null {
  for (let i = 0; i <= MAX_NICK_SUFFIX; i++) {
    const candidate = nickCandidate(nick, i);
    const exact = ownerOf(candidate);
    if (exact !== undefined && equalBytes(exact, identityKey)) {
      return { nick: candidate, isNew: false };
    }
    let taken = exact !== undefined;
    let mine: string | undefined;
    for (const bound of lookAlikes(candidate)) {
      taken = true;
      const owner = ownerOf(bound);
      if (mine === undefined && owner !== undefined && equalBytes(owner, identityKey)) mine = bound;
    }
    if (mine !== undefined) return { nick: mine, isNew: false };
    if (!taken) return { nick: candidate, isNew: true };
  }
  return null;
}
