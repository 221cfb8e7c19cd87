import assert from "node:assert/strict";
import fc from "fast-check";
import { ed25519 as nobleEd25519 } from "@noble/curves/ed25519.js";
import { sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import {
  concatBytes,
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
import { buildEd25519, type Ed25519, ED25519_BACKENDS } from "../../crypto/ed25519.ts";
import { loadNodeCrypto } from "../../crypto/_node_crypto.ts";
import rfc8032 from "../vectors/rfc8032_ed25519.json" with { type: "json" };
import vectors from "../vectors/safety_number.json" with { type: "json" };
import wycheproof from "../vectors/wycheproof/ed25519_test.json" with { type: "json" };
import { assertCryptoError, propertyRuns } from "./_helpers.ts";

const [NATIVE, NOBLE] = ED25519_BACKENDS as [Ed25519, Ed25519];

Deno.test("ed25519 has a node:crypto (default) and a noble backend here, noble alone in a browser", () => {
  assert.deepEqual(ED25519_BACKENDS.map((e) => e.backend), ["node:crypto", "noble"]);
  assert.deepEqual(buildEd25519(undefined).map((e) => e.backend), ["noble"]);
});

for (const e of ED25519_BACKENDS) {
  Deno.test(`ed25519 (${e.backend}) matches RFC 8032 section 7.1 TEST 1-3 (keys, signatures, verify)`, () => {
    assert.equal(rfc8032.cases.length, 3);
    for (const v of rfc8032.cases) {
      const pair = e.identityFromSeed(fromHex(v.secretKey));
      assert.equal(toHex(pair.publicKey), v.publicKey, v.comment);
      const signature = e.sign(pair.privateKey, fromHex(v.message));
      assert.equal(toHex(signature), v.signature, v.comment);
      assert.equal(Object.getPrototypeOf(signature), Uint8Array.prototype);
      assert.equal(e.verify(pair.publicKey, fromHex(v.message), signature), true, v.comment);
    }
  });

  Deno.test(`verify() (${e.backend}) passes every Wycheproof Ed25519 case`, () => {
    const failures: string[] = [];
    let valid = 0;
    let invalid = 0;
    for (const group of wycheproof.testGroups) {
      const publicKey = fromHex(group.publicKey.pk);
      for (const t of group.tests) {
        const label = `ed25519 ${e.backend} tcId ${t.tcId} (${t.comment || t.flags.join(",")})`;
        let ok: boolean;
        try {
          ok = e.verify(publicKey, fromHex(t.msg), fromHex(t.sig));
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

  Deno.test(`verify() (${e.backend}) returns false, never throws, on malformed input`, () => {
    const id = e.generateKeyPair();
    const message = utf8Encode("m");
    const signature = e.sign(id.privateKey, message);
    assert.equal(e.verify(id.publicKey, message, signature.subarray(0, 63)), false);
    assert.equal(e.verify(id.publicKey, message, concatBytes(signature, new Uint8Array(1))), false);
    assert.equal(e.verify(id.publicKey.subarray(0, 31), message, signature), false);
    assert.equal(e.verify(new Uint8Array(32), message, signature), false);
    assert.equal(e.verify(new Uint8Array(32).fill(0xff), message, new Uint8Array(64)), false);
    assert.equal(e.verify(fromHex("02".padEnd(64, "0")), message, signature), false); // off-curve
    const junk = "junk" as unknown as Uint8Array;
    assert.equal(e.verify(junk, message, signature), false);
    assert.equal(e.verify(id.publicKey, junk, signature), false);
    assert.equal(e.verify(id.publicKey, message, junk), false);
    assert.equal(e.verify(id.publicKey, message, signature), true);
  });

  Deno.test(`ed25519 (${e.backend}): a signature does not verify for another message or key`, () => {
    const id = e.generateKeyPair();
    const other = e.generateKeyPair();
    const signature = e.sign(id.privateKey, utf8Encode("hello"));
    assert.equal(e.verify(id.publicKey, utf8Encode("hello"), signature), true);
    assert.equal(e.verify(id.publicKey, utf8Encode("hellO"), signature), false);
    assert.equal(e.verify(other.publicKey, utf8Encode("hello"), signature), false);
    for (let bit = 0; bit < 512; bit += 7) {
      const flipped = signature.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(e.verify(id.publicKey, utf8Encode("hello"), flipped), false, `bit ${bit}`);
    }
  });

  Deno.test(`ed25519 (${e.backend}) rejects a seed that is not 32 bytes with BAD_PRIVATE_KEY`, () => {
    assertCryptoError(() => e.identityFromSeed(new Uint8Array(31)), "BAD_PRIVATE_KEY");
    assertCryptoError(() => e.identityFromSeed(new Uint8Array(64)), "BAD_PRIVATE_KEY");
    assertCryptoError(() => e.sign(new Uint8Array(64), utf8Encode("x")), "BAD_PRIVATE_KEY");
    assertCryptoError(
      () => e.sign("s" as unknown as Uint8Array, utf8Encode("x")),
      "BAD_PRIVATE_KEY",
    );
    assert.throws(() => e.sign(new Uint8Array(32), "x" as unknown as Uint8Array), TypeError);
  });

  Deno.test(`ed25519 (${e.backend}) signs with the seed's current bytes after the caller changes them`, () => {
    const seed = new Uint8Array(32).fill(1);
    const message = utf8Encode("same array, new bytes");
    const first = e.sign(seed, message);
    seed.fill(2);
    const second = e.sign(seed, message);
    assert.deepEqual(second, NOBLE.sign(new Uint8Array(32).fill(2), message));
    assert.notDeepEqual(first, second);
    seed.fill(1);
    assert.deepEqual(e.sign(seed, message), first);
  });
}

// ---- Strictness: node:crypto (OpenSSL) and noble must give the same answer on every input ----

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function littleEndian(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 255n);
    n >>= 8n;
  }
  return out;
}

function fromLittleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** The 8 small-order points (canonical), then encodings noble's strict decoding refuses. */
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
];
const NON_CANONICAL = [
  "0100000000000000000000000000000000000000000000000000000000000080", // y = 1, x = -0
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // y = -1, x = -0
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p (= 0)
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1 (= 1)
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

interface Case {
  label: string;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** Adversarial cases: each is a place where a lax or cofactorless verifier differs. */
function strictnessCases(): Case[] {
  const cases: Case[] = [];
  const identityR = fromHex(SMALL_ORDER[0]!);
  // Small-order and non-canonical public keys with R = identity, S = 0: a cofactorless
  // verifier accepts them whenever [k]A = 0.
  for (const a of [...SMALL_ORDER, ...NON_CANONICAL]) {
    for (let i = 0; i < 8; i++) {
      cases.push({
        label: `A=${a} R=identity S=0 m=${i}`,
        publicKey: fromHex(a),
        message: new Uint8Array([i]),
        signature: concatBytes(identityR, new Uint8Array(32)),
      });
    }
  }
  const seed = new Uint8Array(32).fill(7);
  const { scalar, prefix, pointBytes } = nobleEd25519.utils.getExtendedPublicKey(seed);
  const Point = nobleEd25519.Point;
  const message = utf8Encode("strictness");
  const honest = nobleEd25519.sign(message, seed);
  const s = fromLittleEndian(honest.subarray(32));
  cases.push({ label: "honest", publicKey: pointBytes, message, signature: honest });
  for (const [name, value] of [["S+L", s + L], ["S+2L", s + 2n * L], ["S=L", L]] as const) {
    cases.push({
      label: name,
      publicKey: pointBytes,
      message,
      signature: concatBytes(honest.subarray(0, 32), littleEndian(value)),
    });
  }
  // Non-canonical R with a valid rest.
  for (const r of NON_CANONICAL) {
    cases.push({
      label: `R=${r}`,
      publicKey: pointBytes,
      message,
      signature: concatBytes(fromHex(r), honest.subarray(32)),
    });
  }
  // A torsion component in R, or in A: noble's cofactored equation accepts all of these,
  // OpenSSL's cofactorless one only some.
  for (const t of SMALL_ORDER.slice(1)) {
    const torsion = Point.fromBytes(fromHex(t));
    for (let i = 0; i < 4; i++) {
      const m = new Uint8Array([9, i]);
      const r = fromLittleEndian(nobleSha512(concatBytes(prefix, m))) % L;
      const mixedR = Point.BASE.multiply(r).add(torsion).toBytes();
      const k = fromLittleEndian(nobleSha512(concatBytes(mixedR, pointBytes, m))) % L;
      cases.push({
        label: `R + torsion ${t} m=${i}`,
        publicKey: pointBytes,
        message: m,
        signature: concatBytes(mixedR, littleEndian((r + k * scalar) % L)),
      });
      const mixedA = Point.BASE.multiply(scalar).add(torsion).toBytes();
      const R = Point.BASE.multiply(r).toBytes();
      const k2 = fromLittleEndian(nobleSha512(concatBytes(R, mixedA, m))) % L;
      cases.push({
        label: `A + torsion ${t} m=${i}`,
        publicKey: mixedA,
        message: m,
        signature: concatBytes(R, littleEndian((r + k2 * scalar) % L)),
      });
    }
  }
  return cases;
}

Deno.test("verify() gives noble's strict answer with every backend on adversarial encodings", () => {
  const cases = strictnessCases();
  const differ: string[] = [];
  let accepted = 0;
  for (const c of cases) {
    const want = NOBLE.verify(c.publicKey, c.message, c.signature);
    if (want) accepted++;
    for (const e of ED25519_BACKENDS) {
      const got = e.verify(c.publicKey, c.message, c.signature);
      if (got !== want) differ.push(`${e.backend} ${c.label}: ${got}, noble ${want}`);
    }
  }
  assert.deepEqual(differ, []);
  assert.equal(cases.length, 8 * 14 + 4 + 6 + 7 * 8);
  assert.equal(accepted, 1 + 7 * 8); // the honest signature and every torsion case
});

Deno.test("raw node:crypto (OpenSSL) differs from noble on these cases: why the pre-checks and fallback exist", () => {
  const nc = loadNodeCrypto()!;
  const spki = fromHex("302a300506032b6570032100");
  const raw = (c: Case): boolean => {
    try {
      const key = nc.createPublicKey({
        key: concatBytes(spki, c.publicKey) as unknown as string,
        format: "der",
        type: "spki",
      });
      return nc.verify(null, c.message, key, c.signature);
    } catch {
      return false;
    }
  };
  let laxer = 0;
  let stricter = 0;
  for (const c of strictnessCases()) {
    const strict = NOBLE.verify(c.publicKey, c.message, c.signature);
    const openssl = raw(c);
    if (openssl && !strict) laxer++;
    if (!openssl && strict) stricter++;
    // Whatever OpenSSL says, the node:crypto backend says what noble says.
    assert.equal(NATIVE.verify(c.publicKey, c.message, c.signature), strict, c.label);
  }
  assert.ok(laxer > 0, "OpenSSL accepts some small-order public keys that noble rejects");
  assert.ok(
    stricter > 0,
    "OpenSSL rejects some torsion cases that noble's cofactored check accepts",
  );
});

Deno.test("ed25519 backends agree on random keys, messages and mutated signatures", () => {
  const id = NOBLE.identityFromSeed(new Uint8Array(32).fill(3));
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.nat(511),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (seed, message, bit, junkKey) => {
        const mine = NATIVE.identityFromSeed(seed);
        assert.deepEqual(mine, NOBLE.identityFromSeed(seed));
        const signature = NATIVE.sign(seed, message);
        assert.deepEqual(signature, NOBLE.sign(seed, message));
        const flipped = signature.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        for (
          const [key, sig] of [
            [mine.publicKey, signature],
            [mine.publicKey, flipped],
            [id.publicKey, signature],
            [junkKey, signature],
          ] as const
        ) {
          assert.equal(NATIVE.verify(key, message, sig), NOBLE.verify(key, message, sig));
        }
      },
    ),
    { numRuns: propertyRuns() },
  );
});

Deno.test("verify() (node:crypto) stays right when more public keys pass than its cache holds", () => {
  const message = utf8Encode("many keys");
  const ids = Array.from({ length: 300 }, () => NATIVE.generateKeyPair());
  const signatures = ids.map((id) => NATIVE.sign(id.privateKey, message));
  for (let round = 0; round < 2; round++) {
    ids.forEach((id, i) => {
      assert.equal(NATIVE.verify(id.publicKey, message, signatures[i]!), true);
      assert.equal(NATIVE.verify(id.publicKey, message, signatures[(i + 1) % 300]!), false);
    });
  }
});

// ---- The public functions (default backend) and the identity text form ----

Deno.test("sign(), verify() and identityFromSeed() are the default backend's", () => {
  const v = rfc8032.cases[0]!;
  const pair = identityFromSeed(fromHex(v.secretKey));
  assert.equal(toHex(pair.publicKey), v.publicKey);
  assert.equal(toHex(sign(pair.privateKey, fromHex(v.message))), v.signature);
  assert.equal(verify(pair.publicKey, fromHex(v.message), fromHex(v.signature)), true);
  assert.equal(verify(pair.publicKey, utf8Encode("x"), fromHex(v.signature)), false);
  assert.equal(verify(fromHex(SMALL_ORDER[0]!), new Uint8Array(1), new Uint8Array(64)), false);
  assertCryptoError(() => identityFromSeed(new Uint8Array(31)), "BAD_PRIVATE_KEY");
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
