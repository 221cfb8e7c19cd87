import assert from "node:assert/strict";
import {
  derivePeerKeys,
  equalBytes,
  fromHex,
  generateX25519KeyPair,
  hkdf,
  hmacSha256,
  PEER_KEYS_LABEL,
  sha256,
  sha512,
  toHex,
  utf8Encode,
  x25519SharedSecret,
} from "../../crypto/mod.ts";
import rfc5869 from "../vectors/rfc5869_hkdf_sha256.json" with { type: "json" };
import wycheproofHkdf from "../vectors/wycheproof/hkdf_sha256_test.json" with { type: "json" };
import wycheproofHmac from "../vectors/wycheproof/hmac_sha256_test.json" with { type: "json" };
import { assertCryptoError } from "./_helpers.ts";

Deno.test("sha256() and sha512() match the FIPS 180-2 'abc' examples", () => {
  assert.equal(
    toHex(sha256(utf8Encode("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    toHex(sha512(utf8Encode("abc"))),
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
  );
});

Deno.test("hkdf() matches RFC 5869 appendix A.1, A.2 and A.3 (PRK and OKM)", () => {
  assert.deepEqual(rfc5869.cases.map((c) => c.section), ["A.1", "A.2", "A.3"]);
  for (const v of rfc5869.cases) {
    const salt = fromHex(v.salt);
    // PRK = HMAC-SHA-256(salt, IKM); an empty salt means HashLen zero bytes (RFC 5869 §2.2).
    const prk = hmacSha256(salt.length ? salt : new Uint8Array(32), fromHex(v.ikm));
    assert.equal(toHex(prk), v.prk, `${v.section} PRK`);
    const okm = hkdf(fromHex(v.ikm), { salt, info: fromHex(v.info), length: v.length });
    assert.equal(toHex(okm), v.okm, `${v.section} OKM`);
  }
  // A.3 again with salt omitted entirely.
  const a3 = rfc5869.cases[2]!;
  assert.equal(toHex(hkdf(fromHex(a3.ikm), { info: "", length: a3.length })), a3.okm);
});

Deno.test("hkdf() passes every Wycheproof HKDF-SHA-256 case", () => {
  const failures: string[] = [];
  let valid = 0;
  let invalid = 0;
  for (const group of wycheproofHkdf.testGroups) {
    for (const t of group.tests) {
      const label = `hkdf tcId ${t.tcId} (${t.comment || t.flags.join(",")})`;
      const run = () =>
        hkdf(fromHex(t.ikm), { salt: fromHex(t.salt), info: fromHex(t.info), length: t.size });
      if (t.result === "valid") {
        try {
          if (toHex(run()) === t.okm) valid++;
          else failures.push(`${label}: wrong output`);
        } catch (error) {
          failures.push(`${label}: threw ${error}`);
        }
      } else {
        // The only invalid cases ask for 8161 bytes, one more than 255 * HashLen.
        try {
          run();
          failures.push(`${label}: accepted`);
        } catch (error) {
          if (error instanceof RangeError) invalid++;
          else failures.push(`${label}: threw ${error}`);
        }
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(valid, 83);
  assert.equal(invalid, 3);
  assert.equal(valid + invalid, wycheproofHkdf.numberOfTests);
});

Deno.test("hmacSha256() passes every Wycheproof HMAC-SHA-256 case (full and truncated tags)", () => {
  const failures: string[] = [];
  let valid = 0;
  let invalid = 0;
  for (const group of wycheproofHmac.testGroups) {
    for (const t of group.tests) {
      const mac = hmacSha256(fromHex(t.key), fromHex(t.msg)).subarray(0, group.tagSize / 8);
      const matches = equalBytes(mac, fromHex(t.tag));
      if (t.result === "valid" && matches) valid++;
      else if (t.result === "invalid" && !matches) invalid++;
      else failures.push(`hmac tcId ${t.tcId} (${t.result}): matches=${matches}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(valid, 66);
  assert.equal(invalid, 108);
  assert.equal(valid + invalid, wycheproofHmac.numberOfTests);
});

Deno.test("hkdf() rejects an output length outside 0..8160 with RangeError", () => {
  const ikm = new Uint8Array(32);
  assert.equal(hkdf(ikm, { info: "x", length: 8160 }).length, 8160);
  assert.equal(hkdf(ikm, { info: "x", length: 0 }).length, 0);
  for (const length of [-1, 8161, 1.5, Number.NaN]) {
    assert.throws(() => hkdf(ikm, { info: "x", length }), RangeError);
  }
});

Deno.test("hkdf() encodes a string info as UTF-8", () => {
  const ikm = new Uint8Array(32).fill(1);
  assert.deepEqual(
    hkdf(ikm, { info: "hush-ä", length: 32 }),
    hkdf(ikm, { info: utf8Encode("hush-ä"), length: 32 }),
  );
  assert.notDeepEqual(
    hkdf(ikm, { info: "a", length: 32 }),
    hkdf(ikm, { info: "b", length: 32 }),
  );
});

function agree() {
  const alice = generateX25519KeyPair();
  const bob = generateX25519KeyPair();
  const aliceKeys = derivePeerKeys(x25519SharedSecret(alice.privateKey, bob.publicKey), {
    myPublicKey: alice.publicKey,
    peerPublicKey: bob.publicKey,
  });
  const bobKeys = derivePeerKeys(x25519SharedSecret(bob.privateKey, alice.publicKey), {
    myPublicKey: bob.publicKey,
    peerPublicKey: alice.publicKey,
  });
  return { alice, bob, aliceKeys, bobKeys };
}

Deno.test("derivePeerKeys(): Alice's send key is Bob's receive key and vice versa", () => {
  for (let i = 0; i < 20; i++) {
    const { aliceKeys, bobKeys } = agree();
    assert.deepEqual(aliceKeys.sendKey, bobKeys.receiveKey);
    assert.deepEqual(aliceKeys.receiveKey, bobKeys.sendKey);
    assert.ok(!equalBytes(aliceKeys.sendKey, aliceKeys.receiveKey));
    assert.equal(aliceKeys.sendKey.length, 32);
  }
});

Deno.test("derivePeerKeys() follows its documented HKDF layout", () => {
  const secret = new Uint8Array(32).fill(3);
  const me = new Uint8Array(32).fill(1);
  const peer = new Uint8Array(32).fill(2);
  const keys = derivePeerKeys(secret, { myPublicKey: me, peerPublicKey: peer });
  const prefix = [...utf8Encode(PEER_KEYS_LABEL), 0];
  assert.deepEqual(
    keys.sendKey,
    hkdf(secret, { info: new Uint8Array([...prefix, ...me, ...peer]), length: 32 }),
  );
  assert.deepEqual(
    keys.receiveKey,
    hkdf(secret, { info: new Uint8Array([...prefix, ...peer, ...me]), length: 32 }),
  );
});

Deno.test("derivePeerKeys() separates labels and honours keyLength", () => {
  const secret = new Uint8Array(32).fill(3);
  const base = { myPublicKey: new Uint8Array(32).fill(1), peerPublicKey: new Uint8Array(32) };
  const a = derivePeerKeys(secret, base);
  const b = derivePeerKeys(secret, { ...base, label: "hush-other-v1" });
  assert.ok(!equalBytes(a.sendKey, b.sendKey));
  assert.equal(derivePeerKeys(secret, { ...base, keyLength: 64 }).sendKey.length, 64);
  assert.throws(() => derivePeerKeys(secret, { ...base, keyLength: 0 }), RangeError);
});

Deno.test("derivePeerKeys() rejects equal or malformed public keys with BAD_PUBLIC_KEY", () => {
  const secret = new Uint8Array(32).fill(3);
  const key = new Uint8Array(32).fill(1);
  assertCryptoError(
    () => derivePeerKeys(secret, { myPublicKey: key, peerPublicKey: key.slice() }),
    "BAD_PUBLIC_KEY",
  );
  assertCryptoError(
    () => derivePeerKeys(secret, { myPublicKey: key, peerPublicKey: new Uint8Array(31) }),
    "BAD_PUBLIC_KEY",
  );
});
