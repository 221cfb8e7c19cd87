/**
 * Generates `tests/vectors/protocol_frames.json`: one vector per behaviour of the frame codec,
 * `{comment, hex, expect: "ok" | "<ERROR_CODE>", frame?}`. Deterministic: every byte comes from
 * fixed patterns, so regenerating gives no diff.
 *
 * Usage: `deno run --allow-write=tests/vectors tools/gen_protocol_vectors.ts [--check]`
 * (`--check` needs only --allow-read and exits 1 when the file differs).
 *
 * @module
 */

import { toHex } from "../crypto/bytes.ts";
import { encodeFrame, type Frame } from "../protocol/mod.ts";

/** One vector. */
export interface ProtocolVector {
  comment: string;
  hex: string;
  expect: string;
  /** For `ok` vectors: the decoded frame, byte fields as lowercase hex. */
  frame?: Record<string, unknown>;
}

function pattern(length: number, start: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) & 0xff;
  return out;
}

/** Converts a frame value to JSON with byte arrays as hex (the `frame` field of vectors). */
export function frameToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(frameToJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, frameToJson(v)]),
    );
  }
  return value;
}

const id = pattern(16, 0xa0);
const identityKey = pattern(32, 0x20);
const bundle = {
  identityDhKey: pattern(32, 0x40),
  identityDhSignature: pattern(64, 0x60),
  signedPrekeyId: 7,
  signedPrekey: pattern(32, 0x80),
  signedPrekeySignature: pattern(64, 0xa0),
};

const okFrames: [string, Frame][] = [
  ["HELLO: version 2, nick alice, identity key, no token", {
    type: "hello",
    version: 2,
    nick: "alice",
    identityKey,
    token: new Uint8Array(0),
  }],
  ["HELLO with a 6-byte token", {
    type: "hello",
    version: 2,
    nick: "bob",
    identityKey,
    token: new TextEncoder().encode("s3cret"),
  }],
  ["AUTH: a 64-byte signature", { type: "auth", signature: pattern(64, 0) }],
  ["PING from a client", { type: "ping", nonce: pattern(8, 1) }],
  ["PONG from a client", { type: "pong", nonce: pattern(8, 1) }],
  ["SEND: alice to bob, cipher 0x01 (aes-256-gcm), 4-byte body", {
    type: "send",
    id,
    cipher: 1,
    from: "alice",
    toKind: "nick",
    to: "bob",
    body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  }],
  ["SEND to the room lobby with an empty body", {
    type: "send",
    id,
    cipher: 2,
    from: "alice",
    toKind: "room",
    to: "lobby",
    body: new Uint8Array(0),
  }],
  ["DELIVER: the SEND above with byte 0 set to 0x90", {
    type: "deliver",
    id,
    cipher: 1,
    from: "alice",
    toKind: "nick",
    to: "bob",
    body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  }],
  ["ACK: 3 deliveries received", { type: "ack", count: 3 }],
  ["JOIN room rust-fans", { type: "join", room: "rust-fans" }],
  ["LEAVE room rust-fans", { type: "leave", room: "rust-fans" }],
  ["LIST the room lobby", { type: "list", room: "lobby" }],
  ["LIST every online user (empty room)", { type: "list", room: "" }],
  ["LIST_ROOMS", { type: "list-rooms" }],
  ["PUBLISH_KEYS with 2 one-time prekeys, keeping the old ones", {
    type: "publish-keys",
    replaceOneTimePrekeys: false,
    ...bundle,
    oneTimePrekeys: [{ id: 1, key: pattern(32, 0xc0) }, { id: 2, key: pattern(32, 0xe0) }],
  }],
  ["PUBLISH_KEYS replacing all one-time prekeys with none", {
    type: "publish-keys",
    replaceOneTimePrekeys: true,
    ...bundle,
    oneTimePrekeys: [],
  }],
  ["FETCH_KEYS for bob", { type: "fetch-keys", nick: "bob" }],
  ["FETCH_IDENTITY for bob (no one-time prekey is taken)", { type: "fetch-identity", nick: "bob" }],
  ["CHALLENGE: 32 random bytes", { type: "challenge", nonce: pattern(32, 0x10) }],
  [
    "READY: granted bob_1, 64 KiB frames, 30 s heartbeat, 2 queued, 5 one-time prekeys, bundle, durable store, epoch f0..f7",
    {
      type: "ready",
      nick: "bob_1",
      maxFrameBytes: 65536,
      heartbeatMs: 30000,
      queued: 2,
      oneTimePrekeys: 5,
      hasBundle: true,
      durable: true,
      epoch: pattern(8, 0xf0),
    },
  ],
  ["READY from a memory relay: no bundle, not durable, epoch 01..08", {
    type: "ready",
    nick: "alice",
    maxFrameBytes: 65536,
    heartbeatMs: 30000,
    queued: 0,
    oneTimePrekeys: 0,
    hasBundle: false,
    durable: false,
    epoch: pattern(8, 1),
  }],
  ["PING from the relay", { type: "relay-ping", nonce: pattern(8, 9) }],
  ["PONG from the relay", { type: "relay-pong", nonce: pattern(8, 9) }],
  ["ACCEPTED: 10 SENDs handled", { type: "accepted", count: 10 }],
  ["REJECTED: SEND #4 to carol refused, queue full", {
    type: "rejected",
    seq: 4,
    id,
    recipientKind: "nick",
    recipient: "carol",
    code: "QUEUE_FULL",
    detail: 'Queue of "carol" is full: 1000 envelopes',
  }],
  ["UNDELIVERED: alice's envelope to bob expired in bob's queue (queued at 1,700,000,000)", {
    type: "undelivered",
    id,
    from: "alice",
    toKind: "nick",
    to: "bob",
    holder: "bob",
    reason: "EXPIRED",
    enqueuedAt: 1_700_000_000,
  }],
  ["UNDELIVERED: alice's envelope to room dev held for carol, released nick", {
    type: "undelivered",
    id,
    from: "alice",
    toKind: "room",
    to: "dev",
    holder: "carol",
    reason: "NICK_RELEASED",
    enqueuedAt: 1_700_000_000,
  }],
  ["JOINED: bob joined lobby", { type: "joined", room: "lobby", nick: "bob" }],
  ["LEFT: bob left lobby", { type: "left", room: "lobby", nick: "bob" }],
  ["ROSTER of lobby: alice online, bob offline", {
    type: "roster",
    room: "lobby",
    members: [{ nick: "alice", online: true }, { nick: "bob", online: false }],
  }],
  ["ROOMS: lobby with 2 members", { type: "rooms", rooms: [{ room: "lobby", members: 2 }] }],
  ["PRESENCE: bob went offline", { type: "presence", nick: "bob", online: false }],
  ["PREKEY_COUNT: 3 left", { type: "prekey-count", count: 3 }],
  ["KEYS for bob with one one-time prekey", {
    type: "keys",
    nick: "bob",
    status: "ok",
    identityKey,
    bundle,
    oneTimePrekey: { id: 1, key: pattern(32, 0xc0) },
  }],
  ["KEYS for bob, no one-time prekey left", {
    type: "keys",
    nick: "bob",
    status: "ok",
    identityKey,
    bundle,
    oneTimePrekey: null,
  }],
  ["KEYS: no such user", { type: "keys", nick: "zed", status: "no-such-user" }],
  ["KEYS: user known, no bundle published", {
    type: "keys",
    nick: "bob",
    status: "no-bundle",
    identityKey,
  }],
  ["ERROR, fatal: AUTH_FAILED", {
    type: "error",
    fatal: true,
    code: "AUTH_FAILED",
    detail: "Signature does not verify",
  }],
  ["ERROR, not fatal, UTF-8 detail", {
    type: "error",
    fatal: false,
    code: "NOT_IN_ROOM",
    detail: 'Not a member of "café"',
  }],
];

function hex(frame: Frame): string {
  return toHex(encodeFrame(frame));
}

function okHex(prefix: string): string {
  const found = okFrames.find(([comment]) => comment.startsWith(prefix));
  if (found === undefined) throw new Error(`No ok vector "${prefix}"`);
  return hex(found[1]);
}

const send = okHex("SEND: alice to bob");
const hello = okHex("HELLO: version 2");
const ready = okHex("READY: granted bob_1");
const undelivered = okHex("UNDELIVERED: alice's envelope to bob");

const bad: [string, string, string][] = [
  ["empty frame", "", "EMPTY_FRAME"],
  ["type byte 0x00 is unused", "00", "UNKNOWN_FRAME_TYPE"],
  ["type byte 0x7f is unused", "7f00", "UNKNOWN_FRAME_TYPE"],
  ["HELLO cut inside the identity key", hello.slice(0, 30), "TRUNCATED_FRAME"],
  ["HELLO without its token length byte", hello.slice(0, -2), "TRUNCATED_FRAME"],
  ["HELLO with a trailing byte", hello + "00", "TRAILING_BYTES"],
  ["HELLO with an empty nick", "010002" + "00" + toHex(identityKey) + "00", "BAD_NICK"],
  [
    "HELLO with a space in the nick",
    "010002" + "02" + "6120" + toHex(identityKey) + "00",
    "BAD_NICK",
  ],
  [
    "HELLO with a 33-byte nick",
    "010002" + "21" + "61".repeat(33) + toHex(identityKey) + "00",
    "BAD_NICK",
  ],
  ["AUTH with a 63-byte signature", "02" + "00".repeat(63), "TRUNCATED_FRAME"],
  ["AUTH with a 65-byte signature", "02" + "00".repeat(65), "TRAILING_BYTES"],
  ["SEND shorter than the smallest envelope", send.slice(0, 40), "TRUNCATED_FRAME"],
  ["SEND with cipher id 0x00", send.slice(0, 34) + "00" + send.slice(36), "BAD_CIPHER_ID"],
  [
    "SEND with recipient kind 0x03",
    send.slice(0, 48) + "03" + send.slice(50),
    "BAD_RECIPIENT_KIND",
  ],
  [
    "SEND with sender length running past the end",
    send.slice(0, 36) + "ff" + send.slice(38),
    "TRUNCATED_FRAME",
  ],
  ["SEND with a dot in the recipient nick", send.slice(0, 52) + "2e" + send.slice(54), "BAD_NICK"],
  [
    "SEND to a room named with a slash",
    okHex("SEND to the room").slice(0, 52) + "2f" + okHex("SEND to the room").slice(54),
    "BAD_ROOM",
  ],
  ["JOIN with an empty room name", "2000", "BAD_ROOM"],
  ["LIST_ROOMS with a trailing byte", "2300", "TRAILING_BYTES"],
  ["ACK with 3 count bytes", "11000000", "TRUNCATED_FRAME"],
  [
    "PUBLISH_KEYS with reserved flag bit 1 set",
    "3002" + okHex("PUBLISH_KEYS replacing").slice(4),
    "BAD_FLAGS",
  ],
  [
    "PUBLISH_KEYS announcing 101 one-time prekeys",
    okHex("PUBLISH_KEYS replacing").slice(0, -4) + "0065",
    "TOO_MANY_ITEMS",
  ],
  ["ERROR with a lowercase code", "ff0001" + "61" + "0000", "BAD_CODE"],
  ["ERROR with an empty code", "ff0000" + "0000", "BAD_CODE"],
  ["ERROR detail that is not UTF-8", "ff00" + "0141" + "0002" + "c328", "BAD_UTF8"],
  ["KEYS with status 3", "b103626f6203", "BAD_FLAGS"],
  ["PRESENCE with state 2", "a403626f6202", "BAD_FLAGS"],
  ["ROSTER announcing 4097 members", "a2001001", "TOO_MANY_ITEMS"],
  [
    "READY in the version-1 layout (no epoch after the flags)",
    ready.slice(0, -16),
    "TRUNCATED_FRAME",
  ],
  [
    "READY with reserved flag bit 2 set",
    ready.slice(0, -18) + "07" + ready.slice(-16),
    "BAD_FLAGS",
  ],
  ["READY with a 9-byte epoch", ready + "00", "TRAILING_BYTES"],
  [
    "UNDELIVERED with a lowercase reason",
    undelivered.slice(0, -22) + "65" + undelivered.slice(-20),
    "BAD_CODE",
  ],
  [
    "UNDELIVERED with recipient kind 0x00",
    undelivered.slice(0, 46) + "00" + undelivered.slice(48),
    "BAD_RECIPIENT_KIND",
  ],
  ["UNDELIVERED without its enqueued-at time", undelivered.slice(0, -8), "TRUNCATED_FRAME"],
];

/** Builds every vector. */
export function buildVectors(): ProtocolVector[] {
  const out: ProtocolVector[] = okFrames.map(([comment, frame]) => ({
    comment,
    hex: hex(frame),
    expect: "ok",
    frame: frameToJson(frame) as Record<string, unknown>,
  }));
  for (const [comment, h, expect] of bad) out.push({ comment, hex: h, expect });
  out.push({
    comment: "a 65,537-byte frame is over the default maximum",
    hex: "22" + "00".repeat(65536),
    expect: "FRAME_TOO_LARGE",
  });
  return out;
}

if (import.meta.main) {
  const path = new URL("../tests/vectors/protocol_frames.json", import.meta.url);
  const text = JSON.stringify(buildVectors(), null, 1) + "\n";
  if (Deno.args.includes("--check")) {
    const old = await Deno.readTextFile(path);
    if (old !== text) {
      console.error("tests/vectors/protocol_frames.json is out of date: regenerate it");
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(path, text);
    console.log(`wrote ${buildVectors().length} vectors`);
  }
}
