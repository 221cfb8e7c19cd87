import assert from "node:assert/strict";
import fc from "fast-check";
import {
  concatBytes,
  CRYPTO_ERROR_CODES,
  CryptoError,
  equalBytes,
  fromBase64,
  fromHex,
  HushError,
  randomBytes,
  toBase64,
  toHex,
  utf8Decode,
  utf8Encode,
} from "../../crypto/mod.ts";
import { propertyRuns } from "./_helpers.ts";

Deno.test("toHex() and fromHex() round-trip any bytes (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const hex = toHex(bytes);
      assert.match(hex, /^[0-9a-f]*$/);
      assert.deepEqual(fromHex(hex), bytes);
      assert.deepEqual(fromHex(hex.toUpperCase()), bytes);
    }),
    { numRuns: propertyRuns() },
  );
});

Deno.test("fromHex() rejects odd lengths and non-hex characters with TypeError", () => {
  assert.deepEqual(fromHex("00ff10"), new Uint8Array([0, 255, 16]));
  for (const bad of ["0", "0g", "zz", "0x00", " 00", "é0"]) {
    assert.throws(() => fromHex(bad), TypeError, bad);
  }
});

Deno.test("toBase64() matches RFC 4648 section 10 test vectors", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [text, encoded] of cases) {
    assert.equal(toBase64(utf8Encode(text)), encoded);
    assert.equal(utf8Decode(fromBase64(encoded)), text);
  }
  assert.equal(toBase64(new Uint8Array([0xfb, 0xff])), "+/8=");
});

Deno.test("toBase64() and fromBase64() round-trip any bytes like btoa (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const encoded = toBase64(bytes);
      assert.equal(encoded, btoa(String.fromCharCode(...bytes)));
      assert.deepEqual(fromBase64(encoded), bytes);
    }),
    { numRuns: propertyRuns() },
  );
});

Deno.test("fromBase64() rejects non-canonical or malformed base64 with TypeError", () => {
  for (
    const bad of ["Zg", "Zg=", "Zh==", "Zm9=", "Zm9v\n", "Zm-v", "Zm_v", "=Zm9", "Zg==Zg==", "é==="]
  ) {
    assert.throws(() => fromBase64(bad), TypeError, bad);
  }
});

Deno.test("utf8Decode() is lenient by default and strict with fatal: true", () => {
  const bad = new Uint8Array([0x68, 0xff, 0x69]);
  assert.equal(utf8Decode(bad), "h\uFFFDi");
  assert.throws(() => utf8Decode(bad, { fatal: true }), TypeError);
  assert.equal(utf8Decode(utf8Encode("héllo 🙂")), "héllo 🙂");
});

Deno.test("concatBytes() joins parts into a fresh array", () => {
  const a = new Uint8Array([1, 2]);
  const joined = concatBytes(a, new Uint8Array(0), new Uint8Array([3]));
  assert.deepEqual(joined, new Uint8Array([1, 2, 3]));
  joined[0] = 9;
  assert.equal(a[0], 1);
  assert.deepEqual(concatBytes(), new Uint8Array(0));
});

Deno.test("equalBytes() compares contents and lengths", () => {
  assert.equal(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.equal(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
  assert.equal(equalBytes(new Uint8Array(0), new Uint8Array(0)), true);
});

Deno.test("randomBytes() fills more than 65,536 bytes and differs between calls", () => {
  const big = randomBytes(200_000);
  assert.equal(big.length, 200_000);
  // Every 64 KiB chunk was filled (an unfilled chunk would be all zeros).
  for (let offset = 0; offset < big.length; offset += 65_536) {
    assert.ok(big.subarray(offset, offset + 1024).some((b) => b !== 0), `chunk at ${offset}`);
  }
  assert.ok(!equalBytes(randomBytes(32), randomBytes(32)));
  assert.equal(randomBytes(0).length, 0);
  assert.throws(() => randomBytes(-1), RangeError);
  assert.throws(() => randomBytes(1.5), RangeError);
});

Deno.test("CryptoError is a HushError with a stable code and its class name", () => {
  const error = new CryptoError("DECRYPT_FAILED", "Cannot decrypt: authentication failed");
  assert.ok(error instanceof HushError);
  assert.ok(error instanceof Error);
  assert.equal(error.code, "DECRYPT_FAILED");
  assert.equal(error.name, "CryptoError");
  assert.equal(new HushError("X", "y").name, "HushError");
  assert.equal(CRYPTO_ERROR_CODES.length, 8);
});
