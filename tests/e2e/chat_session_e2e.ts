import assert from "node:assert/strict";
import { ChatError } from "../../chat/errors.ts";
import { MemoryHome } from "../../chat/home.ts";
import { makeClient, startRelay, untilMembers } from "./_chat_harness.ts";

Deno.test("ChatClient keeps a suffixed nick granted by the relay across reconnects", async () => {
  const relay = await startRelay();
  const first = await makeClient({ server: relay.tcp, nick: "dana" });
  const otherHome = new MemoryHome();
  let other = await makeClient({ server: relay.tcp, nick: "dana", home: otherHome });
  try {
    await first.client.connect();
    await other.client.connect();
    assert.equal((await other.waitFor("ready")).nick, "dana_1");
    assert.equal(other.client.nick, "dana_1");
    await other.client.close();
    await first.client.close(); // "dana" is free now, but bound to the first identity
    other = await makeClient({ server: relay.tcp, nick: "dana", home: otherHome });
    await other.client.connect();
    assert.equal((await other.waitFor("ready")).nick, "dana_1");

    other.client.changeNick("erin");
    const changed = await other.waitFor("nick");
    assert.deepEqual(changed, { type: "nick", old: "dana_1", new: "erin" });
    assert.equal((await other.waitFor("ready")).nick, "erin");
  } finally {
    await first.client.close();
    await other.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient.connect() rejects with CONNECT_FAILED when no relay listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const lonely = await makeClient({ server: `tcp://127.0.0.1:${port}`, nick: "lonely" });
  await assert.rejects(
    () => lonely.client.connect(),
    (error: unknown) => error instanceof ChatError && error.code === "CONNECT_FAILED",
  );
  await lonely.client.close();
});

Deno.test("ChatClient.close() resolves only after the relay acknowledged every send", async () => {
  const relay = await startRelay();
  const alice = await makeClient({ server: relay.ws, nick: "alice" });
  const bob = await makeClient({ server: relay.tcp, nick: "bob" });
  try {
    await alice.client.connect();
    await bob.client.connect();
    const ids: (string | undefined)[] = [];
    for (let i = 0; i < 20; i++) ids.push(await alice.client.sendPrivate("bob", `m${i}`));
    await alice.client.close();
    assert.equal(alice.client.unacknowledged, 0);
    const sent = new Set(alice.events.flatMap((e) => e.type === "sent" ? [e.id] : []));
    for (const id of ids) assert.ok(id !== undefined && sent.has(id), `no ack for ${id}`);
    for (let i = 0; i < 20; i++) await bob.waitFor("message", (m) => m.text === `m${i}`);
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient reports bad commands as error events, never exceptions", async () => {
  const relay = await startRelay();
  const alice = await makeClient({ server: relay.tcp, nick: "alice" });
  try {
    await alice.client.connect();
    assert.equal(await alice.client.sendPrivate("nobody", "hello?"), undefined);
    assert.equal((await alice.waitFor("error")).code, "UNKNOWN_PEER");
    await alice.client.sendPrivate("bad nick!", "x");
    assert.equal((await alice.waitFor("error")).code, "BAD_NICK");
    await alice.client.setCipher("rot13");
    assert.equal((await alice.waitFor("error")).code, "UNKNOWN_CIPHER_SUITE");
    await alice.client.leave("nowhere");
    assert.equal((await alice.waitFor("error")).code, "NOT_IN_ROOM");
    await alice.client.verify("nobody");
    assert.equal((await alice.waitFor("error")).code, "UNKNOWN_PEER");
    await alice.client.setCipher("caesar");
    assert.deepEqual(await alice.waitFor("cipher"), {
      type: "cipher",
      cipher: "caesar",
      insecure: true,
    });
    assert.match((await alice.waitFor("info")).message, /INSECURE/);
  } finally {
    await alice.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient presents --token to a private relay and stops for good on BAD_TOKEN", async () => {
  const relay = await startRelay({ args: ["--token", "s3cret"] });
  const member = await makeClient({ server: relay.tcp, nick: "member", token: "s3cret" });
  const outsider = await makeClient({ server: relay.ws, nick: "outsider", token: "guess" });
  try {
    await member.client.connect();
    assert.equal((await member.waitFor("ready")).nick, "member");
    await assert.rejects(
      () => outsider.client.connect(),
      (error: unknown) => error instanceof ChatError && error.code === "HANDSHAKE_FAILED",
    );
    assert.equal((await outsider.waitFor("error")).code, "BAD_TOKEN");
    assert.equal(outsider.events.some((e) => e.type === "reconnecting"), false);
  } finally {
    await member.client.close();
    await outsider.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient answers the relay's heartbeats and stays connected while idle", async () => {
  const relay = await startRelay({ args: ["--heartbeat", "100"] });
  const idle = await makeClient({ server: relay.tcp, nick: "idle" });
  try {
    await idle.client.connect();
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(idle.client.connected, true);
    assert.equal(idle.events.some((e) => e.type === "disconnected"), false);
  } finally {
    await idle.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient answers whois and verify about oneself without pinning its own key", async () => {
  const relay = await startRelay();
  const solo = await makeClient({ server: relay.tcp, nick: "solo" });
  try {
    await solo.client.connect();
    await solo.client.whois("solo");
    const whois = await solo.waitFor("whois");
    assert.equal(whois.fingerprint, solo.client.fingerprint);
    await solo.client.verify("solo");
    assert.equal((await solo.waitFor("error")).code, "BAD_RECIPIENT");
    solo.client.listUsers("bad room!");
    assert.equal((await solo.waitFor("error")).code, "BAD_ROOM");
    await solo.client.whois("bad nick!");
    assert.equal((await solo.waitFor("error")).code, "BAD_NICK");
  } finally {
    await solo.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient keeps talking after a nick change: new sessions and a new room key", async () => {
  const relay = await startRelay();
  const alice = await makeClient({ server: relay.tcp, nick: "alice" });
  const bob = await makeClient({ server: relay.ws, nick: "bob" });
  try {
    await alice.client.connect();
    await bob.client.connect();
    await untilMembers(alice, "lobby", 2);
    await alice.client.sendPrivate("bob", "as alice");
    await alice.client.sendRoom("room as alice");
    await bob.waitFor("message", (m) => m.text === "room as alice");
    alice.client.changeNick("alicia");
    assert.deepEqual(await alice.waitFor("nick"), { type: "nick", old: "alice", new: "alicia" });
    await alice.waitFor("ready", (r) => r.nick === "alicia");
    await alice.client.sendPrivate("bob", "as alicia");
    const got = await bob.waitFor("message", (m) => m.text === "as alicia");
    assert.equal(got.from, "alicia");
    await untilMembers(alice, "lobby", 3); // alicia, bob, and the old "alice" (offline)
    alice.client.setWire(true);
    await alice.client.sendRoom("room as alicia");
    assert.equal((await bob.waitFor("message", (m) => m.text === "room as alicia")).from, "alicia");
    await bob.client.sendPrivate("alicia", "hi alicia");
    assert.equal((await alice.waitFor("message", (m) => !m.own)).text, "hi alicia");
    assert.equal(bob.events.some((e) => e.type === "error"), false);
    // The new sender key goes to bob only, not to our own former nick.
    const outs = alice.events.flatMap((e) =>
      e.type === "wire" && e.wire.direction === "out" ? [e.wire.to] : []
    );
    assert.deepEqual(outs.sort(), ["bob", "lobby"]);
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
  }
});
