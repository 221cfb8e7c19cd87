import assert from "node:assert/strict";
import { openFileHome } from "../../chat/file_home.ts";
import { makeClient, startRelay, untilMembers } from "./_chat_harness.ts";

Deno.test("ChatClient gets what was sent while it was offline when it connects", async () => {
  const relay = await startRelay();
  const alice = await makeClient({ server: relay.tcp, nick: "alice" });
  const bobHome = await makeClient({ server: relay.tcp, nick: "bob" });
  let bob = bobHome;
  try {
    await alice.client.connect();
    await bob.client.connect(); // publishes bob's keys
    await untilMembers(alice, "lobby", 2);
    await bob.client.close();
    await alice.waitFor("presence", (p) => p.nick === "bob" && !p.online);

    await alice.client.sendPrivate("bob", "while you were away 1");
    await alice.client.sendRoom("room while away");
    await alice.client.sendPrivate("bob", "while you were away 2");
    await alice.waitFor("sent");
    await alice.waitFor("sent");
    await alice.waitFor("sent");

    // Same home (identity, sessions, seen ids), new engine.
    bob = await makeClient({ server: relay.tcp, nick: "bob", home: bobHome.home });
    await bob.client.connect();
    for (let i = 0; i < 3; i++) await bob.waitFor("message", (m) => !m.own);
    assert.deepEqual(bob.received(), [
      "while you were away 1",
      "room while away",
      "while you were away 2",
    ]);
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient keeps identity, sessions and seen ids in a home directory across restarts", async () => {
  const relay = await startRelay();
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-home-" });
  try {
    const home = await openFileHome(`${dir}/alice`);
    const bob = await makeClient({ server: relay.ws, nick: "bob" });
    let alice = await makeClient({ server: relay.ws, nick: "alice", home });
    try {
      await alice.client.connect();
      await bob.client.connect();
      const fingerprint = (await alice.waitFor("ready")).fingerprint;
      await alice.client.sendPrivate("bob", "first");
      assert.equal((await bob.waitFor("message", (m) => !m.own)).text, "first");
      await bob.client.sendPrivate("alice", "reply");
      await alice.waitFor("message", (m) => !m.own);
      await alice.client.close();

      alice = await makeClient({
        server: relay.ws,
        nick: "alice",
        home: await openFileHome(`${dir}/alice`),
      });
      await alice.client.connect();
      assert.equal((await alice.waitFor("ready")).fingerprint, fingerprint);
      alice.client.setWire(true);
      await alice.client.sendPrivate("bob", "second, same session");
      const wire = await alice.waitFor("wire", (w) => w.wire.direction === "out");
      assert.equal(wire.wire.kind, "ratchet"); // no new X3DH: the session survived
      assert.equal((await bob.waitFor("message", (m) => !m.own)).text, "second, same session");
      // The reply received before the restart is not shown again.
      await bob.client.sendPrivate("alice", "after restart");
      assert.equal((await alice.waitFor("message", (m) => !m.own)).text, "after restart");
      assert.deepEqual(alice.received(), ["after restart"]);
    } finally {
      await alice.client.close();
      await bob.client.close();
    }
    const dirInfo = await Deno.stat(`${dir}/alice`);
    assert.equal((dirInfo.mode ?? 0) & 0o777, 0o700);
    for await (const entry of Deno.readDir(`${dir}/alice`)) {
      const info = await Deno.stat(`${dir}/alice/${entry.name}`);
      assert.equal((info.mode ?? 0) & 0o777, 0o600, entry.name);
      assert.ok(!entry.name.includes(".tmp-"), `leftover temp file ${entry.name}`);
    }
  } finally {
    await relay.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
