/**
 * Generates `tests/vectors/ed25519_strict.json`: crafted Ed25519 cases where a lax or
 * cofactorless verifier and Hush's strict rule (noble, `zip215: false`; docs/CRYPTO.md
 * "Identity: Ed25519") differ. Each case is `{comment, publicKey, message, signature, valid}` in
 * hex; `valid` is the strict answer. Deterministic (fixed seed, nonces from the message).
 *
 * Usage: `deno run --allow-write=tests/vectors tools/gen_ed25519_vectors.ts [--check]`
 * (`--check` needs only --allow-read and exits 1 when the file differs).
 *
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes, fromHex, toHex } from "../crypto/bytes.ts";

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The 8 points of small order, canonical encodings (docs/CRYPTO.md). */
export const SMALL_ORDER: readonly [string, string][] = [
  ["0100000000000000000000000000000000000000000000000000000000000000", "identity, order 1"],
  ["ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "(0, -1), order 2"],
  ["0000000000000000000000000000000000000000000000000000000000000000", "(+sqrt(-1), 0), order 4"],
  ["0000000000000000000000000000000000000000000000000000000000000080", "(-sqrt(-1), 0), order 4"],
  ["c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", "order 8"],
  ["c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", "order 8"],
  ["26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "order 8"],
  ["26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", "order 8"],
];

/** Non-canonical encodings of small-order points: strict decoding refuses each. */
export const NON_CANONICAL: readonly [string, string][] = [
  ["0100000000000000000000000000000000000000000000000000000000000080", "y = 1, x = -0"],
  ["ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "y = p - 1, x = -0"],
  ["edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "y = p (= 0)"],
  ["edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "y = p (= 0), sign set"],
  ["eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "y = p + 1 (= 1)"],
  ["eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "y = p + 1 (= 1), x = -0"],
];

/** One vector. */
export interface Ed25519Vector {
  comment: string;
  publicKey: string;
  message: string;
  signature: string;
  valid: boolean;
}

function le(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 255n);
  return out;
}

function fromLe(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** Builds every vector, `valid` from noble with `zip215: false`. */
export function buildVectors(): Ed25519Vector[] {
  const out: Ed25519Vector[] = [];
  const add = (comment: string, a: Uint8Array, m: Uint8Array, sig: Uint8Array) =>
    out.push({
      comment,
      publicKey: toHex(a),
      message: toHex(m),
      signature: toHex(sig),
      valid: ed25519.verify(sig, m, a, { zip215: false }),
    });
  const identity = fromHex(SMALL_ORDER[0]![0]);
  const zero = new Uint8Array(32);
  for (const [a, what] of [...SMALL_ORDER, ...NON_CANONICAL]) {
    for (const m of ["", "00", "68656c6c6f"]) {
      add(
        `A = ${what}, R = identity, S = 0: a verifier without the small-order/canonical check ` +
          `accepts it whenever [k]A = 0 (for A = identity: every message)`,
        fromHex(a),
        fromHex(m),
        concatBytes(identity, zero),
      );
    }
  }
  const seed = new Uint8Array(32).fill(7);
  const { scalar, prefix, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
  const Point = ed25519.Point;
  const message = new TextEncoder().encode("strictness");
  const honest = ed25519.sign(message, seed);
  const s = fromLe(honest.subarray(32));
  add("honest signature (RFC 8032 sign)", pointBytes, message, honest);
  add(
    "S + L (S >= L): refused",
    pointBytes,
    message,
    concatBytes(honest.subarray(0, 32), le(s + L)),
  );
  add("S = L: refused", pointBytes, message, concatBytes(honest.subarray(0, 32), le(L)));
  for (const [r, what] of NON_CANONICAL) {
    add(
      `R = ${what} (non-canonical): refused`,
      pointBytes,
      message,
      concatBytes(fromHex(r), honest.subarray(32)),
    );
  }
  for (const [t, what] of SMALL_ORDER.slice(1)) {
    const torsion = Point.fromBytes(fromHex(t));
    const m = new TextEncoder().encode(`torsion ${t.slice(0, 8)}`);
    const r = fromLe(sha512(concatBytes(prefix, m))) % L;
    const mixedR = Point.BASE.multiply(r).add(torsion).toBytes();
    const k = fromLe(sha512(concatBytes(mixedR, pointBytes, m))) % L;
    add(
      `R = rB + T (T ${what}): the cofactored equation holds, accepted (a cofactorless verifier ` +
        `such as OpenSSL refuses it)`,
      pointBytes,
      m,
      concatBytes(mixedR, le((r + k * scalar) % L)),
    );
  }
  return out;
}

if (import.meta.main) {
  const path = new URL("../tests/vectors/ed25519_strict.json", import.meta.url);
  const text = JSON.stringify(
    {
      source: "Hush, tools/gen_ed25519_vectors.ts: strict Ed25519 verification (docs/CRYPTO.md)",
      cases: buildVectors(),
    },
    null,
    2,
  ) + "\n";
  if (Deno.args.includes("--check")) {
    if (Deno.readTextFileSync(path) !== text) {
      console.error("tests/vectors/ed25519_strict.json is out of date");
      Deno.exit(1);
    }
  } else {
    Deno.writeTextFileSync(path, text);
  }
}
