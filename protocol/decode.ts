/**
 * Frame decoder with strict validation: any malformed input becomes a {@link ProtocolError}
 * with a stable code, never another exception.
 *
 * @module
 */

import { asciiString, isNameBytes } from "./_names.ts";
import { peekEnvelopeRoute } from "./envelope.ts";
import { ProtocolError } from "./errors.ts";
import {
  CHALLENGE_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  EPOCH_BYTES,
  type Frame,
  FRAME_NAME_BY_TYPE,
  frameDirection,
  KEY_BYTES,
  MAX_DETAIL_BYTES,
  MAX_LIST_ITEMS,
  MAX_ONE_TIME_PREKEYS_PER_FRAME,
  MESSAGE_ID_BYTES,
  type OneTimePrekey,
  PING_BYTES,
  type RecipientKind,
  type RoomEntry,
  type RosterEntry,
  SIGNATURE_BYTES,
  type SignedBundle,
} from "./frames.ts";

/** Options of {@link decodeFrame}. */
export interface DecodeOptions {
  /** Largest accepted frame in bytes (default 65,536). */
  maxFrameBytes?: number;
  /** When set, only frames sent by this side are accepted (others: `WRONG_DIRECTION`). */
  from?: "client" | "relay";
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 1;
  constructor(readonly bytes: Uint8Array, readonly what: string) {}

  need(n: number, field: string): void {
    if (this.pos + n > this.bytes.length) {
      throw new ProtocolError(
        "TRUNCATED_FRAME",
        `Cannot decode ${this.what}: frame ends inside ${field}`,
      );
    }
  }
  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field);
    const v = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
  }
  fixed(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  name(field: string, code: "BAD_NICK" | "BAD_ROOM", allowEmpty = false): string {
    const n = this.u8(`${field} length`);
    this.need(n, field);
    if (!(allowEmpty && n === 0) && !isNameBytes(this.bytes, this.pos, n)) {
      throw new ProtocolError(code, `Cannot decode ${this.what}: invalid ${field}`);
    }
    const s = asciiString(this.bytes, this.pos, n);
    this.pos += n;
    return s;
  }
  code(): string {
    const n = this.u8("code length");
    this.need(n, "code");
    if (n === 0 || n > 32) {
      throw new ProtocolError("BAD_CODE", `Cannot decode ${this.what}: code of ${n} bytes`);
    }
    for (let i = this.pos; i < this.pos + n; i++) {
      const c = this.bytes[i]!;
      if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) {
        throw new ProtocolError("BAD_CODE", `Cannot decode ${this.what}: invalid code byte`);
      }
    }
    const s = asciiString(this.bytes, this.pos, n);
    this.pos += n;
    return s;
  }
  text(field: string): string {
    const n = this.u16(`${field} length`);
    if (n > MAX_DETAIL_BYTES) {
      throw new ProtocolError("BAD_UTF8", `Cannot decode ${this.what}: ${field} over 1024 bytes`);
    }
    this.need(n, field);
    let s: string;
    try {
      s = UTF8.decode(this.bytes.subarray(this.pos, this.pos + n));
    } catch (cause) {
      throw new ProtocolError("BAD_UTF8", `Cannot decode ${this.what}: ${field} is not UTF-8`, {
        cause,
      });
    }
    this.pos += n;
    return s;
  }
  flag(field: string, max = 1): number {
    const v = this.u8(field);
    if (v > max) {
      throw new ProtocolError("BAD_FLAGS", `Cannot decode ${this.what}: ${field} is ${v}`);
    }
    return v;
  }
  kind(): RecipientKind {
    const v = this.u8("recipient kind");
    if (v === 1) return "nick";
    if (v === 2) return "room";
    throw new ProtocolError(
      "BAD_RECIPIENT_KIND",
      `Cannot decode ${this.what}: recipient kind ${v}`,
    );
  }
  bundle(): SignedBundle {
    return {
      identityDhKey: this.fixed(KEY_BYTES, "identity DH key"),
      identityDhSignature: this.fixed(SIGNATURE_BYTES, "identity DH signature"),
      signedPrekeyId: this.u32("signed prekey id"),
      signedPrekey: this.fixed(KEY_BYTES, "signed prekey"),
      signedPrekeySignature: this.fixed(SIGNATURE_BYTES, "signed prekey signature"),
    };
  }
  end(): void {
    if (this.pos !== this.bytes.length) {
      throw new ProtocolError(
        "TRAILING_BYTES",
        `Cannot decode ${this.what}: ${this.bytes.length - this.pos} bytes after the last field`,
      );
    }
  }
}

/**
 * Decodes one frame (without its TCP length prefix), validating every field.
 *
 * Envelope bodies are copied out (`slice`); the relay never calls this on envelopes, it uses
 * `peekEnvelopeRoute()`.
 *
 * @param bytes The frame's bytes.
 * @param options Size limit and expected direction.
 * @returns The frame value.
 * @throws {ProtocolError} With one of the codes of `ProtocolErrorCode`; never anything else.
 */
export function decodeFrame(bytes: Uint8Array, options: DecodeOptions = {}): Frame {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new ProtocolError("EMPTY_FRAME", "Cannot decode frame: it is empty");
  }
  if (bytes.length > max) {
    throw new ProtocolError(
      "FRAME_TOO_LARGE",
      `Cannot decode frame: ${bytes.length} bytes is over the maximum of ${max}`,
    );
  }
  const typeByte = bytes[0]!;
  const name = FRAME_NAME_BY_TYPE.get(typeByte);
  if (name === undefined) {
    throw new ProtocolError(
      "UNKNOWN_FRAME_TYPE",
      `Cannot decode frame: unknown type byte 0x${typeByte.toString(16).padStart(2, "0")}`,
    );
  }
  if (options.from !== undefined && frameDirection(typeByte) !== options.from) {
    throw new ProtocolError(
      "WRONG_DIRECTION",
      `Cannot decode frame: "${name}" is not sent by the ${options.from}`,
    );
  }
  const r = new Reader(bytes, name.toUpperCase().replace("-", "_"));
  let frame: Frame;
  switch (name) {
    case "hello": {
      const version = r.u16("version");
      const nick = r.name("nick", "BAD_NICK");
      const identityKey = r.fixed(KEY_BYTES, "identity key");
      const tokenLength = r.u8("token length");
      frame = { type: name, version, nick, identityKey, token: r.fixed(tokenLength, "token") };
      break;
    }
    case "auth":
      frame = { type: name, signature: r.fixed(SIGNATURE_BYTES, "signature") };
      break;
    case "ping":
    case "pong":
    case "relay-ping":
    case "relay-pong":
      frame = { type: name, nonce: r.fixed(PING_BYTES, "nonce") };
      break;
    case "send":
    case "deliver": {
      const route = peekEnvelopeRoute(bytes);
      frame = {
        type: name,
        id: bytes.slice(1, 1 + MESSAGE_ID_BYTES),
        cipher: route.cipher,
        from: asciiString(bytes, route.fromStart, route.fromEnd - route.fromStart),
        toKind: route.toKind,
        to: asciiString(bytes, route.toStart, route.toEnd - route.toStart),
        body: bytes.slice(route.bodyStart),
      };
      return frame;
    }
    case "ack":
    case "accepted":
      frame = { type: name, count: r.u32("count") };
      break;
    case "join":
    case "leave":
      frame = { type: name, room: r.name("room", "BAD_ROOM") };
      break;
    case "list":
      frame = { type: name, room: r.name("room", "BAD_ROOM", true) };
      break;
    case "list-rooms":
      frame = { type: name };
      break;
    case "publish-keys": {
      const replaceOneTimePrekeys = r.flag("flags") === 1;
      const bundle = r.bundle();
      const count = r.u16("one-time prekey count");
      if (count > MAX_ONE_TIME_PREKEYS_PER_FRAME) {
        throw new ProtocolError(
          "TOO_MANY_ITEMS",
          `Cannot decode PUBLISH_KEYS: ${count} one-time prekeys is over 100`,
        );
      }
      const oneTimePrekeys: OneTimePrekey[] = [];
      for (let i = 0; i < count; i++) {
        oneTimePrekeys.push({
          id: r.u32("one-time prekey id"),
          key: r.fixed(KEY_BYTES, "one-time prekey"),
        });
      }
      frame = { type: name, replaceOneTimePrekeys, ...bundle, oneTimePrekeys };
      break;
    }
    case "fetch-keys":
    case "fetch-identity":
      frame = { type: name, nick: r.name("nick", "BAD_NICK") };
      break;
    case "challenge":
      frame = { type: name, nonce: r.fixed(CHALLENGE_BYTES, "challenge") };
      break;
    case "ready": {
      const nick = r.name("nick", "BAD_NICK");
      const maxFrameBytes = r.u32("max frame bytes");
      const heartbeatMs = r.u32("heartbeat");
      const queued = r.u32("queued");
      const oneTimePrekeys = r.u16("one-time prekeys");
      const flags = r.flag("flags", 3);
      frame = {
        type: name,
        nick,
        maxFrameBytes,
        heartbeatMs,
        queued,
        oneTimePrekeys,
        hasBundle: (flags & 1) !== 0,
        durable: (flags & 2) !== 0,
        epoch: r.fixed(EPOCH_BYTES, "epoch"),
      };
      break;
    }
    case "rejected": {
      const seq = r.u32("seq");
      const id = r.fixed(MESSAGE_ID_BYTES, "message id");
      const recipientKind = r.kind();
      const recipient = r.name(
        "recipient",
        recipientKind === "nick" ? "BAD_NICK" : "BAD_ROOM",
      );
      frame = {
        type: name,
        seq,
        id,
        recipientKind,
        recipient,
        code: r.code(),
        detail: r.text("detail"),
      };
      break;
    }
    case "undelivered": {
      const id = r.fixed(MESSAGE_ID_BYTES, "message id");
      const from = r.name("sender", "BAD_NICK");
      const toKind = r.kind();
      const to = r.name("recipient", toKind === "nick" ? "BAD_NICK" : "BAD_ROOM");
      frame = {
        type: name,
        id,
        from,
        toKind,
        to,
        holder: r.name("holder", "BAD_NICK"),
        reason: r.code(),
        enqueuedAt: r.u32("enqueued at"),
      };
      break;
    }
    case "joined":
    case "left":
      frame = { type: name, room: r.name("room", "BAD_ROOM"), nick: r.name("nick", "BAD_NICK") };
      break;
    case "roster": {
      const room = r.name("room", "BAD_ROOM", true);
      const count = listCount(r);
      const members: RosterEntry[] = [];
      for (let i = 0; i < count; i++) {
        members.push({ nick: r.name("member", "BAD_NICK"), online: r.flag("member flags") === 1 });
      }
      frame = { type: name, room, members };
      break;
    }
    case "rooms": {
      const count = listCount(r);
      const rooms: RoomEntry[] = [];
      for (let i = 0; i < count; i++) {
        rooms.push({ room: r.name("room", "BAD_ROOM"), members: r.u16("members") });
      }
      frame = { type: name, rooms };
      break;
    }
    case "presence":
      frame = { type: name, nick: r.name("nick", "BAD_NICK"), online: r.flag("state") === 1 };
      break;
    case "prekey-count":
      frame = { type: name, count: r.u16("count") };
      break;
    case "keys": {
      const nick = r.name("nick", "BAD_NICK");
      const status = r.flag("status", 2);
      if (status === 1) frame = { type: name, nick, status: "no-such-user" };
      else if (status === 2) {
        frame = {
          type: name,
          nick,
          status: "no-bundle",
          identityKey: r.fixed(KEY_BYTES, "identity key"),
        };
      } else {
        const identityKey = r.fixed(KEY_BYTES, "identity key");
        const bundle = r.bundle();
        const has = r.flag("one-time prekey flag") === 1;
        const oneTimePrekey = has
          ? { id: r.u32("one-time prekey id"), key: r.fixed(KEY_BYTES, "one-time prekey") }
          : null;
        frame = { type: name, nick, status: "ok", identityKey, bundle, oneTimePrekey };
      }
      break;
    }
    case "error":
      frame = {
        type: name,
        fatal: r.flag("flags") === 1,
        code: r.code(),
        detail: r.text("detail"),
      };
      break;
    default: {
      const never: never = name;
      throw new ProtocolError("UNKNOWN_FRAME_TYPE", `Cannot decode frame: "${never}"`);
    }
  }
  r.end();
  return frame;
}

function listCount(r: Reader): number {
  const count = r.u16("count");
  if (count > MAX_LIST_ITEMS) {
    throw new ProtocolError(
      "TOO_MANY_ITEMS",
      `Cannot decode ${r.what}: ${count} items is over 4096`,
    );
  }
  return count;
}
