/**
 * The chat payload: what the engine puts inside the sessions library's text content (the bytes
 * that are encrypted end to end), and reads back out.
 *
 * Layout: UTF-8 JSON `{"v":1,"text":"...","ts":1732364800000}`, where `ts` is the sender's clock
 * in milliseconds since the Unix epoch when the message was written. Unknown fields are ignored
 * (room for files and reactions later). A payload that is not such JSON is shown as its UTF-8
 * text with the receiver's clock, so a minimal client may send bare UTF-8.
 *
 * @module
 */

/** Largest text the engine accepts from a user, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16 * 1024;

/** A decoded chat payload. */
export interface ChatPayload {
  /** The message text (any Unicode). */
  text: string;
  /** Sender's timestamp, milliseconds since the Unix epoch. */
  ts: number;
}

/**
 * Encodes a chat payload.
 *
 * @param payload Text and timestamp.
 * @returns UTF-8 JSON bytes.
 * @throws {RangeError} When the text is over {@linkcode MAX_TEXT_BYTES}.
 */
export function encodeChatPayload(payload: ChatPayload): Uint8Array {
  const bytes = new TextEncoder().encode(
    JSON.stringify({ v: 1, text: payload.text, ts: payload.ts }),
  );
  if (bytes.length > MAX_TEXT_BYTES + 64) {
    throw new RangeError(`Message is too long: over ${MAX_TEXT_BYTES} bytes`);
  }
  return bytes;
}

/**
 * Decodes a chat payload; never throws.
 *
 * @param bytes The decrypted payload bytes.
 * @param now The receiver's clock, used when the payload carries no valid `ts`.
 * @returns The text and timestamp.
 */
export function decodeChatPayload(bytes: Uint8Array, now: number): ChatPayload {
  const text = new TextDecoder().decode(bytes);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "text" in parsed) {
      const value = parsed as { text: unknown; ts?: unknown };
      if (typeof value.text === "string") {
        const ts = typeof value.ts === "number" && Number.isFinite(value.ts) ? value.ts : now;
        return { text: value.text, ts };
      }
    }
  } catch {
    // not JSON: bare UTF-8 text
  }
  return { text, ts: now };
}
