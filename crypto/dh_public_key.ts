/**
 * Which 32-byte strings an honest X25519 public key can be: a check by comparison only (no
 * scalar multiplication, no secret), so the relay can refuse a bundle every receiver would
 * reject without linking the X25519 code (it stays blind: tools/layers.ts).
 *
 * An honest public key is `X25519(k, 9)`: its u-coordinate is reduced (`u < p = 2^255 - 19`, so
 * the top bit of byte 31 is clear) and the point has large order. Refused here:
 * - the top bit set (RFC 7748 §5 would mask it: two encodings of one key);
 * - `u >= p` (a non-reduced encoding: `p`, `p + 1`, ... `2^255 - 1`);
 * - the five reduced u-coordinates of small order (the 8-torsion of the curve and of its
 *   twist): 0, 1, p - 1 and the two of order 8. X25519 with any clamped scalar gives an
 *   all-zero shared secret for them (RFC 7748 §6.1), so `x25519SharedSecret` refuses them with
 *   `LOW_ORDER_PUBLIC_KEY`.
 *
 * @module
 */

import { fromHex } from "./bytes.ts";

/** The reduced encodings of the small-order u-coordinates, little-endian hex. */
export const X25519_SMALL_ORDER_HEX: readonly string[] = Object.freeze([
  // u = 0 (order 1 and 2)
  "0000000000000000000000000000000000000000000000000000000000000000",
  // u = 1 (order 4)
  "0100000000000000000000000000000000000000000000000000000000000000",
  // u = p - 1 (order 4, on the twist)
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  // u = 325606250916557431795983626356110631294008115727848805560023387167927233504 (order 8)
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  // u = 39382357235489614581723060781553021112529911719440698176882885853963445705823 (order 8)
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
]);

const SMALL_ORDER = X25519_SMALL_ORDER_HEX.map(fromHex);

/**
 * Says what is wrong with an X25519 public key, or nothing.
 *
 * @param key The key as sent.
 * @returns `null` for a key an honest peer can have; otherwise a short reason:
 *   `"not 32 bytes"`, `"top bit set"`, `"u >= 2^255 - 19"`, `"small order"`.
 */
export function x25519PublicKeyProblem(key: Uint8Array): string | null {
  if (key.length !== 32) return "not 32 bytes";
  if ((key[31]! & 0x80) !== 0) return "top bit set";
  // u >= p with the top bit clear: byte 31 is 0x7f, bytes 30..1 are 0xff, byte 0 >= 0xed.
  let high = key[31] === 0x7f;
  for (let i = 30; high && i >= 1; i--) high = key[i] === 0xff;
  if (high && key[0]! >= 0xed) return "u >= 2^255 - 19";
  for (const bad of SMALL_ORDER) {
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= bad[i]! ^ key[i]!;
    if (diff === 0) return "small order";
  }
  return null;
}
