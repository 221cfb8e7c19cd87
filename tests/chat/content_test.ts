import assert from "node:assert/strict";
import { decodeChatPayload, encodeChatPayload, MAX_TEXT_BYTES } from "../../chat/content.ts";

Deno.test("encodeChatPayload() and decodeChatPayload() round-trip any Unicode text", () => {
  const payload = { text: "héllo 👋 \u202e 漢字\n", ts: 1732364800000 };
  assert.deepEqual(decodeChatPayload(encodeChatPayload(payload), 0), payload);
});

Deno.test("decodeChatPayload() shows bare UTF-8 with the receiver's clock", () => {
  assert.deepEqual(decodeChatPayload(new TextEncoder().encode("hi"), 42), { text: "hi", ts: 42 });
  assert.deepEqual(decodeChatPayload(new TextEncoder().encode('{"text":1}'), 7), {
    text: '{"text":1}',
    ts: 7,
  });
  assert.deepEqual(decodeChatPayload(new TextEncoder().encode('{"text":"a","ts":"x"}'), 7), {
    text: "a",
    ts: 7,
  });
});

Deno.test("encodeChatPayload() refuses a text over the limit", () => {
  assert.throws(
    () => encodeChatPayload({ text: "x".repeat(MAX_TEXT_BYTES + 100), ts: 0 }),
    RangeError,
  );
});
