import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeLengthPrefixed, FrameReader } from "../../chat/_frame_reader.ts";
import { ChatError } from "../../chat/errors.ts";
import { propertyRuns } from "./_runs.ts";

Deno.test("FrameReader reassembles frames split at every byte", () => {
  const frames = [Uint8Array.of(1, 2, 3), Uint8Array.of(), Uint8Array.of(9)];
  const stream = encodeLengthPrefixed(frames);
  const reader = new FrameReader(100);
  const out: Uint8Array[] = [];
  for (const byte of stream) out.push(...reader.push(Uint8Array.of(byte)));
  assert.deepEqual(out, frames);
});

Deno.test("FrameReader returns frames from arbitrary chunkings unchanged", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }),
      fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 20 }),
      (frames, cuts) => {
        const stream = encodeLengthPrefixed(frames);
        const reader = new FrameReader(100);
        const out: Uint8Array[] = [];
        let offset = 0;
        let i = 0;
        while (offset < stream.length) {
          const size = cuts[i++ % cuts.length] ?? 1;
          out.push(...reader.push(stream.slice(offset, offset + size)));
          offset += size;
        }
        assert.deepEqual(out, frames);
      },
    ),
    { numRuns: propertyRuns() },
  );
});

Deno.test("FrameReader refuses a length prefix over the limit with FRAME_TOO_LARGE", () => {
  const reader = new FrameReader(8);
  assert.throws(
    () => reader.push(Uint8Array.of(0, 0, 0, 9)),
    (error: unknown) => error instanceof ChatError && error.code === "FRAME_TOO_LARGE",
  );
});

Deno.test("encodeLengthPrefixed() writes big-endian u32 lengths", () => {
  assert.deepEqual(
    encodeLengthPrefixed([Uint8Array.of(7, 8)]),
    Uint8Array.of(0, 0, 0, 2, 7, 8),
  );
});
