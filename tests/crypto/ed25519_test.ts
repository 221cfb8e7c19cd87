import assert from "node:assert/strict";
import {
  decodeIdentity,
  encodeIdentity,
  fromHex,
  generateIdentityKeyPair,
  IDENTITY_TEXT_PREFIX,
  identityFromSeed,
  sign,
  toHex,
  utf8Encode,
  verify,
} from "../../crypto/mod.ts";
import rfc8032 from "../vectors/rfc8032_ed25519.json" with { type: "json" };
import vectors from "../vectors/safety_number.json" with { type: "json" };
import wycheproof from "../vectors/wycheproof/ed25519_test.json" with { type: "json" };
import { assertCryptoError } from "./_helpers.ts";

Deno.test("ed25519 matches RFC 8032 section 7.1 TEST 1-3 (keys, signatures, verify)", () => {
  assert.equal(rfc8032.cases.length, 3);
  for (const v of rfc8032.cases) {
    const pair = identityFromSeed(fromHex(v.secretKey));
    assert.equal(toHex(pair.publicKey), v.publicKey, v.comment);
    const signature = sign(pair.privateKey, fromHex(v.message));
    assert.equal(toHex(signature), v.signature, v.comment);
    assert.equal(verify(pair.publicKey, fromHex(v.message), signature), true, v.comment);
  }
});

Deno.test("verify() passes every Wycheproof Ed25519 case", () => {
  const failures: string[] = [];
  let valid = 0;
  let invalid = 0;
  for (const group of wycheproof.testGroups) {
    const publicKey = fromHex(group.publicKey.pk);
    for (const t of group.tests) {
      const label = `ed25519 tcId ${t.tcId} (${t.comment || t.flags.join(",")})`;
      let ok: boolean;
      try {
        ok = verify(publicKey, fromHex(t.msg), fromHex(t.sig));
      } catch (error) {
        failures.push(`${label}: verify threw ${error}`);
        continue;
      }
      if (t.result === "valid" && ok) valid++;
      else if (t.result === "invalid" && !ok) invalid++;
      else failures.push(`${label}: ${t.result} case verified ${ok}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(valid, 88);
  assert.equal(invalid, 63);
  assert.equal(valid + invalid, wycheproof.numberOfTests);
});

Deno.test("verify() returns false, never throws, on malformed input", () => {
  const id = generateIdentityKeyPair();
  const message = utf8Encode("m");
  const signature = sign(id.privateKey, message);
  assert.equal(verify(id.publicKey, message, signature.subarray(0, 63)), false);
  assert.equal(verify(id.publicKey.subarray(0, 31), message, signature), false);
  assert.equal(verify(new Uint8Array(32), message, signature), false);
  assert.equal(verify(new Uint8Array(32).fill(0xff), message, new Uint8Array(64)), false);
  const junk = "junk" as unknown as Uint8Array;
  assert.equal(verify(junk, message, signature), false);
  assert.equal(verify(id.publicKey, junk, signature), false);
  assert.equal(verify(id.publicKey, message, junk), false);
});

Deno.test("a signature does not verify for another message or another key", () => {
  const id = generateIdentityKeyPair();
  const other = generateIdentityKeyPair();
  const signature = sign(id.privateKey, utf8Encode("hello"));
  assert.equal(verify(id.publicKey, utf8Encode("hello"), signature), true);
  assert.equal(verify(id.publicKey, utf8Encode("hellO"), signature), false);
  assert.equal(verify(other.publicKey, utf8Encode("hello"), signature), false);
  for (let bit = 0; bit < 512; bit += 7) {
    const flipped = signature.slice();
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(verify(id.publicKey, utf8Encode("hello"), flipped), false, `bit ${bit}`);
  }
});

Deno.test("sign() and identityFromSeed() reject a seed that is not 32 bytes", () => {
  assertCryptoError(() => identityFromSeed(new Uint8Array(31)), "BAD_PRIVATE_KEY");
  assertCryptoError(() => identityFromSeed(new Uint8Array(64)), "BAD_PRIVATE_KEY");
  assertCryptoError(() => sign(new Uint8Array(64), utf8Encode("x")), "BAD_PRIVATE_KEY");
});

Deno.test("encodeIdentity() writes the committed text form and decodeIdentity() reads it", () => {
  for (const v of vectors.identities) {
    const pair = identityFromSeed(fromHex(v.seed));
    assert.equal(toHex(pair.publicKey), v.publicKey);
    assert.equal(encodeIdentity(pair), v.text);
    assert.deepEqual(decodeIdentity(v.text), pair);
    assert.deepEqual(decodeIdentity(`  ${v.text}\n`), pair);
  }
});

Deno.test("identity text round-trips for fresh identities", () => {
  for (let i = 0; i < 20; i++) {
    const id = generateIdentityKeyPair();
    const text = encodeIdentity(id);
    assert.ok(text.startsWith(IDENTITY_TEXT_PREFIX));
    assert.equal(text.length, IDENTITY_TEXT_PREFIX.length + 64 + 1 + 64);
    assert.deepEqual(decodeIdentity(text), id);
  }
});

Deno.test("decodeIdentity() rejects garbage with BAD_IDENTITY_ENCODING", () => {
  const good = vectors.identities[0]!.text;
  const [prefix, seed, pub] = good.split(":") as [string, string, string];
  const otherPub = vectors.fingerprints[1]!.publicKey;
  const bad = [
    "",
    "hello",
    good.toUpperCase(),
    good.replace("v1", "v2"),
    `${prefix}:${seed}`,
    `${prefix}:${seed}:${pub}:`,
    `${prefix}:${seed.slice(2)}:${pub}`,
    `${prefix}:${seed}:${pub.slice(0, 62)}zz`,
    `${prefix}:${seed}:${otherPub}`, // public key of another seed
    `${prefix}:${seed} :${pub}`,
    null as unknown as string,
  ];
  for (const text of bad) {
    assertCryptoError(() => decodeIdentity(text), "BAD_IDENTITY_ENCODING", String(text));
  }
});

Deno.test("encodeIdentity() refuses a public key that does not belong to the seed", () => {
  const a = generateIdentityKeyPair();
  const b = generateIdentityKeyPair();
  assertCryptoError(
    () => encodeIdentity({ privateKey: a.privateKey, publicKey: b.publicKey }),
    "BAD_PUBLIC_KEY",
  );
});
