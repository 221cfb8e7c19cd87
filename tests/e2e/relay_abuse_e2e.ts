/**
 * One client must not take the relay down (issue 10): each attack over the network against a
 * real `server.ts` process.
 */
import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { sign } from "../../crypto/ed25519.ts";
import { randomBytes } from "../../crypto/random.ts";
import {
  identityDhSignedMessage,
  type PublishKeysFrame,
  signedPrekeySignedMessage,
} from "../../protocol/mod.ts";
import { decodeFrame, PROTOCOL_VERSION } from "../../protocol/mod.ts";
import { loggedIn, relayTest, sleep, startServer, TestClient } from "./_relay_harness.ts";

async function metric(wsUrl: string, name: string, headers: HeadersInit = {}): Promise<number> {
  const text = await (await fetch(new URL("/metrics", wsUrl.replace(/^ws/, "http")), { headers }))
    .text();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m === null ? NaN : Number(m[1]);
}

const ENC = new TextEncoder();

/** A raw socket on the WebSocket port: writes what the test says, reads what comes back. */
async function rawSocket(url: string) {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  let pending = new Uint8Array(0);
  let ended = false;
  const readMore = async (deadline: number): Promise<boolean> => {
    const buf = new Uint8Array(65536);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), deadline - Date.now())),
    ]);
    clearTimeout(timer);
    if (n === "timeout") return false;
    if (n === null) {
      ended = true;
      return false;
    }
    const next = new Uint8Array(pending.length + n);
    next.set(pending);
    next.set(buf.subarray(0, n), pending.length);
    pending = next;
    return true;
  };
  return {
    conn,
    get ended() {
      return ended;
    },
    write: (bytes: Uint8Array | string) =>
      conn.write(typeof bytes === "string" ? ENC.encode(bytes) : bytes),
    /** Reads until the peer closes or the deadline passes; returns everything read. */
    async drain(ms: number): Promise<Uint8Array> {
      const deadline = Date.now() + ms;
      while (!ended && Date.now() < deadline && await readMore(deadline));
      return pending;
    },
    async upgrade(): Promise<void> {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      await conn.write(ENC.encode(
        `GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ));
      const deadline = Date.now() + 5000;
      while (!new TextDecoder().decode(pending).includes("\r\n\r\n")) {
        assert.ok(await readMore(deadline), "no 101 response");
      }
      const head = new TextDecoder().decode(pending);
      assert.match(head, /^HTTP\/1\.1 101/);
      pending = pending.slice(head.indexOf("\r\n\r\n") + 4);
    },
    close() {
      try {
        conn.close();
      } catch {
        // closed
      }
    },
  };
}

/** The binary WebSocket messages in `bytes` (server frames: unmasked). */
function serverMessages(bytes: Uint8Array): { opcode: number; payload: Uint8Array }[] {
  const out = [];
  let o = 0;
  while (bytes.length - o >= 2) {
    let len = bytes[o + 1]! & 127;
    let off = 2;
    if (len === 126) {
      len = (bytes[o + 2]! << 8) | bytes[o + 3]!;
      off = 4;
    } else if (len === 127) {
      len = new DataView(bytes.buffer, bytes.byteOffset + o + 6, 4).getUint32(0);
      off = 10;
    }
    if (bytes.length - o < off + len) break;
    out.push({ opcode: bytes[o]! & 15, payload: bytes.slice(o + off, o + off + len) });
    o += off + len;
  }
  return out;
}

function fatalCode(bytes: Uint8Array): string | undefined {
  for (const m of serverMessages(bytes)) {
    if (m.opcode !== 2) continue;
    const f = decodeFrame(m.payload);
    if (f.type === "error") return f.code;
  }
  return undefined;
}

relayTest(
  "a WebSocket message announced over --max-frame is refused from its header, before auth",
  async () => {
    const server = await startServer(["--max-frame", "65536"]);
    try {
      const s = await rawSocket(server.ws);
      await s.upgrade();
      // A masked binary frame announcing 60 MiB, and only 1 KiB of it.
      const header = new Uint8Array(14);
      header[0] = 0x82;
      header[1] = 0x80 | 127;
      new DataView(header.buffer).setUint32(6, 60 * 1024 * 1024);
      await s.write(header);
      await s.write(new Uint8Array(1024));
      const got = await s.drain(3000);
      assert.equal(fatalCode(got), "FRAME_TOO_LARGE", "refused without waiting for the payload");
      assert.ok(s.ended, "the relay closed the socket");
      s.close();
      // Fragments that add up to more than the maximum are refused too.
      const f = await rawSocket(server.ws);
      await f.upgrade();
      const part = (first: boolean, fin: boolean, len: number) => {
        const h = new Uint8Array(8 + len);
        h[0] = (fin ? 0x80 : 0) | (first ? 0x2 : 0x0);
        h[1] = 0x80 | 126;
        h[2] = len >> 8;
        h[3] = len & 255;
        return h; // mask 0 0 0 0: payload sent as is
      };
      await f.write(part(true, false, 40_000));
      await f.write(part(false, false, 40_000));
      assert.equal(fatalCode(await f.drain(3000)), "FRAME_TOO_LARGE");
      f.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest("a slow HTTP request head on the WebSocket port is cut at --header-timeout", async () => {
  const server = await startServer(["--header-timeout", "300"]);
  try {
    const s = await rawSocket(server.ws);
    await s.write("GET / HTTP/1.1\r\nHost: x\r\n");
    const t0 = Date.now();
    const got = new TextDecoder().decode(await s.drain(4000));
    assert.ok(s.ended, "the relay closed a socket that never finished its request head");
    assert.ok(Date.now() - t0 < 3000);
    assert.match(got, /^HTTP\/1\.1 408/);
    s.close();
    // A head over the size bound is refused at once.
    const big = await rawSocket(server.ws);
    await big.write("GET / HTTP/1.1\r\n" + "X-Pad: " + "a".repeat(9000));
    assert.match(new TextDecoder().decode(await big.drain(3000)), /^HTTP\/1\.1 431/);
    big.close();
  } finally {
    await server.stop();
  }
});

relayTest(
  "a reader that never ACKs pins no more than its queue bound, and nothing goes back past it",
  async () => {
    // Memory store: live deliveries count against the recipient's queue until acknowledged.
    const server = await startServer([
      "--queue-max-bytes",
      "20000",
      "--max-unacked-bytes",
      "200000",
      "--heartbeat",
      "60000",
    ]);
    try {
      const a = await loggedIn(server.tcp, "a");
      const b = await loggedIn(server.tcp, "b");
      for (let i = 0; i < 40; i++) await a.sendEnvelope("b", new Uint8Array(1000));
      await a.waitFor((fs) => fs.some((f) => f.type === "accepted" && f.count === 40));
      const full = a.frames.filter((f) => f.type === "rejected" && f.code === "QUEUE_FULL").length;
      assert.ok(full >= 20, `QUEUE_FULL for what is over the bound while b holds it (${full})`);
      await b.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 40 - full);
      assert.ok(await metric(server.ws, "hush_queue_bytes") <= 20000);
      b.close(); // never acked: everything goes back to b's queue, within the bound
      await sleep(300);
      assert.ok(await metric(server.ws, "hush_queue_bytes") <= 20000);
      const again = await loggedIn(server.tcp, "b", { identity: b.identity });
      await again.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 40 - full);
      again.close();
      a.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest(
  "unacknowledged bytes per connection are bounded: --max-unacked-bytes ends the hoarder",
  async () => {
    const server = await startServer(["--max-unacked-bytes", "16384", "--heartbeat", "60000"]);
    try {
      const a = await loggedIn(server.tcp, "a");
      const b = await loggedIn(server.tcp, "b");
      for (let i = 0; i < 40; i++) await a.sendEnvelope("b", new Uint8Array(1000));
      assert.equal(await b.expectFatal(), "UNACKED_LIMIT");
      a.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest("--max-queue-memory bounds the memory store's queues relay-wide", async () => {
  const server = await startServer(["--max-queue-memory", "30000", "--heartbeat", "60000"]);
  try {
    const a = await loggedIn(server.tcp, "a");
    const names = ["q1", "q2", "q3", "q4"];
    for (const n of names) (await loggedIn(server.tcp, n)).close();
    await sleep(200);
    for (const n of names) {
      for (let i = 0; i < 10; i++) await a.sendEnvelope(n, new Uint8Array(1000));
    }
    await a.waitFor((fs) => fs.some((f) => f.type === "accepted" && f.count === 40));
    const full = a.frames.filter((f) => f.type === "rejected" && f.code === "QUEUE_FULL");
    assert.ok(full.length >= 10, `QUEUE_FULL once the relay holds 30000 bytes (${full.length})`);
    assert.ok(await metric(server.ws, "hush_queue_bytes") <= 30000);
    a.close();
  } finally {
    await server.stop();
  }
});

relayTest("the --store file is created 0600 in a 0700 folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-mode-" });
  const path = `${dir}/sub/relay.sqlite`;
  const server = await startServer(
    ["--store", path],
    ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`],
  );
  try {
    const a = await loggedIn(server.tcp, "a");
    a.close();
    assert.equal((await Deno.stat(`${dir}/sub`)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    for (const extra of ["-wal", "-shm"]) {
      const info = await Deno.stat(path + extra).catch(() => null);
      if (info !== null) assert.equal(info.mode! & 0o077, 0, `${extra} readable by others`);
    }
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

relayTest(
  "a private relay: /metrics needs the token, wrong tokens back an address off, no TLS warns",
  async () => {
    const server = await startServer(["--token", "tok-123"]);
    try {
      const http = server.ws.replace(/^ws/, "http");
      const open = await fetch(new URL("/metrics", http));
      assert.equal(open.status, 401);
      await open.body?.cancel();
      assert.equal(
        await metric(server.ws, "hush_users_online", { authorization: "Bearer tok-123" }),
        0,
      );
      const health = await fetch(new URL("/healthz", http));
      assert.equal(await health.text(), "ok\n");
      // Three wrong tokens: the address waits, even with the right one.
      for (let i = 0; i < 3; i++) {
        const c = await TestClient.connect(server.tcp);
        await c.send({
          type: "hello",
          version: PROTOCOL_VERSION,
          nick: "eve",
          identityKey: new Uint8Array(32),
          token: ENC.encode(`guess-${i}`),
        });
        assert.equal(await c.expectFatal(), "BAD_TOKEN");
        c.close();
      }
      const blocked = await TestClient.connect(server.tcp);
      assert.equal(await blocked.expectFatal(), "RATE_LIMITED");
      blocked.close();
      await sleep(1200);
      const ok = await loggedIn(server.tcp, "alice", { token: "tok-123" });
      ok.close();
    } finally {
      await server.stop();
    }
    // The warning: a token without TLS travels in clear text.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        new URL("../../server.ts", import.meta.url).pathname,
        "--port",
        "0",
        "--token",
        "t",
      ],
      stdout: "null",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let err = "";
    const deadline = Date.now() + 10_000;
    while (!err.includes("warning") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel().catch(() => {});
    assert.match(err, /warning: --token without --cert\/--key/);
  },
);

relayTest(
  "slots: per identity, and HTTP sockets count in --max-connections (oldest unauthenticated evicted)",
  async () => {
    const server = await startServer([
      "--max-per-identity",
      "2",
      "--max-connections",
      "5",
      "--header-timeout",
      "60000",
    ]);
    try {
      const one = await loggedIn(server.tcp, "id1");
      const two = await loggedIn(server.tcp, "id2", { identity: one.identity });
      const three = await TestClient.connect(server.tcp);
      await assert.rejects(three.login("id3", { identity: one.identity }));
      assert.equal(three.frames.find((f) => f.type === "error")?.code, "TOO_MANY_CONNECTIONS");
      three.close();
      // The identity may still replace one of its own connections.
      const again = await loggedIn(server.tcp, "id1", { identity: one.identity });
      assert.equal(await one.expectFatal(), "REPLACED");
      // Slow HTTP sockets fill the relay (2 connections + 3 sockets = 5) ...
      const slow = [];
      for (let i = 0; i < 3; i++) {
        const s = await rawSocket(server.ws);
        await s.write("GET / HTTP/1.1\r\n");
        slow.push(s);
      }
      await sleep(200);
      // ... yet a new user gets in: the oldest socket that never authenticated makes room.
      const benign = await loggedIn(server.tcp, "benign");
      await slow[0]!.drain(2000);
      assert.ok(slow[0]!.ended, "the oldest slow socket was evicted");
      for (const s of slow) s.close();
      for (const c of [two, again, benign]) c.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest(
  "slots: at most --max-per-address sockets from one address, whatever their transport",
  async () => {
    const small = await startServer(["--max-per-address", "3", "--header-timeout", "60000"]);
    try {
      const a = await loggedIn(small.tcp, "a1");
      const s1 = await rawSocket(small.ws);
      await s1.write("GET / HTTP/1.1\r\n");
      const b = await loggedIn(small.ws, "b1");
      const fourth = await rawSocket(small.ws);
      await fourth.drain(2000);
      assert.ok(fourth.ended, "a 4th socket from one address is refused");
      const tcp = await TestClient.connect(small.tcp);
      assert.equal(await tcp.expectFatal(), "TOO_MANY_CONNECTIONS");
      for (const s of [s1, fourth]) s.close();
      for (const c of [a, b, tcp]) c.close();
    } finally {
      await small.stop();
    }
  },
);

function bundleWith(c: TestClient, oneTime: number): PublishKeysFrame {
  const identityDhKey = x25519.getPublicKey(randomBytes(32));
  const signedPrekey = x25519.getPublicKey(randomBytes(32));
  return {
    type: "publish-keys",
    replaceOneTimePrekeys: false,
    identityDhKey,
    identityDhSignature: sign(c.identity.privateKey, identityDhSignedMessage(identityDhKey)),
    signedPrekeyId: 7,
    signedPrekey,
    signedPrekeySignature: sign(c.identity.privateKey, signedPrekeySignedMessage(7, signedPrekey)),
    oneTimePrekeys: Array.from(
      { length: oneTime },
      (_, i) => ({ id: i + 1, key: x25519.getPublicKey(randomBytes(32)) }),
    ),
  };
}

relayTest(
  "FETCH_KEYS cannot drain one-time prekeys: one per fetcher and target per period, and a fetch rate",
  async () => {
    const server = await startServer(["--fetch-rate", "5", "--fetch-burst", "20"]);
    try {
      const bob = await loggedIn(server.tcp, "bob");
      await bob.send(bundleWith(bob, 10));
      await bob.next("prekey-count");
      const mallory = await loggedIn(server.tcp, "mallory");
      let withPrekey = 0;
      for (let i = 0; i < 15; i++) {
        await mallory.send({ type: "fetch-keys", nick: "bob" });
        const k = await mallory.next("keys");
        assert.equal(k.status, "ok");
        if (k.status === "ok" && k.oneTimePrekey !== null) withPrekey++;
      }
      assert.equal(withPrekey, 1, "one one-time prekey for mallory, then KEYS without one");
      // Another connection of the same identity gets none either; another fetcher gets one.
      const mallory2 = await loggedIn(server.tcp, "mallory2", { identity: mallory.identity });
      await mallory2.send({ type: "fetch-keys", nick: "bob" });
      const again = await mallory2.next("keys");
      assert.ok(again.status === "ok" && again.oneTimePrekey === null);
      const alice = await loggedIn(server.tcp, "alice");
      await alice.send({ type: "fetch-keys", nick: "bob" });
      const fair = await alice.next("keys");
      assert.ok(fair.status === "ok" && fair.oneTimePrekey !== null);
      // The connection's fetch budget: a burst of 20, then RATE_LIMITED.
      for (let i = 0; i < 10; i++) await mallory.send({ type: "fetch-identity", nick: "bob" });
      assert.equal(await mallory.expectFatal(), "RATE_LIMITED");
      for (const c of [bob, mallory2, alice]) c.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest(
  "a room SEND's fan-out is charged to the sender's budget; rooms per identity are capped",
  async () => {
    const server = await startServer([
      "--rate",
      "100",
      "--burst",
      "200",
      "--max-rooms-per-identity",
      "3",
    ]);
    try {
      const members = [];
      for (let i = 0; i < 5; i++) {
        const m = await loggedIn(server.tcp, `m${i}`);
        await m.send({ type: "join", room: "big" });
        members.push(m);
      }
      const sender = await loggedIn(server.tcp, "loud");
      await sender.send({ type: "join", room: "big" });
      await sender.nextWhere("joined", (f) => f.room === "big" && f.nick === "loud");
      // 5 deliveries x 8000 bytes = 160 tokens a SEND (one per 256 bytes): the burst of 200 holds
      // one of them, not 10.
      for (let i = 0; i < 10; i++) {
        await sender.sendEnvelope("big", new Uint8Array(8000), { toKind: "room" });
      }
      assert.equal(await sender.expectFatal(), "RATE_LIMITED");
      // Small messages still flow.
      await members[0]!.sendEnvelope("m1", new Uint8Array(100));
      await members[1]!.nextWhere("deliver", (f) => f.body.length === 100);
      // Rooms per identity: the lobby + 2 rooms, over two nicks of one identity.
      const a = await loggedIn(server.tcp, "ida");
      await a.send({ type: "join", room: "r1" });
      await a.nextWhere("joined", (f) => f.room === "r1");
      const b = await loggedIn(server.tcp, "idb", { identity: a.identity });
      await b.send({ type: "join", room: "r2" });
      const refused = await b.next("error");
      assert.equal(refused.code, "TOO_MANY_ROOMS");
      for (const c of [...members, a, b]) c.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest(
  "a stranger cannot fill an offline user's queue; --store-max-bytes bounds the store",
  async () => {
    const server = await startServer(["--queue-max-stranger", "10", "--heartbeat", "60000"]);
    try {
      const bob = await loggedIn(server.tcp, "bob");
      await bob.send({ type: "join", room: "friends" });
      await bob.nextWhere("joined", (f) => f.room === "friends");
      const alice = await loggedIn(server.tcp, "alice");
      await alice.send({ type: "join", room: "friends" });
      await alice.nextWhere("joined", (f) => f.room === "friends" && f.nick === "alice");
      bob.close();
      await sleep(100);
      const mallory = await loggedIn(server.tcp, "mallory");
      for (let i = 0; i < 30; i++) await mallory.sendEnvelope("bob", new Uint8Array([i]));
      await mallory.waitFor((fs) => fs.some((f) => f.type === "accepted" && f.count === 30));
      const refused = mallory.frames.filter((f) => f.type === "rejected");
      assert.equal(refused.length, 20, "a stranger leaves at most 10");
      assert.ok(refused.every((f) => f.type === "rejected" && f.code === "QUEUE_FULL"));
      // A room mate still gets through, and more than a stranger.
      for (let i = 0; i < 30; i++) await alice.sendEnvelope("bob", new Uint8Array([i]));
      await alice.waitFor((fs) => fs.some((f) => f.type === "accepted" && f.count === 30));
      assert.equal(alice.frames.filter((f) => f.type === "rejected").length, 0);
      for (const c of [alice, mallory]) c.close();
    } finally {
      await server.stop();
    }
    const dir = await Deno.makeTempDir({ prefix: "hush-storemax-" });
    const store = await startServer(
      ["--store", `${dir}/relay.sqlite`, "--store-max-bytes", "20000", "--heartbeat", "60000"],
      ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`],
    );
    try {
      const names = ["o1", "o2", "o3"];
      for (const n of names) (await loggedIn(store.tcp, n)).close();
      await sleep(100);
      const a = await loggedIn(store.tcp, "a");
      for (const n of names) {
        for (let i = 0; i < 10; i++) await a.sendEnvelope(n, new Uint8Array(1000));
      }
      await a.waitFor((fs) => fs.some((f) => f.type === "accepted" && f.count === 30));
      const full = a.frames.filter((f) => f.type === "rejected" && f.code === "QUEUE_FULL").length;
      assert.ok(full >= 10, `the store holds at most 20000 bytes (${full} refused)`);
      a.close();
    } finally {
      await store.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

relayTest(
  "room deliveries are budgeted per identity (--fanout-rate), across its connections",
  async () => {
    const server = await startServer([
      "--rate",
      "0",
      "--fanout-rate",
      "10000",
      "--fanout-burst",
      "20000",
    ]);
    try {
      const members = [];
      for (let i = 0; i < 3; i++) {
        const m = await loggedIn(server.tcp, `f${i}`);
        await m.send({ type: "join", room: "room" });
        await m.nextWhere("joined", (f) => f.room === "room" && f.nick === m.nick);
        members.push(m);
      }
      const x = await loggedIn(server.tcp, "x1");
      const y = await loggedIn(server.tcp, "x2", { identity: x.identity });
      for (const c of [x, y]) {
        await c.send({ type: "join", room: "room" });
        await c.nextWhere("joined", (f) => f.room === "room" && f.nick === c.nick);
      }
      // 4 deliveries x 4000 bytes = 16000 of the identity's 20000: the second SEND, from its
      // other connection, is over.
      await x.sendEnvelope("room", new Uint8Array(4000), { toKind: "room" });
      await x.next("accepted");
      await y.sendEnvelope("room", new Uint8Array(4000), { toKind: "room" });
      assert.equal(await y.expectFatal(), "RATE_LIMITED");
      for (const c of [...members, x]) c.close();
    } finally {
      await server.stop();
    }
  },
);
