/**
 * Randomness for Hush: the only source is `crypto.getRandomValues`.
 *
 * @module
 */

/** Most bytes `crypto.getRandomValues` accepts in one call (Web Crypto limit). */
const MAX_CHUNK = 65_536;

/**
 * Returns cryptographically secure random bytes from `crypto.getRandomValues`, filled in
 * chunks of at most 65,536 bytes (the Web Crypto per-call limit).
 *
 * @param length Number of bytes, a non-negative safe integer.
 * @returns A fresh Uint8Array of `length` random bytes.
 * @throws {RangeError} If `length` is negative or not an integer.
 */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`Cannot generate random bytes: invalid length "${length}"`);
  }
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += MAX_CHUNK) {
    crypto.getRandomValues(out.subarray(offset, Math.min(offset + MAX_CHUNK, length)));
  }
  return out;
}
