/**
 * Crypto benchmarks: every backend of every cipher suite (plus WebCrypto AES-GCM for
 * comparison), every backend of X25519, Ed25519 and the hashes (SHA-2, HMAC, HKDF), and
 * safety numbers.
 *
 * Run: `deno bench --allow-read --allow-env bench/crypto_bench.ts`
 * (`deno task bench` runs every bench file.) The figures behind each default backend are in
 * docs/CRYPTO.md.
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
  x25519SharedSecret,
} from "../crypto/mod.ts";
import { ED25519_BACKENDS } from "../crypto/ed25519.ts";
import { HASH_BACKENDS } from "../crypto/hkdf.ts";
import { X25519_BACKENDS } from "../crypto/x25519.ts";

const SIZES: [string, number][] = [["256 B", 256], ["1 KiB", 1024], ["1 MiB", 1024 * 1024]];
const AAD = randomBytes(24);
const ONE_BYTE = new Uint8Array([1]);

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

// --- X25519, Ed25519, hashes: every backend (the noble rows are the figures before 2026-11-23,
// when noble was the only backend outside the AEADs) ------------------------------------------

for (const x of X25519_BACKENDS) {
  const a = x.generateKeyPair();
  const b = x.generateKeyPair();
  const isDefault = x === X25519_BACKENDS[0];
  Deno.bench({
    name: `x25519 ${x.backend} key pair`,
    group: "x25519",
    fn: () => void x.generateKeyPair(),
  });
  Deno.bench({
    name: `x25519 ${x.backend} agreement (shared secret)`,
    group: "x25519",
    baseline: isDefault,
    fn: () => void x.sharedSecret(a.privateKey, b.publicKey),
  });
}

// 1,000 identities with a signature each, cycled: more keys than the node:crypto backend's
// 256-entry key cache, so every verify is the cold path of a relay login.
const SIGNERS = Array.from({ length: 1000 }, () => {
  const id = generateIdentityKeyPair();
  const message = randomBytes(128);
  return { ...id, message, signature: sign(id.privateKey, message) };
});

for (const e of ED25519_BACKENDS) {
  const id = e.generateKeyPair();
  const message = randomBytes(128);
  const otherMessage = randomBytes(128);
  const signature = e.sign(id.privateKey, message);
  const isDefault = e === ED25519_BACKENDS[0];
  let next = 0;
  Deno.bench({
    name: `ed25519 ${e.backend} key pair`,
    group: "ed25519",
    fn: () => void e.generateKeyPair(),
  });
  Deno.bench({
    name: `ed25519 ${e.backend} sign 128 B`,
    group: "ed25519",
    baseline: isDefault,
    fn: () => void e.sign(id.privateKey, message),
  });
  Deno.bench({
    name: `ed25519 ${e.backend} sign 128 B, new seed array each call (no key cache)`,
    group: "ed25519",
    fn: () => void e.sign(id.privateKey.slice(), message),
  });
  Deno.bench({
    name: `ed25519 ${e.backend} verify 128 B`,
    group: "ed25519",
    fn: () => void e.verify(id.publicKey, message, signature),
  });
  Deno.bench({
    name: `ed25519 ${e.backend} verify 128 B, key not cached (1,000 keys in turn)`,
    group: "ed25519",
    fn: () => {
      const signer = SIGNERS[next++ % SIGNERS.length]!;
      if (!e.verify(signer.publicKey, signer.message, signer.signature)) throw new Error("bad");
    },
  });
  Deno.bench({
    name: `ed25519 ${e.backend} verify 128 B, invalid (signature of another message)`,
    group: "ed25519",
    fn: () => void e.verify(id.publicKey, otherMessage, signature),
  });
}

const HASH_INPUTS: [string, Uint8Array][] = [["32 B", randomBytes(32)], [
  "1 KiB",
  randomBytes(1024),
]];
const MAC_KEY = randomBytes(32);
for (const h of HASH_BACKENDS) {
  for (const [label, data] of HASH_INPUTS) {
    Deno.bench({
      name: `sha256 ${h.backend} ${label}`,
      group: `hash ${label}`,
      fn: () => void h.sha256(data),
    });
    Deno.bench({
      name: `sha512 ${h.backend} ${label}`,
      group: `hash ${label}`,
      fn: () => void h.sha512(data),
    });
    Deno.bench({
      name: `hmacSha256 ${h.backend} 32 B key, ${label}`,
      group: `hash ${label}`,
      fn: () => void h.hmacSha256(MAC_KEY, data),
    });
  }
  Deno.bench({
    name: `hmacSha256 ${h.backend} 32 B key, 1 B (ratchet chain step)`,
    group: "kdf",
    fn: () => void h.hmacSha256(MAC_KEY, ONE_BYTE),
  });
  Deno.bench({
    name: `hkdf ${h.backend} 32 B ikm, salt, 80 B out (ratchet message keys)`,
    group: "kdf",
    fn: () => void h.hkdf(MAC_KEY, { salt: MAC_KEY, info: "hush-bench", length: 80 }),
  });
}

const alice = generateX25519KeyPair();
const bob = generateX25519KeyPair();
const shared = x25519SharedSecret(alice.privateKey, bob.publicKey);
Deno.bench({
  name: "derivePeerKeys (2 x HKDF-SHA-256, default backends)",
  group: "kdf",
  fn: () =>
    void derivePeerKeys(shared, { myPublicKey: alice.publicKey, peerPublicKey: bob.publicKey }),
});

const identity = generateIdentityKeyPair();
Deno.bench({
  name: "fingerprint",
  group: "safety number",
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
