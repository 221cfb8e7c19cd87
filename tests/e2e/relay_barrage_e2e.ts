import assert from "node:assert/strict";
import { randomBytes } from "../../crypto/random.ts";
import {
  decodeFrame,
  encodeFrame,
  PROTOCOL_ERROR_CODES,
  PROTOCOL_VERSION,
  withLengthPrefix,
} from "../../protocol/mod.ts";
import { inProcessRelay, loggedIn, relayTest, sleep, TestClient } from "./_relay_harness.ts";

const PROTOCOL_CODES = new Set<string>(PROTOCOL_ERROR_CODES);

relayTest("after a bad-input barrage a well-behaved pair of clients still talks", async () => {
  const relay = await inProcessRelay({ authTimeoutMs: 400, rate: 2000, burst: 500 });
  try {
    const alice = await loggedIn(relay.tcpUrl!, "alice");
    const bob = await loggedIn(relay.wsUrl, "bob");
    const expectations: Promise<void>[] = [];
    const expectCode = (c: TestClient, check: (code: string) => boolean, what: string) => {
      expectations.push(
        c.expectFatal(3000).then((code) => {
          assert.ok(check(code), `${what}: got ${code}`);
        }),
      );
    };
    const exact = (code: string) => (got: string) => got === code;
    const anyProtocolOrState = (got: string) =>
      PROTOCOL_CODES.has(got) || got === "UNEXPECTED_FRAME" || got === "UNSUPPORTED_VERSION";

    // Random bytes, raw on TCP and as WebSocket messages.
    for (let i = 0; i < 10; i++) {
      const tcp = await TestClient.connect(relay.tcpUrl!);
      await tcp.sendRaw(randomBytes(64 + i * 50));
      expectCode(tcp, anyProtocolOrState, "random TCP bytes");
      const ws = await TestClient.connect(relay.wsUrl);
      await ws.sendRaw(randomBytes(1 + i * 30));
      expectCode(ws, anyProtocolOrState, "random WebSocket message");
    }
    // A length prefix of 0.
    const empty = await TestClient.connect(relay.tcpUrl!);
    await empty.sendRaw(new Uint8Array(4));
    expectCode(empty, exact("EMPTY_FRAME"), "empty frame");
    // A truncated HELLO inside a complete frame.
    const hello = encodeFrame({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick: "x",
      identityKey: new Uint8Array(32),
      token: new Uint8Array(0),
    });
    const truncated = await TestClient.connect(relay.tcpUrl!);
    await truncated.sendBytes(hello.subarray(0, 20));
    expectCode(truncated, exact("TRUNCATED_FRAME"), "truncated HELLO");
    // A frame cut by the connection closing: the relay just forgets it.
    const cut = await TestClient.connect(relay.tcpUrl!);
    await cut.sendRaw(withLengthPrefix(hello).subarray(0, 10));
    cut.close();
    // Oversized.
    const big = await TestClient.connect(relay.tcpUrl!);
    await big.sendRaw(new Uint8Array([0x7f, 0xff, 0xff, 0xff]));
    expectCode(big, exact("FRAME_TOO_LARGE"), "oversized");
    const bigWs = await TestClient.connect(relay.wsUrl);
    await bigWs.sendRaw(new Uint8Array(70_000).fill(0x22));
    expectCode(bigWs, exact("FRAME_TOO_LARGE"), "oversized WebSocket message");
    // Wrong version.
    const v9 = await TestClient.connect(relay.wsUrl);
    await v9.sendBytes(new Uint8Array([0x01, 0x00, 0x09]));
    expectCode(v9, exact("UNSUPPORTED_VERSION"), "version 9");
    // Out of state: SEND before auth, AUTH before HELLO, HELLO twice, a relay frame.
    const early = await TestClient.connect(relay.tcpUrl!);
    await early.send({
      type: "send",
      id: new Uint8Array(16),
      cipher: 1,
      from: "alice",
      toKind: "nick",
      to: "bob",
      body: new Uint8Array([1]),
    });
    expectCode(early, exact("UNEXPECTED_FRAME"), "SEND before auth");
    const authFirst = await TestClient.connect(relay.wsUrl);
    await authFirst.send({ type: "auth", signature: new Uint8Array(64) });
    expectCode(authFirst, exact("UNEXPECTED_FRAME"), "AUTH before HELLO");
    const twice = await loggedIn(relay.tcpUrl!, "twice");
    await twice.sendBytes(hello);
    expectCode(twice, exact("UNEXPECTED_FRAME"), "HELLO after READY");
    const backwards = await loggedIn(relay.tcpUrl!, "backwards");
    await backwards.sendBytes(encodeFrame({ type: "accepted", count: 1 }));
    expectCode(backwards, exact("WRONG_DIRECTION"), "relay frame from a client");
    // A WebSocket text message.
    const textCode = await new Promise<string>((resolve) => {
      const ws = new WebSocket(relay.wsUrl);
      ws.binaryType = "arraybuffer";
      ws.onopen = () => ws.send("hello as text");
      ws.onmessage = (e) => {
        const frame = decodeFrame(new Uint8Array(e.data as ArrayBuffer));
        resolve(frame.type === "error" ? frame.code : frame.type);
      };
    });
    assert.equal(textCode, "UNEXPECTED_FRAME");
    // A flood.
    const flood = await loggedIn(relay.tcpUrl!, "flood");
    const ping = withLengthPrefix(encodeFrame({ type: "ping", nonce: new Uint8Array(8) }));
    const burst = new Uint8Array(ping.length * 2000);
    for (let i = 0; i < 2000; i++) burst.set(ping, i * ping.length);
    await flood.sendRaw(burst);
    expectCode(flood, exact("RATE_LIMITED"), "flood");
    // A silent, half-open connection.
    const silent = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(relay.tcpUrl!).port),
    });
    const halfOpen = await TestClient.connect(relay.wsUrl);
    expectCode(halfOpen, exact("AUTH_TIMEOUT"), "silent connection");

    await Promise.all(expectations);
    // The raw silent socket got the error and was closed too.
    let seen = "";
    for (let i = 0; i < 10; i++) {
      const b = new Uint8Array(4096);
      const n = await silent.read(b).catch(() => null);
      if (n === null) break;
      seen += new TextDecoder().decode(b.subarray(0, n));
    }
    assert.match(seen, /AUTH_TIMEOUT/);
    silent.close();

    // The well-behaved pair.
    for (let i = 0; i < 100; i++) {
      await alice.sendEnvelope("bob", new Uint8Array([i, 1]));
      await bob.sendEnvelope("alice", new Uint8Array([i, 2]));
    }
    await bob.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 100);
    await alice.waitFor((fs) => fs.filter((f) => f.type === "deliver").length === 100);
    await alice.ack();
    await bob.ack();
    const got = bob.frames.flatMap((f) => f.type === "deliver" ? [f.body[0]] : []);
    assert.deepEqual(got, [...Array(100).keys()]);
    await sleep(20);
    assert.ok(!alice.closed && !bob.closed);
    const metrics = relay.metricsText();
    assert.match(metrics, /hush_frames_rejected_total\{reason="RATE_LIMITED"\} 1/);
    assert.match(metrics, /hush_frames_rejected_total\{reason="AUTH_TIMEOUT"\} [12]/);
    alice.close();
    bob.close();
  } finally {
    await relay.close();
  }
});
