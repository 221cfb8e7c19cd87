/**
 * Folder-private access to the runtime's `node:crypto`, without a static import: a browser
 * (no `node:crypto`) gets `undefined` and every primitive falls back to noble. Holds the AEAD
 * binding; X25519 and the hashes bind their own functions in `x25519.ts` and `hkdf.ts`
 * (`ed25519.ts` loads the module itself, so the relay's module graph stays minimal).
 *
 * @module
 */
import type * as NodeCryptoModule from "node:crypto";

/** The `node:crypto` module's type. */
export type NodeCrypto = typeof NodeCryptoModule;

/** The AEAD algorithm names Hush asks `node:crypto` for. */
export type NodeAeadAlgorithm = "aes-256-gcm" | "chacha20-poly1305";

/** A `node:crypto` AEAD bound to one algorithm (16-byte tags). */
export interface NodeAead {
  /** Returns a fresh plain Uint8Array: ciphertext || tag(16). */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Returns the plaintext; throws `node:crypto`'s own error if the tag does not verify. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

/**
 * The type `node:crypto` key inputs declare for DER bytes (`string | Buffer`). At run time
 * Deno and Node take any `Uint8Array`; casting to this type avoids a `node:buffer` import.
 */
export type DerBytes = NodeCryptoModule.PrivateKeyInput["key"];

type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

const TAG_LENGTH = 16;

/**
 * Returns the runtime's `node:crypto` module (Deno 2, Node 22.3+) through
 * `process.getBuiltinModule`, or `undefined` where there is none (browsers).
 *
 * @returns The module, or `undefined`.
 */
export function loadNodeCrypto(): NodeCrypto | undefined {
  try {
    const proc = (globalThis as { process?: BuiltinLoader }).process;
    const mod = proc?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
    return mod && typeof mod.createCipheriv === "function" ? mod : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Binds a `node:crypto` AEAD, or returns `undefined` if `nodeCrypto` is missing or lacks
 * `algorithm`. Lengths are the registry's job; `sealed` has at least 16 bytes.
 *
 * @param nodeCrypto The module from {@link loadNodeCrypto}, or `undefined`.
 * @param algorithm The AEAD name.
 * @returns The bound AEAD, or `undefined`.
 */
export function nodeAead(
  nodeCrypto: NodeCrypto | undefined,
  algorithm: NodeAeadAlgorithm,
): NodeAead | undefined {
  if (!nodeCrypto) return undefined;
  try {
    if (!nodeCrypto.getCiphers().includes(algorithm)) return undefined;
  } catch {
    return undefined;
  }
  const options = { authTagLength: TAG_LENGTH } as NodeCryptoModule.CipherGCMOptions;
  return {
    seal(key, nonce, plaintext, aad) {
      const cipher = nodeCrypto.createCipheriv(
        algorithm,
        key,
        nonce,
        options,
      ) as NodeCryptoModule.CipherGCM;
      if (aad.length > 0) cipher.setAAD(aad);
      const body = cipher.update(plaintext);
      const rest = cipher.final();
      const tag = cipher.getAuthTag();
      // One plain Uint8Array (never a possibly pooled Buffer): ciphertext || tag.
      const out = new Uint8Array(body.length + rest.length + tag.length);
      out.set(body, 0);
      out.set(rest, body.length);
      out.set(tag, body.length + rest.length);
      return out;
    },
    open(key, nonce, sealed, aad) {
      const split = sealed.length - TAG_LENGTH;
      const decipher = nodeCrypto.createDecipheriv(
        algorithm,
        key,
        nonce,
        options,
      ) as NodeCryptoModule.DecipherGCM;
      if (aad.length > 0) decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(split));
      const body = decipher.update(sealed.subarray(0, split));
      const rest = decipher.final(); // throws if the tag does not verify
      const out = new Uint8Array(body.length + rest.length);
      out.set(body, 0);
      out.set(rest, body.length);
      return out;
    },
  };
}
