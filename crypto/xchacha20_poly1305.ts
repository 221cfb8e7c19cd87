/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03): 32-byte key, 24-byte nonce, 16-byte tag.
 * The long nonce makes random nonces safe (2^192 space), which is why Hush offers it.
 *
 * Two backends with identical behaviour:
 * - `noble`: `@noble/ciphers` `xchacha20poly1305`, pure TypeScript.
 * - `node:crypto`: the draft's §2.3 construction: subkey = HChaCha20(key, nonce[0..16]) (noble's
 *   `hchacha`), then `node:crypto` ChaCha20-Poly1305 with subkey and nonce
 *   `00 00 00 00 || nonce[16..24]`.
 *
 * Use them through the registry in `cipher_suite.ts`.
 *
 * @module
 */
import { hchacha, xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import type { CipherBackend } from "./_cipher_backend.ts";
import { nodeAead, type NodeCrypto } from "./_node_crypto.ts";

const COMMON = {
  id: "xchacha20-poly1305",
  wireId: 0x03,
  keyLength: 32,
  nonceLength: 24,
  tagLength: 16,
  insecure: false,
} as const;

/** "expand 32-byte k" as four little-endian words (RFC 8439 §2.3). */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function readWordsLe(bytes: Uint8Array, count: number): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = new Uint32Array(count);
  for (let i = 0; i < count; i++) words[i] = view.getUint32(4 * i, true);
  return words;
}

/** HChaCha20 subkey and the 12-byte ChaCha20-Poly1305 nonce for an XChaCha20 key and nonce. */
function extend(key: Uint8Array, nonce: Uint8Array): { subkey: Uint8Array; nonce12: Uint8Array } {
  const out = new Uint32Array(8);
  hchacha(SIGMA, readWordsLe(key, 8), readWordsLe(nonce, 4), out);
  const subkey = new Uint8Array(32);
  const view = new DataView(subkey.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(4 * i, out[i]!, true);
  const nonce12 = new Uint8Array(12);
  nonce12.set(nonce.subarray(16, 24), 4);
  return { subkey, nonce12 };
}

/** The `noble` backend of XChaCha20-Poly1305 (unchecked: the registry checks lengths). */
export const XCHACHA20_POLY1305_NOBLE: CipherBackend = {
  ...COMMON,
  backend: "noble",
  seal: (key, nonce, plaintext, aad) => xchacha20poly1305(key, nonce, aad).encrypt(plaintext),
  open: (key, nonce, sealed, aad) => xchacha20poly1305(key, nonce, aad).decrypt(sealed),
};

/**
 * The `node:crypto` backend of XChaCha20-Poly1305 (HChaCha20 from noble, the AEAD from
 * `node:crypto`), or `undefined` where the runtime has no `node:crypto` ChaCha20-Poly1305.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined`.
 * @returns The backend, or `undefined`.
 */
export function xchacha20Poly1305Node(
  nodeCrypto: NodeCrypto | undefined,
): CipherBackend | undefined {
  const aead = nodeAead(nodeCrypto, "chacha20-poly1305");
  if (!aead) return undefined;
  return {
    ...COMMON,
    backend: "node:crypto",
    seal: (key, nonce, plaintext, aad) => {
      const { subkey, nonce12 } = extend(key, nonce);
      return aead.seal(subkey, nonce12, plaintext, aad);
    },
    open: (key, nonce, sealed, aad) => {
      const { subkey, nonce12 } = extend(key, nonce);
      return aead.open(subkey, nonce12, sealed, aad);
    },
  };
}
