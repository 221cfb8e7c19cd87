/**
 * Hush's crypto core: typed errors, bytes helpers, randomness, the cipher-suite registry
 * (AES-256-GCM, ChaCha20-Poly1305, XChaCha20-Poly1305, and the insecure Caesar teaching
 * cipher), X25519, HKDF-SHA-256, Ed25519 identities, fingerprints and safety numbers.
 *
 * See docs/CRYPTO.md for the suite table, labels, formats and algorithms.
 *
 * @module
 */
export { CRYPTO_ERROR_CODES, CryptoError, type CryptoErrorCode, HushError } from "./errors.ts";
export {
  concatBytes,
  equalBytes,
  fromBase64,
  fromHex,
  toBase64,
  toHex,
  utf8Decode,
  utf8Encode,
} from "./bytes.ts";
export { randomBytes } from "./random.ts";
export {
  type CipherSuite,
  type CipherSuiteId,
  DEFAULT_CIPHER_SUITE,
  getCipherSuite,
  getCipherSuiteByWireId,
  listBackends,
  listCipherSuites,
} from "./cipher_suite.ts";
export { caesarShift } from "./caesar.ts";
export {
  generateX25519KeyPair,
  type X25519KeyPair,
  x25519PublicKey,
  x25519SharedSecret,
} from "./x25519.ts";
export {
  derivePeerKeys,
  hkdf,
  HKDF_MAX_LENGTH,
  hmacSha256,
  PEER_KEYS_LABEL,
  sha256,
  sha512,
} from "./hkdf.ts";
export {
  decodeIdentity,
  encodeIdentity,
  generateIdentityKeyPair,
  IDENTITY_TEXT_PREFIX,
  identityFromSeed,
  type IdentityKeyPair,
  sign,
  verify,
} from "./ed25519.ts";
export {
  fingerprint,
  FINGERPRINT_LABEL,
  formatSafetyNumber,
  SAFETY_NUMBER_ITERATIONS,
  SAFETY_WORDS,
  safetyNumber,
  safetyNumberWords,
} from "./fingerprint.ts";
