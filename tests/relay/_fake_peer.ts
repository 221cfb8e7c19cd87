/**
 * A fake transport endpoint for driving the relay without sockets, and a login through it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type IdentityKeyPair, sign } from "../../crypto/ed25519.ts";
import {
  authTranscript,
  decodeFrame,
  encodeFrame,
  type Frame,
  PROTOCOL_VERSION,
  type RelayFrame,
} from "../../protocol/mod.ts";
import type { Connection, Peer } from "../../relay/connection.ts";
import type { Relay } from "../../relay/relay.ts";

/** A peer that decodes and keeps every frame the relay sends it. */
export class FakePeer implements Peer {
  readonly transport = "tcp";
  readonly remote = "fake:1";
  readonly bufferedBytes = 0;
  readonly batchWithTimer = false;
  connection!: Connection;
  frames: RelayFrame[] = [];
  closed = false;
  /** Each send is one write, done at once unless `stalled` (then it waits for `unstall()`). */
  writesStarted = 0;
  writesDone = 0;
  stalled = false;
  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.frames.push(decodeFrame(frame.slice(), { from: "relay" }) as RelayFrame);
    this.writesStarted++;
    if (!this.stalled) this.unstall();
  }
  /** Completes every write started. */
  unstall(): void {
    this.stalled = false;
    this.writesDone = this.writesStarted;
  }
  queue(frame: Uint8Array): void {
    this.send(frame);
  }
  flush(): void {}
  close(): void {
    this.closed = true;
  }
}

const settle = () => new Promise((r) => setTimeout(r, 1));

/** HELLO, AUTH and a wait (bounded) for READY on a new fake connection. */
export async function login(
  relay: Relay,
  nick: string,
  identity: IdentityKeyPair,
): Promise<FakePeer> {
  const peer = new FakePeer();
  const conn = relay.acceptPeer(peer);
  const feed = (f: Frame) => relay.onFrame(conn, encodeFrame(f), performance.now());
  feed({
    type: "hello",
    version: PROTOCOL_VERSION,
    nick,
    identityKey: identity.publicKey,
    token: new Uint8Array(0),
  });
  const challenge = peer.frames.find((f) => f.type === "challenge");
  assert.ok(challenge?.type === "challenge");
  const t = authTranscript({
    version: PROTOCOL_VERSION,
    challenge: challenge.nonce,
    identityKey: identity.publicKey,
    nick,
  });
  feed({ type: "auth", signature: sign(identity.privateKey, t) });
  for (let i = 0; i < 500 && !peer.frames.some((f) => f.type === "ready"); i++) await settle();
  assert.ok(peer.frames.some((f) => f.type === "ready"), "READY");
  return peer;
}
