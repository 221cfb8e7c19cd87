/**
 * Folder-private validation of names, codes and text fields.
 *
 * @module
 */

import { MAX_CODE_BYTES, MAX_NAME_BYTES } from "./frames.ts";

/** 1 for bytes allowed in nicks and room names: `A-Z a-z 0-9 _ -`. */
const NAME_BYTE = /* @__PURE__ */ (() => {
  const table = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1;
  table[0x5f] = 1;
  table[0x2d] = 1;
  return table;
})();

/** Whether `bytes[start, start+length)` is a valid nick / room name. */
export function isNameBytes(bytes: Uint8Array, start: number, length: number): boolean {
  if (length < 1 || length > MAX_NAME_BYTES) return false;
  for (let i = start; i < start + length; i++) {
    if (NAME_BYTE[bytes[i]!] !== 1) return false;
  }
  return true;
}

/** Whether a string is a valid nick / room name. */
export function isName(name: string): boolean {
  if (typeof name !== "string" || name.length < 1 || name.length > MAX_NAME_BYTES) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f || NAME_BYTE[c] !== 1) return false;
  }
  return true;
}

/** Whether a string is a valid error code: 1-32 of `A-Z 0-9 _`. */
export function isCode(code: string): boolean {
  if (typeof code !== "string" || code.length < 1 || code.length > MAX_CODE_BYTES) return false;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
    if (!ok) return false;
  }
  return true;
}

/** Decodes ASCII bytes (already validated) to a string. */
export function asciiString(bytes: Uint8Array, start: number, length: number): string {
  let s = "";
  for (let i = start; i < start + length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}
