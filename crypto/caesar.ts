/**
 * The Caesar cipher: Hush's teaching cipher. INSECURE, never use it to protect anything.
 *
 * Why it is insecure:
 * - **25 usable keys** (26 shifts, one of them the identity): an eavesdropper tries them all
 *   in microseconds.
 * - **No authentication**: there is no tag, so anyone can change the ciphertext (flip a letter)
 *   and the recipient cannot notice; `open` never fails.
 * - **Frequency analysis**: each letter always maps to the same letter, so the letter
 *   frequencies of the language (E, T, A, ...) show through and reveal the shift even without
 *   trying keys; everything that is not a letter (digits, spaces, punctuation, emoji) is not
 *   encrypted at all.
 *
 * It sits behind the same `CipherSuite` interface as the real AEADs so learners can see the
 * difference, and it is always flagged `insecure: true`.
 *
 * Rules: key is 32 bytes (same as the AEADs, so the same key schedule feeds it), only
 * `key[0]` is used: `shift = 1 + key[0] % 25` (1..25, never the identity). Nonce length 0,
 * tag length 0, AAD ignored. Bytes `A`-`Z` and `a`-`z` rotate by `shift` within their case;
 * every other byte passes through unchanged. Because ASCII letter bytes never occur inside a
 * multi-byte UTF-8 sequence, UTF-8 text in gives UTF-8 text out, code point for code point.
 *
 * @module
 */
import type { CipherBackend } from "./_cipher_backend.ts";

/**
 * The Caesar shift (1..25) a key gives: `1 + key[0] % 25`.
 *
 * @param key The key; only its first byte is used.
 * @returns The shift, 1..25.
 * @throws {RangeError} If `key` is empty.
 */
export function caesarShift(key: Uint8Array): number {
  const first = key[0];
  if (first === undefined) throw new RangeError("Cannot derive a Caesar shift: empty key");
  return 1 + (first % 25);
}

function rotate(input: Uint8Array, shift: number): Uint8Array {
  const out = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c >= 65 && c <= 90) out[i] = 65 + ((c - 65 + shift) % 26);
    else if (c >= 97 && c <= 122) out[i] = 97 + ((c - 97 + shift) % 26);
    else out[i] = c;
  }
  return out;
}

/**
 * The Caesar teaching cipher as a cipher-suite backend (`backend: "hush"`, `insecure: true`).
 * Use it through the registry: `getCipherSuite("caesar")`.
 */
export const CAESAR: CipherBackend = {
  id: "caesar",
  wireId: 0xca,
  keyLength: 32,
  nonceLength: 0,
  tagLength: 0,
  insecure: true,
  backend: "hush",
  seal: (key, _nonce, plaintext) => rotate(plaintext, caesarShift(key)),
  open: (key, _nonce, sealed) => rotate(sealed, 26 - caesarShift(key)),
};
