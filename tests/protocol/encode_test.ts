import assert from "node:assert/strict";
import { encodeFrame, isValidNick, isValidRoom } from "../../protocol/mod.ts";

Deno.test("encodeFrame() refuses a nick with a space", () => {
  assert.throws(() => encodeFrame({ type: "join", room: "a room" }), RangeError);
});

Deno.test("encodeFrame() refuses cipher id 0 and a short message id", () => {
  const base = {
    type: "send" as const,
    id: new Uint8Array(16),
    cipher: 1,
    from: "a",
    toKind: "nick" as const,
    to: "b",
    body: new Uint8Array(0),
  };
  assert.throws(() => encodeFrame({ ...base, cipher: 0 }), RangeError);
  assert.throws(() => encodeFrame({ ...base, id: new Uint8Array(15) }), RangeError);
  assert.equal(encodeFrame(base).length, 23);
});

Deno.test("encodeFrame() refuses an error detail over 1024 UTF-8 bytes", () => {
  assert.throws(
    () => encodeFrame({ type: "error", fatal: true, code: "X", detail: "é".repeat(513) }),
    RangeError,
  );
});

Deno.test("isValidNick() accepts 1-32 of A-Z a-z 0-9 _ - and nothing else", () => {
  assert.ok(isValidNick("bob_1"));
  assert.ok(isValidNick("a".repeat(32)));
  assert.ok(!isValidNick("a".repeat(33)));
  assert.ok(!isValidNick(""));
  assert.ok(!isValidNick("bób"));
  assert.ok(!isValidRoom("#lobby"));
  assert.ok(isValidRoom("lobby"));
});
