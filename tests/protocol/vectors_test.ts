import assert from "node:assert/strict";
import data from "../vectors/protocol_frames.json" with { type: "json" };
import { fromHex } from "../../crypto/bytes.ts";
import {
  decodeFrame,
  encodeFrame,
  type Frame,
  FRAME_TYPE_BY_NAME,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
} from "../../protocol/mod.ts";
import { buildVectors, frameToJson } from "../../tools/gen_protocol_vectors.ts";

interface Vector {
  comment: string;
  hex: string;
  expect: string;
  frame?: unknown;
}

const vectors = data as Vector[];

Deno.test("protocol_frames.json is what tools/gen_protocol_vectors.ts generates", () => {
  assert.deepEqual(vectors, JSON.parse(JSON.stringify(buildVectors())));
});

Deno.test("protocol_frames.json has an ok vector for every frame type and a vector per error", () => {
  const okTypes = new Set(
    vectors.filter((v) => v.expect === "ok").map((v) => (v.frame as { type: string }).type),
  );
  assert.deepEqual([...okTypes].sort(), Object.keys(FRAME_TYPE_BY_NAME).sort());
  const codes = new Set(vectors.filter((v) => v.expect !== "ok").map((v) => v.expect));
  // Every codec error has a vector, except WRONG_DIRECTION: vectors decode without a direction.
  for (const code of PROTOCOL_ERROR_CODES.filter((c) => c !== "WRONG_DIRECTION")) {
    assert.ok(codes.has(code), code);
  }
});

for (const v of vectors) {
  Deno.test(`vector: ${v.comment} -> ${v.expect}`, () => {
    const bytes = fromHex(v.hex);
    if (v.expect === "ok") {
      const frame = decodeFrame(bytes);
      assert.deepEqual(frameToJson(frame), v.frame);
      assert.deepEqual(encodeFrame(frame as Frame), bytes);
    } else {
      assert.throws(
        () => decodeFrame(bytes),
        (e: unknown) => e instanceof ProtocolError && e.code === v.expect,
      );
    }
  });
}

Deno.test("decodeFrame() with from: client refuses a DELIVER as WRONG_DIRECTION", () => {
  const deliver = vectors.find((v) => v.comment.startsWith("DELIVER"))!;
  assert.throws(
    () => decodeFrame(fromHex(deliver.hex), { from: "client" }),
    (e: unknown) => e instanceof ProtocolError && e.code === "WRONG_DIRECTION",
  );
  const hello = vectors.find((v) => v.comment.startsWith("HELLO"))!;
  assert.throws(
    () => decodeFrame(fromHex(hello.hex), { from: "relay" }),
    (e: unknown) => e instanceof ProtocolError && e.code === "WRONG_DIRECTION",
  );
  assert.equal(decodeFrame(fromHex(hello.hex), { from: "client" }).type, "hello");
});

Deno.test("decodeFrame() honours a smaller maxFrameBytes", () => {
  const send = vectors.find((v) => v.comment.startsWith("SEND: alice to bob"))!;
  const bytes = fromHex(send.hex);
  assert.throws(
    () => decodeFrame(bytes, { maxFrameBytes: bytes.length - 1 }),
    (e: unknown) => e instanceof ProtocolError && e.code === "FRAME_TOO_LARGE",
  );
  assert.equal(decodeFrame(bytes, { maxFrameBytes: bytes.length }).type, "send");
});
