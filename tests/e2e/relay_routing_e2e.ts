import assert from "node:assert/strict";
import { encodeFrame, FrameType } from "../../protocol/mod.ts";
import { inProcessRelay, loggedIn, relayTest, sleep, TestClient } from "./_relay_harness.ts";

relayTest("a SEND reaches the recipient as the same bytes with byte 0 set to DELIVER", async () => {
  const relay = await inProcessRelay();
  try {
    const alice = await loggedIn(relay.tcpUrl!, "alice");
    const bob = await loggedIn(relay.wsUrl, "bob");
    const body = new Uint8Array(300).map((_, i) => (i * 7) & 255);
    const send = encodeFrame({
      type: "send",
      id: new Uint8Array(16).fill(0x42),
      cipher: 0x02,
      from: "alice",
      toKind: "nick",
      to: "bob",
      body,
    });
    await alice.sendBytes(send);
    await bob.next("deliver");
    const got = bob.rawFrames[bob.frames.findIndex((f) => f.type === "deliver")]!;
    const expected = send.slice();
    expected[0] = FrameType.DELIVER;
    assert.deepEqual(got, expected);
    // And back, WebSocket to TCP.
    await bob.sendEnvelope("alice", new Uint8Array([7, 7, 7]), { cipher: 0xca });
    const back = await alice.next("deliver");
    assert.deepEqual([back.from, back.to, back.cipher, [...back.body]], ["bob", "alice", 0xca, [
      7,
      7,
      7,
    ]]);
    alice.close();
    bob.close();
  } finally {
    await relay.close();
  }
});

relayTest(
  "ACCEPTED counts handled SENDs cumulatively, REJECTED names the refused one",
  async () => {
    const relay = await inProcessRelay();
    try {
      const alice = await loggedIn(relay.tcpUrl!, "alice");
      const bob = await loggedIn(relay.tcpUrl!, "bob");
      const ghostId = new Uint8Array(16).fill(9);
      await alice.sendEnvelope("bob", new Uint8Array([1]));
      await alice.sendEnvelope("ghost", new Uint8Array([2]), { id: ghostId });
      await alice.sendEnvelope("bob", new Uint8Array([3]));
      const rejected = await alice.next("rejected");
      assert.deepEqual(
        [rejected.seq, rejected.code, rejected.recipient, rejected.recipientKind],
        [2, "NO_SUCH_USER", "ghost", "nick"],
      );
      assert.deepEqual(rejected.id, ghostId);
      await alice.next((f) => f.type === "accepted" && f.count === 3);
      assert.equal((await bob.next("deliver")).body[0], 1);
      assert.equal((await bob.next("deliver")).body[0], 3);
      alice.close();
      bob.close();
    } finally {
      await relay.close();
    }
  },
);

relayTest("a SEND whose sender is not the granted nick closes only that connection", async () => {
  const relay = await inProcessRelay();
  try {
    const mallory = await loggedIn(relay.tcpUrl!, "mallory");
    const bob = await loggedIn(relay.tcpUrl!, "bob");
    await mallory.send({
      type: "send",
      id: new Uint8Array(16),
      cipher: 1,
      from: "bob",
      toKind: "nick",
      to: "bob",
      body: new Uint8Array([1]),
    });
    assert.equal(await mallory.expectFatal(), "SENDER_MISMATCH");
    assert.ok(!bob.frames.some((f) => f.type === "deliver"));
    await bob.sendEnvelope("bob", new Uint8Array([5]));
    assert.equal((await bob.next("deliver")).body[0], 5);
    bob.close();
  } finally {
    await relay.close();
  }
});

relayTest("rooms: join and leave notices, roster with offline members, room list", async () => {
  const relay = await inProcessRelay();
  try {
    const alice = await loggedIn(relay.tcpUrl!, "alice");
    const bob = await loggedIn(relay.wsUrl, "bob");
    await alice.send({ type: "join", room: "rust" });
    await alice.next((f) => f.type === "joined" && f.room === "rust" && f.nick === "alice");
    await bob.send({ type: "join", room: "rust" });
    await alice.next((f) => f.type === "joined" && f.room === "rust" && f.nick === "bob");
    await bob.next((f) => f.type === "joined" && f.room === "rust" && f.nick === "bob");
    await alice.send({ type: "list-rooms" });
    const rooms = await alice.next("rooms");
    assert.deepEqual(rooms.rooms, [{ room: "lobby", members: 2 }, { room: "rust", members: 2 }]);
    bob.close();
    const presence = await alice.next("presence");
    assert.deepEqual([presence.nick, presence.online], ["bob", false]);
    await alice.send({ type: "list", room: "rust" });
    const roster = await alice.next("roster");
    assert.deepEqual(roster.members, [{ nick: "alice", online: true }, {
      nick: "bob",
      online: false,
    }]);
    await alice.send({ type: "leave", room: "rust" });
    await alice.next((f) => f.type === "left" && f.room === "rust" && f.nick === "alice");
    await alice.send({ type: "leave", room: "rust" });
    const err = await alice.next("error");
    assert.deepEqual([err.code, err.fatal], ["NOT_IN_ROOM", false]);
    await alice.send({ type: "list", room: "rust" });
    assert.equal((await alice.next("error")).code, "NOT_IN_ROOM");
    // Still connected after non-fatal errors.
    await alice.send({ type: "list", room: "" });
    assert.deepEqual((await alice.next("roster")).members, [{ nick: "alice", online: true }]);
    const bobAgain = await loggedIn(relay.tcpUrl!, "bob", { identity: bob.identity });
    const online = await alice.next("presence");
    assert.deepEqual([online.nick, online.online], ["bob", true]);
    // Membership persisted while bob was away.
    await bobAgain.send({ type: "list-rooms" });
    assert.deepEqual((await bobAgain.next("rooms")).rooms.map((r) => r.room), ["lobby", "rust"]);
    alice.close();
    bobAgain.close();
  } finally {
    await relay.close();
  }
});

relayTest(
  "a room envelope reaches every other member, online or queued, not the sender",
  async () => {
    const relay = await inProcessRelay();
    try {
      const members = await Promise.all(
        ["m0", "m1", "m2", "m3"].map((n, i) => loggedIn(i % 2 ? relay.wsUrl : relay.tcpUrl!, n)),
      );
      for (const m of members) {
        await m.send({ type: "join", room: "team" });
        await m.next((f) => f.type === "joined" && f.room === "team" && f.nick === m.nick);
      }
      const outsider = await loggedIn(relay.tcpUrl!, "outsider");
      members[3]!.close(); // m3 offline: queued
      await members[0]!.next((f) => f.type === "presence" && f.nick === "m3");
      await members[0]!.sendEnvelope("team", new Uint8Array([0xaa]), { toKind: "room" });
      for (const m of [members[1]!, members[2]!]) {
        const d = await m.next("deliver");
        assert.deepEqual([d.from, d.to, d.toKind, d.body[0]], ["m0", "team", "room", 0xaa]);
      }
      await members[0]!.next("accepted");
      assert.ok(!members[0]!.frames.some((f) => f.type === "deliver"));
      await outsider.sendEnvelope("team", new Uint8Array([1]), { toKind: "room" });
      const r = await outsider.next("rejected");
      assert.deepEqual([r.code, r.recipient, r.recipientKind], ["NOT_IN_ROOM", "team", "room"]);
      const m3 = await loggedIn(relay.tcpUrl!, "m3", { identity: members[3]!.identity });
      const queued = await m3.next("deliver");
      assert.deepEqual([queued.from, queued.to, queued.body[0]], ["m0", "team", 0xaa]);
      await sleep(20);
      assert.ok(!outsider.frames.some((f) => f.type === "deliver"));
      for (const m of [...members, outsider, m3]) m.close();
    } finally {
      await relay.close();
    }
  },
);

relayTest("PING gets PONG with the same bytes", async () => {
  const relay = await inProcessRelay();
  try {
    const c = await loggedIn(relay.tcpUrl!, "pinger");
    const nonce = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    await c.send({ type: "ping", nonce });
    assert.deepEqual((await c.next("relay-pong")).nonce, nonce);
    c.close();
  } finally {
    await relay.close();
  }
});

relayTest("relay metrics count connections, users and relayed envelopes", async () => {
  const relay = await inProcessRelay();
  try {
    const a = await loggedIn(relay.tcpUrl!, "a");
    const b = await TestClient.connect(relay.wsUrl);
    await b.login("b");
    await a.sendEnvelope("b", new Uint8Array(10));
    await b.next("deliver");
    const text = relay.metricsText();
    assert.match(text, /hush_connections\{transport="tcp"\} 1/);
    assert.match(text, /hush_connections\{transport="ws"\} 1/);
    assert.match(text, /hush_users_online 2/);
    assert.match(text, /hush_envelopes_relayed_total 1/);
    assert.match(text, /# TYPE hush_bytes_relayed_total counter/);
    a.close();
    b.close();
  } finally {
    await relay.close();
  }
});

relayTest(
  "rooms larger than the notice limit get no join, leave or presence broadcasts",
  async () => {
    const relay = await inProcessRelay({ roomNoticeLimit: 2 });
    try {
      const a = await loggedIn(relay.tcpUrl!, "a");
      const b = await loggedIn(relay.tcpUrl!, "b");
      await a.nextWhere("presence", (f) => f.nick === "b");
      const c = await loggedIn(relay.tcpUrl!, "c"); // lobby now has 3 members
      await c.send({ type: "list", room: "lobby" });
      assert.equal((await c.next("roster")).members.length, 3);
      await sleep(30);
      assert.ok(
        !a.frames.some((f) => (f.type === "joined" || f.type === "presence") && f.nick === "c"),
      );
      // The joiner itself is still told.
      assert.ok(c.frames.some((f) => f.type === "joined" && f.nick === "c"));
      for (const x of [a, b, c]) x.close();
    } finally {
      await relay.close();
    }
  },
);
