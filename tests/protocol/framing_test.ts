import assert from "node:assert/strict";
import { FrameSplitter, ProtocolError } from "../../protocol/mod.ts";

Deno.test("FrameSplitter rejects a length prefix of 0 as EMPTY_FRAME", () => {
  const s = new FrameSplitter();
  assert.throws(
    () => s.push(new Uint8Array([0, 0, 0, 0])),
    (e: unknown) => e instanceof ProtocolError && e.code === "EMPTY_FRAME",
  );
});

Deno.test("FrameSplitter rejects an oversized length as soon as the prefix arrives", () => {
  const s = new FrameSplitter({ maxFrameBytes: 100 });
  assert.deepEqual(s.push(new Uint8Array([0, 0])), []);
  assert.throws(
    () => s.push(new Uint8Array([0, 101])),
    (e: unknown) => e instanceof ProtocolError && e.code === "FRAME_TOO_LARGE",
  );
});

Deno.test("FrameSplitter keeps a partial frame until the rest arrives", () => {
  const s = new FrameSplitter();
  assert.deepEqual(s.push(new Uint8Array([0, 0, 0, 3, 0x23])), []);
  assert.equal(s.pendingBytes, 5);
  const out = s.push(new Uint8Array([1, 2, 0, 0, 0, 1, 0x23]));
  assert.deepEqual(out.map((f) => Array.from(f)), [[0x23, 1, 2], [0x23]]);
  assert.equal(s.pendingBytes, 0);
});
