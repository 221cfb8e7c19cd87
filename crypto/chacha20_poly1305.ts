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
import { hasNodeAead, nodeAeadOpen, nodeAeadSeal } from "./_node_crypto.ts";

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
 * `undefined` where the runtime has no `node:crypto` (a browser).
 */
export const CHACHA20_POLY1305_NODE: CipherBackend | undefined = hasNodeAead("chacha20-poly1305")
  ? {
    ...COMMON,
    backend: "node:crypto",
    seal: (key, nonce, plaintext, aad) =>
      nodeAeadSeal("chacha20-poly1305", key, nonce, plaintext, aad),
    open: (key, nonce, sealed, aad) => nodeAeadOpen("chacha20-poly1305", key, nonce, sealed, aad),
  }
  : undefined;
