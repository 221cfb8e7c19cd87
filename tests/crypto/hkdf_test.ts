import assert from "node:assert/strict";
import fc from "fast-check";
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
import {
  buildHashes,
  HASH_BACKENDS,
  type Hashes,
  NODE_HASH_FROM_BYTES,
} from "../../crypto/hkdf.ts";
import { assertCryptoError, propertyRuns } from "./_helpers.ts";

Deno.test("hashes have a node:crypto and a noble backend here, noble alone in a browser", () => {
  assert.deepEqual(HASH_BACKENDS.map((h) => h.backend), ["node:crypto", "noble"]);
  assert.deepEqual(buildHashes(undefined).map((h) => h.backend), ["noble"]);
  assert.deepEqual(Object.keys(NODE_HASH_FROM_BYTES).sort(), [
    "hkdf",
    "hmacSha256",
    "sha256",
    "sha512",
  ]);
});

for (const h of HASH_BACKENDS) {
  Deno.test(`sha256() and sha512() (${h.backend}) match the FIPS 180-2 'abc' and empty examples`, () => {
    assert.equal(
      toHex(h.sha256(utf8Encode("abc"))),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    assert.equal(
      toHex(h.sha512(utf8Encode("abc"))),
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
    assert.equal(
      toHex(h.sha256(new Uint8Array(0))),
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    assert.equal(Object.getPrototypeOf(h.sha256(new Uint8Array(1))), Uint8Array.prototype);
    assert.equal(Object.getPrototypeOf(h.sha512(new Uint8Array(1))), Uint8Array.prototype);
  });

  Deno.test(`hkdf() (${h.backend}) matches RFC 5869 appendix A.1, A.2 and A.3 (PRK and OKM)`, () => {
    assert.deepEqual(rfc5869.cases.map((c) => c.section), ["A.1", "A.2", "A.3"]);
    for (const v of rfc5869.cases) {
      const salt = fromHex(v.salt);
      // PRK = HMAC-SHA-256(salt, IKM); an empty salt means HashLen zero bytes (RFC 5869 §2.2).
      const prk = h.hmacSha256(salt.length ? salt : new Uint8Array(32), fromHex(v.ikm));
      assert.equal(toHex(prk), v.prk, `${v.section} PRK`);
      const okm = h.hkdf(fromHex(v.ikm), { salt, info: fromHex(v.info), length: v.length });
      assert.equal(toHex(okm), v.okm, `${v.section} OKM`);
      assert.equal(Object.getPrototypeOf(okm), Uint8Array.prototype);
    }
    // A.3 again with salt omitted entirely.
    const a3 = rfc5869.cases[2]!;
    assert.equal(toHex(h.hkdf(fromHex(a3.ikm), { info: "", length: a3.length })), a3.okm);
  });

  Deno.test(`hkdf() (${h.backend}) passes every Wycheproof HKDF-SHA-256 case`, () => {
    const failures: string[] = [];
    let valid = 0;
    let invalid = 0;
    for (const group of wycheproofHkdf.testGroups) {
      for (const t of group.tests) {
        const label = `hkdf ${h.backend} tcId ${t.tcId} (${t.comment || t.flags.join(",")})`;
        const run = () =>
          h.hkdf(fromHex(t.ikm), { salt: fromHex(t.salt), info: fromHex(t.info), length: t.size });
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

  Deno.test(`hmacSha256() (${h.backend}) passes every Wycheproof HMAC-SHA-256 case (full and truncated tags)`, () => {
    const failures: string[] = [];
    let valid = 0;
    let invalid = 0;
    for (const group of wycheproofHmac.testGroups) {
      for (const t of group.tests) {
        const mac = h.hmacSha256(fromHex(t.key), fromHex(t.msg)).subarray(0, group.tagSize / 8);
        const matches = equalBytes(mac, fromHex(t.tag));
        if (t.result === "valid" && matches) valid++;
        else if (t.result === "invalid" && !matches) invalid++;
        else failures.push(`hmac ${h.backend} tcId ${t.tcId} (${t.result}): matches=${matches}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(valid, 66);
    assert.equal(invalid, 108);
    assert.equal(valid + invalid, wycheproofHmac.numberOfTests);
  });

  Deno.test(`hkdf() (${h.backend}) rejects an output length outside 0..8160 with RangeError`, () => {
    const ikm = new Uint8Array(32);
    assert.equal(h.hkdf(ikm, { info: "x", length: 8160 }).length, 8160);
    assert.equal(h.hkdf(ikm, { info: "x", length: 0 }).length, 0);
    for (const length of [-1, 8161, 1.5, Number.NaN]) {
      assert.throws(() => h.hkdf(ikm, { info: "x", length }), RangeError);
    }
  });

  Deno.test(`hash functions (${h.backend}) reject non-byte arguments with TypeError`, () => {
    const text = "text" as unknown as Uint8Array;
    const bytes = new Uint8Array(4);
    assert.throws(() => h.sha256(text), TypeError);
    assert.throws(() => h.sha512(text), TypeError);
    assert.throws(() => h.hmacSha256(text, bytes), TypeError);
    assert.throws(() => h.hmacSha256(bytes, text), TypeError);
    assert.throws(() => h.hkdf(text, { info: "x", length: 32 }), TypeError);
    assert.throws(() => h.hkdf(bytes, { salt: text, info: "x", length: 32 }), TypeError);
    assert.throws(() => h.hkdf(bytes, { info: 7 as unknown as string, length: 32 }), TypeError);
  });
}

Deno.test("hash backends agree on random inputs, including HKDF info over node's 1,024-byte limit", () => {
  const [native, noble] = HASH_BACKENDS as [Hashes, Hashes];
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 100 }),
      fc.option(fc.uint8Array({ maxLength: 80 }), { nil: undefined }),
      fc.uint8Array({ maxLength: 1100 }),
      fc.integer({ min: 0, max: 600 }),
      (data, key, salt, info, length) => {
        assert.deepEqual(native.sha256(data), noble.sha256(data));
        assert.deepEqual(native.sha512(data), noble.sha512(data));
        assert.deepEqual(native.hmacSha256(key, data), noble.hmacSha256(key, data));
        const options = salt === undefined ? { info, length } : { salt, info, length };
        assert.deepEqual(native.hkdf(data, options), noble.hkdf(data, options));
      },
    ),
    { numRuns: propertyRuns() },
  );
  const long = new Uint8Array(5000).fill(9);
  assert.deepEqual(
    native.hkdf(long, { info: long, length: 100 }),
    noble.hkdf(long, { info: long, length: 100 }),
  );
});

Deno.test("sha256(), sha512(), hmacSha256() and hkdf() give the same bytes as every backend", () => {
  const data = utf8Encode("public functions");
  for (const h of HASH_BACKENDS) {
    assert.deepEqual(sha256(data), h.sha256(data));
    assert.deepEqual(sha512(data), h.sha512(data));
    assert.deepEqual(hmacSha256(data, data), h.hmacSha256(data, data));
    assert.deepEqual(
      hkdf(data, { info: "i", length: 42 }),
      h.hkdf(data, { info: "i", length: 42 }),
    );
  }
  assert.throws(() => hkdf(data, { info: "x", length: 8161 }), RangeError);
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
