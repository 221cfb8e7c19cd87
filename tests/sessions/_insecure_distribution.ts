/**
 * Test helper: what a broken or hostile client could send, a sender-key distribution sealed
 * under Caesar (the reference `Hush` never does this: it upgrades key material to a secure
 * suite). Built from the library's public parts over the sender's existing session.
 *
 * @module
 */
import { fromHex, getCipherSuite } from "../../crypto/mod.ts";
import {
  DoubleRatchet,
  type DoubleRatchetJson,
  encodeContent,
  OutboundSenderKey,
  type SessionStore,
} from "../../sessions/mod.ts";

interface StoredSession {
  pendingInitial: string | null;
  ratchet: DoubleRatchetJson;
}

/**
 * Seals a fresh sender key's distribution for `room` to `peer` under Caesar, on the sender's
 * active session with `peer` (which must exist: send one ordinary message first), and advances
 * that session in `store`.
 *
 * @param store The sender's session store.
 * @param peer The recipient nick.
 * @param room The room the sender key is for.
 * @returns The pairwise body and the sender key (to encrypt room messages with).
 */
export function caesarDistribution(
  store: SessionStore,
  peer: string,
  room: string,
): { body: Uint8Array; key: OutboundSenderKey } {
  const storeKey = `session/${encodeURIComponent(peer)}`;
  const sessions = JSON.parse(store.get(storeKey) as string) as StoredSession[];
  const active = sessions[0];
  if (active === undefined) throw new Error(`no session with ${peer}`);
  const key = OutboundSenderKey.create();
  const ratchet = DoubleRatchet.fromJSON(active.ratchet);
  const sealed = ratchet.encrypt(
    encodeContent({ type: "sender-key", distribution: key.distribution(room) }),
    getCipherSuite("caesar"),
  );
  active.ratchet = ratchet.toJSON();
  store.set(storeKey, JSON.stringify(sessions));
  if (active.pendingInitial === null) return { body: sealed, key };
  const prefix = fromHex(active.pendingInitial);
  const body = new Uint8Array(prefix.length + sealed.length);
  body.set(prefix);
  body.set(sealed, prefix.length);
  return { body, key };
}
