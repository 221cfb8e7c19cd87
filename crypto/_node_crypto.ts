/**
 * Folder-private access to the runtime's `node:crypto` AEADs, without a static import: a
 * browser (no `node:crypto`) gets `undefined` and the registry falls back to noble.
 *
 * @module
 */
import type * as NodeCrypto from "node:crypto";

/** The AEAD algorithm names Hush asks `node:crypto` for. */
export type NodeAeadAlgorithm = "aes-256-gcm" | "chacha20-poly1305";

type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

const TAG_LENGTH = 16;

let cached: typeof NodeCrypto | null | undefined;

/**
 * Returns the runtime's `node:crypto` module (Deno 2, Node 22.3+) through
 * `process.getBuiltinModule`, or `undefined` where there is none (browsers).
 *
 * @returns The module, or `undefined`.
 */
export function loadNodeCrypto(): typeof NodeCrypto | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  try {
    const proc = (globalThis as { process?: BuiltinLoader }).process;
    const mod = proc?.getBuiltinModule?.("node:crypto") as typeof NodeCrypto | undefined;
    if (mod && typeof mod.createCipheriv === "function") cached = mod;
  } catch {
    cached = null;
  }
  return cached ?? undefined;
}

/**
 * Whether `node:crypto` exists here and offers `algorithm`.
 *
 * @param algorithm The AEAD name.
 * @returns `true` if a node:crypto backend can be built.
 */
export function hasNodeAead(algorithm: NodeAeadAlgorithm): boolean {
  const nodeCrypto = loadNodeCrypto();
  if (!nodeCrypto) return false;
  try {
    return nodeCrypto.getCiphers().includes(algorithm);
  } catch {
    return false;
  }
}

function required(): typeof NodeCrypto {
  const nodeCrypto = loadNodeCrypto();
  if (!nodeCrypto) throw new Error("node:crypto is not available in this runtime");
  return nodeCrypto;
}

/**
 * Seals with a `node:crypto` AEAD (16-byte tag). Lengths are checked by the registry.
 *
 * @param algorithm The AEAD name.
 * @param key The key.
 * @param nonce The 12-byte nonce.
 * @param plaintext The plaintext.
 * @param aad Additional authenticated data.
 * @returns A fresh plain Uint8Array: ciphertext || tag(16).
 */
export function nodeAeadSeal(
  algorithm: NodeAeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const cipher = required().createCipheriv(algorithm, key, nonce, {
    authTagLength: TAG_LENGTH,
  } as NodeCrypto.CipherGCMOptions) as NodeCrypto.CipherGCM;
  if (aad.length > 0) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const rest = cipher.final();
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(body.length + rest.length + tag.length);
  out.set(body, 0);
  out.set(rest, body.length);
  out.set(tag, body.length + rest.length);
  return out;
}

/**
 * Opens with a `node:crypto` AEAD (16-byte tag). Throws whatever `node:crypto` throws on an
 * authentication failure; the registry turns that into `CryptoError` `DECRYPT_FAILED`.
 *
 * @param algorithm The AEAD name.
 * @param key The key.
 * @param nonce The 12-byte nonce.
 * @param sealed ciphertext || tag(16), at least 16 bytes (checked by the registry).
 * @param aad Additional authenticated data.
 * @returns A fresh plain Uint8Array holding the plaintext.
 */
export function nodeAeadOpen(
  algorithm: NodeAeadAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array {
  const split = sealed.length - TAG_LENGTH;
  const decipher = required().createDecipheriv(algorithm, key, nonce, {
    authTagLength: TAG_LENGTH,
  } as NodeCrypto.CipherGCMOptions) as NodeCrypto.DecipherGCM;
  if (aad.length > 0) decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(split));
  const body = decipher.update(sealed.subarray(0, split));
  const rest = decipher.final(); // throws if the tag does not verify
  const out = new Uint8Array(body.length + rest.length);
  out.set(body, 0);
  out.set(rest, body.length);
  return out;
}
