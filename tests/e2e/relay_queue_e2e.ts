import assert from "node:assert/strict";
import { inProcessRelay, loggedIn, relayTest, sleep } from "./_relay_harness.ts";

relayTest("envelopes for an offline nick are queued and delivered in order on return", async () => {
  const relay = await inProcessRelay();
  try {
    const bob = await loggedIn(relay.wsUrl, "bob");
    bob.close();
    await sleep(30);
    const alice = await loggedIn(relay.tcpUrl!, "alice");
    for (let i = 0; i < 50; i++) await alice.sendEnvelope("bob", new Uint8Array([i]));
    await alice.next((f) => f.type === "accepted" && f.count === 50);
    assert.match(relay.metricsText(), /hush_envelopes_queued 50/);
    const back = await loggedIn(relay.tcpUrl!, "bob", { identity: bob.identity });
    const ready = back.frames.find((f) => f.type === "ready");
    assert.equal(ready?.type === "ready" && ready.queued, 50);
    await back.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 50);
    const bodies = back.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []);
    assert.deepEqual(bodies, [...Array(50).keys()]);
    await back.ack();
    await sleep(30);
    assert.match(relay.metricsText(), /hush_envelopes_queued 0/);
    back.close();
    alice.close();
  } finally {
    await relay.close();
  }
});

relayTest(
  "deliveries not acked when a connection dies are delivered again, acked ones not",
  async () => {
    const relay = await inProcessRelay();
    try {
      const alice = await loggedIn(relay.tcpUrl!, "alice");
      const bob = await loggedIn(relay.tcpUrl!, "bob");
      for (let i = 0; i < 6; i++) await alice.sendEnvelope("bob", new Uint8Array([i]));
      await bob.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 6);
      await bob.send({ type: "ack", count: 2 });
      await sleep(30);
      bob.close();
      await sleep(50);
      const again = await loggedIn(relay.wsUrl, "bob", { identity: bob.identity });
      await again.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 4);
      await sleep(30);
      const bodies = again.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []);
      assert.deepEqual(bodies, [2, 3, 4, 5]);
      // Message ids are kept, so the client can drop duplicates.
      const firstIds = bob.frames.flatMap((f) => f.type === "deliver" ? [f.id] : []).slice(2);
      const secondIds = again.frames.flatMap((f) => f.type === "deliver" ? [f.id] : []);
      assert.deepEqual(secondIds, firstIds);
      // New envelopes come after the re-delivered ones.
      await alice.sendEnvelope("bob", new Uint8Array([6]));
      const next = await again.nextWhere("deliver", (f) => f.body[0] === 6);
      assert.equal(next.from, "alice");
      again.close();
      alice.close();
    } finally {
      await relay.close();
    }
  },
);

relayTest("an ACK beyond the deliveries sent is BAD_ACK", async () => {
  const relay = await inProcessRelay();
  try {
    const c = await loggedIn(relay.tcpUrl!, "acker");
    await c.send({ type: "ack", count: 1 });
    assert.equal(await c.expectFatal(), "BAD_ACK");
  } finally {
    await relay.close();
  }
});

relayTest("a full queue refuses with QUEUE_FULL (count and bytes)", async () => {
  const relay = await inProcessRelay({ queueMaxCount: 3, queueMaxBytes: 400 });
  try {
    const bob = await loggedIn(relay.tcpUrl!, "bob");
    const carol = await loggedIn(relay.tcpUrl!, "carol");
    bob.close();
    carol.close();
    await sleep(30);
    const alice = await loggedIn(relay.tcpUrl!, "alice");
    for (let i = 0; i < 4; i++) await alice.sendEnvelope("bob", new Uint8Array([i]));
    const r = await alice.next("rejected");
    assert.deepEqual([r.seq, r.code, r.recipient], [4, "QUEUE_FULL", "bob"]);
    await alice.sendEnvelope("carol", new Uint8Array(300));
    await alice.sendEnvelope("carol", new Uint8Array(300));
    const r2 = await alice.next("rejected");
    assert.deepEqual([r2.seq, r2.code, r2.recipient], [6, "QUEUE_FULL", "carol"]);
    await alice.next((f) => f.type === "accepted" && f.count === 6);
    assert.match(relay.metricsText(), /hush_envelopes_rejected_total\{code="QUEUE_FULL"\} 2/);
    // A room member whose queue is full is named; the others still get it.
    await alice.send({ type: "join", room: "r" });
    const dave = await loggedIn(relay.tcpUrl!, "dave");
    await dave.send({ type: "join", room: "r" });
    await dave.next((f) => f.type === "joined" && f.room === "r" && f.nick === "dave");
    const bob2 = await loggedIn(relay.tcpUrl!, "bob", { identity: bob.identity });
    await bob2.send({ type: "join", room: "r" });
    await bob2.next((f) => f.type === "joined" && f.room === "r" && f.nick === "bob");
    bob2.close(); // bob's 3 queued envelopes are re-queued unacked: his queue stays full
    await sleep(50);
    await alice.sendEnvelope("r", new Uint8Array([9]), { toKind: "room" });
    const r3 = await alice.nextWhere("rejected", (f) => f.seq === 7);
    assert.deepEqual([r3.code, r3.recipient, r3.recipientKind], ["QUEUE_FULL", "bob", "nick"]);
    assert.equal((await dave.next("deliver")).body[0], 9);
    alice.close();
    dave.close();
  } finally {
    await relay.close();
  }
});

relayTest(
  "queued envelopes older than the age bound are dropped, not delivered, and reported",
  async () => {
    const relay = await inProcessRelay({ queueMaxAgeSeconds: 1 });
    try {
      const bob = await loggedIn(relay.tcpUrl!, "bob");
      bob.close();
      await sleep(30);
      const alice = await loggedIn(relay.tcpUrl!, "alice");
      await alice.sendEnvelope("bob", new Uint8Array([1]));
      await alice.next("accepted");
      await sleep(1100);
      await alice.sendEnvelope("bob", new Uint8Array([2]));
      await alice.next((f) => f.type === "accepted" && f.count === 2);
      const back = await loggedIn(relay.tcpUrl!, "bob", { identity: bob.identity });
      await back.next("deliver");
      await sleep(50);
      const bodies = back.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []);
      assert.deepEqual(bodies, [2]);
      const told = back.frames.filter((f) => f.type === "undelivered");
      assert.equal(told.length, 1, "bob is told about the expired one");
      assert.ok(alice.frames.some((f) => f.type === "undelivered" && f.reason === "EXPIRED"));
      back.close();
      alice.close();
    } finally {
      await relay.close();
    }
  },
);
