import assert from "node:assert/strict";
import fc from "fast-check";
import {
  caesarShift,
  getCipherSuite,
  listBackends,
  utf8Decode,
  utf8Encode,
} from "../../crypto/mod.ts";
import { propertyRuns } from "./_helpers.ts";

const caesar = getCipherSuite("caesar");
const NO_NONCE = new Uint8Array(0);

/** A 32-byte key whose first byte is `first`. */
function keyWith(first: number): Uint8Array {
  const key = new Uint8Array(32);
  key[0] = first;
  return key;
}

Deno.test("caesar is flagged insecure, has one backend and no nonce or tag", () => {
  assert.equal(caesar.insecure, true);
  assert.equal(caesar.backend, "hush");
  assert.equal(caesar.wireId, 0xca);
  assert.equal(caesar.nonceLength, 0);
  assert.equal(caesar.tagLength, 0);
  assert.equal(listBackends("caesar").length, 1);
});

Deno.test("caesarShift() is 1 + key[0] % 25, never 0", () => {
  assert.equal(caesarShift(keyWith(0)), 1);
  assert.equal(caesarShift(keyWith(2)), 3);
  assert.equal(caesarShift(keyWith(24)), 25);
  assert.equal(caesarShift(keyWith(25)), 1);
  assert.equal(caesarShift(keyWith(255)), 1 + (255 % 25));
  for (let b = 0; b < 256; b++) {
    const shift = caesarShift(keyWith(b));
    assert.ok(shift >= 1 && shift <= 25);
  }
});

Deno.test('caesar seals "HELLO" with shift 3 (key[0] = 2) to "KHOOR"', () => {
  const key = keyWith(2);
  assert.equal(utf8Decode(caesar.seal(key, NO_NONCE, utf8Encode("HELLO"))), "KHOOR");
  assert.equal(utf8Decode(caesar.open(key, NO_NONCE, utf8Encode("KHOOR"))), "HELLO");
  assert.equal(
    utf8Decode(caesar.seal(key, NO_NONCE, utf8Encode("Hello, World! xyz"))),
    "Khoor, Zruog! abc",
  );
});

Deno.test("caesar leaves every non-letter code point unchanged", () => {
  const key = keyWith(10);
  const text = "123 ✓ émoji 🙂 ß — Ωμέγα 日本語 \u0000\n";
  const sealed = utf8Decode(caesar.seal(key, NO_NONCE, utf8Encode(text)));
  assert.equal(sealed.replace(/[A-Za-z]/g, ""), text.replace(/[A-Za-z]/g, ""));
  assert.notEqual(sealed, text);
});

Deno.test("caesar round-trips any Unicode text under any key (property)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.string({ unit: "grapheme", maxLength: 200 }),
      (key, text) => {
        const sealed = caesar.seal(key, NO_NONCE, utf8Encode(text));
        assert.equal(sealed.length, utf8Encode(text).length);
        assert.equal(utf8Decode(caesar.open(key, NO_NONCE, sealed), { fatal: true }), text);
      },
    ),
    { numRuns: propertyRuns() },
  );
});

Deno.test("a tampered caesar message is NOT detected: open() returns the forged text", () => {
  // The lesson: without a tag, an attacker who flips ciphertext letters changes the
  // message and the recipient has no way to notice.
  const key = keyWith(2);
  const sealed = caesar.seal(key, NO_NONCE, utf8Encode("PAY BOB 10"));
  const forged = sealed.slice();
  forged[4] = "J".charCodeAt(0); // ciphertext 'E' (for B) becomes 'J' (for G)
  forged[8] = "9".charCodeAt(0); // digits are not even encrypted
  const opened = utf8Decode(caesar.open(key, NO_NONCE, forged));
  assert.equal(opened, "PAY GOB 90");
  assert.notEqual(opened, "PAY BOB 10");
});

Deno.test("caesar falls to trying all 25 keys", () => {
  const sealed = caesar.seal(keyWith(17), NO_NONCE, utf8Encode("attack at dawn"));
  const candidates = Array.from(
    { length: 25 },
    (_, b) => utf8Decode(caesar.open(keyWith(b), NO_NONCE, sealed)),
  );
  assert.ok(candidates.includes("attack at dawn"));
});
