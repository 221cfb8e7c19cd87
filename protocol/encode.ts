/**
 * Frame encoder: turns a {@link Frame} value into its bytes (layouts in `docs/PROTOCOL.md`).
 *
 * @module
 */

import { Writer } from "./_writer.ts";
import { RECIPIENT_KIND_BYTE } from "./envelope.ts";
import {
  CHALLENGE_BYTES,
  EPOCH_BYTES,
  type Frame,
  FRAME_TYPE_BY_NAME,
  KEY_BYTES,
  MAX_FRAME_BYTES_LIMIT,
  MAX_LIST_ITEMS,
  MAX_ONE_TIME_PREKEYS_PER_FRAME,
  MAX_TOKEN_BYTES,
  MESSAGE_ID_BYTES,
  PING_BYTES,
  SIGNATURE_BYTES,
  type SignedBundle,
} from "./frames.ts";

/**
 * Encodes one frame (without the TCP length prefix).
 *
 * @param frame The frame value.
 * @returns Its bytes, starting with the type byte.
 * @throws {RangeError} If a field is out of range (a name with a bad character, a key of the
 *   wrong length, too many items, a frame over 16 MiB): encoding never produces an invalid frame.
 * @throws {TypeError} If a field has the wrong type.
 */
export function encodeFrame(frame: Frame): Uint8Array {
  const type = FRAME_TYPE_BY_NAME[frame.type];
  if (type === undefined) throw new TypeError(`Cannot encode frame: unknown type "${frame.type}"`);
  const w = new Writer();
  w.u8(type, "type");
  switch (frame.type) {
    case "hello":
      w.u16(frame.version, "version").name(frame.nick, "nick").bytes(
        frame.identityKey,
        "identity key",
        KEY_BYTES,
      );
      if (frame.token.length > MAX_TOKEN_BYTES) {
        throw new RangeError(`Cannot encode token: ${frame.token.length} bytes is over 255`);
      }
      w.u8(frame.token.length, "token length").bytes(frame.token, "token");
      break;
    case "auth":
      w.bytes(frame.signature, "signature", SIGNATURE_BYTES);
      break;
    case "ping":
    case "pong":
    case "relay-ping":
    case "relay-pong":
      w.bytes(frame.nonce, "nonce", PING_BYTES);
      break;
    case "send":
    case "deliver":
      if (!Number.isInteger(frame.cipher) || frame.cipher < 1 || frame.cipher > 255) {
        throw new RangeError(`Cannot encode cipher id: ${frame.cipher} is not in 1..255`);
      }
      w.bytes(frame.id, "message id", MESSAGE_ID_BYTES).u8(frame.cipher, "cipher")
        .name(frame.from, "sender").u8(kindByte(frame.toKind), "recipient kind")
        .name(frame.to, "recipient").bytes(frame.body, "body");
      break;
    case "ack":
    case "accepted":
      w.u32(frame.count, "count");
      break;
    case "join":
    case "leave":
      w.name(frame.room, "room");
      break;
    case "list":
      w.name(frame.room, "room", true);
      break;
    case "list-rooms":
      break;
    case "publish-keys":
      if (frame.oneTimePrekeys.length > MAX_ONE_TIME_PREKEYS_PER_FRAME) {
        throw new RangeError(
          `Cannot encode one-time prekeys: ${frame.oneTimePrekeys.length} is over 100`,
        );
      }
      w.u8(frame.replaceOneTimePrekeys ? 1 : 0, "flags");
      writeBundle(w, frame);
      w.u16(frame.oneTimePrekeys.length, "one-time prekey count");
      for (const p of frame.oneTimePrekeys) {
        w.u32(p.id, "one-time prekey id").bytes(p.key, "one-time prekey", KEY_BYTES);
      }
      break;
    case "fetch-keys":
    case "fetch-identity":
      w.name(frame.nick, "nick");
      break;
    case "challenge":
      w.bytes(frame.nonce, "challenge", CHALLENGE_BYTES);
      break;
    case "ready":
      if (frame.maxFrameBytes > MAX_FRAME_BYTES_LIMIT) {
        throw new RangeError(`Cannot encode max frame size: ${frame.maxFrameBytes} is over 16 MiB`);
      }
      w.name(frame.nick, "nick").u32(frame.maxFrameBytes, "max frame bytes")
        .u32(frame.heartbeatMs, "heartbeat").u32(frame.queued, "queued")
        .u16(frame.oneTimePrekeys, "one-time prekeys")
        .u8((frame.hasBundle ? 1 : 0) | (frame.durable ? 2 : 0), "flags")
        .bytes(frame.epoch, "epoch", EPOCH_BYTES);
      break;
    case "rejected":
      w.u32(frame.seq, "seq").bytes(frame.id, "message id", MESSAGE_ID_BYTES)
        .u8(kindByte(frame.recipientKind), "recipient kind").name(frame.recipient, "recipient")
        .code(frame.code, "code").text(frame.detail, "detail");
      break;
    case "undelivered":
      w.bytes(frame.id, "message id", MESSAGE_ID_BYTES).name(frame.from, "sender")
        .u8(kindByte(frame.toKind), "recipient kind").name(frame.to, "recipient")
        .name(frame.holder, "holder").code(frame.reason, "reason")
        .u32(frame.enqueuedAt, "enqueued at");
      break;
    case "joined":
    case "left":
      w.name(frame.room, "room").name(frame.nick, "nick");
      break;
    case "roster":
      checkItems(frame.members.length);
      w.name(frame.room, "room", true).u16(frame.members.length, "member count");
      for (const m of frame.members) w.name(m.nick, "member").u8(m.online ? 1 : 0, "flags");
      break;
    case "rooms":
      checkItems(frame.rooms.length);
      w.u16(frame.rooms.length, "room count");
      for (const r of frame.rooms) w.name(r.room, "room").u16(r.members, "members");
      break;
    case "presence":
      w.name(frame.nick, "nick").u8(frame.online ? 1 : 0, "state");
      break;
    case "prekey-count":
      w.u16(frame.count, "count");
      break;
    case "keys":
      w.name(frame.nick, "nick");
      if (frame.status === "no-such-user") {
        w.u8(1, "status");
      } else if (frame.status === "no-bundle") {
        w.u8(2, "status").bytes(frame.identityKey, "identity key", KEY_BYTES);
      } else {
        w.u8(0, "status").bytes(frame.identityKey, "identity key", KEY_BYTES);
        writeBundle(w, frame.bundle);
        if (frame.oneTimePrekey === null) w.u8(0, "one-time prekey flag");
        else {
          w.u8(1, "one-time prekey flag").u32(frame.oneTimePrekey.id, "one-time prekey id")
            .bytes(frame.oneTimePrekey.key, "one-time prekey", KEY_BYTES);
        }
      }
      break;
    case "error":
      w.u8(frame.fatal ? 1 : 0, "flags").code(frame.code, "code").text(frame.detail, "detail");
      break;
    default: {
      const never: never = frame;
      throw new TypeError(`Cannot encode frame: ${JSON.stringify(never)}`);
    }
  }
  const out = w.finish();
  if (out.length > MAX_FRAME_BYTES_LIMIT) {
    throw new RangeError(`Cannot encode frame: ${out.length} bytes is over 16 MiB`);
  }
  return out;
}

/**
 * Prefixes a frame with its u32 big-endian length, as sent over TCP (a copy).
 *
 * @param frame An encoded frame.
 * @returns `u32be(frame.length) || frame`.
 */
export function withLengthPrefix(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  new DataView(out.buffer).setUint32(0, frame.length);
  out.set(frame, 4);
  return out;
}

function writeBundle(w: Writer, b: SignedBundle): void {
  w.bytes(b.identityDhKey, "identity DH key", KEY_BYTES)
    .bytes(b.identityDhSignature, "identity DH signature", SIGNATURE_BYTES)
    .u32(b.signedPrekeyId, "signed prekey id")
    .bytes(b.signedPrekey, "signed prekey", KEY_BYTES)
    .bytes(b.signedPrekeySignature, "signed prekey signature", SIGNATURE_BYTES);
}

function kindByte(kind: string): number {
  const b = RECIPIENT_KIND_BYTE[kind as "nick" | "room"];
  if (b === undefined) throw new RangeError(`Cannot encode recipient kind: "${kind}"`);
  return b;
}

function checkItems(n: number): void {
  if (n > MAX_LIST_ITEMS) throw new RangeError(`Cannot encode list: ${n} items is over 4096`);
}
