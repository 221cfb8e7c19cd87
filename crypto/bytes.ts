/**
 * Byte helpers every Hush module uses: hex, base64, UTF-8, concatenation and a constant-time
 * comparison. No other module writes its own.
 *
 * @module
 */

const HEX_DIGITS = "0123456789abcdef";

function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot use ${name}: expected a Uint8Array, got ${typeof value}`);
  }
}

/**
 * Encodes bytes as lowercase hexadecimal, two digits per byte.
 *
 * @param b The bytes.
 * @returns Lowercase hex, `2 * b.length` characters.
 * @throws {TypeError} If `b` is not a Uint8Array.
 */
export function toHex(b: Uint8Array): string {
  assertBytes(b, "bytes");
  let out = "";
  for (const byte of b) {
    out += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Decodes hexadecimal (either case, no prefix, no separators) into bytes.
 *
 * @param s An even number of hex digits.
 * @returns The decoded bytes, `s.length / 2` long.
 * @throws {TypeError} If `s` is not a string, has odd length or holds a non-hex character.
 */
export function fromHex(s: string): Uint8Array {
  if (typeof s !== "string") throw new TypeError(`Cannot decode hex: expected a string`);
  if (s.length % 2 !== 0) {
    throw new TypeError(`Cannot decode hex: odd length ${s.length}`);
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexValue(s.charCodeAt(2 * i));
    const lo = hexValue(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new TypeError(
        `Cannot decode hex: invalid character at offset ${hi < 0 ? 2 * i : 2 * i + 1}`,
      );
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_LOOKUP = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < BASE64_ALPHABET.length; i++) table[BASE64_ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/**
 * Encodes bytes as standard base64 (RFC 4648 §4, alphabet `A-Z a-z 0-9 + /`, `=` padding).
 *
 * @param b The bytes.
 * @returns Padded base64, `4 * ceil(b.length / 3)` characters.
 * @throws {TypeError} If `b` is not a Uint8Array.
 */
export function toBase64(b: Uint8Array): string {
  assertBytes(b, "bytes");
  let out = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += BASE64_ALPHABET[n >> 18]! + BASE64_ALPHABET[(n >> 12) & 63]! +
      BASE64_ALPHABET[(n >> 6) & 63]! + BASE64_ALPHABET[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    out += BASE64_ALPHABET[n >> 18]! + BASE64_ALPHABET[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    out += BASE64_ALPHABET[n >> 18]! + BASE64_ALPHABET[(n >> 12) & 63]! +
      BASE64_ALPHABET[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Decodes standard padded base64 (RFC 4648 §4). Strict: no whitespace, no URL-safe alphabet,
 * padding required, and unused trailing bits must be zero (so every byte string has exactly one
 * accepted encoding).
 *
 * @param s Padded base64 text.
 * @returns The decoded bytes.
 * @throws {TypeError} If `s` is not canonical padded base64.
 */
export function fromBase64(s: string): Uint8Array {
  if (typeof s !== "string") throw new TypeError(`Cannot decode base64: expected a string`);
  if (s.length % 4 !== 0) {
    throw new TypeError(`Cannot decode base64: length ${s.length} is not a multiple of 4`);
  }
  const padding = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const values = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const code = s.charCodeAt(i + j);
      if (last && code === 61 /* = */ && j >= 4 - padding) continue;
      const v = code < 128 ? BASE64_LOOKUP[code]! : -1;
      if (v < 0) {
        throw new TypeError(`Cannot decode base64: invalid character at offset ${i + j}`);
      }
      values[j] = v;
    }
    const n = (values[0]! << 18) | (values[1]! << 12) | (values[2]! << 6) | values[3]!;
    if (last && padding === 2 && (n & 0xffff) !== 0) {
      throw new TypeError(`Cannot decode base64: non-zero trailing bits`);
    }
    if (last && padding === 1 && (n & 0xff) !== 0) {
      throw new TypeError(`Cannot decode base64: non-zero trailing bits`);
    }
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

const ENCODER = new TextEncoder();
const LENIENT_DECODER = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const FATAL_DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Encodes a string as UTF-8 (lone surrogates become U+FFFD).
 *
 * @param s The text.
 * @returns Its UTF-8 bytes.
 */
export function utf8Encode(s: string): Uint8Array {
  return ENCODER.encode(s);
}

/**
 * Decodes UTF-8 bytes into a string. A leading BOM is kept.
 *
 * @param b The bytes.
 * @param options `fatal: true` throws on malformed UTF-8; by default malformed sequences become
 *   U+FFFD.
 * @returns The text.
 * @throws {TypeError} With `fatal: true`, if `b` is not well-formed UTF-8.
 */
export function utf8Decode(b: Uint8Array, options: { fatal?: boolean } = {}): string {
  assertBytes(b, "bytes");
  return (options.fatal ? FATAL_DECODER : LENIENT_DECODER).decode(b);
}

/**
 * Concatenates byte arrays into one new array.
 *
 * @param parts The arrays, in order.
 * @returns A fresh Uint8Array holding every part.
 * @throws {TypeError} If a part is not a Uint8Array.
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) {
    assertBytes(part, "part");
    length += part.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Compares two byte arrays. For arrays of equal length the time taken does not depend on their
 * contents (no early exit); arrays of different lengths are unequal at once.
 *
 * @param a First array.
 * @param b Second array.
 * @returns `true` if both hold the same bytes.
 * @throws {TypeError} If either is not a Uint8Array.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, "a");
  assertBytes(b, "b");
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
