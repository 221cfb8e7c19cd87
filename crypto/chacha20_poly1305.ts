/**
 * ChaCha20-Poly1305 (RFC 8439 §2.8): 32-byte key, 12-byte nonce, 16-byte tag.
 *
 * Two backends with identical behaviour: `node:crypto` (the runtime's native code) and `noble`
 * (`@noble/ciphers`, pure TypeScript, works in a browser). Use them through the registry in
 * `cipher_suite.ts`, which checks key and nonce lengths and turns any failure of `open` into a
 * `CryptoError` `DECRYPT_FAILED`.
 *
 * @module
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import type { CipherBackend } from "./_cipher_backend.ts";
import { nodeAead, type NodeCrypto } from "./_node_crypto.ts";

const COMMON = {
  id: "chacha20-poly1305",
  wireId: 0x02,
  keyLength: 32,
  nonceLength: 12,
  tagLength: 16,
  insecure: false,
} as const;

/** The `noble` backend of ChaCha20-Poly1305 (unchecked: the registry checks lengths). */
export const CHACHA20_POLY1305_NOBLE: CipherBackend = {
  ...COMMON,
  backend: "noble",
  seal: (key, nonce, plaintext, aad) => chacha20poly1305(key, nonce, aad).encrypt(plaintext),
  open: (key, nonce, sealed, aad) => chacha20poly1305(key, nonce, aad).decrypt(sealed),
};

/**
 * The `node:crypto` backend of ChaCha20-Poly1305 (unchecked: the registry checks lengths), or
 * `undefined` where the runtime has no `node:crypto` ChaCha20-Poly1305 (a browser).
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined`.
 * @returns The backend, or `undefined`.
 */
export function chacha20Poly1305Node(
  nodeCrypto: NodeCrypto | undefined,
): CipherBackend | undefined {
  const aead = nodeAead(nodeCrypto, "chacha20-poly1305");
  return aead && { ...COMMON, backend: "node:crypto", seal: aead.seal, open: aead.open };
}
