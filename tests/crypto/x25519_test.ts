import assert from "node:assert/strict";
import fc from "fast-check";
import {
  equalBytes,
  fromHex,
  generateX25519KeyPair,
  toHex,
  x25519PublicKey,
  x25519SharedSecret,
} from "../../crypto/mod.ts";
import { loadNodeCrypto, type NodeCrypto } from "../../crypto/_node_crypto.ts";
import { bindX25519, buildX25519, X25519_BACKENDS, x25519Node } from "../../crypto/x25519.ts";
import rfc7748 from "../vectors/rfc7748_x25519.json" with { type: "json" };
import wycheproof from "../vectors/wycheproof/x25519_test.json" with { type: "json" };
import { assertCryptoError, outcome, propertyRuns } from "./_helpers.ts";

Deno.test("x25519 has a node:crypto (default) and a noble backend here, noble alone in a browser", () => {
  assert.deepEqual(X25519_BACKENDS.map((x) => x.backend), ["node:crypto", "noble"]);
  assert.deepEqual(buildX25519(undefined).map((x) => x.backend), ["noble"]);
  // The public functions are the default backend's.
  const v = rfc7748.diffieHellman;
  assert.equal(toHex(x25519PublicKey(fromHex(v.alicePrivate))), v.alicePublic);
});

for (const x of X25519_BACKENDS) {
  Deno.test(`x25519 (${x.backend}) matches RFC 7748 section 5.2 test vectors`, () => {
    assert.equal(rfc7748.scalarMult.length, 2);
    for (const v of rfc7748.scalarMult) {
      assert.equal(toHex(x.sharedSecret(fromHex(v.scalar), fromHex(v.u))), v.output, v.comment);
    }
  });

  Deno.test(`x25519 (${x.backend}) matches RFC 7748 section 5.2 iterated vectors after 1 and 1,000 rounds`, () => {
    let k = fromHex(rfc7748.iterated.start);
    let u = fromHex(rfc7748.iterated.start);
    const expected = new Map(rfc7748.iterated.after.map((a) => [a.iterations, a.k]));
    let checked = 0;
    for (let i = 1; i <= 1000; i++) {
      const r = x.sharedSecret(k, u);
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

  Deno.test(`x25519 (${x.backend}) matches the RFC 7748 section 6.1 Diffie-Hellman example`, () => {
    const v = rfc7748.diffieHellman;
    assert.equal(toHex(x.publicKey(fromHex(v.alicePrivate))), v.alicePublic);
    assert.equal(toHex(x.publicKey(fromHex(v.bobPrivate))), v.bobPublic);
    assert.equal(toHex(x.sharedSecret(fromHex(v.alicePrivate), fromHex(v.bobPublic))), v.shared);
    assert.equal(toHex(x.sharedSecret(fromHex(v.bobPrivate), fromHex(v.alicePublic))), v.shared);
  });

  Deno.test(`x25519 (${x.backend}) passes every Wycheproof case, rejecting each low-order key`, () => {
    const failures: string[] = [];
    let agreed = 0;
    let lowOrderRejected = 0;
    for (const group of wycheproof.testGroups) {
      for (const t of group.tests) {
        const label = `x25519 ${x.backend} tcId ${t.tcId} (${t.result}, ${t.flags.join(",")})`;
        const result = outcome(() => x.sharedSecret(fromHex(t.private), fromHex(t.public)));
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

  Deno.test(`x25519 (${x.backend}) rejects the low-order points with LOW_ORDER_PUBLIC_KEY`, () => {
    const me = x.generateKeyPair();
    const lowOrder = [
      "0000000000000000000000000000000000000000000000000000000000000000", // 0
      "0100000000000000000000000000000000000000000000000000000000000000", // 1
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p - 1
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p (= 0)
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p + 1 (= 1)
      "0000000000000000000000000000000000000000000000000000000000000080", // 0, top bit set
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // p - 1, top bit set
    ];
    for (const hex of lowOrder) {
      assertCryptoError(
        () => x.sharedSecret(me.privateKey, fromHex(hex)),
        "LOW_ORDER_PUBLIC_KEY",
        hex,
      );
    }
  });

  Deno.test(`x25519 (${x.backend}) rejects keys of the wrong length with BAD_PRIVATE_KEY / BAD_PUBLIC_KEY`, () => {
    const me = x.generateKeyPair();
    assertCryptoError(() => x.publicKey(new Uint8Array(31)), "BAD_PRIVATE_KEY");
    assertCryptoError(() => x.publicKey("k" as unknown as Uint8Array), "BAD_PRIVATE_KEY");
    assertCryptoError(() => x.sharedSecret(new Uint8Array(33), me.publicKey), "BAD_PRIVATE_KEY");
    assertCryptoError(() => x.sharedSecret(me.privateKey, new Uint8Array(31)), "BAD_PUBLIC_KEY");
    assertCryptoError(() => x.sharedSecret(me.privateKey, new Uint8Array(0)), "BAD_PUBLIC_KEY");
    assertCryptoError(
      () => x.sharedSecret(me.privateKey, [1, 2] as unknown as Uint8Array),
      "BAD_PUBLIC_KEY",
    );
  });

  Deno.test(`x25519 (${x.backend}) key pairs are fresh and agree with each other`, () => {
    const a = x.generateKeyPair();
    const b = x.generateKeyPair();
    assert.equal(a.privateKey.length, 32);
    assert.equal(a.publicKey.length, 32);
    assert.equal(Object.getPrototypeOf(a.publicKey), Uint8Array.prototype);
    assert.ok(!equalBytes(a.privateKey, b.privateKey));
    assert.deepEqual(x.publicKey(a.privateKey), a.publicKey);
    const shared = x.sharedSecret(a.privateKey, b.publicKey);
    assert.equal(Object.getPrototypeOf(shared), Uint8Array.prototype);
    assert.deepEqual(shared, x.sharedSecret(b.privateKey, a.publicKey));
  });
}

Deno.test("x25519 (node:crypto) computes the 487 Wycheproof secrets itself; noble sees only the 31 low-order keys", () => {
  const nc = loadNodeCrypto()!;
  let throws = 0;
  const spy = Object.create(nc, {
    diffieHellman: {
      value: (options: Parameters<NodeCrypto["diffieHellman"]>[0]) => {
        try {
          return nc.diffieHellman(options);
        } catch (error) {
          throws++;
          throw error;
        }
      },
    },
  }) as NodeCrypto;
  const x = bindX25519(x25519Node(spy)!);
  let agreed = 0;
  for (const group of wycheproof.testGroups) {
    for (const t of group.tests) {
      const result = outcome(() => x.sharedSecret(fromHex(t.private), fromHex(t.public)));
      if (result.ok && toHex(result.value) === t.shared) agreed++;
    }
  }
  assert.equal(agreed, 487);
  assert.equal(throws, 31);
});

Deno.test("x25519 backends agree on random private keys and arbitrary 32-byte public keys", () => {
  const [native, noble] = X25519_BACKENDS as [
    (typeof X25519_BACKENDS)[0],
    (typeof X25519_BACKENDS)[0],
  ];
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (privateKey, publicKey) => {
        assert.deepEqual(native.publicKey(privateKey), noble.publicKey(privateKey));
        // Any 32 bytes as a u-coordinate: points on the curve or its twist, top bit set or
        // not, non-canonical or not. Both give the same secret or both refuse it.
        assert.deepEqual(
          outcome(() => native.sharedSecret(privateKey, publicKey)),
          outcome(() => noble.sharedSecret(privateKey, publicKey)),
        );
      },
    ),
    { numRuns: propertyRuns() },
  );
});

Deno.test("generateX25519KeyPair() and x25519SharedSecret() use the default backend", () => {
  const a = generateX25519KeyPair();
  const b = generateX25519KeyPair();
  assert.deepEqual(x25519PublicKey(a.privateKey), a.publicKey);
  for (const x of X25519_BACKENDS) {
    assert.deepEqual(
      x25519SharedSecret(a.privateKey, b.publicKey),
      x.sharedSecret(a.privateKey, b.publicKey),
    );
  }
  assertCryptoError(
    () => x25519SharedSecret(a.privateKey, new Uint8Array(32)),
    "LOW_ORDER_PUBLIC_KEY",
  );
  assertCryptoError(() => x25519PublicKey(new Uint8Array(31)), "BAD_PRIVATE_KEY");
});
