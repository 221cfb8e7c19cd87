import assert from "node:assert/strict";
import { generateIdentityKeyPair, sign } from "../../crypto/ed25519.ts";
import { authTranscript, decodeFrame, encodeFrame, PROTOCOL_VERSION } from "../../protocol/mod.ts";
import { inProcessRelay, loggedIn, relayTest, sleep, TestClient } from "./_relay_harness.ts";

relayTest("a frame over the maximum size closes the connection with FRAME_TOO_LARGE", async () => {
  const relay = await inProcessRelay({ maxFrameBytes: 1024 });
  try {
    const tcp = await loggedIn(relay.tcpUrl!, "t");
    assert.equal(tcp.frames.find((f) => f.type === "ready")?.type, "ready");
    // Only the 4-byte prefix: the relay refuses before the body arrives.
    await tcp.sendRaw(new Uint8Array([0, 0, 0x04, 0x01]));
    assert.equal(await tcp.expectFatal(), "FRAME_TOO_LARGE");
    const ws = await loggedIn(relay.wsUrl, "w");
    await ws.sendEnvelope("w", new Uint8Array(1100));
    assert.equal(await ws.expectFatal(), "FRAME_TOO_LARGE");
    const fine = await loggedIn(relay.tcpUrl!, "fine");
    await fine.sendEnvelope("fine", new Uint8Array(900));
    assert.equal((await fine.next("deliver")).body.length, 900);
    fine.close();
  } finally {
    await relay.close();
  }
});

relayTest("a flood over the token bucket closes only the flooder with RATE_LIMITED", async () => {
  const relay = await inProcessRelay({ rate: 50, burst: 20 });
  try {
    const flooder = await loggedIn(relay.tcpUrl!, "flooder");
    const calm = await loggedIn(relay.tcpUrl!, "calm");
    const ping = encodeFrame({ type: "ping", nonce: new Uint8Array(8) });
    for (let i = 0; i < 40; i++) await flooder.sendBytes(ping);
    assert.equal(await flooder.expectFatal(), "RATE_LIMITED");
    await calm.send({ type: "ping", nonce: new Uint8Array(8).fill(1) });
    await calm.next("relay-pong");
    // Tokens refill at the rate: a client pacing itself is never cut.
    for (let i = 0; i < 10; i++) {
      await calm.send({ type: "ping", nonce: new Uint8Array(8) });
      await sleep(25);
    }
    await calm.waitFor((fs) => fs.filter((f) => f.type === "relay-pong").length === 11);
    assert.ok(!calm.closed);
    calm.close();
  } finally {
    await relay.close();
  }
});

relayTest("connections over the maximum get TOO_MANY_CONNECTIONS", async () => {
  // Issue 10 changed this deliberately: a full relay first evicts the oldest connection that has
  // not authenticated (it gets TOO_MANY_CONNECTIONS); a newcomer is refused only when every
  // connection has authenticated (over WebSocket: HTTP 503 before the upgrade).
  const relay = await inProcessRelay({ maxConnections: 2 });
  try {
    const a = await loggedIn(relay.tcpUrl!, "a");
    const b = await TestClient.connect(relay.wsUrl);
    const c = await TestClient.connect(relay.tcpUrl!);
    assert.equal(await b.expectFatal(), "TOO_MANY_CONNECTIONS");
    await c.login("c");
    const d = await TestClient.connect(relay.tcpUrl!);
    assert.equal(await d.expectFatal(), "TOO_MANY_CONNECTIONS");
    await assert.rejects(TestClient.connect(relay.wsUrl));
    a.close();
    await sleep(50);
    const e = await loggedIn(relay.tcpUrl!, "e");
    assert.equal(e.nick, "e");
    c.close();
    e.close();
  } finally {
    await relay.close();
  }
});

relayTest("heartbeats: a silent peer is pinged then dropped, one that answers stays", async () => {
  const relay = await inProcessRelay({ heartbeatMs: 100 });
  try {
    const silent = await loggedIn(relay.tcpUrl!, "silent");
    const alive = await loggedIn(relay.wsUrl, "alive");
    let answering = true;
    (async () => {
      let seen = 0;
      while (answering && !alive.closed) {
        const pings = alive.frames.filter((f) => f.type === "relay-ping");
        for (const p of pings.slice(seen)) {
          if (p.type === "relay-ping") await alive.send({ type: "pong", nonce: p.nonce });
        }
        seen = pings.length;
        await sleep(10);
      }
    })();
    assert.equal(await silent.expectFatal(2000), "HEARTBEAT_TIMEOUT");
    assert.ok(silent.frames.some((f) => f.type === "relay-ping"));
    await sleep(400);
    assert.ok(!alive.closed);
    assert.ok(alive.frames.filter((f) => f.type === "relay-ping").length >= 2);
    answering = false;
    alive.close();
  } finally {
    await relay.close();
  }
});

relayTest("a reader too slow for its buffer bound is dropped; the sender carries on", async () => {
  const relay = await inProcessRelay({ maxBufferedBytes: 64 * 1024, rate: 0 });
  try {
    const sender = await loggedIn(relay.tcpUrl!, "sender");
    const slow = await loggedIn(relay.tcpUrl!, "slow");
    slow.pause();
    const body = new Uint8Array(60_000);
    for (let i = 0; i < 300 && !relay.log.some((l) => l.includes("SLOW_READER")); i++) {
      await sender.sendEnvelope("slow", body);
      if (i % 20 === 19) await sleep(5);
    }
    assert.ok(relay.log.some((l) => l.includes("code=SLOW_READER")), "slow reader dropped");
    await sender.send({ type: "ping", nonce: new Uint8Array(8) });
    await sender.next("relay-pong");
    assert.ok(!sender.closed);
    // Nothing lost: what the slow reader did not ack is queued for its next connection.
    assert.match(relay.metricsText(), /hush_envelopes_queued [1-9]/);
    slow.resume();
    slow.close();
    sender.close();
  } finally {
    await relay.close();
  }
});

relayTest("more unacknowledged deliveries than allowed is UNACKED_LIMIT", async () => {
  const relay = await inProcessRelay({ maxUnacked: 5 });
  try {
    const a = await loggedIn(relay.tcpUrl!, "a");
    const b = await loggedIn(relay.tcpUrl!, "b");
    for (let i = 0; i < 7; i++) await a.sendEnvelope("b", new Uint8Array([i]));
    assert.equal(await b.expectFatal(), "UNACKED_LIMIT");
    const again = await loggedIn(relay.tcpUrl!, "b", { identity: b.identity });
    await again.waitFor((fs) => fs.filter((f) => f.type === "deliver").length >= 1);
    again.close();
    a.close();
  } finally {
    await relay.close();
  }
});

/** A raw WebSocket client on a TCP socket, so that it can stop reading (browsers cannot). */
async function rawWebSocket(url: string) {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(
    new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  let pending = new Uint8Array(0);
  const readMore = async () => {
    const buf = new Uint8Array(65536);
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed");
    const next = new Uint8Array(pending.length + n);
    next.set(pending);
    next.set(buf.subarray(0, n), pending.length);
    pending = next;
  };
  // The 101 response.
  while (!new TextDecoder().decode(pending).includes("\r\n\r\n")) await readMore();
  const head = new TextDecoder().decode(pending);
  assert.match(head, /^HTTP\/1\.1 101/);
  pending = pending.slice(head.indexOf("\r\n\r\n") + 4);
  return {
    conn,
    async send(payload: Uint8Array) {
      const mask = crypto.getRandomValues(new Uint8Array(4));
      const len = payload.length;
      const header = len < 126 ? [0x82, 0x80 | len] : [0x82, 0x80 | 126, len >> 8, len & 255];
      const frame = new Uint8Array(header.length + 4 + len);
      frame.set(header);
      frame.set(mask, header.length);
      for (let i = 0; i < len; i++) frame[header.length + 4 + i] = payload[i]! ^ mask[i & 3]!;
      await conn.write(frame);
    },
    /** Reads one server message (unmasked, short frames only). */
    async receive(): Promise<Uint8Array> {
      while (true) {
        if (pending.length >= 2) {
          let len = pending[1]! & 127;
          let off = 2;
          if (len === 126) {
            if (pending.length < 4) {
              await readMore();
              continue;
            }
            len = (pending[2]! << 8) | pending[3]!;
            off = 4;
          }
          if (pending.length >= off + len) {
            const msg = pending.slice(off, off + len);
            pending = pending.slice(off + len);
            return msg;
          }
        }
        await readMore();
      }
    },
  };
}

relayTest("a WebSocket reader too slow for its buffer bound is dropped too", async () => {
  const relay = await inProcessRelay({ maxBufferedBytes: 64 * 1024, rate: 0 });
  try {
    const sender = await loggedIn(relay.tcpUrl!, "sender");
    const ws = await rawWebSocket(relay.wsUrl);
    const identity = generateIdentityKeyPair();
    await ws.send(encodeFrame({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick: "slowws",
      identityKey: identity.publicKey,
      token: new Uint8Array(0),
    }));
    const challenge = decodeFrame(await ws.receive());
    assert.equal(challenge.type, "challenge");
    const t = authTranscript({
      version: PROTOCOL_VERSION,
      challenge: challenge.type === "challenge" ? challenge.nonce : new Uint8Array(32),
      identityKey: identity.publicKey,
      nick: "slowws",
    });
    await ws.send(encodeFrame({ type: "auth", signature: sign(identity.privateKey, t) }));
    assert.equal(decodeFrame(await ws.receive()).type, "ready");
    // From now on it never reads.
    const body = new Uint8Array(60_000);
    for (let i = 0; i < 400 && !relay.log.some((l) => l.includes("SLOW_READER")); i++) {
      await sender.sendEnvelope("slowws", body);
      if (i % 20 === 19) await sleep(5);
    }
    assert.ok(relay.log.some((l) => l.includes("code=SLOW_READER")), "slow WebSocket dropped");
    await sender.send({ type: "ping", nonce: new Uint8Array(8) });
    await sender.next("relay-pong");
    ws.conn.close();
    sender.close();
  } finally {
    await relay.close();
  }
});
