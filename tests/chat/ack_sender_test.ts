import assert from "node:assert/strict";
import { encodeFrame } from "../../protocol/mod.ts";
import { ACK_EVERY, withHeldAcks } from "../../chat/_ack_sender.ts";
import type { Transport } from "../../chat/transport.ts";

const ACK_TYPE = encodeFrame({ type: "ack", count: 0 })[0]!;

/** Records what is sent: ACKs as `ack N` (PROTOCOL.md: type byte, u32 count), others by type. */
function fakeTransport(): Transport & { log: (string | number)[] } {
  const log: (string | number)[] = [];
  return {
    url: "tcp://127.0.0.1:1",
    log,
    send(frame: Uint8Array) {
      if (frame[0] === ACK_TYPE) {
        log.push(`ack ${new DataView(frame.buffer, frame.byteOffset).getUint32(1)}`);
      } else log.push(`frame ${frame[0]}`);
    },
    close() {
      log.push("close");
    },
  };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("withHeldAcks holds an ACK until its delay when nothing else is sent", async () => {
  const raw = fakeTransport();
  const t = withHeldAcks(raw, 5);
  t.ack(3);
  t.ack(4);
  assert.deepEqual(raw.log, []);
  await tick(30);
  assert.deepEqual(raw.log, ["ack 4"]);
  await tick(20);
  assert.deepEqual(raw.log, ["ack 4"], "one ACK, no repeat");
});

Deno.test("withHeldAcks passes other frames through and keeps holding the ACK", async () => {
  const raw = fakeTransport();
  const t = withHeldAcks(raw, 5);
  t.ack(2);
  t.send(new Uint8Array([0x20, 1, 2, 3]));
  t.send(new Uint8Array([0x21, 1]));
  assert.deepEqual(raw.log, ["frame 32", "frame 33"]);
  await tick(30);
  assert.deepEqual(raw.log, ["frame 32", "frame 33", "ack 2"]);
});

Deno.test("withHeldAcks acks at once when ACK_EVERY deliveries wait, and never goes back", () => {
  const raw = fakeTransport();
  const t = withHeldAcks(raw, 60_000);
  t.ack(ACK_EVERY - 1);
  assert.deepEqual(raw.log, []);
  t.ack(ACK_EVERY);
  assert.deepEqual(raw.log, [`ack ${ACK_EVERY}`]);
  t.ack(ACK_EVERY - 5);
  t.close();
  assert.deepEqual(raw.log, [`ack ${ACK_EVERY}`, "close"], "a smaller count is ignored");
});

Deno.test("withHeldAcks sends a held ACK before closing", () => {
  const raw = fakeTransport();
  const t = withHeldAcks(raw, 60_000);
  assert.equal(t.url, raw.url);
  t.ack(7);
  t.close();
  assert.deepEqual(raw.log, ["ack 7", "close"]);
});
