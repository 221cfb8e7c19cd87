/**
 * What the relay does when its store fails in the middle of a turn (issue 9, item 3): a room SEND
 * is all or nothing, a failed commit rejects every SEND of the turn before any ACCEPTED covers it,
 * and their live deliveries never leave. The locked-file case runs against real processes in
 * tests/e2e/relay_store_lock_e2e.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { encodeFrame, type Frame } from "../../protocol/mod.ts";
import { Relay } from "../../relay/relay.ts";
import { type FakePeer, login } from "./_fake_peer.ts";
import { RelayError, resolveRelayOptions, SqliteStore } from "../../relay/mod.ts";

/** A SQLite store that can be told to fail its next commit or its N-th next enqueue. */
class FaultyStore extends SqliteStore {
  failCommit = false;
  failEnqueueIn = 0;
  protected override execCommit(): void {
    if (this.failCommit) {
      this.failCommit = false;
      throw new Error("disk I/O error (injected)");
    }
    super.execCommit();
  }
  override enqueue(nick: string, frame: Uint8Array, at: number): number {
    if (this.failEnqueueIn > 0 && --this.failEnqueueIn === 0) {
      throw new RelayError("STORE_FAILED", "Cannot write the store: database or disk is full");
    }
    return super.enqueue(nick, frame, at);
  }
}

const settle = () => new Promise((r) => setTimeout(r, 5));

function feed(relay: Relay, peer: FakePeer, frame: Frame): void {
  relay.onFrame(peer.connection, encodeFrame(frame), performance.now());
}

function send(relay: Relay, peer: FakePeer, to: string, n: number, toKind: "nick" | "room") {
  feed(relay, peer, {
    type: "send",
    id: new Uint8Array(16).fill(n),
    cipher: 1,
    from: peer.connection.nick,
    toKind,
    to,
    body: new Uint8Array([n]),
  });
}

const bodies = (p: FakePeer) => p.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]!] : []);

Deno.test("relay: a room SEND whose store write fails for one member is stored for none", async () => {
  const store = new FaultyStore(":memory:");
  const relay = new Relay(resolveRelayOptions({ store }));
  try {
    const alice = await login(relay, "alice", generateIdentityKeyPair());
    const bob = await login(relay, "bob", generateIdentityKeyPair());
    const carolId = generateIdentityKeyPair();
    const carol = await login(relay, "carol", carolId);
    carol.close();
    relay.onEnded(carol.connection);
    await settle();
    store.failEnqueueIn = 2; // the second member's write fails
    send(relay, alice, "lobby", 7, "room");
    for (let i = 0; i < 100 && !alice.frames.some((f) => f.type === "accepted"); i++) {
      await settle();
    }
    const rejected = alice.frames.filter((f) => f.type === "rejected");
    assert.equal(rejected.length, 1);
    assert.ok(rejected[0]?.type === "rejected");
    assert.deepEqual([rejected[0].seq, rejected[0].code, rejected[0].recipient], [
      1,
      "STORE_FAILED",
      "lobby",
    ]);
    assert.ok(
      alice.frames.indexOf(rejected[0]) < alice.frames.findIndex((f) => f.type === "accepted"),
    );
    assert.deepEqual(bodies(bob), [], "bob got nothing live");
    assert.equal(store.queueStats().size, 0, "nothing stored for anyone");
    // A new SEND to the room waits behind the refused one (order per conversation)...
    send(relay, alice, "lobby", 8, "room");
    await settle();
    assert.deepEqual(bodies(bob), []);
    // ...which, sent again, goes through for both, and then the next one.
    send(relay, alice, "lobby", 7, "room");
    send(relay, alice, "lobby", 8, "room");
    await settle();
    assert.deepEqual(bodies(bob), [7, 8]);
    const carol2 = await login(relay, "carol", carolId);
    await settle();
    assert.deepEqual(bodies(carol2), [7, 8]);
    assert.match(relay.metricsText(), /hush_store_failures_total 1/);
  } finally {
    await relay.close();
  }
});

Deno.test("relay: a failed commit rejects every SEND of the turn and sends none of them", async () => {
  const store = new FaultyStore(":memory:");
  const relay = new Relay(resolveRelayOptions({ store }));
  try {
    const alice = await login(relay, "alice", generateIdentityKeyPair());
    const dave = await login(relay, "dave", generateIdentityKeyPair());
    const bob = await login(relay, "bob", generateIdentityKeyPair());
    store.failCommit = true;
    // One turn: two SENDs from alice, one from dave, all to bob (online).
    send(relay, alice, "bob", 1, "nick");
    send(relay, alice, "bob", 2, "nick");
    send(relay, dave, "bob", 3, "nick");
    await settle();
    for (const [peer, seqs] of [[alice, [1, 2]], [dave, [1]]] as const) {
      const rejected = peer.frames.flatMap((f) =>
        f.type === "rejected" && f.code === "STORE_FAILED" ? [f.seq] : []
      );
      assert.deepEqual(rejected, [...seqs]);
      const acceptedAt = peer.frames.findIndex((f) => f.type === "accepted");
      const lastRejected = peer.frames.findLastIndex((f) => f.type === "rejected");
      assert.ok(acceptedAt === -1 || acceptedAt > lastRejected, "REJECTED before ACCEPTED");
    }
    assert.deepEqual(bodies(bob), [], "nothing of the failed turn reached bob");
    assert.match(relay.metricsText(), /hush_envelopes_queued 0/);
    // The relay carries on: the refused SENDs sent again (oldest first), then a new one.
    send(relay, alice, "bob", 1, "nick");
    send(relay, alice, "bob", 2, "nick");
    send(relay, dave, "bob", 3, "nick");
    send(relay, alice, "bob", 4, "nick");
    await settle();
    assert.deepEqual(bodies(bob), [1, 2, 3, 4]);
  } finally {
    await relay.close();
  }
});
