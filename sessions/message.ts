/**
 * Byte layouts of every end-to-end body (the opaque envelope body the relay forwards) and of the
 * plaintext content inside pairwise messages. `docs/E2E.md` describes the same layouts in prose.
 *
 * Every body starts with a type byte and a version byte (1 for ratchet and room bodies, 2 for
 * initial bodies: the X3DH associated data binds both nicks since version 2):
 *
 * | type | name    | layout after `type, version`                                           |
 * |------|---------|------------------------------------------------------------------------|
 * | 0x01 | initial | X3DH fields (169 bytes), then a whole ratchet body                     |
 * | 0x02 | ratchet | suite(1) ratchetKey(32) pn(u32) n(u32) ciphertext                      |
 * | 0x03 | room    | suite(1) keyId(u32) iteration(u32) ciphertext signature(64)            |
 *
 * All integers are big-endian.
 *
 * @module
 */
import { ByteReader, ByteWriter } from "./_codec.ts";
import {
  BODY_INITIAL,
  BODY_RATCHET,
  BODY_ROOM,
  BODY_VERSION,
  CONTENT_SENDER_KEY,
  CONTENT_TEXT,
  INITIAL_BODY_VERSION,
  MAX_ROOM_NAME_BYTES,
} from "./constants.ts";
import { SessionError } from "./errors.ts";

/** Length of a ratchet header: type(1) version(1) suite(1) ratchetKey(32) pn(4) n(4). */
export const RATCHET_HEADER_LENGTH = 43;
/** Length of the X3DH prefix of an initial body, before the embedded ratchet body. */
export const INITIAL_PREFIX_LENGTH = 171;
/** Length of a room header: type(1) version(1) suite(1) keyId(4) iteration(4). */
export const ROOM_HEADER_LENGTH = 11;
/** Length of the Ed25519 signature that ends a room body. */
export const ROOM_SIGNATURE_LENGTH = 64;

/** A parsed ratchet body (type 0x02). */
export interface RatchetMessage {
  /** Suite wire id (authenticated). */
  suiteWireId: number;
  /** Sender's current X25519 ratchet public key. */
  ratchetKey: Uint8Array;
  /** Number of messages in the sender's previous sending chain. */
  previousCount: number;
  /** Message number in the current sending chain. */
  n: number;
  /** The 43 header bytes exactly as received (part of the associated data). */
  header: Uint8Array;
  /** Suite output (ciphertext and tag), plus the session MAC for tagless suites. */
  ciphertext: Uint8Array;
}

/** The X3DH fields of an initial body (type 0x01). */
export interface InitialFields {
  /** Initiator's Ed25519 identity public key. */
  identityKey: Uint8Array;
  /** Initiator's X25519 identity DH public key. */
  identityDhKey: Uint8Array;
  /** Ed25519 signature of `"hush-identity-dh-v1" || identityDhKey`. */
  identityDhSignature: Uint8Array;
  /** Initiator's ephemeral X25519 public key (the "base key"). */
  baseKey: Uint8Array;
  /** Id of the responder's signed prekey used. */
  signedPrekeyId: number;
  /** Id of the responder's one-time prekey used, if any. */
  oneTimePrekeyId?: number;
}

/** A parsed initial body. */
export interface InitialMessage extends InitialFields {
  /** The embedded ratchet message. */
  message: RatchetMessage;
}

/** A parsed room body (type 0x03). */
export interface RoomMessage {
  /** Suite wire id (authenticated). */
  suiteWireId: number;
  /** Sender key id. */
  keyId: number;
  /** Chain iteration of this message. */
  iteration: number;
  /** The 11 header bytes as received. */
  header: Uint8Array;
  /** Sealed bytes. */
  ciphertext: Uint8Array;
  /** The 64-byte Ed25519 signature. */
  signature: Uint8Array;
  /** Everything before the signature (what the signature covers, after the label and room). */
  signed: Uint8Array;
}

/** A sender-key distribution (content type 0x02 inside a pairwise message). */
export interface SenderKeyDistribution {
  /** Room name. */
  room: string;
  /** Sender key id (random u32 chosen by the sender). */
  keyId: number;
  /** Chain iteration the chain key belongs to. */
  iteration: number;
  /** The sender chain key at `iteration` (32 bytes). */
  chainKey: Uint8Array;
  /** The sender's Ed25519 room-signing public key (32 bytes). */
  signingKey: Uint8Array;
}

/** Plaintext content of a pairwise message. */
export type Content =
  | { type: "text"; body: Uint8Array }
  | { type: "sender-key"; distribution: SenderKeyDistribution };

function checkVersion(version: number): void {
  if (version !== BODY_VERSION) {
    throw new SessionError("UNSUPPORTED_VERSION", `Unsupported body version: "${version}"`);
  }
}

/**
 * Refuses an X25519 public key with its top bit set: X25519 ignores that bit, so two encodings
 * would name one key (a relay could otherwise re-encode a base key to dodge replay detection).
 */
function checkCanonicalKey(key: Uint8Array, name: string): void {
  if ((key[31]! & 0x80) !== 0) {
    throw new SessionError("BAD_MESSAGE", `Non-canonical X25519 ${name}: top bit set`);
  }
}

function checkLength(bytes: Uint8Array, length: number, name: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new RangeError(`Cannot encode ${name}: expected ${length} bytes`);
  }
}

/**
 * Encodes a ratchet header (the first 43 bytes of a ratchet body).
 *
 * @param fields Suite wire id, ratchet key (32 bytes), previous chain length, message number.
 * @returns The 43 header bytes.
 * @throws {RangeError} On a key of the wrong length or a count out of u32 range.
 */
export function encodeRatchetHeader(
  fields: { suiteWireId: number; ratchetKey: Uint8Array; previousCount: number; n: number },
): Uint8Array {
  checkLength(fields.ratchetKey, 32, "ratchet key");
  for (const count of [fields.previousCount, fields.n]) {
    if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
      throw new RangeError(`Value out of u32 range: "${count}"`);
    }
  }
  const out = new Uint8Array(RATCHET_HEADER_LENGTH);
  out[0] = BODY_RATCHET;
  out[1] = BODY_VERSION;
  out[2] = fields.suiteWireId;
  out.set(fields.ratchetKey, 3);
  const view = new DataView(out.buffer);
  view.setUint32(35, fields.previousCount);
  view.setUint32(39, fields.n);
  return out;
}

/**
 * Parses a ratchet body (type 0x02).
 *
 * @param body The body bytes.
 * @returns The parsed message.
 * @throws {SessionError} `BAD_MESSAGE` (wrong type, truncated), `UNSUPPORTED_VERSION`.
 */
export function decodeRatchetMessage(body: Uint8Array): RatchetMessage {
  const reader = new ByteReader(body, "ratchet message");
  const type = reader.u8();
  if (type !== BODY_RATCHET) {
    throw new SessionError("BAD_MESSAGE", `Expected a ratchet message: type byte "${type}"`);
  }
  checkVersion(reader.u8());
  const suiteWireId = reader.u8();
  const ratchetKey = reader.bytes(32);
  checkCanonicalKey(ratchetKey, "ratchet key");
  const previousCount = reader.u32();
  const n = reader.u32();
  return {
    suiteWireId,
    ratchetKey,
    previousCount,
    n,
    header: body.slice(0, RATCHET_HEADER_LENGTH),
    ciphertext: reader.rest(),
  };
}

/**
 * Encodes the X3DH prefix of an initial body (171 bytes).
 *
 * @param fields The X3DH fields.
 * @returns The prefix; append a whole ratchet body to make an initial body.
 * @throws {RangeError} On fields of the wrong length.
 */
export function encodeInitialPrefix(fields: InitialFields): Uint8Array {
  checkLength(fields.identityKey, 32, "identity key");
  checkLength(fields.identityDhKey, 32, "identity DH key");
  checkLength(fields.identityDhSignature, 64, "identity DH signature");
  checkLength(fields.baseKey, 32, "base key");
  const hasOneTime = fields.oneTimePrekeyId !== undefined;
  return new ByteWriter().u8(BODY_INITIAL).u8(INITIAL_BODY_VERSION)
    .bytes(fields.identityKey).bytes(fields.identityDhKey).bytes(fields.identityDhSignature)
    .bytes(fields.baseKey).u32(fields.signedPrekeyId).u8(hasOneTime ? 1 : 0)
    .u32(fields.oneTimePrekeyId ?? 0).finish();
}

/**
 * Parses an initial body (type 0x01).
 *
 * @param body The body bytes.
 * @returns The X3DH fields and the embedded ratchet message.
 * @throws {SessionError} `BAD_MESSAGE`, `UNSUPPORTED_VERSION`.
 */
export function decodeInitialMessage(body: Uint8Array): InitialMessage {
  const reader = new ByteReader(body, "initial message");
  const type = reader.u8();
  if (type !== BODY_INITIAL) {
    throw new SessionError("BAD_MESSAGE", `Expected an initial message: type byte "${type}"`);
  }
  const version = reader.u8();
  if (version === 1) {
    throw new SessionError(
      "UNSUPPORTED_VERSION",
      "First message refused: it was written by an older Hush (initial body version 1, which " +
        "does not bind the sender's and recipient's nicks, so a relay could relabel it); the " +
        "sender must update",
    );
  }
  if (version !== INITIAL_BODY_VERSION) {
    throw new SessionError("UNSUPPORTED_VERSION", `Unsupported initial body version: "${version}"`);
  }
  const identityKey = reader.bytes(32);
  const identityDhKey = reader.bytes(32);
  const identityDhSignature = reader.bytes(64);
  const baseKey = reader.bytes(32);
  checkCanonicalKey(identityDhKey, "identity DH key");
  checkCanonicalKey(baseKey, "base key");
  const signedPrekeyId = reader.u32();
  const flags = reader.u8();
  const oneTimeId = reader.u32();
  if (flags > 1) throw new SessionError("BAD_MESSAGE", `Unknown initial flags: "${flags}"`);
  if (flags === 0 && oneTimeId !== 0) {
    throw new SessionError("BAD_MESSAGE", "One-time prekey id set without its flag");
  }
  const message = decodeRatchetMessage(body.subarray(INITIAL_PREFIX_LENGTH));
  const fields: InitialMessage = {
    identityKey,
    identityDhKey,
    identityDhSignature,
    baseKey,
    signedPrekeyId,
    message,
  };
  if (flags === 1) fields.oneTimePrekeyId = oneTimeId;
  return fields;
}

/**
 * Encodes a room header (the first 11 bytes of a room body).
 *
 * @param fields Suite wire id, sender key id, chain iteration.
 * @returns The 11 header bytes.
 */
export function encodeRoomHeader(
  fields: { suiteWireId: number; keyId: number; iteration: number },
): Uint8Array {
  return new ByteWriter().u8(BODY_ROOM).u8(BODY_VERSION).u8(fields.suiteWireId)
    .u32(fields.keyId).u32(fields.iteration).finish();
}

/**
 * Parses a room body (type 0x03).
 *
 * @param body The body bytes.
 * @returns The parsed room message.
 * @throws {SessionError} `BAD_MESSAGE`, `UNSUPPORTED_VERSION`.
 */
export function decodeRoomMessage(body: Uint8Array): RoomMessage {
  const reader = new ByteReader(body, "room message");
  const type = reader.u8();
  if (type !== BODY_ROOM) {
    throw new SessionError("BAD_MESSAGE", `Expected a room message: type byte "${type}"`);
  }
  checkVersion(reader.u8());
  const suiteWireId = reader.u8();
  const keyId = reader.u32();
  const iteration = reader.u32();
  if (reader.remaining < ROOM_SIGNATURE_LENGTH) {
    throw new SessionError("BAD_MESSAGE", "Truncated room message: no room for the signature");
  }
  const end = body.length - ROOM_SIGNATURE_LENGTH;
  return {
    suiteWireId,
    keyId,
    iteration,
    header: body.slice(0, ROOM_HEADER_LENGTH),
    ciphertext: body.slice(ROOM_HEADER_LENGTH, end),
    signature: body.slice(end),
    signed: body.slice(0, end),
  };
}

/** The kind of a body, from its first byte. */
export type BodyKind = "initial" | "ratchet" | "room";

/**
 * Tells what a body is without opening it (the teaching "wire" view uses this).
 *
 * @param body A body as received from the relay.
 * @returns The kind and the suite wire id found in the body's authenticated header.
 * @throws {SessionError} `BAD_MESSAGE` on an empty body or unknown type, `UNSUPPORTED_VERSION`.
 */
export function describeBody(body: Uint8Array): { kind: BodyKind; suiteWireId: number } {
  const type = body[0];
  if (type === BODY_INITIAL) {
    return { kind: "initial", suiteWireId: decodeInitialMessage(body).message.suiteWireId };
  }
  if (type === BODY_RATCHET) {
    return { kind: "ratchet", suiteWireId: decodeRatchetMessage(body).suiteWireId };
  }
  if (type === BODY_ROOM) return { kind: "room", suiteWireId: decodeRoomMessage(body).suiteWireId };
  throw new SessionError("BAD_MESSAGE", `Unknown body type: "${type ?? "empty"}"`);
}

/**
 * Encodes pairwise plaintext content.
 *
 * TEXT: `0x01 || bytes`. SENDER_KEY: `0x02 || u16 roomLength || room (UTF-8) || u32 keyId ||
 * u32 iteration || chainKey(32) || signingKey(32)`.
 *
 * @param content The content.
 * @returns The plaintext bytes.
 * @throws {RangeError} On a room name longer than 255 UTF-8 bytes or keys of the wrong length.
 */
export function encodeContent(content: Content): Uint8Array {
  if (content.type === "text") {
    return new ByteWriter().u8(CONTENT_TEXT).bytes(content.body).finish();
  }
  const d = content.distribution;
  const room = new TextEncoder().encode(d.room);
  if (room.length === 0 || room.length > MAX_ROOM_NAME_BYTES) {
    throw new RangeError(`Cannot encode room name: "${d.room}"`);
  }
  checkLength(d.chainKey, 32, "chain key");
  checkLength(d.signingKey, 32, "signing key");
  return new ByteWriter().u8(CONTENT_SENDER_KEY).bytes16(room).u32(d.keyId).u32(d.iteration)
    .bytes(d.chainKey).bytes(d.signingKey).finish();
}

/**
 * Parses pairwise plaintext content.
 *
 * @param plaintext Decrypted bytes.
 * @returns The content.
 * @throws {SessionError} `BAD_MESSAGE` on an unknown content type or a malformed distribution.
 */
export function decodeContent(plaintext: Uint8Array): Content {
  const reader = new ByteReader(plaintext, "content");
  const type = reader.u8();
  if (type === CONTENT_TEXT) return { type: "text", body: reader.rest() };
  if (type === CONTENT_SENDER_KEY) {
    const roomBytes = reader.bytes16();
    let room: string;
    try {
      room = new TextDecoder("utf-8", { fatal: true }).decode(roomBytes);
    } catch (cause) {
      throw new SessionError("BAD_MESSAGE", "Room name is not UTF-8", { cause });
    }
    if (roomBytes.length === 0 || roomBytes.length > MAX_ROOM_NAME_BYTES) {
      throw new SessionError("BAD_MESSAGE", `Bad room name length: "${roomBytes.length}"`);
    }
    const keyId = reader.u32();
    const iteration = reader.u32();
    const chainKey = reader.bytes(32);
    const signingKey = reader.bytes(32);
    reader.end();
    return { type: "sender-key", distribution: { room, keyId, iteration, chainKey, signingKey } };
  }
  throw new SessionError("BAD_MESSAGE", `Unknown content type: "${type}"`);
}
