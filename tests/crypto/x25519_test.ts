import assert from "node:assert/strict";
import {
  equalBytes,
  fromHex,
  generateX25519KeyPair,
  toHex,
  x25519PublicKey,
  x25519SharedSecret,
} from "../../crypto/mod.ts";
import rfc7748 from "../vectors/rfc7748_x25519.json" with { type: "json" };
import wycheproof from "../vectors/wycheproof/x25519_test.json" with { type: "json" };
import { assertCryptoError, outcome } from "./_helpers.ts";

Deno.test("x25519SharedSecret() matches RFC 7748 section 5.2 test vectors", () => {
  assert.equal(rfc7748.scalarMult.length, 2);
  for (const v of rfc7748.scalarMult) {
    assert.equal(toHex(x25519SharedSecret(fromHex(v.scalar), fromHex(v.u))), v.output, v.comment);
  }
});

Deno.test("x25519 matches RFC 7748 section 5.2 iterated vectors after 1 and 1,000 rounds", () => {
  let k = fromHex(rfc7748.iterated.start);
  let u = fromHex(rfc7748.iterated.start);
  const expected = new Map(rfc7748.iterated.after.map((a) => [a.iterations, a.k]));
  let checked = 0;
  for (let i = 1; i <= 1000; i++) {
    const r = x25519SharedSecret(k, u);
    u = k;
    k = r;
    const want = expected.get(i);
    if (want !== undefined) {
      assert.equal(toHex(k), want, `after ${i} iterations`);
      checked++;
    }
  }
  assert.equal(checked, 2);
});

Deno.test("x25519 matches the RFC 7748 section 6.1 Diffie-Hellman example", () => {
  const v = rfc7748.diffieHellman;
  assert.equal(toHex(x25519PublicKey(fromHex(v.alicePrivate))), v.alicePublic);
  assert.equal(toHex(x25519PublicKey(fromHex(v.bobPrivate))), v.bobPublic);
  assert.equal(toHex(x25519SharedSecret(fromHex(v.alicePrivate), fromHex(v.bobPublic))), v.shared);
  assert.equal(toHex(x25519SharedSecret(fromHex(v.bobPrivate), fromHex(v.alicePublic))), v.shared);
});

Deno.test("x25519 passes every Wycheproof case, rejecting each low-order key", () => {
  const failures: string[] = [];
  let agreed = 0;
  let lowOrderRejected = 0;
  for (const group of wycheproof.testGroups) {
    for (const t of group.tests) {
      const label = `x25519 tcId ${t.tcId} (${t.result}, ${t.flags.join(",")})`;
      const result = outcome(() => x25519SharedSecret(fromHex(t.private), fromHex(t.public)));
      // Policy: a low-order public key (the shared secret would be all zeros) is refused with
      // LOW_ORDER_PUBLIC_KEY; every other case, valid or acceptable (twist points,
      // non-canonical u), must give exactly Wycheproof's shared secret.
      if (/^0+$/.test(t.shared)) {
        if (result.ok) failures.push(`${label}: all-zero shared secret was accepted`);
        else if (result.code !== "LOW_ORDER_PUBLIC_KEY") {
          failures.push(`${label}: rejected with ${result.code}`);
        } else lowOrderRejected++;
      } else if (!result.ok) failures.push(`${label}: threw ${result.code}`);
      else if (toHex(result.value) !== t.shared) failures.push(`${label}: wrong shared secret`);
      else agreed++;
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(agreed, 487); // 264 valid + 223 acceptable with a non-zero result
  assert.equal(lowOrderRejected, 31); // acceptable cases flagged ZeroSharedSecret
  assert.equal(agreed + lowOrderRejected, wycheproof.numberOfTests);
});

Deno.test("x25519SharedSecret() rejects the low-order points with LOW_ORDER_PUBLIC_KEY", () => {
  const me = generateX25519KeyPair();
  const lowOrder = [
    "0000000000000000000000000000000000000000000000000000000000000000", // 0
    "0100000000000000000000000000000000000000000000000000000000000000", // 1
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p - 1
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p (= 0)
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p + 1 (= 1)
  ];
  for (const hex of lowOrder) {
    assertCryptoError(
      () => x25519SharedSecret(me.privateKey, fromHex(hex)),
      "LOW_ORDER_PUBLIC_KEY",
      hex,
    );
  }
});

Deno.test("x25519 rejects keys of the wrong length with BAD_PRIVATE_KEY / BAD_PUBLIC_KEY", () => {
  const me = generateX25519KeyPair();
  assertCryptoError(() => x25519PublicKey(new Uint8Array(31)), "BAD_PRIVATE_KEY");
  assertCryptoError(() => x25519SharedSecret(new Uint8Array(33), me.publicKey), "BAD_PRIVATE_KEY");
  assertCryptoError(() => x25519SharedSecret(me.privateKey, new Uint8Array(31)), "BAD_PUBLIC_KEY");
  assertCryptoError(() => x25519SharedSecret(me.privateKey, new Uint8Array(0)), "BAD_PUBLIC_KEY");
});

Deno.test("generateX25519KeyPair() gives fresh pairs that agree with each other", () => {
  const a = generateX25519KeyPair();
  const b = generateX25519KeyPair();
  assert.equal(a.privateKey.length, 32);
  assert.equal(a.publicKey.length, 32);
  assert.ok(!equalBytes(a.privateKey, b.privateKey));
  assert.deepEqual(x25519PublicKey(a.privateKey), a.publicKey);
  assert.deepEqual(
    x25519SharedSecret(a.privateKey, b.publicKey),
    x25519SharedSecret(b.privateKey, a.publicKey),
  );
});
