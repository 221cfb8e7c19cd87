import assert from "node:assert/strict";
import * as crypto from "../../crypto/mod.ts";

Deno.test("crypto/mod.ts exports the whole shared crypto API by name", () => {
  // The names other folders code against (COMMON.md "The crypto/ API").
  const functions = [
    "toHex",
    "fromHex",
    "toBase64",
    "fromBase64",
    "utf8Encode",
    "utf8Decode",
    "concatBytes",
    "equalBytes",
    "randomBytes",
    "getCipherSuite",
    "getCipherSuiteByWireId",
    "listCipherSuites",
    "listBackends",
    "generateX25519KeyPair",
    "x25519PublicKey",
    "x25519SharedSecret",
    "hkdf",
    "hmacSha256",
    "sha256",
    "sha512",
    "derivePeerKeys",
    "generateIdentityKeyPair",
    "identityFromSeed",
    "sign",
    "verify",
    "encodeIdentity",
    "decodeIdentity",
    "fingerprint",
    "safetyNumber",
    "formatSafetyNumber",
    "safetyNumberWords",
    "HushError",
    "CryptoError",
  ];
  const exported = crypto as unknown as Record<string, unknown>;
  for (const name of functions) assert.equal(typeof exported[name], "function", name);
  assert.equal(crypto.DEFAULT_CIPHER_SUITE, "aes-256-gcm");
  assert.deepEqual([...crypto.CRYPTO_ERROR_CODES].sort(), [
    "BAD_IDENTITY_ENCODING",
    "BAD_KEY_LENGTH",
    "BAD_NONCE_LENGTH",
    "BAD_PRIVATE_KEY",
    "BAD_PUBLIC_KEY",
    "DECRYPT_FAILED",
    "LOW_ORDER_PUBLIC_KEY",
    "UNKNOWN_CIPHER_SUITE",
  ]);
});
