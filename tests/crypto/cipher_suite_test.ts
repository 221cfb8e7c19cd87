import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type CipherSuite,
  CryptoError,
  DEFAULT_CIPHER_SUITE,
  getCipherSuite,
  getCipherSuiteByWireId,
  listBackends,
  listCipherSuites,
  toHex,
  utf8Encode,
} from "../../crypto/mod.ts";
import { buildRegistry } from "../../crypto/_registry.ts";
import { assertCryptoError, propertyRuns } from "./_helpers.ts";

const AEADS = ["aes-256-gcm", "chacha20-poly1305", "xchacha20-poly1305"] as const;
const ALL_AEAD_BACKENDS: CipherSuite[] = AEADS.flatMap((id) => listBackends(id));

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

Deno.test("listCipherSuites() lists each suite once with its wire id and lengths", () => {
  const table = listCipherSuites().map((s) => [
    s.id,
    s.wireId,
    s.keyLength,
    s.nonceLength,
    s.tagLength,
    s.insecure,
  ]);
  assert.deepEqual(table, [
    ["aes-256-gcm", 0x01, 32, 12, 16, false],
    ["chacha20-poly1305", 0x02, 32, 12, 16, false],
    ["xchacha20-poly1305", 0x03, 32, 24, 16, false],
    ["caesar", 0xca, 32, 0, 0, true],
  ]);
  assert.equal(DEFAULT_CIPHER_SUITE, "aes-256-gcm");
});

Deno.test("getCipherSuiteByWireId() finds every suite and rejects unknown ids", () => {
  for (const suite of listCipherSuites()) {
    assert.equal(getCipherSuiteByWireId(suite.wireId).id, suite.id);
  }
  for (const wireId of [0x00, 0x04, 0xc9, 0xff, 256, -1]) {
    assertCryptoError(() => getCipherSuiteByWireId(wireId), "UNKNOWN_CIPHER_SUITE");
  }
});

Deno.test("getCipherSuite() rejects an unknown id or backend with UNKNOWN_CIPHER_SUITE", () => {
  assertCryptoError(() => getCipherSuite("rot13"), "UNKNOWN_CIPHER_SUITE");
  assertCryptoError(() => getCipherSuite("AES-256-GCM"), "UNKNOWN_CIPHER_SUITE");
  assertCryptoError(() => getCipherSuite("caesar", { backend: "noble" }), "UNKNOWN_CIPHER_SUITE");
  assertCryptoError(
    () => getCipherSuite("aes-256-gcm", { backend: "webcrypto" }),
    "UNKNOWN_CIPHER_SUITE",
  );
  for (const id of AEADS) {
    for (const backend of ["node:crypto", "noble"]) {
      assert.equal(getCipherSuite(id, { backend }).backend, backend);
    }
  }
});

Deno.test("seal() and open() reject wrong key and nonce lengths for every backend", () => {
  for (const suite of [...ALL_AEAD_BACKENDS, getCipherSuite("caesar")]) {
    const key = new Uint8Array(suite.keyLength);
    const nonce = new Uint8Array(suite.nonceLength);
    const sealed = suite.seal(key, nonce, new Uint8Array(3));
    for (const bad of [0, 16, suite.keyLength - 1, suite.keyLength + 1]) {
      assertCryptoError(() => suite.seal(new Uint8Array(bad), nonce, sealed), "BAD_KEY_LENGTH");
      assertCryptoError(() => suite.open(new Uint8Array(bad), nonce, sealed), "BAD_KEY_LENGTH");
    }
    for (const bad of [suite.nonceLength + 1, 8, 32]) {
      assertCryptoError(() => suite.seal(key, new Uint8Array(bad), sealed), "BAD_NONCE_LENGTH");
      assertCryptoError(() => suite.open(key, new Uint8Array(bad), sealed), "BAD_NONCE_LENGTH");
    }
  }
});

Deno.test("seal() and open() reject non-byte arguments with TypeError", () => {
  const suite = getCipherSuite("aes-256-gcm");
  const key = new Uint8Array(32);
  const nonce = new Uint8Array(12);
  const text = "text" as unknown as Uint8Array;
  assert.throws(() => suite.seal(key, nonce, text), TypeError);
  assert.throws(() => suite.open(key, nonce, text), TypeError);
  assert.throws(() => suite.seal(key, nonce, new Uint8Array(1), text), TypeError);
});

Deno.test("open() of a ciphertext shorter than the tag throws DECRYPT_FAILED", () => {
  for (const suite of ALL_AEAD_BACKENDS) {
    const key = new Uint8Array(32);
    const nonce = new Uint8Array(suite.nonceLength);
    for (const length of [0, 1, 15]) {
      assertCryptoError(
        () => suite.open(key, nonce, new Uint8Array(length)),
        "DECRYPT_FAILED",
        `${suite.id}/${suite.backend}`,
      );
    }
  }
});

Deno.test("flipping any single bit of ciphertext, tag, nonce or AAD makes open() throw DECRYPT_FAILED", () => {
  for (const suite of ALL_AEAD_BACKENDS) {
    const label = `${suite.id}/${suite.backend}`;
    const key = new Uint8Array(32).map((_, i) => i);
    const nonce = new Uint8Array(suite.nonceLength).map((_, i) => 100 + i);
    const aad = utf8Encode("room:42");
    const sealed = suite.seal(key, nonce, utf8Encode("meet me at the usual place, 9pm"), aad);
    let rejected = 0;
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      assertCryptoError(
        () => suite.open(key, nonce, flipBit(sealed, bit), aad),
        "DECRYPT_FAILED",
        `${label} sealed bit ${bit}`,
      );
      rejected++;
    }
    for (let bit = 0; bit < nonce.length * 8; bit++) {
      assertCryptoError(
        () => suite.open(key, flipBit(nonce, bit), sealed, aad),
        "DECRYPT_FAILED",
        `${label} nonce bit ${bit}`,
      );
      rejected++;
    }
    for (let bit = 0; bit < aad.length * 8; bit++) {
      assertCryptoError(
        () => suite.open(key, nonce, sealed, flipBit(aad, bit)),
        "DECRYPT_FAILED",
        `${label} aad bit ${bit}`,
      );
      rejected++;
    }
    // Dropping the AAD, truncating, or extending the message is caught too.
    assertCryptoError(() => suite.open(key, nonce, sealed), "DECRYPT_FAILED", label);
    assertCryptoError(
      () => suite.open(key, nonce, sealed.subarray(1), aad),
      "DECRYPT_FAILED",
      label,
    );
    assertCryptoError(
      () => suite.open(key, nonce, sealed.subarray(0, -1), aad),
      "DECRYPT_FAILED",
      label,
    );
    assert.equal(rejected, (sealed.length + nonce.length + aad.length) * 8, label);
  }
});

Deno.test("a wrong key makes open() throw a CryptoError, never the backend's own error", () => {
  for (const suite of ALL_AEAD_BACKENDS) {
    const nonce = new Uint8Array(suite.nonceLength);
    const sealed = suite.seal(new Uint8Array(32), nonce, utf8Encode("x"));
    try {
      suite.open(new Uint8Array(32).fill(1), nonce, sealed);
      assert.fail("open() accepted a wrong key");
    } catch (error) {
      assert.ok(error instanceof CryptoError, `${suite.backend}: ${error}`);
      assert.equal(error.code, "DECRYPT_FAILED");
      assert.equal(error.name, "CryptoError");
      assert.equal(error.cause, undefined);
    }
  }
});

Deno.test("every backend round-trips any plaintext and AAD (property)", () => {
  for (const suite of ALL_AEAD_BACKENDS) {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: suite.nonceLength, maxLength: suite.nonceLength }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 40 }),
        (key, nonce, plaintext, aad) => {
          const sealed = suite.seal(key, nonce, plaintext, aad);
          assert.equal(sealed.length, plaintext.length + suite.tagLength);
          assert.deepEqual(suite.open(key, nonce, sealed, aad), plaintext);
        },
      ),
      { numRuns: propertyRuns() },
    );
  }
});

Deno.test("both backends of a suite produce identical bytes (property)", () => {
  for (const id of AEADS) {
    const [first, second] = listBackends(id);
    assert.ok(first && second, id);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: first.nonceLength, maxLength: first.nonceLength }),
        fc.uint8Array({ maxLength: 1100 }),
        fc.uint8Array({ maxLength: 40 }),
        (key, nonce, plaintext, aad) => {
          const a = first.seal(key, nonce, plaintext, aad);
          assert.equal(toHex(a), toHex(second.seal(key, nonce, plaintext, aad)), id);
          assert.deepEqual(second.open(key, nonce, a, aad), plaintext);
        },
      ),
      { numRuns: propertyRuns() },
    );
  }
});

Deno.test("seal() returns a plain Uint8Array and leaves its inputs untouched", () => {
  for (const suite of ALL_AEAD_BACKENDS) {
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(suite.nonceLength).fill(9);
    const plaintext = utf8Encode("unchanged");
    const sealed = suite.seal(key, nonce, plaintext);
    assert.equal(Object.getPrototypeOf(sealed), Uint8Array.prototype, suite.backend);
    assert.equal(Object.getPrototypeOf(suite.open(key, nonce, sealed)), Uint8Array.prototype);
    assert.deepEqual(plaintext, utf8Encode("unchanged"));
    assert.deepEqual(key, new Uint8Array(32).fill(7));
  }
});

Deno.test("without node:crypto (a browser) every suite falls back to noble with the same bytes", () => {
  // The private registry builder, given no node:crypto module, as in a browser.
  const browser = buildRegistry(undefined);
  for (const id of AEADS) {
    const backends = browser.backends(id);
    assert.deepEqual(backends.map((suite) => suite.backend), ["noble"], id);
    const fallback = browser.defaultOf(id);
    assert.equal(fallback.backend, "noble");
    const native = getCipherSuite(id);
    assert.equal(native.backend, "node:crypto");
    const key = new Uint8Array(32).fill(5);
    const nonce = new Uint8Array(fallback.nonceLength).fill(6);
    const sealed = native.seal(key, nonce, utf8Encode("same bytes on the wire"));
    assert.equal(
      toHex(fallback.seal(key, nonce, utf8Encode("same bytes on the wire"))),
      toHex(sealed),
    );
    sealed[0]! ^= 1;
    assertCryptoError(() => fallback.open(key, nonce, sealed), "DECRYPT_FAILED", id);
  }
  assert.equal(browser.defaultOf("caesar").backend, "hush");
});
