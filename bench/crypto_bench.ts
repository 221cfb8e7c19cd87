/**
 * Crypto benchmarks: every backend of every cipher suite (plus WebCrypto AES-GCM for
 * comparison), X25519, Ed25519, HKDF and safety numbers.
 *
 * Run: `deno bench --allow-read --allow-env bench/crypto_bench.ts`
 * (`deno task bench` runs every bench file.) The figures behind each suite's default backend
 * are in crypto/cipher_suite.ts and docs/CRYPTO.md.
 *
 * @module
 */
import {
  derivePeerKeys,
  fingerprint,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  listBackends,
  listCipherSuites,
  randomBytes,
  safetyNumber,
  sign,
  verify,
  x25519SharedSecret,
} from "../crypto/mod.ts";

const SIZES: [string, number][] = [["256 B", 256], ["1 KiB", 1024], ["1 MiB", 1024 * 1024]];
const AAD = randomBytes(24);

for (const [label, size] of SIZES) {
  const plaintext = randomBytes(size);
  for (const { id } of listCipherSuites()) {
    for (const suite of listBackends(id)) {
      const key = randomBytes(suite.keyLength);
      const nonce = randomBytes(suite.nonceLength);
      const sealed = suite.seal(key, nonce, plaintext, AAD);
      Deno.bench({
        name: `${id} ${suite.backend} seal ${label}`,
        group: `seal ${label}`,
        baseline: id === "aes-256-gcm" && suite.backend === "node:crypto",
        fn: () => {
          suite.seal(key, nonce, plaintext, AAD);
        },
      });
      Deno.bench({
        name: `${id} ${suite.backend} seal+open ${label}`,
        group: `seal+open ${label}`,
        baseline: id === "aes-256-gcm" && suite.backend === "node:crypto",
        fn: () => {
          suite.open(key, nonce, suite.seal(key, nonce, plaintext, AAD), AAD);
        },
      });
      // Keep `sealed` alive so an open-only figure is one edit away.
      void sealed;
    }
  }

  // WebCrypto AES-256-GCM: async, so not behind the sync CipherSuite interface; measured to
  // show what the async round trip costs.
  const webKey = await crypto.subtle.importKey(
    "raw",
    randomBytes(32),
    { name: "AES-GCM" },
    false,
    ["encrypt", "decrypt"],
  );
  const iv = randomBytes(12);
  const params = { name: "AES-GCM", iv, additionalData: AAD, tagLength: 128 };
  Deno.bench({
    name: `aes-256-gcm webcrypto (async) seal ${label}`,
    group: `seal ${label}`,
    fn: async () => {
      await crypto.subtle.encrypt(params, webKey, plaintext);
    },
  });
  Deno.bench({
    name: `aes-256-gcm webcrypto (async) seal+open ${label}`,
    group: `seal+open ${label}`,
    fn: async () => {
      await crypto.subtle.decrypt(
        params,
        webKey,
        await crypto.subtle.encrypt(params, webKey, plaintext),
      );
    },
  });
}

const alice = generateX25519KeyPair();
const bob = generateX25519KeyPair();
const shared = x25519SharedSecret(alice.privateKey, bob.publicKey);
Deno.bench({ name: "x25519 key pair", group: "keys", fn: () => void generateX25519KeyPair() });
Deno.bench({
  name: "x25519 agreement (shared secret)",
  group: "keys",
  baseline: true,
  fn: () => void x25519SharedSecret(alice.privateKey, bob.publicKey),
});
Deno.bench({
  name: "derivePeerKeys (2 x HKDF-SHA-256)",
  group: "keys",
  fn: () =>
    void derivePeerKeys(shared, { myPublicKey: alice.publicKey, peerPublicKey: bob.publicKey }),
});

const identity = generateIdentityKeyPair();
const message = randomBytes(128);
const signature = sign(identity.privateKey, message);
Deno.bench({
  name: "ed25519 key pair",
  group: "identity",
  fn: () => void generateIdentityKeyPair(),
});
Deno.bench({
  name: "ed25519 sign 128 B",
  group: "identity",
  baseline: true,
  fn: () => void sign(identity.privateKey, message),
});
Deno.bench({
  name: "ed25519 verify 128 B",
  group: "identity",
  fn: () => void verify(identity.publicKey, message, signature),
});
Deno.bench({
  name: "fingerprint",
  group: "identity",
  fn: () => void fingerprint(identity.publicKey),
});
// Fresh random keys every call, so the per-key memo never hits: the full cost of
// 2 x 5,201 SHA-512 blocks.
Deno.bench({
  name: "safety number, both keys new",
  group: "safety number",
  baseline: true,
  fn: () => void safetyNumber(randomBytes(32), randomBytes(32)),
});
// The usual case in a client: my own 30 digits are memoized, the peer's key is new.
Deno.bench({
  name: "safety number, my key known, peer new",
  group: "safety number",
  fn: () => void safetyNumber(identity.publicKey, randomBytes(32)),
});
Deno.bench({
  name: "safety number, both keys known (memoized)",
  group: "safety number",
  fn: () => void safetyNumber(identity.publicKey, bob.publicKey),
});
