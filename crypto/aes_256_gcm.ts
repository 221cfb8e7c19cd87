/**
 * AES-256-GCM (NIST SP 800-38D): 32-byte key, 12-byte nonce, 16-byte tag.
 *
 * Two backends with identical behaviour: `node:crypto` (the runtime's native code) and `noble`
 * (`@noble/ciphers`, pure TypeScript, works in a browser). Use them through the registry in
 * `cipher_suite.ts`, which checks key and nonce lengths and turns any failure of `open` into a
 * `CryptoError` `DECRYPT_FAILED`.
 *
 * @module
 */
import { gcm } from "@noble/ciphers/aes.js";
import type { CipherBackend as Backend } from "./_cipher_backend.ts";
import { nodeAead, type NodeCrypto } from "./_node_crypto.ts";

const COMMON = {
  id: "aes-256-gcm",
  wireId: 0x01,
  keyLength: 32,
  nonceLength: 12,
  tagLength: 16,
  insecure: false,
} as const;

/**
 * The `noble` backend of AES-256-GCM (unchecked: the registry checks lengths).
 */
export const AES_256_GCM_NOBLE: Backend = {
  ...COMMON,
  backend: "noble",
  seal: (key, nonce, plaintext, aad) => gcm(key, nonce, aad).encrypt(plaintext),
  open: (key, nonce, sealed, aad) => gcm(key, nonce, aad).decrypt(sealed),
};

/**
 * The `node:crypto` backend of AES-256-GCM (unchecked: the registry checks lengths), or
 * `undefined` where the runtime has no `node:crypto` AES-256-GCM (a browser).
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined`.
 * @returns The backend, or `undefined`.
 */
export function aes256GcmNode(nodeCrypto: NodeCrypto | undefined): Backend | undefined {
  const aead = nodeAead(nodeCrypto, "aes-256-gcm");
  return aead && { ...COMMON, backend: "node:crypto", seal: aead.seal, open: aead.open };
}
