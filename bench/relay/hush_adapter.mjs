// Adapter for the Hush relay (server.ts), in the shape of the shared harness's adapters
// (../shared/bench/adapters/ws.mjs): connect(id, {port, host}) -> client with send(toId, bytes),
// sendRoom(roomId, bytes), join(roomId), onmessage, onclose, close().
//
// Each client is a real Hush client on the wire: HELLO with its own Ed25519 identity, the
// relay's CHALLENGE signed with crypto/ed25519.ts in AUTH, READY; SEND envelopes whose body is
// the harness's 256 opaque bytes (standing for ciphertext), a fresh random 16-byte message id
// each; a cumulative ACK of the DELIVERs received, once per tick; PONG to the relay's pings.
// Writes made in one tick leave in one write (like every adapter of the harness): the shared
// Batcher over TCP, a corked socket over WebSocket.
import { randomFillSync } from "node:crypto";
import * as wire from "./wire.mjs";

const CIPHER_AES_256_GCM = 0x01; // the default suite's wire id (the relay does not read it)
const nickOf = (id) => `u${id}`;
const roomOf = (id) => `r${id}`;

/** Random message ids, cut from a buffer refilled 4,096 ids at a time (one getrandom call). */
function messageIds() {
  const buf = Buffer.allocUnsafe(wire.MESSAGE_ID_BYTES * 4096);
  let off = buf.length;
  return {
    buf,
    /** Offset in buf of the next unused id. */
    next() {
      if (off === buf.length) {
        randomFillSync(buf);
        off = 0;
      }
      const at = off;
      off += wire.MESSAGE_ID_BYTES;
      return at;
    },
  };
}

/**
 * @param transport "tcp" or "ws"
 * @param WebSocket the `ws` package's class (the harness's copy), for transport "ws"
 * @param conn the harness's lib/conn.mjs (tcpConnect, Batcher, lengthPrefixed, Waiter, assertLoopback)
 * @param identities createIdentityPool(): take() a fresh identity, sign(privateKey, bytes)
 * @param lazyAck null: ACK once per tick with DELIVERs (PROTOCOL.md's SHOULD); or
 *   { every, delayMs }: ACK when `every` DELIVERs are unacked, else `delayMs` after the first
 *   (to measure what the ACK rule costs)
 */
export function createHushAdapter(
  { transport, WebSocket, conn, identities, lazyAck = null },
) {
  const tcp = transport === "tcp";
  const make = wire.framer(tcp);
  const ids = messageIds();
  // What every client saw, for the report (rejections and errors must stay at zero).
  const stats = { rejected: {}, errors: {}, other: {}, acks: 0, accepted: 0, pings: 0 };
  const bump = (o, k) => (o[k] = (o[k] ?? 0) + 1);

  async function open(host, port) {
    conn.assertLoopback(host);
    if (tcp) {
      const sock = await conn.tcpConnect(port, host);
      const out = new conn.Batcher(sock);
      return {
        write: (buf) => out.write(buf),
        onFrames: (fn) => sock.on("data", conn.lengthPrefixed(fn)),
        onClose: (fn) => sock.on("close", fn),
        close: () => sock.destroy(),
        raw: sock,
      };
    }
    const ws = new WebSocket(`ws://${host}:${port}/`, { perMessageDeflate: false });
    ws.binaryType = "nodebuffer";
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const sock = ws._socket;
    sock.setNoDelay(true);
    let corked = false;
    const uncork = () => {
      corked = false;
      sock.uncork();
    };
    ws.on("error", () => {});
    return {
      write(buf) {
        if (!corked) {
          corked = true;
          sock.cork();
          queueMicrotask(uncork);
        }
        ws.send(buf);
      },
      onFrames: (fn) => ws.on("message", fn),
      onClose: (fn) => ws.on("close", fn),
      close: () => ws.terminate(),
      raw: sock,
    };
  }

  return {
    name: `hush-${transport}`,
    rooms: true,
    stats: () => stats,
    async connect(id, { port, host }) {
      const t = await open(host, port);
      const identity = identities.take();
      const nick = nickOf(id);
      const wake = new conn.Waiter();
      const routes = new Map(); // recipient -> route header
      const route = (kind, to) => {
        let r = routes.get(to);
        if (!r) {
          r = wire.routeHeader({ cipher: CIPHER_AES_256_GCM, from: nick, kind, to });
          routes.set(to, r);
        }
        return r;
      };
      let challenge = null, ready = null, fatal = null;
      let delivered = 0, acked = 0, ackScheduled = false, ackTimer = null;
      const joined = new Set();
      const flushAck = () => {
        ackScheduled = false;
        if (acked === delivered) return;
        acked = delivered;
        stats.acks++;
        t.write(wire.ack(make, delivered));
      };
      const sendEnvelope = (kind, to, body) => {
        const at = ids.next();
        t.write(wire.send(make, route(kind, to), ids.buf, at, body));
      };
      const client = {
        onmessage: () => {},
        onclose: null,
        send: (to, payload) => sendEnvelope(wire.KIND_NICK, nickOf(to), payload),
        sendRoom: (room, payload) => sendEnvelope(wire.KIND_ROOM, roomOf(room), payload),
        async join(room) {
          const name = roomOf(room);
          t.write(wire.join(make, name));
          await wake.until(() => joined.has(name) || fatal, 10_000, `hush JOIN ${name}`);
          if (fatal) throw new Error(`hush JOIN ${name}: ${fatal}`);
        },
        close: () => t.close(),
      };
      t.onFrames((f) => {
        const type = f[0];
        if (type === wire.T.DELIVER) {
          delivered++;
          if (lazyAck === null) {
            if (!ackScheduled) {
              ackScheduled = true;
              queueMicrotask(flushAck);
            }
          } else if (delivered - acked >= lazyAck.every) {
            if (!ackScheduled) {
              ackScheduled = true;
              queueMicrotask(flushAck);
            }
          } else if (ackTimer === null) {
            ackTimer = setTimeout(() => {
              ackTimer = null;
              flushAck();
            }, lazyAck.delayMs);
          }
          client.onmessage(f.subarray(wire.bodyOffset(f)));
        } else if (type === wire.T.ACCEPTED) {
          stats.accepted++;
        } else if (type === wire.T.REJECTED) {
          bump(stats.rejected, wire.readRejected(f).code);
        } else if (type === wire.T.RELAY_PING) {
          stats.pings++;
          t.write(wire.pong(make, f.subarray(1, 9)));
        } else if (type === wire.T.CHALLENGE) {
          challenge = Buffer.from(f.subarray(1, 33));
          wake.poke();
        } else if (type === wire.T.READY) {
          ready = wire.readName(f, 1)[0];
          wake.poke();
        } else if (type === wire.T.JOINED) {
          const [room, o] = wire.readName(f, 1);
          if (wire.readName(f, o)[0] === nick) joined.add(room);
          wake.poke();
        } else if (type === wire.T.ERROR) {
          const e = wire.readError(f);
          bump(stats.errors, e.code);
          if (e.fatal) fatal = `${e.code}: ${e.detail}`;
          wake.poke();
        } else {
          bump(stats.other, `0x${type.toString(16)}`);
        }
      });
      t.onClose(() => {
        if (ackTimer !== null) clearTimeout(ackTimer);
        fatal ??= "connection closed";
        wake.poke();
        client.onclose?.();
      });
      // Handshake: HELLO -> CHALLENGE -> AUTH -> READY.
      t.write(wire.hello(make, { nick, identityKey: identity.publicKey }));
      await wake.until(() => challenge || fatal, 10_000, `hush CHALLENGE for ${nick}`);
      if (fatal) throw new Error(`hush HELLO ${nick}: ${fatal}`);
      const transcript = wire.authTranscript({ challenge, identityKey: identity.publicKey, nick });
      t.write(wire.auth(make, identities.sign(identity.privateKey, transcript)));
      await wake.until(() => ready || fatal, 10_000, `hush READY for ${nick}`);
      if (fatal) throw new Error(`hush AUTH ${nick}: ${fatal}`);
      if (ready !== nick) throw new Error(`hush READY: asked for nick ${nick}, granted ${ready}`);
      return client;
    },
  };
}
