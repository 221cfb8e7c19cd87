import assert from "node:assert/strict";
import { sign } from "../../crypto/ed25519.ts";
import { identityDhSignedMessage, signedPrekeySignedMessage } from "../../protocol/mod.ts";
import { HELP } from "../../server.ts";
import {
  loggedIn,
  relayTest,
  type ServerProcess,
  sleep,
  startServer,
  TestClient,
} from "./_relay_harness.ts";

const SERVER = new URL("../../server.ts", import.meta.url).pathname;

async function run(args: string[], permissions = ["--allow-net"]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, SERVER, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

relayTest("server.ts --help prints the HELP constant listing every flag", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, HELP + "\n");
  for (
    const flag of [
      "--host",
      "--port",
      "--tcp-port",
      "--store",
      "--cert",
      "--key",
      "--log-file",
      "--token",
      "--max-frame",
      "--rate",
      "--burst",
      "--max-connections",
      "--auth-timeout",
      "--heartbeat",
      "--max-buffered",
      "--max-unacked",
      "--room-notice-limit",
      "--queue-max",
      "--queue-max-bytes",
      "--queue-max-age",
      "--store-busy-timeout",
      "--store-sync",
      "--nick-ttl",
    ]
  ) assert.ok(HELP.includes(flag), flag);
});

relayTest("server.ts refuses an unknown flag and a bad number with a hint", async () => {
  const r = await run(["--bogus"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^hush: error: /);
  assert.match(r.stderr, /hush: hint: run with --help/);
  const n = await run(["--rate", "fast"]);
  assert.equal(n.code, 2);
  assert.match(n.stderr, /Invalid --rate "fast"/);
  const range = await run(["--port", "70000"]);
  assert.equal(range.code, 2);
  assert.match(range.stderr, /^hush: error: Invalid port "70000"/);
  const sync = await run(["--store-sync", "off"]);
  assert.equal(sync.code, 2);
  assert.match(sync.stderr, /^hush: error: Invalid storeSync "off": expected normal or full/);
});

relayTest(
  "server.ts with only --allow-net prints its URLs, says memory, serves health and metrics",
  async () => {
    const server = await startServer();
    try {
      assert.match(
        server.lines[0]!,
        /^hush relay listening on ws:\/\/127\.0\.0\.1:\d+\/ and tcp:\/\/127\.0\.0\.1:\d+$/,
      );
      assert.doesNotMatch(server.ws, /:0\//);
      await (async () => {
        for (let i = 0; i < 100 && server.lines.length < 2; i++) await sleep(10);
      })();
      assert.match(
        server.lines[1]!,
        /store: memory \(queues and accepted messages are lost on restart.*use --store PATH/,
      );
      const http = server.ws.replace("ws://", "http://");
      const health = await fetch(new URL("/healthz", http));
      assert.equal(health.status, 200);
      assert.equal(await health.text(), "ok\n");
      const a = await loggedIn(server.tcp, "alice");
      const b = await loggedIn(server.ws, "bob");
      await a.sendEnvelope("bob", new Uint8Array([1, 2]));
      await b.next("deliver");
      const metrics = await (await fetch(new URL("/metrics", http))).text();
      assert.match(metrics, /# TYPE hush_connections gauge/);
      assert.match(metrics, /hush_users_online 2/);
      assert.match(metrics, /hush_envelopes_relayed_total 1/);
      const missing = await fetch(new URL("/nope", http));
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      a.close();
      b.close();
    } finally {
      await server.stop();
    }
  },
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  relayTest(`${signal} shuts down gracefully: clients are told, the process exits 0`, async () => {
    const server = await startServer();
    const c = await loggedIn(server.tcp, "alice");
    const w = await loggedIn(server.ws, "bob");
    const status = await server.stop(signal);
    assert.equal(status.code, 0);
    assert.equal(await c.expectFatal(), "SHUTTING_DOWN");
    assert.equal(await w.expectFatal(), "SHUTTING_DOWN");
    assert.ok(server.lines.includes("hush relay shutting down"));
  });
}

relayTest("the event log has timestamped events and never a body or the token", async () => {
  const dir = await Deno.makeTempDir();
  const logFile = `${dir}/relay.log`;
  const server = await startServer(
    ["--log-file", logFile, "--token", "tok-SECRET-123"],
    ["--allow-net", `--allow-write=${dir}`, `--allow-read=${dir}`],
  );
  try {
    const secret = new TextEncoder().encode("BODY-MARKER-do-not-log");
    const a = await loggedIn(server.tcp, "alice", { token: "tok-SECRET-123" });
    const b = await loggedIn(server.ws, "bob", { token: "tok-SECRET-123" });
    await a.sendEnvelope("bob", secret);
    await b.next("deliver");
    await a.send({ type: "join", room: "club" });
    await a.next((f) => f.type === "joined" && f.room === "club");
    const bad = await TestClient.connect(server.tcp);
    await bad.sendRaw(new Uint8Array([0, 0, 0, 0]));
    await bad.expectFatal();
    a.close();
    b.close();
    await sleep(100);
  } finally {
    await server.stop();
  }
  const log = await Deno.readTextFile(logFile);
  await Deno.remove(dir, { recursive: true });
  for (const event of ["listen", "connect", "auth", "join", "disconnect", "error", "shutdown"]) {
    assert.match(
      log,
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${event} `, "m"),
    );
  }
  assert.match(log, /error id=\d+ code=EMPTY_FRAME/);
  assert.doesNotMatch(log, /BODY-MARKER/);
  assert.doesNotMatch(log, /424f44592d4d41524b4552/i); // the marker as hex
  assert.doesNotMatch(log, /tok-SECRET/);
});

relayTest("server.ts --store without write permission fails with a clear error", async () => {
  const dir = await Deno.makeTempDir();
  const r = await run(["--port", "0", "--store", `${dir}/x.sqlite`]);
  await Deno.remove(dir, { recursive: true });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^hush: error: Cannot open store/);
  assert.match(r.stderr, /hush: hint: --store needs --allow-read --allow-write/);
});

/** A temporary directory and a `server.ts --store` in it, with only the permissions it needs. */
async function tempStore(
  extra: string[] = [],
): Promise<{ dir: string; start: () => Promise<ServerProcess> }> {
  const dir = await Deno.makeTempDir();
  const perms = ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`];
  return { dir, start: () => startServer(["--store", `${dir}/relay.sqlite`, ...extra], perms) };
}

relayTest(
  "a restart with --store loses nothing: bindings, rooms, keys, queued and unacked envelopes",
  async () => {
    const { dir, start } = await tempStore();
    let server = await start();
    const alice = await loggedIn(server.tcp, "alice");
    const bob = await loggedIn(server.ws, "bob");
    const carol = await loggedIn(server.tcp, "carol");
    try {
      assert.match(server.lines[1] ?? (await sleep(50), server.lines[1])!, /store: sqlite /);
      await bob.send({ type: "join", room: "club" });
      await bob.next((f) => f.type === "joined" && f.room === "club");
      await alice.send({ type: "join", room: "club" });
      await alice.next((f) => f.type === "joined" && f.room === "club" && f.nick === "alice");
      bob.close();
      await alice.next((f) => f.type === "presence" && !f.online);
      for (let i = 0; i < 3; i++) await alice.sendEnvelope("bob", new Uint8Array([i]));
      await alice.sendEnvelope("club", new Uint8Array([3]), { toKind: "room" });
      // carol receives two live envelopes and never acks them.
      await alice.sendEnvelope("carol", new Uint8Array([10]));
      await alice.sendEnvelope("carol", new Uint8Array([11]));
      await carol.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 2);
      await alice.next((f) => f.type === "accepted" && f.count === 6);
      const dh = new Uint8Array(32).fill(5);
      const spk = new Uint8Array(32).fill(6);
      await carol.send({
        type: "publish-keys",
        replaceOneTimePrekeys: false,
        identityDhKey: dh,
        identityDhSignature: sign(carol.identity.privateKey, identityDhSignedMessage(dh)),
        signedPrekeyId: 3,
        signedPrekey: spk,
        signedPrekeySignature: sign(carol.identity.privateKey, signedPrekeySignedMessage(3, spk)),
        oneTimePrekeys: [{ id: 77, key: new Uint8Array(32).fill(7) }],
      });
      await carol.next("prekey-count");
    } finally {
      assert.equal((await server.stop("SIGTERM")).code, 0);
    }
    server = await start();
    try {
      const bob2 = await loggedIn(server.tcp, "bob", { identity: bob.identity });
      assert.equal(bob2.nick, "bob");
      await bob2.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 4);
      const bodies = bob2.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []);
      assert.deepEqual(bodies, [0, 1, 2, 3]);
      await bob2.ack();
      const carol2 = await loggedIn(server.ws, "carol", { identity: carol.identity });
      await carol2.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 2);
      assert.deepEqual(
        carol2.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []),
        [10, 11],
      );
      await carol2.ack();
      await bob2.send({ type: "fetch-keys", nick: "carol" });
      const keys = await bob2.next("keys");
      assert.ok(keys.status === "ok" && keys.oneTimePrekey?.id === 77);
      assert.deepEqual(keys.identityKey, carol.identity.publicKey);
      await bob2.send({ type: "list-rooms" });
      assert.deepEqual((await bob2.next("rooms")).rooms.map((r) => r.room), ["club", "lobby"]);
      const impostor = await loggedIn(server.tcp, "bob");
      assert.equal(impostor.nick, "bob_1");
      for (const c of [bob2, carol2, impostor]) c.close();
      await sleep(50);
    } finally {
      assert.equal((await server.stop("SIGTERM")).code, 0);
    }
    // Acked envelopes are gone for good after a third start.
    server = await start();
    try {
      const bob3 = await loggedIn(server.tcp, "bob", { identity: bob.identity });
      const ready = bob3.frames.find((f) => f.type === "ready");
      assert.ok(ready?.type === "ready" && ready.queued === 0);
      bob3.close();
    } finally {
      await server.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
);

for (const sync of ["normal", "full"]) {
  relayTest(
    `a relay with --store (--store-sync ${sync}) killed outright (SIGKILL) loses nothing it accepted, live or queued`,
    async () => {
      const { dir, start } = await tempStore(["--store-sync", sync]);
      let server = await start();
      const alice = await loggedIn(server.tcp, "alice");
      const bob = await loggedIn(server.tcp, "bob");
      const carol = await loggedIn(server.ws, "carol");
      try {
        bob.close();
        await alice.next((f) => f.type === "presence" && f.nick === "bob" && !f.online);
        await alice.sendEnvelope("bob", new Uint8Array([1])); // queued: bob is offline
        await alice.sendEnvelope("carol", new Uint8Array([10])); // live, carol never acks
        await alice.sendEnvelope("carol", new Uint8Array([11]));
        await carol.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 2);
        await alice.next((f) => f.type === "accepted" && f.count === 3);
      } finally {
        assert.equal((await server.stop("SIGKILL")).signal, "SIGKILL");
      }
      server = await start();
      try {
        const carol2 = await loggedIn(server.tcp, "carol", { identity: carol.identity });
        await carol2.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 2);
        assert.deepEqual(
          carol2.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []),
          [10, 11],
        );
        await carol2.ack();
        const bob2 = await loggedIn(server.ws, "bob", { identity: bob.identity });
        await bob2.waitFor((fs) => fs.some((f) => f.type === "deliver"));
        assert.deepEqual(bob2.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []), [1]);
        await bob2.ack();
        // A live delivery that was acked is deleted: carol's next connection gets nothing again.
        alice.close();
        carol2.close();
        await sleep(50);
        const carol3 = await loggedIn(server.tcp, "carol", { identity: carol.identity });
        const ready = carol3.frames.find((f) => f.type === "ready");
        assert.ok(ready?.type === "ready" && ready.queued === 0);
        for (const c of [bob2, carol3]) c.close();
        await sleep(50);
      } finally {
        await server.stop("SIGTERM");
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

relayTest(
  "a room envelope stored once for its members: after a SIGKILL each member who had not acked it gets it again, once; one who acked does not",
  async () => {
    const { dir, start } = await tempStore();
    let server = await start();
    const alice = await loggedIn(server.tcp, "alice");
    const members = [
      await loggedIn(server.tcp, "bob"),
      await loggedIn(server.ws, "carol"),
      await loggedIn(server.tcp, "dave"),
    ];
    try {
      for (const c of [alice, ...members]) {
        await c.send({ type: "join", room: "club" });
        await c.next((f) => f.type === "joined" && f.room === "club" && f.nick === c.nick);
      }
      const dave = members[2]!;
      dave.close(); // offline: queued
      await alice.next((f) => f.type === "presence" && f.nick === "dave" && !f.online);
      await alice.sendEnvelope("club", new Uint8Array([7]), { toKind: "room" });
      await alice.sendEnvelope("club", new Uint8Array([8]), { toKind: "room" });
      await alice.next((f) => f.type === "accepted" && f.count === 2);
      const [bob, carol] = members;
      for (const c of [bob!, carol!]) {
        await c.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 2);
      }
      await bob!.ack(); // bob acks both; carol acks none
      await sleep(100); // the ACK reaches the relay and its commit
    } finally {
      assert.equal((await server.stop("SIGKILL")).signal, "SIGKILL");
    }
    server = await start();
    try {
      const bodies = (c: TestClient) =>
        c.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []);
      const carol2 = await loggedIn(server.tcp, "carol", { identity: members[1]!.identity });
      await carol2.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 2);
      const dave2 = await loggedIn(server.ws, "dave", { identity: members[2]!.identity });
      await dave2.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 2);
      const bob2 = await loggedIn(server.tcp, "bob", { identity: members[0]!.identity });
      const ready = bob2.frames.find((f) => f.type === "ready");
      assert.ok(ready?.type === "ready" && ready.queued === 0, "bob acked both: nothing again");
      await sleep(200);
      assert.deepEqual(bodies(carol2), [7, 8]);
      assert.deepEqual(bodies(dave2), [7, 8]);
      assert.deepEqual(bodies(bob2), []);
      // Acked by every member now: the envelopes' rows go; a reconnect gets nothing.
      await carol2.ack();
      await dave2.ack();
      await sleep(100);
      for (const c of [carol2, dave2, bob2]) c.close();
      await sleep(50);
      const carol3 = await loggedIn(server.tcp, "carol", { identity: members[1]!.identity });
      const again = carol3.frames.find((f) => f.type === "ready");
      assert.ok(again?.type === "ready" && again.queued === 0);
      carol3.close();
      alice.close();
      await sleep(50);
    } finally {
      await server.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
);

relayTest("server.ts on a port already in use fails with a clear error", async () => {
  const server = await startServer();
  try {
    const port = new URL(server.ws).port;
    const r = await run(["--port", port, "--tcp-port", "0"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`^hush: error: Cannot listen on 127\\.0\\.0\\.1 \\(port ${port},`),
    );
  } finally {
    await server.stop();
  }
});
