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

/** Most message ids one retry request (or retry-failed answer) may name. */
export const MAX_RETRY_IDS = 64;

/**
 * What a pairwise chat payload can be: text, or one of the recovery payloads (`docs/E2E.md`,
 * "Recovery payloads"). Room payloads are always text.
 */
export type ChatContent =
  | { type: "text"; text: string; ts: number }
  /** "I could not open these messages of yours: send them again" (receiver to sender). */
  | { type: "retry"; ids: string[] }
  /** One of our messages sent again, pairwise, with its original id, room and timestamp. */
  | { type: "resend"; id: string; room: string | null; text: string; ts: number }
  /** "I cannot send these again" (sender to receiver), with a reason. */
  | { type: "retry-failed"; ids: string[]; reason: string };

/** The recovery payloads (every {@linkcode ChatContent} but text). */
export type ControlContent = Exclude<ChatContent, { type: "text" }>;

const MESSAGE_ID = /^[0-9a-f]{32}$/;

/**
 * Encodes a recovery payload: UTF-8 JSON `{"v":1,"type":...}` (fields in `docs/E2E.md`).
 *
 * @param content The payload.
 * @returns The bytes to encrypt pairwise.
 */
export function encodeControlPayload(content: ControlContent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, ...content }));
}

/**
 * Decodes a pairwise payload: a well-formed recovery payload, else text as
 * {@linkcode decodeChatPayload} reads it; never throws.
 *
 * @param bytes The decrypted payload bytes.
 * @param now The receiver's clock, used for text without a valid `ts`.
 * @returns The content.
 */
export function decodeChatContent(bytes: Uint8Array, now: number): ChatContent {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    if (typeof parsed === "object" && parsed !== null && parsed.v === 1) {
      const ids = idList(parsed.ids);
      if (parsed.type === "retry" && ids !== undefined) return { type: "retry", ids };
      if (parsed.type === "retry-failed" && ids !== undefined) {
        const reason = typeof parsed.reason === "string" ? parsed.reason.slice(0, 200) : "";
        return { type: "retry-failed", ids, reason };
      }
      if (
        parsed.type === "resend" && typeof parsed.id === "string" && MESSAGE_ID.test(parsed.id) &&
        typeof parsed.text === "string" &&
        (parsed.room === null || typeof parsed.room === "string")
      ) {
        const ts = typeof parsed.ts === "number" && Number.isFinite(parsed.ts) ? parsed.ts : now;
        return { type: "resend", id: parsed.id, room: parsed.room, text: parsed.text, ts };
      }
    }
  } catch {
    // not JSON: text
  }
  return { type: "text", ...decodeChatPayload(bytes, now) };
}

function idList(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RETRY_IDS) return undefined;
  if (!value.every((id) => typeof id === "string" && MESSAGE_ID.test(id))) return undefined;
  return value as string[];
}
