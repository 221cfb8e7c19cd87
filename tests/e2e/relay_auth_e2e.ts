import assert from "node:assert/strict";
import { generateIdentityKeyPair, sign } from "../../crypto/ed25519.ts";
import {
  authTranscript,
  encodeFrame,
  PROTOCOL_VERSION,
  withLengthPrefix,
} from "../../protocol/mod.ts";
import { toHex } from "../../crypto/bytes.ts";
import {
  inProcessRelay,
  loggedIn,
  relayTest,
  sleep,
  startServer,
  TestClient,
} from "./_relay_harness.ts";

for (const transport of ["tcp", "ws"] as const) {
  relayTest(`relay authenticates a nick by challenge over ${transport}`, async () => {
    const relay = await inProcessRelay();
    try {
      const url = transport === "tcp" ? relay.tcpUrl! : relay.wsUrl;
      const c = await TestClient.connect(url);
      const ready = await c.login("alice");
      assert.equal(ready.nick, "alice");
      assert.equal(ready.maxFrameBytes, 65536);
      assert.equal(ready.queued, 0);
      assert.equal(ready.hasBundle, false);
      const joined = await c.next("joined");
      assert.deepEqual([joined.room, joined.nick], ["lobby", "alice"]);
      c.close();
    } finally {
      await relay.close();
    }
  });

  relayTest(`relay refuses a wrong signature with AUTH_FAILED over ${transport}`, async () => {
    const relay = await inProcessRelay();
    try {
      const c = await TestClient.connect(transport === "tcp" ? relay.tcpUrl! : relay.wsUrl);
      const id = generateIdentityKeyPair();
      await c.send({
        type: "hello",
        version: PROTOCOL_VERSION,
        nick: "mallory",
        identityKey: id.publicKey,
        token: new Uint8Array(0),
      });
      const challenge = await c.next("challenge");
      // Signed for another nick: the transcript binds the requested nick.
      const transcript = authTranscript({
        version: PROTOCOL_VERSION,
        challenge: challenge.nonce,
        identityKey: id.publicKey,
        nick: "alice",
      });
      await c.send({ type: "auth", signature: sign(id.privateKey, transcript) });
      assert.equal(await c.expectFatal(), "AUTH_FAILED");
    } finally {
      await relay.close();
    }
  });
}

relayTest("relay refuses a signature by another key than the HELLO's", async () => {
  const relay = await inProcessRelay();
  try {
    const c = await TestClient.connect(relay.tcpUrl!);
    const claimed = generateIdentityKeyPair();
    const other = generateIdentityKeyPair();
    await c.send({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick: "alice",
      identityKey: claimed.publicKey,
      token: new Uint8Array(0),
    });
    const challenge = await c.next("challenge");
    const t = authTranscript({
      version: PROTOCOL_VERSION,
      challenge: challenge.nonce,
      identityKey: claimed.publicKey,
      nick: "alice",
    });
    await c.send({ type: "auth", signature: sign(other.privateKey, t) });
    assert.equal(await c.expectFatal(), "AUTH_FAILED");
    assert.match(relay.metricsText(), /hush_auth_failures_total 1/);
  } finally {
    await relay.close();
  }
});

relayTest("relay answers a HELLO of version 3 with UNSUPPORTED_VERSION", async () => {
  const relay = await inProcessRelay();
  try {
    const c = await TestClient.connect(relay.tcpUrl!);
    // A future layout: only the type byte and version are read.
    await c.sendBytes(new Uint8Array([0x01, 0x00, 0x03, 0xff, 0xff]));
    assert.equal(await c.expectFatal(), "UNSUPPORTED_VERSION");
  } finally {
    await relay.close();
  }
});

relayTest("server.ts refuses a version-1 HELLO and tells the client to update", async () => {
  const server = await startServer();
  try {
    for (const url of [server.tcp, server.ws]) {
      const c = await TestClient.connect(url);
      const id = generateIdentityKeyPair();
      // The version-1 HELLO layout is the same as version 2's, with 00 01 as the version.
      await c.send({
        type: "hello",
        version: 1,
        nick: "old",
        identityKey: id.publicKey,
        token: new Uint8Array(0),
      });
      const error = await c.next("error");
      assert.equal(error.fatal, true);
      assert.equal(error.code, "UNSUPPORTED_VERSION");
      assert.equal(
        error.detail,
        "Protocol version 1 is not supported: this relay speaks version 2 (update the client)",
      );
      await c.waitClosed();
    }
  } finally {
    await server.stop();
  }
});

relayTest("READY says whether the store is durable and names its epoch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-epoch-" });
  const path = `${dir}/relay.sqlite`;
  const perms = ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`];
  try {
    // Memory relay: not durable, a new epoch at every start.
    const epochs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const server = await startServer();
      try {
        const c = await TestClient.connect(server.tcp);
        const r = await c.login("bob");
        assert.equal(r.durable, false);
        assert.equal(r.epoch.length, 8);
        epochs.push(toHex(r.epoch));
        c.close();
      } finally {
        await server.stop();
      }
    }
    assert.notEqual(epochs[0], epochs[1]);
    // SQLite relay: durable, the same epoch across restarts of the same file.
    const stored: string[] = [];
    for (let i = 0; i < 2; i++) {
      const server = await startServer(["--store", path], perms);
      try {
        const c = await TestClient.connect(server.tcp);
        const r = await c.login("carol");
        assert.equal(r.durable, true);
        stored.push(toHex(r.epoch));
        c.close();
      } finally {
        await server.stop();
      }
    }
    assert.equal(stored[0], stored[1]);
    assert.notEqual(stored[0], epochs[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

relayTest("relay grants a suffixed nick to a second identity and keeps bindings", async () => {
  const relay = await inProcessRelay();
  try {
    const bob = await loggedIn(relay.tcpUrl!, "bob");
    const impostor = await loggedIn(relay.wsUrl, "bob");
    assert.equal(impostor.nick, "bob_1");
    const third = await loggedIn(relay.tcpUrl!, "bob");
    assert.equal(third.nick, "bob_2");
    // The second identity asking again gets its own suffix back.
    impostor.close();
    await sleep(50);
    const again = await loggedIn(relay.tcpUrl!, "bob", { identity: impostor.identity });
    assert.equal(again.nick, "bob_1");
    // Even while bob is offline, his nick stays his.
    bob.close();
    await sleep(50);
    const fourth = await loggedIn(relay.tcpUrl!, "bob");
    assert.equal(fourth.nick, "bob_3");
    for (const c of [third, again, fourth]) c.close();
  } finally {
    await relay.close();
  }
});

relayTest("the same identity reconnecting replaces its old connection", async () => {
  const relay = await inProcessRelay();
  try {
    const first = await loggedIn(relay.tcpUrl!, "carol");
    const watcher = await loggedIn(relay.tcpUrl!, "dave");
    const second = await loggedIn(relay.wsUrl, "carol", { identity: first.identity });
    assert.equal(second.nick, "carol");
    assert.equal(await first.expectFatal(), "REPLACED");
    // No offline notice for a replaced connection: carol never went away.
    await watcher.send({ type: "list", room: "" });
    const roster = await watcher.next("roster");
    assert.deepEqual(roster.members.map((m) => m.nick), ["carol", "dave"]);
    assert.ok(!watcher.frames.some((f) => f.type === "presence" && !f.online));
    // Messages now reach the new connection.
    await watcher.sendEnvelope("carol", new Uint8Array([1]));
    assert.deepEqual((await second.next("deliver")).body, new Uint8Array([1]));
    second.close();
    watcher.close();
  } finally {
    await relay.close();
  }
});

relayTest("a private relay admits only clients with its token", async () => {
  const relay = await inProcessRelay({ token: "open-sesame" });
  try {
    const none = await TestClient.connect(relay.tcpUrl!);
    await none.send({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick: "eve",
      identityKey: none.identity.publicKey,
      token: new Uint8Array(0),
    });
    assert.equal(await none.expectFatal(), "BAD_TOKEN");
    const wrong = await TestClient.connect(relay.wsUrl);
    await wrong.send({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick: "eve",
      identityKey: wrong.identity.publicKey,
      token: new TextEncoder().encode("open-sesamE"),
    });
    assert.equal(await wrong.expectFatal(), "BAD_TOKEN");
    const ok = await loggedIn(relay.tcpUrl!, "eve", { token: "open-sesame" });
    assert.equal(ok.nick, "eve");
    ok.close();
  } finally {
    await relay.close();
  }
});

relayTest("relay closes a connection that does not authenticate in time", async () => {
  const relay = await inProcessRelay({ authTimeoutMs: 150 });
  try {
    const silent = await TestClient.connect(relay.tcpUrl!);
    assert.equal(await silent.expectFatal(2000), "AUTH_TIMEOUT");
    const halfway = await TestClient.connect(relay.wsUrl);
    await halfway.sendBytes(encodeFrame({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick: "slow",
      identityKey: halfway.identity.publicKey,
      token: new Uint8Array(0),
    }));
    await halfway.next("challenge");
    assert.equal(await halfway.expectFatal(2000), "AUTH_TIMEOUT");
  } finally {
    await relay.close();
  }
});

relayTest("frames pipelined right after AUTH are handled once READY is sent", async () => {
  const relay = await inProcessRelay();
  try {
    const c = await TestClient.connect(relay.tcpUrl!);
    await c.send({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick: "eager",
      identityKey: c.identity.publicKey,
      token: new Uint8Array(0),
    });
    const challenge = await c.next("challenge");
    const t = authTranscript({
      version: PROTOCOL_VERSION,
      challenge: challenge.nonce,
      identityKey: c.identity.publicKey,
      nick: "eager",
    });
    const auth = withLengthPrefix(
      encodeFrame({ type: "auth", signature: sign(c.identity.privateKey, t) }),
    );
    const join = withLengthPrefix(encodeFrame({ type: "join", room: "early" }));
    const both = new Uint8Array(auth.length + join.length);
    both.set(auth);
    both.set(join, auth.length);
    await c.sendRaw(both);
    await c.next("ready");
    const joined = await c.nextWhere("joined", (f) => f.room === "early");
    assert.equal(joined.nick, "eager");
    c.close();
  } finally {
    await relay.close();
  }
});
