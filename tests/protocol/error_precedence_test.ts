/**
 * The codec's error precedence, as docs/PROTOCOL.md section 9 writes it: one malformed frame,
 * one code, the first failure reading front to back.
 */
import assert from "node:assert/strict";
import { decodeFrame } from "../../protocol/mod.ts";

function codeOf(bytes: number[], options: Parameters<typeof decodeFrame>[1] = {}): string {
  try {
    decodeFrame(new Uint8Array(bytes), options);
  } catch (e) {
    return (e as { code: string }).code;
  }
  return "ok";
}

const ascii = (s: string) => [...new TextEncoder().encode(s)];

Deno.test("precedence: size before type, type before direction, direction before fields", () => {
  assert.equal(codeOf([]), "EMPTY_FRAME");
  assert.equal(
    codeOf([0x7e, ...new Array(300).fill(0)], { maxFrameBytes: 256 }),
    "FRAME_TOO_LARGE",
  );
  assert.equal(codeOf([0x7e]), "UNKNOWN_FRAME_TYPE");
  // JOIN from the relay, and truncated: direction wins.
  assert.equal(codeOf([0x20], { from: "relay" }), "WRONG_DIRECTION");
});

Deno.test("precedence: truncation before names, codes and flags' values", () => {
  // JOIN with a room length of 5 but 2 bad bytes: the frame ends inside the name.
  assert.equal(codeOf([0x20, 5, 0x21, 0x21]), "TRUNCATED_FRAME");
  assert.equal(codeOf([0x20, 2, 0x21, 0x21]), "BAD_ROOM");
  // ERROR with a code length of 40 (over 32) that runs past the end: truncation first.
  assert.equal(codeOf([0xff, 0, 40, ...ascii("AB")]), "TRUNCATED_FRAME");
  assert.equal(codeOf([0xff, 0, 0, 0, 0]), "BAD_CODE");
  // A bad flag byte is reported even if the frame ends after it (fields in order).
  assert.equal(codeOf([0xff, 2]), "BAD_FLAGS");
});

Deno.test("precedence: a text's length bound before truncation, UTF-8 after", () => {
  // ERROR detail declared 2000 bytes long, frame ends: BAD_UTF8 (length over 1024) first.
  assert.equal(codeOf([0xff, 0, 1, ...ascii("X"), 0x07, 0xd0]), "BAD_UTF8");
  assert.equal(codeOf([0xff, 0, 1, ...ascii("X"), 0x00, 0x05, 0x41]), "TRUNCATED_FRAME");
  assert.equal(codeOf([0xff, 0, 1, ...ascii("X"), 0x00, 0x01, 0xff]), "BAD_UTF8");
});

Deno.test("precedence: counts before items, items before trailing bytes", () => {
  // PUBLISH_KEYS: flags, bundle (32 + 64 + 4 + 32 + 64 bytes), count 101: over the maximum
  // of 100 before any item is read, though none follows.
  const bundle = new Array(196).fill(0);
  assert.equal(codeOf([0x30, 0, ...bundle, 0, 101]), "TOO_MANY_ITEMS");
  assert.equal(codeOf([0x30, 0, ...bundle, 0, 100]), "TRUNCATED_FRAME");
  // ROSTER with 4097 members: TOO_MANY_ITEMS before reading one.
  assert.equal(codeOf([0xa2, 0, 0x10, 0x01]), "TOO_MANY_ITEMS");
  // A valid frame with one extra byte.
  assert.equal(codeOf([0x23, 0]), "TRAILING_BYTES");
});

Deno.test("precedence in envelopes: fixed part, cipher id, sender, kind, recipient", () => {
  const id = new Array(16).fill(0xa0);
  const env = (cipher: number, rest: number[]) => [0x10, ...id, cipher, ...rest];
  // Shorter than the 23-byte minimum: TRUNCATED_FRAME even with cipher 0.
  assert.equal(codeOf(env(0, [1, 0x61, 1])), "TRUNCATED_FRAME");
  // Cipher 0 before a bad sender name.
  assert.equal(codeOf(env(0, [1, 0x21, 1, 1, 0x62])), "BAD_CIPHER_ID");
  // Sender (with the kind and recipient length bytes) running past the end before its bytes.
  assert.equal(codeOf(env(2, [9, 0x21, 0x21, 1, 1])), "TRUNCATED_FRAME");
  assert.equal(codeOf(env(2, [1, 0x21, 1, 1, 0x62])), "BAD_NICK");
  assert.equal(codeOf(env(2, [1, 0x61, 3, 1, 0x62])), "BAD_RECIPIENT_KIND");
  assert.equal(codeOf(env(2, [1, 0x61, 2, 5, 0x21])), "TRUNCATED_FRAME");
  assert.equal(codeOf(env(2, [1, 0x61, 2, 1, 0x21])), "BAD_ROOM");
  // The body is `rest`: never TRAILING_BYTES.
  assert.equal(codeOf(env(2, [1, 0x61, 1, 1, 0x62, 1, 2, 3])), "ok");
});
