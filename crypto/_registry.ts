/**
 * Folder-private construction of the cipher-suite registry: wraps each backend with the
 * length checks and error mapping, and picks each suite's default backend. Built from an
 * explicit `node:crypto` module (or `undefined`), so the browser fallback is testable.
 *
 * @module
 */
import type { CipherBackend } from "./_cipher_backend.ts";
import type { NodeCrypto } from "./_node_crypto.ts";
import { aes256GcmNode, AES_256_GCM_NOBLE } from "./aes_256_gcm.ts";
import { CAESAR } from "./caesar.ts";
import type { CipherSuite, CipherSuiteId } from "./cipher_suite.ts";
import { CHACHA20_POLY1305_NOBLE, chacha20Poly1305Node } from "./chacha20_poly1305.ts";
import { CryptoError } from "./errors.ts";
import { XCHACHA20_POLY1305_NOBLE, xchacha20Poly1305Node } from "./xchacha20_poly1305.ts";

/** Every suite id, in wire-id order. */
export const SUITE_IDS: readonly CipherSuiteId[] = Object.freeze([
  "aes-256-gcm",
  "chacha20-poly1305",
  "xchacha20-poly1305",
  "caesar",
]);

/**
 * Preferred default backend of each suite, chosen by measurement (figures in
 * `cipher_suite.ts` and docs/CRYPTO.md). A suite without it here uses its first backend.
 */
export const PREFERRED_BACKEND: Readonly<Record<CipherSuiteId, string>> = Object.freeze({
  "aes-256-gcm": "node:crypto",
  "chacha20-poly1305": "node:crypto",
  "xchacha20-poly1305": "node:crypto",
  "caesar": "hush",
});

/** A built registry. */
export interface Registry {
  /** Every backend of one suite, preferred order. */
  backends(id: CipherSuiteId): readonly CipherSuite[];
  /** The default backend of one suite. */
  defaultOf(id: CipherSuiteId): CipherSuite;
}

const EMPTY = new Uint8Array(0);

function checkBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot use ${name}: expected a Uint8Array, got ${typeof value}`);
  }
}

function checkLengths(raw: CipherBackend, key: unknown, nonce: unknown): void {
  checkBytes(key, "key");
  checkBytes(nonce, "nonce");
  if (key.length !== raw.keyLength) {
    throw new CryptoError(
      "BAD_KEY_LENGTH",
      `Invalid key length "${key.length}": ${raw.id} needs ${raw.keyLength} bytes`,
    );
  }
  if (nonce.length !== raw.nonceLength) {
    throw new CryptoError(
      "BAD_NONCE_LENGTH",
      `Invalid nonce length "${nonce.length}": ${raw.id} needs ${raw.nonceLength} bytes`,
    );
  }
}

/**
 * Wraps one backend: argument and length checks, `aad` defaulting to empty, and every failure
 * of `open` turned into `CryptoError` `DECRYPT_FAILED` (no `cause`, so nothing leaks).
 *
 * @param raw The backend.
 * @returns The frozen suite object callers use.
 */
export function wrap(raw: CipherBackend): CipherSuite {
  return Object.freeze({
    id: raw.id,
    wireId: raw.wireId,
    keyLength: raw.keyLength,
    nonceLength: raw.nonceLength,
    tagLength: raw.tagLength,
    insecure: raw.insecure,
    backend: raw.backend,
    seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array) {
      checkLengths(raw, key, nonce);
      checkBytes(plaintext, "plaintext");
      if (aad !== undefined) checkBytes(aad, "aad");
      return raw.seal(key, nonce, plaintext, aad ?? EMPTY);
    },
    open(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array) {
      checkLengths(raw, key, nonce);
      checkBytes(ciphertext, "ciphertext");
      if (aad !== undefined) checkBytes(aad, "aad");
      if (ciphertext.length < raw.tagLength) {
        throw new CryptoError(
          "DECRYPT_FAILED",
          `Cannot decrypt with ${raw.id}: ciphertext of ${ciphertext.length} bytes is shorter than the tag`,
        );
      }
      try {
        return raw.open(key, nonce, ciphertext, aad ?? EMPTY);
      } catch {
        // Deliberately no `cause`: callers learn nothing but "it did not verify".
        throw new CryptoError(
          "DECRYPT_FAILED",
          `Cannot decrypt with ${raw.id}: authentication failed`,
        );
      }
    },
  });
}

function available(...backends: (CipherBackend | undefined)[]): readonly CipherSuite[] {
  const out: CipherSuite[] = [];
  for (const raw of backends) if (raw !== undefined) out.push(wrap(raw));
  return Object.freeze(out);
}

/**
 * Builds the registry for a runtime.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined` (a browser): then every
 *   suite has only its portable backend.
 * @returns The registry.
 */
export function buildRegistry(nodeCrypto: NodeCrypto | undefined): Registry {
  const backends = new Map<CipherSuiteId, readonly CipherSuite[]>([
    ["aes-256-gcm", available(aes256GcmNode(nodeCrypto), AES_256_GCM_NOBLE)],
    ["chacha20-poly1305", available(chacha20Poly1305Node(nodeCrypto), CHACHA20_POLY1305_NOBLE)],
    [
      "xchacha20-poly1305",
      available(xchacha20Poly1305Node(nodeCrypto), XCHACHA20_POLY1305_NOBLE),
    ],
    ["caesar", available(CAESAR)],
  ]);
  const defaults = new Map<CipherSuiteId, CipherSuite>();
  for (const [id, list] of backends) {
    defaults.set(id, list.find((suite) => suite.backend === PREFERRED_BACKEND[id]) ?? list[0]!);
  }
  return {
    backends: (id) => backends.get(id)!,
    defaultOf: (id) => defaults.get(id)!,
  };
}
