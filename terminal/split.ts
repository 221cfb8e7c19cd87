/**
 * Lines over the size of one message (`MAX_TEXT_BYTES`, 16 KiB of text in the encrypted payload):
 * how big a line is as the payload counts it, and how to cut it into messages that fit, at
 * spaces where possible and never inside a character.
 *
 * @module
 */

import { MAX_TEXT_BYTES } from "../chat/mod.ts";

const encoder = new TextEncoder();

/**
 * The size of a text as one message's payload counts it (UTF-8 of the JSON string, escapes
 * included).
 *
 * @param text The text.
 * @returns Bytes.
 */
export function textBytes(text: string): number {
  return encoder.encode(JSON.stringify(text)).length - 2;
}

/**
 * Whether a text fits in one message.
 *
 * @param text The text.
 * @param maxBytes The limit (default {@linkcode MAX_TEXT_BYTES}).
 * @returns True when it fits.
 */
export function fitsOneMessage(text: string, maxBytes: number = MAX_TEXT_BYTES): boolean {
  return textBytes(text) <= maxBytes;
}

/**
 * Cuts a text into parts that each fit in one message, preferring to cut after a space or line
 * break in the last quarter of a part, and never inside a character (code point).
 *
 * @param text The text.
 * @param maxBytes The limit per part (default {@linkcode MAX_TEXT_BYTES}).
 * @returns The parts, in order; joined they give the text back.
 */
export function splitText(text: string, maxBytes: number = MAX_TEXT_BYTES): string[] {
  const chars = Array.from(text);
  const parts: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let size = 0;
    let end = start;
    let lastSpace = -1;
    while (end < chars.length) {
      const char = chars[end] ?? "";
      const charBytes = textBytes(char);
      if (size + charBytes > maxBytes) break;
      size += charBytes;
      end++;
      if (/\s/u.test(char) && size >= maxBytes * 0.75) lastSpace = end;
    }
    if (end === start) end = start + 1; // a single character over the limit: cannot happen at 16 KiB
    if (end < chars.length && lastSpace > start) end = lastSpace;
    parts.push(chars.slice(start, end).join(""));
    start = end;
  }
  return parts;
}
