#!/usr/bin/env node
// Checks the bench's own codec (wire.mjs, written from docs/PROTOCOL.md) against the spec's
// frame vectors in tests/vectors/protocol_frames.json: every frame the bench writes must encode
// to the vector's bytes, every frame it reads must decode to the vector's fields.
//   node bench/relay/wire_check.mjs   (exit 1 on any mismatch)
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as wire from "./wire.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(
  readFileSync(join(here, "../../tests/vectors/protocol_frames.json"), "utf8"),
);
const ws = wire.framer(false);
const hex = (b) => Buffer.from(b).toString("hex");
const bytes = (h) => Buffer.from(h, "hex");
let checked = 0, failed = 0;
const expectEqual = (comment, got, want) => {
  checked++;
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    failed++;
    console.error(
      `MISMATCH ${comment}\n  got  ${JSON.stringify(got)}\n  want ${JSON.stringify(want)}`,
    );
  }
};

for (const v of vectors) {
  if (v.expect !== "ok") continue;
  const f = v.frame;
  const b = bytes(v.hex);
  switch (f.type) {
    case "hello":
      expectEqual(
        v.comment,
        hex(
          wire.hello(ws, {
            nick: f.nick,
            identityKey: bytes(f.identityKey),
            token: bytes(f.token),
          }),
        ),
        v.hex,
      );
      break;
    case "auth":
      expectEqual(v.comment, hex(wire.auth(ws, bytes(f.signature))), v.hex);
      break;
    case "pong":
      expectEqual(v.comment, hex(wire.pong(ws, bytes(f.nonce))), v.hex);
      break;
    case "ack":
      expectEqual(v.comment, hex(wire.ack(ws, f.count)), v.hex);
      break;
    case "join":
      expectEqual(v.comment, hex(wire.join(ws, f.room)), v.hex);
      break;
    case "send": {
      const kind = f.toKind === "room" ? wire.KIND_ROOM : wire.KIND_NICK;
      const route = wire.routeHeader({ cipher: f.cipher, from: f.from, kind, to: f.to });
      expectEqual(v.comment, hex(wire.send(ws, route, bytes(f.id), 0, bytes(f.body))), v.hex);
      break;
    }
    case "deliver":
      expectEqual(v.comment, hex(b.subarray(wire.bodyOffset(b))), f.body);
      break;
    case "challenge":
      expectEqual(v.comment, [b[0], hex(b.subarray(1, 33))], [wire.T.CHALLENGE, f.nonce]);
      break;
    case "ready":
      expectEqual(v.comment, [b[0], wire.readName(b, 1)[0]], [wire.T.READY, f.nick]);
      break;
    case "joined": {
      const [room, o] = wire.readName(b, 1);
      expectEqual(v.comment, [b[0], room, wire.readName(b, o)[0]], [wire.T.JOINED, f.room, f.nick]);
      break;
    }
    case "rejected": {
      const r = wire.readRejected(b);
      expectEqual(v.comment, [b[0], r.seq, r.recipient, r.code, r.detail], [
        wire.T.REJECTED,
        f.seq,
        f.recipient,
        f.code,
        f.detail,
      ]);
      break;
    }
    case "error": {
      const e = wire.readError(b);
      expectEqual(v.comment, [b[0], e.fatal, e.code, e.detail], [
        wire.T.ERROR,
        f.fatal,
        f.code,
        f.detail,
      ]);
      break;
    }
    case "accepted":
      expectEqual(v.comment, [b[0], b.readUInt32BE(1)], [wire.T.ACCEPTED, f.count]);
      break;
    case "relay-ping":
      expectEqual(v.comment, b[0], wire.T.RELAY_PING);
      break;
  }
}
// The TCP framing example of PROTOCOL.md section 2.
expectEqual("ACK 3 over TCP", hex(wire.ack(wire.framer(true), 3)), "000000051100000003");
console.log(`wire_check: ${checked} vectors checked, ${failed} mismatches`);
process.exit(failed ? 1 : 0);
