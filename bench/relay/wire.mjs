// The Hush frames a load-generator client needs, written from docs/PROTOCOL.md (version 2) alone
// (not from protocol/), so the bench is also an independent implementation of the spec. Only what the
// workloads use: HELLO, AUTH, SEND, ACK, JOIN, PONG out; CHALLENGE, READY, DELIVER, ACCEPTED,
// REJECTED, JOINED, ERROR, RELAY_PING in. Every frame is [u8 type][fields...], big-endian
// integers, names as [u8 length][ASCII]; over TCP each frame is preceded by a u32 BE length.

export const VERSION = 2;
export const T = Object.freeze({
  HELLO: 0x01,
  AUTH: 0x02,
  PONG: 0x0f,
  SEND: 0x10,
  ACK: 0x11,
  JOIN: 0x20,
  CHALLENGE: 0x81,
  READY: 0x82,
  RELAY_PING: 0x8e,
  DELIVER: 0x90,
  ACCEPTED: 0x91,
  REJECTED: 0x92,
  JOINED: 0xa0,
  ERROR: 0xff,
});
export const KIND_NICK = 0x01;
export const KIND_ROOM = 0x02;
export const MESSAGE_ID_BYTES = 16;
export const AUTH_LABEL = "hush-auth-v1";

const ascii = (s) => Buffer.from(s, "latin1");

/**
 * Frame bytes for one transport: over TCP `[u32 length][frame]`, over WebSocket the bare frame.
 * `make(length, fill)` allocates once and lets `fill(buf, offset)` write the frame at offset.
 */
export function framer(tcp) {
  const pre = tcp ? 4 : 0;
  return (length, fill) => {
    const buf = Buffer.allocUnsafe(pre + length);
    if (tcp) buf.writeUInt32BE(length, 0);
    fill(buf, pre);
    return buf;
  };
}

/** HELLO: [0x01][u16 version][u8 n][nick][32 identity key][u8 t][token]. */
export function hello(make, { nick, identityKey, token = new Uint8Array(0) }) {
  const n = ascii(nick);
  return make(1 + 2 + 1 + n.length + 32 + 1 + token.length, (b, o) => {
    b[o] = T.HELLO;
    b.writeUInt16BE(VERSION, o + 1);
    b[o + 3] = n.length;
    n.copy(b, o + 4);
    b.set(identityKey, o + 4 + n.length);
    b[o + 36 + n.length] = token.length;
    b.set(token, o + 37 + n.length);
  });
}

/** AUTH: [0x02][64-byte signature]. */
export const auth = (make, signature) =>
  make(65, (b, o) => {
    b[o] = T.AUTH;
    b.set(signature, o + 1);
  });

/** PONG: [0x0f][8 bytes of the RELAY_PING]. */
export const pong = (make, nonce) =>
  make(9, (b, o) => {
    b[o] = T.PONG;
    b.set(nonce, o + 1);
  });

/** ACK: [0x11][u32 DELIVERs received on this connection so far]. */
export const ack = (make, count) =>
  make(5, (b, o) => {
    b[o] = T.ACK;
    b.writeUInt32BE(count >>> 0, o + 1);
  });

/** JOIN: [0x20][u8 n][room]. */
export function join(make, room) {
  const r = ascii(room);
  return make(2 + r.length, (b, o) => {
    b[o] = T.JOIN;
    b[o + 1] = r.length;
    r.copy(b, o + 2);
  });
}

/**
 * The fixed part of a SEND after the message id:
 * [u8 cipher][u8 F][from][u8 kind][u8 T][to]; the frame is
 * [0x10][16 id][this][body to the end of the frame].
 */
export function routeHeader({ cipher, from, kind, to }) {
  const f = ascii(from), t = ascii(to);
  const h = Buffer.allocUnsafe(4 + f.length + t.length);
  h[0] = cipher;
  h[1] = f.length;
  f.copy(h, 2);
  h[2 + f.length] = kind;
  h[3 + f.length] = t.length;
  t.copy(h, 4 + f.length);
  return h;
}

/** SEND with the given route header, a 16-byte message id (read from ids at idOffset) and body. */
export const send = (make, route, ids, idOffset, body) =>
  make(1 + MESSAGE_ID_BYTES + route.length + body.length, (b, o) => {
    b[o] = T.SEND;
    ids.copy(b, o + 1, idOffset, idOffset + MESSAGE_ID_BYTES);
    route.copy(b, o + 17);
    b.set(body, o + 17 + route.length);
  });

/** Offset of the body in a DELIVER (or SEND) frame: after [type][id][cipher][F][from][kind][T][to]. */
export function bodyOffset(frame) {
  const f = frame[18];
  return 21 + f + frame[20 + f];
}

/** Reads [u8 n][ASCII] at offset; returns [string, next offset]. */
export function readName(frame, offset) {
  const n = frame[offset];
  return [frame.toString("latin1", offset + 1, offset + 1 + n), offset + 1 + n];
}

/**
 * The bytes the AUTH signature covers (PROTOCOL.md 3.1): "hush-auth-v1" || u16 version ||
 * challenge(32) || identityKey(32) || u8 N || nick (the nick the HELLO asked for).
 */
export function authTranscript({ challenge, identityKey, nick }) {
  const label = ascii(AUTH_LABEL), n = ascii(nick);
  const out = Buffer.allocUnsafe(label.length + 2 + 32 + 32 + 1 + n.length);
  label.copy(out, 0);
  const o = label.length;
  out.writeUInt16BE(VERSION, o);
  out.set(challenge, o + 2);
  out.set(identityKey, o + 34);
  out[o + 66] = n.length;
  n.copy(out, o + 67);
  return out;
}

/** REJECTED: [0x92][u32 seq][16 id][u8 kind][u8 n][recipient][u8 c][code][u16 d][detail]. */
export function readRejected(frame) {
  const [recipient, o] = readName(frame, 22);
  const [code, o2] = readName(frame, o);
  const d = frame.readUInt16BE(o2);
  return {
    seq: frame.readUInt32BE(1),
    recipient,
    code,
    detail: frame.toString("utf8", o2 + 2, o2 + 2 + d),
  };
}

/** ERROR: [0xff][u8 flags (bit 0 fatal)][u8 c][code][u16 d][detail]. */
export function readError(frame) {
  const [code, o] = readName(frame, 2);
  const d = frame.readUInt16BE(o);
  return { fatal: (frame[1] & 1) === 1, code, detail: frame.toString("utf8", o + 2, o + 2 + d) };
}
