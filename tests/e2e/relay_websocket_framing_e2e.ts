// The relay reads WebSocket frames itself and unmasks each payload in place, in its read buffer,
// handing on views of it (as on TCP). A real server.ts process, a raw WebSocket client that
// packs many frames of every length (so every byte alignment) into single writes, splits writes
// mid-frame, fragments a message around a ping, and sends to a nick that is offline (so the
// relay holds views of its read buffer in the queue while it reads on): every body must arrive
// byte for byte, in order.
import assert from "node:assert/strict";
import { generateIdentityKeyPair, sign } from "../../crypto/ed25519.ts";
import { authTranscript, decodeFrame, encodeFrame, PROTOCOL_VERSION } from "../../protocol/mod.ts";
import { loggedIn, relayTest, startServer } from "./_relay_harness.ts";

/** One masked client frame (FIN as given), with a random mask. */
function clientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const len = payload.length;
  const header = len < 126
    ? [(fin ? 0x80 : 0) | opcode, 0x80 | len]
    : [(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 255];
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(header.length + 4 + len);
  frame.set(header);
  frame.set(mask, header.length);
  for (let i = 0; i < len; i++) frame[header.length + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A raw WebSocket client on a TCP socket: writes exactly the bytes it is given. */
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
  let pending: Uint8Array = new Uint8Array(0);
  const readMore = async () => {
    const buf = new Uint8Array(65536);
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed");
    pending = concat([pending, buf.subarray(0, n)]);
  };
  while (!new TextDecoder().decode(pending).includes("\r\n\r\n")) await readMore();
  const head = new TextDecoder().decode(pending);
  assert.match(head, /^HTTP\/1\.1 101/);
  pending = pending.slice(head.indexOf("\r\n\r\n") + 4);
  return {
    async write(bytes: Uint8Array) {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    },
    /** Reads one server message: its opcode and payload (short and 16-bit lengths). */
    async receive(): Promise<{ opcode: number; payload: Uint8Array }> {
      for (let tries = 0; tries < 1000; tries++) {
        if (pending.length >= 2) {
          let len = pending[1]! & 127;
          let off = 2;
          if (len === 126 && pending.length >= 4) {
            len = (pending[2]! << 8) | pending[3]!;
            off = 4;
          }
          if (len !== 126 && pending.length >= off + len) {
            const msg = { opcode: pending[0]! & 15, payload: pending.slice(off, off + len) };
            pending = pending.slice(off + len);
            return msg;
          }
        }
        await readMore();
      }
      throw new Error("no message");
    },
    close() {
      conn.close();
    },
  };
}

relayTest(
  "WebSocket frames packed, split and fragmented arrive byte for byte (queued and live)",
  async () => {
    const server = await startServer(["--tcp-port", "0", "--queue-max-stranger", "200"]);
    try {
      // "rx" binds its nick, then goes offline: what follows is queued, held by the relay.
      const rxIdentity = generateIdentityKeyPair();
      const first = await loggedIn(server.tcp, "rx", { identity: rxIdentity });
      first.close();
      await first.closedPromise;

      const ws = await rawWebSocket(server.ws);
      const identity = generateIdentityKeyPair();
      await ws.write(clientFrame(
        0x2,
        encodeFrame({
          type: "hello",
          version: PROTOCOL_VERSION,
          nick: "tx",
          identityKey: identity.publicKey,
          token: new Uint8Array(0),
        }),
      ));
      const challenge = decodeFrame((await ws.receive()).payload);
      assert.equal(challenge.type, "challenge");
      const transcript = authTranscript({
        version: PROTOCOL_VERSION,
        challenge: challenge.type === "challenge" ? challenge.nonce : new Uint8Array(32),
        identityKey: identity.publicKey,
        nick: "tx",
      });
      await ws.write(
        clientFrame(
          0x2,
          encodeFrame({ type: "auth", signature: sign(identity.privateKey, transcript) }),
        ),
      );
      assert.equal(decodeFrame((await ws.receive()).payload).type, "ready");

      const bodies: Uint8Array[] = [];
      const send = (body: Uint8Array) => {
        bodies.push(body);
        return encodeFrame({
          type: "send",
          id: crypto.getRandomValues(new Uint8Array(16)),
          cipher: 1,
          from: "tx",
          toKind: "nick",
          to: "rx",
          body,
        });
      };
      const body = (n: number) => crypto.getRandomValues(new Uint8Array(n));
      // 1. Every body length 1..80 (every payload alignment), all in one write.
      await ws.write(
        concat(Array.from({ length: 80 }, (_, i) => clientFrame(0x2, send(body(i + 1))))),
      );
      // 2. Bodies of 126..70,000 bytes over several writes, each write cut in the middle of a frame.
      const big = concat(
        [300, 1000, 4093, 20_000, 40_000, 60_000].map((n) => clientFrame(0x2, send(body(n)))),
      );
      for (let off = 0; off < big.length; off += 7777) {
        await ws.write(
          big.subarray(off, off + 7777),
        );
      }
      // 3. One message in three fragments with a ping between them, and a last short message.
      const fragmented = send(body(5000));
      await ws.write(concat([
        clientFrame(0x2, fragmented.subarray(0, 1001), false),
        clientFrame(0x9, new Uint8Array([1, 2, 3])),
        clientFrame(0x0, fragmented.subarray(1001, 3003), false),
        clientFrame(0x0, fragmented.subarray(3003), true),
        clientFrame(0x2, send(body(3))),
      ]));
      // The ping is answered, and the ACCEPTED covering all of it comes.
      let pong: Uint8Array | null = null;
      let accepted = 0;
      for (let i = 0; i < 200 && (pong === null || accepted < bodies.length); i++) {
        const m = await ws.receive();
        if (m.opcode === 0xa) pong = m.payload;
        else if (m.opcode === 0x2) {
          const f = decodeFrame(m.payload);
          assert.notEqual(f.type, "error");
          assert.notEqual(f.type, "rejected");
          if (f.type === "accepted") accepted = f.count;
        }
      }
      assert.deepEqual(pong, new Uint8Array([1, 2, 3]));
      assert.equal(accepted, bodies.length);

      // 4. rx comes back: the queued ones, then live ones sent while it reads.
      const rx = await loggedIn(server.tcp, "rx", { identity: rxIdentity });
      await ws.write(
        concat(Array.from({ length: 20 }, (_, i) => clientFrame(0x2, send(body(100 + i))))),
      );
      await rx.waitFor(
        (fs) => fs.filter((f) => f.type === "deliver").length >= bodies.length,
        10_000,
      );
      const got = rx.frames.flatMap((f) => f.type === "deliver" ? [f.body] : []);
      assert.equal(got.length, bodies.length);
      for (let i = 0; i < bodies.length; i++) assert.deepEqual(got[i], bodies[i], `body ${i}`);
      // 5. Live deliveries rx never acks, the relay reading on after them (a write ending inside a
      // frame, then more): they stay in flight, views of what the relay read.
      const thirty = Array.from({ length: 30 }, (_, i) => clientFrame(0x2, send(body(50 + i))));
      const tail = clientFrame(0x2, send(body(3000)));
      await ws.write(concat([...thirty, tail.subarray(0, 100)]));
      await ws.write(tail.subarray(100));
      await ws.write(
        concat(Array.from({ length: 40 }, (_, i) => clientFrame(0x2, send(body(7 + i))))),
      );
      await rx.waitFor(
        (fs) => fs.filter((f) => f.type === "deliver").length >= bodies.length,
        10_000,
      );
      // 6. rx leaves without acking anything: every delivery is queued again from what the relay
      // held, and comes again, byte for byte.
      rx.close();
      await rx.closedPromise;
      const again = await loggedIn(server.tcp, "rx", { identity: rxIdentity });
      await again.waitFor(
        (fs) => fs.filter((f) => f.type === "deliver").length >= bodies.length,
        10_000,
      );
      const redelivered = again.frames.flatMap((f) => f.type === "deliver" ? [f.body] : []);
      assert.equal(redelivered.length, bodies.length);
      for (let i = 0; i < bodies.length; i++) {
        assert.deepEqual(redelivered[i], bodies[i], `body ${i} delivered again`);
      }
      again.close();
      ws.close();
    } finally {
      await server.stop();
    }
  },
);
