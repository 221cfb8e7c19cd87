import assert from "node:assert/strict";
import { makeClient, startRelay, untilMembers } from "./_chat_harness.ts";

for (const scheme of ["tcp", "ws"] as const) {
  Deno.test(`ChatClient exchanges private messages both ways over ${scheme}://`, async () => {
    const relay = await startRelay();
    const server = relay[scheme];
    const alice = await makeClient({ server, nick: "alice" });
    const bob = await makeClient({ server, nick: "bob" });
    try {
      await alice.client.connect();
      await bob.client.connect();
      assert.equal((await alice.waitFor("ready")).nick, "alice");
      alice.client.setWire(true);
      const id = await alice.client.sendPrivate("bob", "hi bob 👋 ünïcödé");
      assert.equal(typeof id, "string");
      const got = await bob.waitFor("message", (m) => !m.own);
      assert.deepEqual(
        { from: got.from, to: got.to, private: got.private, text: got.text, id: got.id },
        { from: "alice", to: "bob", private: true, text: "hi bob 👋 ünïcödé", id },
      );
      assert.equal(got.cipher, "aes-256-gcm");
      assert.equal(got.insecure, false);
      await alice.waitFor("sent", (e) => e.id === id);
      const wire = await alice.waitFor("wire", (w) => w.wire.direction === "out");
      assert.equal(wire.wire.to, "bob");
      assert.equal(wire.wire.kind, "initial");
      assert.ok(!wire.wire.bodyHex.includes(toHexText("hi bob")), "plaintext on the wire");

      await bob.client.sendPrivate("alice", "hello alice");
      const back = await alice.waitFor("message", (m) => !m.own);
      assert.equal(back.text, "hello alice");
      assert.equal(back.from, "bob");
      const wireIn = await alice.waitFor("wire", (w) => w.wire.direction === "in");
      assert.equal(wireIn.wire.from, "bob");
      assert.equal(wireIn.wire.id, back.id);

      for (let i = 0; i < 5; i++) await alice.client.sendPrivate("bob", `burst ${i}`);
      for (let i = 0; i < 5; i++) {
        assert.equal((await bob.waitFor("message", (m) => !m.own)).text, `burst ${i}`);
      }
    } finally {
      await alice.client.close();
      await bob.client.close();
      await relay.stop();
    }
    assert.deepEqual(bob.received(), [
      "hi bob 👋 ünïcödé",
      "burst 0",
      "burst 1",
      "burst 2",
      "burst 3",
      "burst 4",
    ]);
    assert.equal(alice.client.unacknowledged, 0);
  });
}

Deno.test("ChatClient delivers a room message to every member, encrypted once", async () => {
  const relay = await startRelay();
  const clients = await Promise.all(
    ["alice", "bob", "carol"].map((nick) =>
      makeClient({ server: nick === "carol" ? relay.ws : relay.tcp, nick })
    ),
  );
  const [alice, bob, carol] = clients as [typeof clients[0], typeof clients[0], typeof clients[0]];
  try {
    for (const c of clients) await c.client.connect();
    // Everyone sees everyone in lobby before the first message.
    await untilMembers(alice, "lobby", 3);
    alice.client.setWire(true);
    const id = await alice.client.sendRoom("hello room 🎉");
    for (const peer of [bob, carol]) {
      const got = await peer.waitFor("message", (m) => !m.own);
      assert.deepEqual(
        { id: got.id, from: got.from, to: got.to, private: got.private, text: got.text },
        { id, from: "alice", to: "lobby", private: false, text: "hello room 🎉" },
      );
    }
    const outs = alice.events.flatMap((e) => e.type === "wire" ? [e.wire] : []);
    assert.deepEqual(
      outs.map((w) => [w.to, w.kind]).sort(),
      [["bob", "initial/sender-key"], ["carol", "initial/sender-key"], ["lobby", "room"]],
    );
    await carol.client.sendRoom("carol here");
    assert.equal((await alice.waitFor("message", (m) => !m.own)).text, "carol here");
    assert.equal((await bob.waitFor("message", (m) => !m.own)).text, "carol here");

    // A second room: join notices and a message only its members get.
    await bob.client.join("side");
    // join() does not wait for the relay: let bob's JOIN land first, or carol's may overtake it.
    await bob.waitFor("join", (j) => j.nick === "bob" && j.room === "side");
    await carol.client.join("side");
    await bob.waitFor("join", (j) => j.nick === "carol" && j.room === "side");
    await bob.client.sendRoom("side talk");
    assert.equal((await carol.waitFor("message", (m) => m.to === "side")).text, "side talk");
    await carol.client.leave("side");
    await bob.waitFor("leave", (l) => l.nick === "carol" && l.room === "side");

    // Carol leaves lobby: alice's next lobby message uses a new sender key, given to bob only.
    await carol.client.leave("lobby");
    await alice.waitFor("leave", (l) => l.nick === "carol" && l.room === "lobby");
    const before = alice.events.length;
    await alice.client.sendRoom("after carol left");
    assert.equal((await bob.waitFor("message", (m) => !m.own)).text, "after carol left");
    const rekey = alice.events.slice(before).flatMap((e) =>
      e.type === "wire" && e.wire.direction === "out"
        ? [[e.wire.to, e.wire.kind.replace(/^\w+\//, "")]]
        : []
    );
    assert.deepEqual(rekey, [["bob", "sender-key"], ["lobby", "room"]]);
  } finally {
    for (const c of clients) await c.client.close();
    await relay.stop();
  }
  assert.deepEqual(alice.received(), ["carol here"]);
  assert.deepEqual(bob.received(), ["hello room 🎉", "carol here", "after carol left"]);
  assert.deepEqual(carol.received(), ["hello room 🎉", "side talk"]);
});

function toHexText(text: string): string {
  return [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
