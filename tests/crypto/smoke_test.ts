import assert from "node:assert/strict";
import {
  CryptoError,
  decodeIdentity,
  derivePeerKeys,
  encodeIdentity,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  getCipherSuite,
  listBackends,
  listCipherSuites,
  randomBytes,
  safetyNumber,
  sign,
  utf8Decode,
  utf8Encode,
  verify,
  x25519SharedSecret,
} from "../../crypto/mod.ts";

Deno.test("every backend of every suite round-trips a message with AAD", () => {
  for (const { id } of listCipherSuites()) {
    for (const suite of listBackends(id)) {
      const key = randomBytes(suite.keyLength);
      const nonce = randomBytes(suite.nonceLength);
      const aad = utf8Encode("header");
      const sealed = suite.seal(key, nonce, utf8Encode("hello, Hush"), aad);
      assert.equal(sealed.length, 11 + suite.tagLength, `${id}/${suite.backend}`);
      assert.equal(utf8Decode(suite.open(key, nonce, sealed, aad)), "hello, Hush");
    }
  }
});

Deno.test("two parties agree on X25519 peer keys that mirror each other", () => {
  const alice = generateX25519KeyPair();
  const bob = generateX25519KeyPair();
  const a = derivePeerKeys(x25519SharedSecret(alice.privateKey, bob.publicKey), {
    myPublicKey: alice.publicKey,
    peerPublicKey: bob.publicKey,
  });
  const b = derivePeerKeys(x25519SharedSecret(bob.privateKey, alice.publicKey), {
    myPublicKey: bob.publicKey,
    peerPublicKey: alice.publicKey,
  });
  assert.deepEqual(a.sendKey, b.receiveKey);
  assert.deepEqual(a.receiveKey, b.sendKey);
  assert.notDeepEqual(a.sendKey, a.receiveKey);
});

Deno.test("an identity signs, verifies, and survives its text form", () => {
  const id = generateIdentityKeyPair();
  const message = utf8Encode("hush");
  const signature = sign(id.privateKey, message);
  assert.equal(verify(id.publicKey, message, signature), true);
  assert.equal(verify(id.publicKey, utf8Encode("hash"), signature), false);
  assert.deepEqual(decodeIdentity(encodeIdentity(id)), id);
  const other = generateIdentityKeyPair();
  assert.equal(
    safetyNumber(id.publicKey, other.publicKey),
    safetyNumber(other.publicKey, id.publicKey),
  );
});

Deno.test("open() of a tampered AES-256-GCM message throws DECRYPT_FAILED", () => {
  const suite = getCipherSuite("aes-256-gcm");
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const sealed = suite.seal(key, nonce, utf8Encode("hi"));
  sealed[0]! ^= 1;
  assert.throws(
    () => suite.open(key, nonce, sealed),
    (e: unknown) => e instanceof CryptoError && e.code === "DECRYPT_FAILED",
  );
});
