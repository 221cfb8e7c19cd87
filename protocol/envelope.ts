/**
 * Envelopes (SEND / DELIVER) and the relay's zero-copy view of their routing header.
 *
 * Layout (offsets in bytes, F = sender length, T = recipient length):
 * ```
 * 0        u8     type: 0x10 SEND (client to relay) or 0x90 DELIVER (relay to client)
 * 1        16     message id
 * 17       u8     cipher-suite wire id (0x01-0xFF; the relay does not interpret it)
 * 18       u8     F, sender nick length (1-32)
 * 19       F      sender nick (ASCII A-Z a-z 0-9 _ -)
 * 19+F     u8     recipient kind: 0x01 nick, 0x02 room
 * 20+F     u8     T, recipient length (1-32)
 * 21+F     T      recipient nick or room name
 * 21+F+T   rest   body: opaque, to the end of the frame (may be empty)
 * ```
 * A SEND and the DELIVER made from it differ only in byte 0, so the relay turns one into the
 * other with {@link toDeliverInPlace} and forwards the same bytes.
 *
 * @module
 */

import { asciiString, isNameBytes } from "./_names.ts";
import { ProtocolError } from "./errors.ts";
import { FrameType, MAX_NAME_BYTES, MESSAGE_ID_BYTES, type RecipientKind } from "./frames.ts";

/** Wire byte of a recipient kind. */
export const RECIPIENT_KIND_BYTE: Readonly<Record<RecipientKind, number>> = Object.freeze({
  nick: 0x01,
  room: 0x02,
});

/** Offset of the sender-length byte in an envelope. */
export const ENVELOPE_FROM_OFFSET = 18;

/** Smallest possible envelope (1-byte names, empty body). */
export const MIN_ENVELOPE_BYTES = 23;

/** Largest possible routing header (32-byte names). */
export const MAX_ENVELOPE_HEADER_BYTES: number = 21 + 2 * MAX_NAME_BYTES;

/**
 * Offsets of an envelope's routing header, read without touching the body.
 *
 * Every `*Start` / `*End` is a byte offset into the frame it was read from.
 */
export interface EnvelopeRoute {
  /** `FrameType.SEND` (0x10) or `FrameType.DELIVER` (0x90). */
  type: number;
  /** Cipher-suite wire id. */
  cipher: number;
  /** Sender nick bytes: `frame.subarray(fromStart, fromEnd)`. */
  fromStart: number;
  /** End (exclusive) of the sender nick bytes. */
  fromEnd: number;
  /** Recipient kind. */
  toKind: RecipientKind;
  /** Recipient name bytes: `frame.subarray(toStart, toEnd)`. */
  toStart: number;
  /** End (exclusive) of the recipient name bytes. */
  toEnd: number;
  /** Offset of the first body byte (the body runs to the end of the frame). */
  bodyStart: number;
}

/**
 * Reads and validates an envelope's routing header without reading or copying the body.
 *
 * Checks the type byte (SEND or DELIVER), the header lengths, the cipher id (non-zero), both
 * names' charsets and the recipient kind.
 *
 * @param frame A whole frame (no TCP length prefix).
 * @returns The header's offsets.
 * @throws {ProtocolError} `TRUNCATED_FRAME`, `UNKNOWN_FRAME_TYPE`, `BAD_CIPHER_ID`, `BAD_NICK`,
 *   `BAD_RECIPIENT_KIND`, `BAD_ROOM`.
 */
export function peekEnvelopeRoute(frame: Uint8Array): EnvelopeRoute {
  const type = frame[0];
  if (type !== FrameType.SEND && type !== FrameType.DELIVER) {
    throw new ProtocolError(
      "UNKNOWN_FRAME_TYPE",
      `Cannot read envelope: type byte ${type === undefined ? "missing" : `0x${hex2(type)}`}`,
    );
  }
  if (frame.length < MIN_ENVELOPE_BYTES) {
    throw new ProtocolError("TRUNCATED_FRAME", `Cannot read envelope: only ${frame.length} bytes`);
  }
  const cipher = frame[17]!;
  if (cipher === 0) throw new ProtocolError("BAD_CIPHER_ID", "Cannot read envelope: cipher id 0");
  const fromLength = frame[ENVELOPE_FROM_OFFSET]!;
  const fromStart = 19;
  const fromEnd = fromStart + fromLength;
  if (fromEnd + 2 > frame.length) {
    throw new ProtocolError("TRUNCATED_FRAME", "Cannot read envelope: sender runs past the end");
  }
  if (!isNameBytes(frame, fromStart, fromLength)) {
    throw new ProtocolError("BAD_NICK", "Cannot read envelope: invalid sender nick");
  }
  const kindByte = frame[fromEnd]!;
  let toKind: RecipientKind;
  if (kindByte === 0x01) toKind = "nick";
  else if (kindByte === 0x02) toKind = "room";
  else {
    throw new ProtocolError(
      "BAD_RECIPIENT_KIND",
      `Cannot read envelope: recipient kind 0x${hex2(kindByte)}`,
    );
  }
  const toLength = frame[fromEnd + 1]!;
  const toStart = fromEnd + 2;
  const toEnd = toStart + toLength;
  if (toEnd > frame.length) {
    throw new ProtocolError("TRUNCATED_FRAME", "Cannot read envelope: recipient runs past the end");
  }
  if (!isNameBytes(frame, toStart, toLength)) {
    throw new ProtocolError(
      toKind === "nick" ? "BAD_NICK" : "BAD_ROOM",
      `Cannot read envelope: invalid recipient ${toKind}`,
    );
  }
  return { type, cipher, fromStart, fromEnd, toKind, toStart, toEnd, bodyStart: toEnd };
}

/**
 * Reads the recipient name of a peeked envelope as a string.
 *
 * @param frame The frame given to {@link peekEnvelopeRoute}.
 * @param route Its route.
 * @returns The recipient nick or room.
 */
export function envelopeRecipient(frame: Uint8Array, route: EnvelopeRoute): string {
  return asciiString(frame, route.toStart, route.toEnd - route.toStart);
}

/**
 * Reads the sender nick of a peeked envelope as a string.
 *
 * @param frame The frame given to {@link peekEnvelopeRoute}.
 * @param route Its route.
 * @returns The sender nick.
 */
export function envelopeSender(frame: Uint8Array, route: EnvelopeRoute): string {
  return asciiString(frame, route.fromStart, route.fromEnd - route.fromStart);
}

/**
 * Tells whether a peeked envelope's sender equals `nick` (ASCII bytes), with a byte compare.
 *
 * @param frame The frame given to {@link peekEnvelopeRoute}.
 * @param route Its route.
 * @param nick The expected sender nick as ASCII bytes.
 * @returns True when the sender field is exactly `nick`.
 */
export function envelopeSenderIs(
  frame: Uint8Array,
  route: EnvelopeRoute,
  nick: Uint8Array,
): boolean {
  if (route.fromEnd - route.fromStart !== nick.length) return false;
  for (let i = 0; i < nick.length; i++) {
    if (frame[route.fromStart + i] !== nick[i]) return false;
  }
  return true;
}

/**
 * Reads the 16-byte message id of an envelope (a copy).
 *
 * @param frame An envelope frame at least 17 bytes long.
 * @returns The message id.
 */
export function envelopeMessageId(frame: Uint8Array): Uint8Array {
  return frame.slice(1, 1 + MESSAGE_ID_BYTES);
}

/**
 * Turns a SEND frame into a DELIVER frame by rewriting its type byte in place.
 *
 * @param frame A frame whose route was read by {@link peekEnvelopeRoute}.
 * @returns The same array, now a DELIVER.
 */
export function toDeliverInPlace(frame: Uint8Array): Uint8Array {
  frame[0] = FrameType.DELIVER;
  return frame;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}
