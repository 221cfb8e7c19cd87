import assert from "node:assert/strict";
import {
  concatBytes,
  fingerprint,
  formatSafetyNumber,
  fromHex,
  generateIdentityKeyPair,
  randomBytes,
  SAFETY_NUMBER_ITERATIONS,
  SAFETY_WORDS,
  safetyNumber,
  safetyNumberWords,
  sha512,
} from "../../crypto/mod.ts";
import { SAFETY_NUMBER_CHAIN, safetyNumberChains } from "../../crypto/fingerprint.ts";
import vectors from "../vectors/safety_number.json" with { type: "json" };
import { assertCryptoError } from "./_helpers.ts";

Deno.test("safetyNumber() reproduces the committed vectors", () => {
  assert.equal(vectors.safetyNumbers.length, 2);
  for (const v of vectors.safetyNumbers) {
    const mine = fromHex(v.myPublicKey);
    const theirs = fromHex(v.peerPublicKey);
    assert.equal(safetyNumber(mine, theirs), v.safetyNumber);
    assert.equal(formatSafetyNumber(v.safetyNumber), v.formatted);
    assert.deepEqual(safetyNumberWords(mine, theirs), v.words);
  }
  // Each identity's 30 digits are one half of the number.
  const [a, b] = vectors.digitsPerIdentity as [
    { publicKey: string; digits: string },
    { publicKey: string; digits: string },
  ];
  assert.equal(
    safetyNumber(fromHex(a.publicKey), fromHex(b.publicKey)),
    [a.digits, b.digits].sort().join(""),
  );
});

Deno.test("safetyNumber() is the same on both sides", () => {
  for (const v of vectors.safetyNumbers) {
    const mine = fromHex(v.myPublicKey);
    const theirs = fromHex(v.peerPublicKey);
    assert.equal(safetyNumber(theirs, mine), v.safetyNumber);
    assert.deepEqual(safetyNumberWords(theirs, mine), v.words);
  }
  const alice = generateIdentityKeyPair().publicKey;
  const bob = generateIdentityKeyPair().publicKey;
  const number = safetyNumber(alice, bob);
  assert.match(number, /^[0-9]{60}$/);
  assert.equal(safetyNumber(bob, alice), number);
});

Deno.test("safetyNumber() changes when either key changes, even by one bit", () => {
  const alice = fromHex(vectors.safetyNumbers[0]!.myPublicKey);
  const bob = fromHex(vectors.safetyNumbers[0]!.peerPublicKey);
  const original = safetyNumber(alice, bob);
  const seen = new Set([original]);
  for (const bit of [0, 1, 77, 128, 254, 255]) {
    const mallory = bob.slice();
    mallory[bit >> 3]! ^= 1 << (bit & 7);
    const forged = safetyNumber(alice, mallory);
    assert.notEqual(forged, original, `bit ${bit}`);
    seen.add(forged);
  }
  for (let i = 0; i < 3; i++) seen.add(safetyNumber(alice, generateIdentityKeyPair().publicKey));
  assert.equal(seen.size, 10);
});

Deno.test("formatSafetyNumber() lays out 12 groups of 5 on 3 lines", () => {
  const digits = "012345678901234567890123456789012345678901234567890123456789";
  assert.equal(
    formatSafetyNumber(digits),
    "01234 56789 01234 56789\n01234 56789 01234 56789\n01234 56789 01234 56789",
  );
  for (const bad of ["", digits.slice(1), `${digits}0`, digits.replace("0", "a")]) {
    assert.throws(() => formatSafetyNumber(bad), RangeError);
  }
});

Deno.test("the read-aloud word list has 256 distinct lowercase words", () => {
  assert.equal(SAFETY_WORDS.length, 256);
  assert.equal(new Set(SAFETY_WORDS).size, 256);
  for (const word of SAFETY_WORDS) assert.match(word, /^[a-z]{2,8}$/);
  assert.ok(Object.isFrozen(SAFETY_WORDS));
});

Deno.test("fingerprint() reproduces the committed vectors and its format", () => {
  assert.equal(vectors.fingerprints.length, 3);
  for (const v of vectors.fingerprints) {
    assert.equal(fingerprint(fromHex(v.publicKey)), v.fingerprint);
  }
  assert.match(fingerprint(generateIdentityKeyPair().publicKey), /^([0-9a-f]{4} ){3}[0-9a-f]{4}$/);
});

Deno.test("fingerprint() and safetyNumber() reject keys that are not 32 bytes", () => {
  const good = generateIdentityKeyPair().publicKey;
  assertCryptoError(() => fingerprint(new Uint8Array(31)), "BAD_PUBLIC_KEY");
  assertCryptoError(() => safetyNumber(good, new Uint8Array(33)), "BAD_PUBLIC_KEY");
  assertCryptoError(() => safetyNumberWords(new Uint8Array(0), good), "BAD_PUBLIC_KEY");
});

Deno.test("safety-number chain: the compression loop equals streaming SHA-512 round by round", () => {
  assert.equal(SAFETY_NUMBER_CHAIN, "compress");
  for (let n = 0; n < 5; n++) {
    const publicKey = randomBytes(32);
    const first = sha512(concatBytes(new Uint8Array([0, 0]), publicKey, publicKey));
    const { compress, streaming } = safetyNumberChains(first, publicKey);
    assert.deepEqual(compress, streaming);
    if (n === 0) {
      // And both equal the plain definition, one sha512() call per round.
      let h = first;
      for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) h = sha512(concatBytes(h, publicKey));
      assert.deepEqual(compress, h);
    }
  }
});
