/**
 * Private: the symmetric-key chain step and per-message sealing shared by the Double Ratchet and
 * sender keys.
 *
 * - Chain step (Signal's KDF_CK): `mk = HMAC-SHA-256(ck, 0x01)`, `ck' = HMAC-SHA-256(ck, 0x02)`.
 * - Message keys: `HKDF-SHA-256(ikm = mk, salt = 32 zero bytes, info = label || u8 suiteWireId,
 *   length = keyLength + nonceLength + macLength)` split as `key || nonce || macKey`, where
 *   `macLength` is 32 for a suite with no tag of its own (Caesar) and 0 otherwise.
 * - Tagless suites: the sealed bytes are `suite.seal(...) || HMAC-SHA-256(macKey, aad ||
 *   ciphertext)[0..16]`, so a tampered Caesar message is refused like any other and never
 *   corrupts the session state. (Caesar still hides nothing: it remains flagged insecure.)
 *
 * @module
 */
import {
  type CipherSuite,
  concatBytes,
  CryptoError,
  equalBytes,
  getCipherSuiteByWireId,
  hkdf,
  hmacSha256,
} from "../crypto/mod.ts";
import { EXTRA_MAC_LENGTH } from "./constants.ts";
import { SessionError } from "./errors.ts";

const ONE = Uint8Array.of(0x01);
const TWO = Uint8Array.of(0x02);
const ZERO_SALT = new Uint8Array(32);

/**
 * One symmetric chain step.
 *
 * @param chainKey The current chain key (32 bytes).
 * @returns The message key and the next chain key.
 */
export function chainStep(chainKey: Uint8Array): { messageKey: Uint8Array; next: Uint8Array } {
  return { messageKey: hmacSha256(chainKey, ONE), next: hmacSha256(chainKey, TWO) };
}

/**
 * Resolves a suite wire id, mapping the crypto error to a session error.
 *
 * @param wireId The wire id from a header.
 * @returns The suite.
 */
export function suiteFromWireId(wireId: number): CipherSuite {
  try {
    return getCipherSuiteByWireId(wireId);
  } catch (cause) {
    throw new SessionError(
      "UNKNOWN_CIPHER_SUITE",
      `Unknown cipher suite wire id: "${wireId}" (the message cannot be authenticated, so its ` +
        "sender is not known: it may have been altered on the way)",
      {
        cause,
      },
    );
  }
}

/**
 * Expands a message key into the suite's key, nonce and (for tagless suites) MAC key.
 *
 * @param messageKey The message key from the chain.
 * @param suite The suite.
 * @param label The HKDF info prefix (pairwise or room).
 * @returns `key`, `nonce`, and `macKey` (undefined for suites with a tag).
 */
export function deriveMessageKeys(
  messageKey: Uint8Array,
  suite: CipherSuite,
  label: string,
): { key: Uint8Array; nonce: Uint8Array; macKey: Uint8Array | undefined } {
  const macLength = suite.tagLength === 0 ? 32 : 0;
  const info = concatBytes(new TextEncoder().encode(label), Uint8Array.of(suite.wireId));
  const out = hkdf(messageKey, {
    salt: ZERO_SALT,
    info,
    length: suite.keyLength + suite.nonceLength + macLength,
  });
  const key = out.slice(0, suite.keyLength);
  const nonce = out.slice(suite.keyLength, suite.keyLength + suite.nonceLength);
  const macKey = macLength === 0 ? undefined : out.slice(suite.keyLength + suite.nonceLength);
  return { key, nonce, macKey };
}

/**
 * Seals one message with keys derived from its message key.
 *
 * @param messageKey The message key from the chain.
 * @param options Suite, HKDF label, plaintext and associated data.
 * @returns The sealed bytes.
 */
export function sealWithMessageKey(
  messageKey: Uint8Array,
  options: { suite: CipherSuite; label: string; plaintext: Uint8Array; aad: Uint8Array },
): Uint8Array {
  const { key, nonce, macKey } = deriveMessageKeys(messageKey, options.suite, options.label);
  const sealed = options.suite.seal(key, nonce, options.plaintext, options.aad);
  if (macKey === undefined) return sealed;
  const tag = hmacSha256(macKey, concatBytes(options.aad, sealed)).slice(0, EXTRA_MAC_LENGTH);
  return concatBytes(sealed, tag);
}

/**
 * Opens one message with keys derived from its message key.
 *
 * @param messageKey The message key from the chain.
 * @param options Suite, HKDF label, sealed bytes and associated data.
 * @returns The plaintext.
 * @throws {SessionError} `DECRYPT_FAILED` when authentication fails.
 */
export function openWithMessageKey(
  messageKey: Uint8Array,
  options: { suite: CipherSuite; label: string; sealed: Uint8Array; aad: Uint8Array },
): Uint8Array {
  const { key, nonce, macKey } = deriveMessageKeys(messageKey, options.suite, options.label);
  let sealed = options.sealed;
  if (macKey !== undefined) {
    if (sealed.length < EXTRA_MAC_LENGTH) {
      throw new SessionError("DECRYPT_FAILED", "Cannot open message: too short for its tag");
    }
    const body = sealed.subarray(0, sealed.length - EXTRA_MAC_LENGTH);
    const tag = sealed.subarray(sealed.length - EXTRA_MAC_LENGTH);
    const expected = hmacSha256(macKey, concatBytes(options.aad, body)).slice(
      0,
      EXTRA_MAC_LENGTH,
    );
    if (!equalBytes(tag, expected)) {
      throw new SessionError("DECRYPT_FAILED", "Cannot open message: authentication failed");
    }
    sealed = body;
  }
  try {
    return options.suite.open(key, nonce, sealed, options.aad);
  } catch (cause) {
    if (cause instanceof CryptoError) {
      throw new SessionError("DECRYPT_FAILED", "Cannot open message: authentication failed", {
        cause,
      });
    }
    throw cause;
  }
}
