/**
 * Ed25519 identity keys (RFC 8032 §5.1).
 *
 * Two backends with identical behaviour: `node:crypto` (the runtime's native code, the default
 * where it exists) and `noble` (`@noble/curves`, pure TypeScript, the browser fallback).
 *
 * Self-contained on purpose: it imports only `errors.ts`, `bytes.ts`, `random.ts` and noble
 * (and reaches `node:crypto` itself, through `process.getBuiltinModule`), so the relay can
 * verify signatures without pulling in any cipher suite.
 *
 * Verification is strict RFC 8032 / FIPS 186-5 as noble implements it (`zip215: false`):
 * non-canonical point encodings, `S >= L` and a small-order public key are rejected, and the
 * cofactored equation `[8][S]B = [8]R + [8][k]A` is checked. The `node:crypto` backend gives
 * exactly the same answers (rule in {@link ed25519Node} and docs/CRYPTO.md).
 *
 * Identity text form (stable, version 1), one line, lowercase hex:
 * `hush-identity-v1:<64 hex: 32-byte seed>:<64 hex: 32-byte public key>`.
 * It holds the PRIVATE seed: store it like a password.
 *
 * @module
 */
import type * as NodeCryptoModule from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { equalBytes, fromHex, toHex } from "./bytes.ts";
import { CryptoError } from "./errors.ts";
import { randomBytes } from "./random.ts";

/** An Ed25519 identity key pair. */
export interface IdentityKeyPair {
  /** The 32-byte private seed (RFC 8032 §5.1.5 "private key"). Keep secret. */
  privateKey: Uint8Array;
  /** The 32-byte public key (RFC 8032 §5.1.5 encoding). */
  publicKey: Uint8Array;
}

/** Prefix of the identity text form. */
export const IDENTITY_TEXT_PREFIX = "hush-identity-v1:";

const IDENTITY_PATTERN = /^hush-identity-v1:([0-9a-f]{64}):([0-9a-f]{64})$/;

/**
 * One raw Ed25519 implementation. Arguments have the right types and lengths (seed 32, public
 * key 32, signature 64; checked by {@link bindEd25519}); `verify` may throw on malformed
 * points (the binding turns that into `false`).
 */
export interface Ed25519Backend {
  /** `"node:crypto"` or `"noble"`. */
  readonly backend: string;
  /** The public key of a seed. */
  publicKey(seed: Uint8Array): Uint8Array;
  /** The 64-byte signature `R || S`. */
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** Strict verification (see the module doc). */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** Ed25519 over one backend, with every check of the public functions. */
export interface Ed25519 {
  /** `"node:crypto"` or `"noble"`. */
  readonly backend: string;
  /** See {@link generateIdentityKeyPair}. */
  generateKeyPair(): IdentityKeyPair;
  /** See {@link identityFromSeed}. */
  identityFromSeed(seed: Uint8Array): IdentityKeyPair;
  /** See {@link sign}. */
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** See {@link verify}. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** The `noble` backend (`@noble/curves`): pure TypeScript, works everywhere. */
export const ED25519_NOBLE: Ed25519Backend = Object.freeze({
  backend: "noble",
  publicKey: (seed: Uint8Array) => ed25519.getPublicKey(seed),
  sign: (seed: Uint8Array, message: Uint8Array) => ed25519.sign(message, seed),
  verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) =>
    ed25519.verify(signature, message, publicKey, { zip215: false }),
});

type NodeCrypto = typeof NodeCryptoModule;
type DerBytes = NodeCryptoModule.PrivateKeyInput["key"];
type BuiltinLoader = { getBuiltinModule?: (id: string) => unknown };

/**
 * The runtime's `node:crypto` through `process.getBuiltinModule` (Deno 2, Node 22.3+), or
 * `undefined` (a browser). Same as `_node_crypto.ts`, repeated so the relay's graph stays
 * `errors.ts`, `bytes.ts`, `random.ts`, `ed25519.ts`.
 */
function loadNodeCrypto(): NodeCrypto | undefined {
  try {
    const proc = (globalThis as { process?: BuiltinLoader }).process;
    const mod = proc?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
    return mod && typeof mod.sign === "function" && typeof mod.verify === "function"
      ? mod
      : undefined;
  } catch {
    return undefined;
  }
}

// DER framing of raw Ed25519 keys (RFC 8410): PKCS#8 for a seed, SPKI for a public key.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");
const SPKI_PREFIX = fromHex("302a300506032b6570032100");

function der(prefix: Uint8Array, key: Uint8Array): DerBytes {
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix, 0);
  out.set(key, prefix.length);
  return out as DerBytes;
}

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const ORDER_L = fromHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

/**
 * The encodings noble's strict decoding accepts for a small-order point (the 8 points of the
 * torsion subgroup, canonical), plus the two it refuses outright (x = 0 with the sign bit
 * set: y = 1 and y = p - 1). A public key with one of these bytes never verifies.
 */
const SMALL_ORDER_OR_NEGATIVE_ZERO = new Set([
  "0100000000000000000000000000000000000000000000000000000000000000", // identity (order 1)
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2 (y = -1)
  "0000000000000000000000000000000000000000000000000000000000000000", // order 4 (y = 0)
  "0000000000000000000000000000000000000000000000000000000000000080", // order 4 (y = 0, -x)
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
  "0100000000000000000000000000000000000000000000000000000000000080", // y = 1, x = -0
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // y = -1, x = -0
]);

/** `S < L` for the little-endian scalar in `signature[32..64]`. */
function scalarIsCanonical(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    const l = ORDER_L[i]!;
    if (s !== l) return s < l;
  }
  return false; // S == L
}

/** `y < p = 2^255 - 19` for a point encoding (the sign bit ignored). */
function yIsCanonical(point: Uint8Array): boolean {
  if ((point[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (point[i] !== 0xff) return true;
  return point[0]! < 0xed;
}

/**
 * The cheap half of noble's strict rules, checked before `node:crypto` runs: `S < L`, `A` and
 * `R` canonical (`y < p`, and not x = -0), `A` not of small order. Each failure is a case
 * noble also rejects.
 */
function passesStrictPrechecks(
  publicKey: Uint8Array,
  publicKeyHex: string,
  signature: Uint8Array,
): boolean {
  const r = signature.subarray(0, 32);
  return scalarIsCanonical(signature) && yIsCanonical(publicKey) && yIsCanonical(r) &&
    !SMALL_ORDER_OR_NEGATIVE_ZERO.has(publicKeyHex) &&
    !(r[31] === 0x80 && r[0] === 0x01 && r.subarray(1, 31).every((b) => b === 0)) &&
    !(r[31] === 0xff && r[0] === 0xec && r.subarray(1, 31).every((b) => b === 0xff));
}

/** Most public-key objects {@link ed25519Node} keeps for `verify` (keys are public). */
const VERIFY_KEY_CACHE_LIMIT = 256;

// RFC 8032 §7.1 TEST 1: the start-up self-test.
const PROBE_SEED = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
const PROBE_PUBLIC = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

/**
 * The `node:crypto` backend, or `undefined` where the runtime has no `node:crypto` Ed25519.
 * Keys enter as DER (PKCS#8 / SPKI prefix || raw key); a start-up self-test (RFC 8032 TEST 1
 * public key) must pass.
 *
 * `verify` gives exactly noble's strict answer:
 * 1. cheap pre-checks, each a case noble rejects: `S < L`; `A` and `R` with `y < p` and not
 *    x = -0; `A` not one of the 8 small-order points. Failing one: `false`.
 * 2. `node:crypto` (OpenSSL, cofactorless `[S]B = R + [k]A`, `R` compared as bytes) says
 *    `true`: then noble says `true` too (cofactorless implies cofactored). Return `true`.
 * 3. Otherwise (`false`, or an off-curve `A` that `createPublicKey` refuses): noble decides.
 *    This covers signatures noble's cofactored check accepts and OpenSSL's refuses (a torsion
 *    component in `R` or `A`: only a key's owner can make them). Invalid signatures therefore
 *    cost as much as before (OpenSSL + noble); valid ones cost OpenSSL only.
 *
 * Key objects: public keys are cached by value (their hex, at most 256, least recently used
 * out); a private key object is remembered per seed array in a `WeakMap` (it dies with the
 * array) and used only while the array still holds the same bytes.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined`.
 * @returns The backend, or `undefined`.
 */
export function ed25519Node(nodeCrypto: NodeCrypto | undefined): Ed25519Backend | undefined {
  if (!nodeCrypto || typeof nodeCrypto.createPrivateKey !== "function") return undefined;
  const nc = nodeCrypto;
  const signingKeys = new WeakMap<
    Uint8Array,
    { seed: Uint8Array; key: NodeCryptoModule.KeyObject }
  >();
  const verifyingKeys = new Map<string, NodeCryptoModule.KeyObject>();
  const signingKey = (seed: Uint8Array): NodeCryptoModule.KeyObject => {
    const known = signingKeys.get(seed);
    if (known !== undefined && equalBytes(known.seed, seed)) return known.key;
    const key = nc.createPrivateKey({ key: der(PKCS8_PREFIX, seed), format: "der", type: "pkcs8" });
    signingKeys.set(seed, { seed: seed.slice(), key });
    return key;
  };
  const verifyingKey = (publicKey: Uint8Array, id: string): NodeCryptoModule.KeyObject => {
    const known = verifyingKeys.get(id);
    if (known !== undefined) {
      verifyingKeys.delete(id); // most recently used goes last
      verifyingKeys.set(id, known);
      return known;
    }
    const key = nc.createPublicKey({
      key: der(SPKI_PREFIX, publicKey),
      format: "der",
      type: "spki",
    });
    if (verifyingKeys.size >= VERIFY_KEY_CACHE_LIMIT) {
      verifyingKeys.delete(verifyingKeys.keys().next().value!);
    }
    verifyingKeys.set(id, key);
    return key;
  };
  const backend: Ed25519Backend = Object.freeze({
    backend: "node:crypto",
    publicKey(seed: Uint8Array): Uint8Array {
      const spki = nc.createPublicKey(signingKey(seed)).export({ format: "der", type: "spki" });
      if (spki.length !== SPKI_PREFIX.length + 32) {
        throw new Error(`Unexpected Ed25519 SPKI length "${spki.length}"`);
      }
      return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
    },
    sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
      return new Uint8Array(nc.sign(null, message, signingKey(seed)));
    },
    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      const id = toHex(publicKey);
      if (!passesStrictPrechecks(publicKey, id, signature)) return false;
      try {
        if (nc.verify(null, message, verifyingKey(publicKey, id), signature)) return true;
      } catch {
        // an off-curve A: noble says false below
      }
      return ED25519_NOBLE.verify(publicKey, message, signature);
    },
  });
  try {
    if (!equalBytes(backend.publicKey(PROBE_SEED), PROBE_PUBLIC)) return undefined;
  } catch {
    return undefined;
  }
  return backend;
}

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new CryptoError(
      "BAD_PRIVATE_KEY",
      `Invalid Ed25519 private key length "${
        seed instanceof Uint8Array ? seed.length : typeof seed
      }": expected a 32-byte seed`,
    );
  }
}

/**
 * Binds a backend with the checks of the public functions: seed length (`BAD_PRIVATE_KEY`),
 * message type (`TypeError`), and a `verify` that never throws.
 *
 * @param raw The backend.
 * @returns The checked functions.
 */
export function bindEd25519(raw: Ed25519Backend): Ed25519 {
  const fromSeed = (seed: Uint8Array): IdentityKeyPair => {
    checkSeed(seed);
    const privateKey = seed.slice();
    return { privateKey, publicKey: raw.publicKey(privateKey) };
  };
  return Object.freeze({
    backend: raw.backend,
    generateKeyPair: () => fromSeed(randomBytes(32)),
    identityFromSeed: fromSeed,
    sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
      checkSeed(privateKey);
      if (!(message instanceof Uint8Array)) {
        throw new TypeError("Cannot sign: message must be a Uint8Array");
      }
      return raw.sign(privateKey, message);
    },
    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      if (
        !(publicKey instanceof Uint8Array) || publicKey.length !== 32 ||
        !(message instanceof Uint8Array) ||
        !(signature instanceof Uint8Array) || signature.length !== 64
      ) {
        return false;
      }
      try {
        return raw.verify(publicKey, message, signature);
      } catch {
        return false;
      }
    },
  });
}

/**
 * Every Ed25519 backend a runtime offers, default first (`node:crypto`, then `noble`), each
 * bound with {@link bindEd25519}.
 *
 * @param nodeCrypto The runtime's `node:crypto`, or `undefined` (a browser): then only noble.
 * @returns The bound backends.
 */
export function buildEd25519(nodeCrypto: NodeCrypto | undefined): readonly Ed25519[] {
  const raws = [ed25519Node(nodeCrypto), ED25519_NOBLE].filter((b) => b !== undefined);
  return Object.freeze(raws.map(bindEd25519));
}

/** The Ed25519 backends of this runtime, default first (tests and benchmarks use them all). */
export const ED25519_BACKENDS: readonly Ed25519[] = buildEd25519(loadNodeCrypto());

const DEFAULT: Ed25519 = ED25519_BACKENDS[0]!;

/**
 * Generates a fresh identity from 32 bytes of `crypto.getRandomValues`.
 *
 * @returns The key pair.
 */
export function generateIdentityKeyPair(): IdentityKeyPair {
  return DEFAULT.generateKeyPair();
}

/**
 * Rebuilds an identity key pair from its 32-byte seed.
 *
 * @param seed The 32-byte private seed.
 * @returns The key pair (a copy of the seed and its public key).
 * @throws {CryptoError} `BAD_PRIVATE_KEY` if `seed` is not 32 bytes.
 */
export function identityFromSeed(seed: Uint8Array): IdentityKeyPair {
  return DEFAULT.identityFromSeed(seed);
}

/**
 * Signs a message (pure Ed25519, RFC 8032 §5.1.6; deterministic).
 *
 * @param privateKey The 32-byte seed.
 * @param message Any bytes.
 * @returns The 64-byte signature `R || S`.
 * @throws {CryptoError} `BAD_PRIVATE_KEY` if `privateKey` is not 32 bytes.
 * @throws {TypeError} If `message` is not a Uint8Array.
 */
export function sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  return DEFAULT.sign(privateKey, message);
}

/**
 * Verifies a signature (strict RFC 8032 §5.1.7, no ZIP-215 leniency: canonical encodings,
 * `S < L`, no small-order public key, cofactored equation). Never throws: any bad input (wrong
 * lengths, wrong types, invalid points) gives `false`.
 *
 * @param publicKey The signer's 32-byte public key.
 * @param message The signed bytes.
 * @param signature The 64-byte signature.
 * @returns `true` only for a valid signature.
 */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return DEFAULT.verify(publicKey, message, signature);
}

/**
 * Serializes an identity to its stable text form
 * `hush-identity-v1:<hex seed>:<hex public key>` (lowercase hex, 145 characters).
 *
 * @param pair The key pair.
 * @returns The text form. It contains the private seed.
 * @throws {CryptoError} `BAD_PRIVATE_KEY` for a seed that is not 32 bytes; `BAD_PUBLIC_KEY` if
 *   the public key does not belong to the seed.
 */
export function encodeIdentity(pair: IdentityKeyPair): string {
  const derived = identityFromSeed(pair.privateKey);
  if (
    !(pair.publicKey instanceof Uint8Array) || toHex(pair.publicKey) !== toHex(derived.publicKey)
  ) {
    throw new CryptoError(
      "BAD_PUBLIC_KEY",
      "Cannot encode identity: the public key does not belong to the private key",
    );
  }
  return `${IDENTITY_TEXT_PREFIX}${toHex(derived.privateKey)}:${toHex(derived.publicKey)}`;
}

/**
 * Parses the text form written by {@link encodeIdentity}. Leading and trailing whitespace
 * (e.g. a final newline in a file) is ignored; anything else must match exactly.
 *
 * @param text `hush-identity-v1:<64 lowercase hex>:<64 lowercase hex>`.
 * @returns The key pair.
 * @throws {CryptoError} `BAD_IDENTITY_ENCODING` if the text does not match the form or the
 *   public key does not belong to the seed.
 */
export function decodeIdentity(text: string): IdentityKeyPair {
  const match = typeof text === "string" ? IDENTITY_PATTERN.exec(text.trim()) : null;
  if (!match) {
    throw new CryptoError(
      "BAD_IDENTITY_ENCODING",
      `Invalid identity encoding: expected "${IDENTITY_TEXT_PREFIX}<64 hex>:<64 hex>"`,
    );
  }
  const seedHex = match[1]!;
  const publicHex = match[2]!;
  const pair = identityFromSeed(fromHex(seedHex));
  if (toHex(pair.publicKey) !== publicHex) {
    throw new CryptoError(
      "BAD_IDENTITY_ENCODING",
      "Invalid identity encoding: the public key does not belong to the seed",
    );
  }
  return pair;
}
