/**
 * The frames of the Hush wire protocol, as TypeScript values, and their type bytes.
 *
 * The byte layout of each frame is in `docs/PROTOCOL.md`; {@link encodeFrame} and
 * {@link decodeFrame} (in `encode.ts` / `decode.ts`) convert between these values and bytes.
 * Client-to-relay frames have type bytes 0x01-0x7F, relay-to-client frames 0x80-0xFF; a SEND
 * (0x10) becomes a DELIVER (0x90) by setting the high bit of its first byte.
 *
 * @module
 */

/** The protocol version this code speaks (u16 in HELLO). */
export const PROTOCOL_VERSION = 2;

/** Default maximum size of one frame in bytes (type byte included, TCP length prefix excluded). */
export const DEFAULT_MAX_FRAME_BYTES = 65_536;

/** Largest maximum frame size a relay may announce (16 MiB). */
export const MAX_FRAME_BYTES_LIMIT = 16 * 1024 * 1024;

/** Length of an envelope message id in bytes. */
export const MESSAGE_ID_BYTES = 16;

/** Length of a relay challenge nonce in bytes. */
export const CHALLENGE_BYTES = 32;

/** Length of the relay's storage epoch in READY, in bytes. */
export const EPOCH_BYTES = 8;

/** Length of an Ed25519 or X25519 public key in bytes. */
export const KEY_BYTES = 32;

/** Length of an Ed25519 signature in bytes. */
export const SIGNATURE_BYTES = 64;

/** Length of the opaque PING / PONG payload in bytes. */
export const PING_BYTES = 8;

/** Longest nick or room name in bytes. */
export const MAX_NAME_BYTES = 32;

/** Longest HELLO token in bytes. */
export const MAX_TOKEN_BYTES = 255;

/** Longest error code in bytes. */
export const MAX_CODE_BYTES = 32;

/** Longest error detail text in UTF-8 bytes. */
export const MAX_DETAIL_BYTES = 1024;

/** Most one-time prekeys in one PUBLISH_KEYS frame. */
export const MAX_ONE_TIME_PREKEYS_PER_FRAME = 100;

/** Most entries in one ROSTER or ROOMS frame. */
export const MAX_LIST_ITEMS = 4096;

/** The room every client joins when it becomes ready. */
export const DEFAULT_ROOM = "lobby";

/** ASCII label that starts the AUTH transcript (see `authTranscript()`). */
export const AUTH_LABEL = "hush-auth-v1";

/** The type byte of every frame, by SCREAMING_SNAKE name. */
export interface FrameTypeBytes {
  /** HELLO. */
  readonly HELLO: 0x01;
  /** AUTH. */
  readonly AUTH: 0x02;
  /** PING. */
  readonly PING: 0x0e;
  /** PONG. */
  readonly PONG: 0x0f;
  /** SEND. */
  readonly SEND: 0x10;
  /** ACK. */
  readonly ACK: 0x11;
  /** JOIN. */
  readonly JOIN: 0x20;
  /** LEAVE. */
  readonly LEAVE: 0x21;
  /** LIST. */
  readonly LIST: 0x22;
  /** LIST_ROOMS. */
  readonly LIST_ROOMS: 0x23;
  /** PUBLISH_KEYS. */
  readonly PUBLISH_KEYS: 0x30;
  /** FETCH_KEYS. */
  readonly FETCH_KEYS: 0x31;
  /** FETCH_IDENTITY. */
  readonly FETCH_IDENTITY: 0x32;
  /** CHALLENGE. */
  readonly CHALLENGE: 0x81;
  /** READY. */
  readonly READY: 0x82;
  /** RELAY_PING. */
  readonly RELAY_PING: 0x8e;
  /** RELAY_PONG. */
  readonly RELAY_PONG: 0x8f;
  /** DELIVER. */
  readonly DELIVER: 0x90;
  /** ACCEPTED. */
  readonly ACCEPTED: 0x91;
  /** REJECTED. */
  readonly REJECTED: 0x92;
  /** UNDELIVERED. */
  readonly UNDELIVERED: 0x93;
  /** JOINED. */
  readonly JOINED: 0xa0;
  /** LEFT. */
  readonly LEFT: 0xa1;
  /** ROSTER. */
  readonly ROSTER: 0xa2;
  /** ROOMS. */
  readonly ROOMS: 0xa3;
  /** PRESENCE. */
  readonly PRESENCE: 0xa4;
  /** PREKEY_COUNT. */
  readonly PREKEY_COUNT: 0xb0;
  /** KEYS. */
  readonly KEYS: 0xb1;
  /** ERROR. */
  readonly ERROR: 0xff;
}

/** The type byte of every frame. */
export const FrameType: FrameTypeBytes = Object.freeze(
  {
    HELLO: 0x01,
    AUTH: 0x02,
    PING: 0x0e,
    PONG: 0x0f,
    SEND: 0x10,
    ACK: 0x11,
    JOIN: 0x20,
    LEAVE: 0x21,
    LIST: 0x22,
    LIST_ROOMS: 0x23,
    PUBLISH_KEYS: 0x30,
    FETCH_KEYS: 0x31,
    FETCH_IDENTITY: 0x32,
    CHALLENGE: 0x81,
    READY: 0x82,
    RELAY_PING: 0x8e,
    RELAY_PONG: 0x8f,
    DELIVER: 0x90,
    ACCEPTED: 0x91,
    REJECTED: 0x92,
    UNDELIVERED: 0x93,
    JOINED: 0xa0,
    LEFT: 0xa1,
    ROSTER: 0xa2,
    ROOMS: 0xa3,
    PRESENCE: 0xa4,
    PREKEY_COUNT: 0xb0,
    KEYS: 0xb1,
    ERROR: 0xff,
  } as const,
);

/** How an envelope recipient is named: a nick (wire 0x01) or a room (wire 0x02). */
export type RecipientKind = "nick" | "room";

/** First frame of a connection, client to relay. */
export interface HelloFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "hello";
  /** Protocol version, u16 (this code speaks {@link PROTOCOL_VERSION}). */
  version: number;
  /** The nick the client asks for. */
  nick: string;
  /** The client's Ed25519 identity public key (32 bytes). */
  identityKey: Uint8Array;
  /** Access token of a private relay (0-255 bytes; empty when none). */
  token: Uint8Array;
}

/** The client's answer to CHALLENGE: an Ed25519 signature over the AUTH transcript. */
export interface AuthFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "auth";
  /** 64-byte Ed25519 signature. */
  signature: Uint8Array;
}

/** A heartbeat (client to relay: `ping`; relay to client: `relay-ping`). */
export interface PingFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "ping" | "relay-ping";
  /** 8 opaque bytes the answer echoes. */
  nonce: Uint8Array;
}

/** The answer to a heartbeat (client to relay: `pong`; relay to client: `relay-pong`). */
export interface PongFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "pong" | "relay-pong";
  /** The 8 bytes of the PING being answered. */
  nonce: Uint8Array;
}

/** An envelope: SEND (client to relay) and DELIVER (relay to client) share one layout. */
export interface EnvelopeFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "send" | "deliver";
  /** 16-byte message id chosen by the sender. */
  id: Uint8Array;
  /** Cipher-suite wire id (u8, 0x01-0xFF); the relay does not interpret it. */
  cipher: number;
  /** Sender nick (must equal the sender's granted nick). */
  from: string;
  /** Whether `to` names a nick or a room. */
  toKind: RecipientKind;
  /** Recipient nick or room name. */
  to: string;
  /** Opaque end-to-end body; the relay forwards it byte for byte. */
  body: Uint8Array;
}

/** Cumulative delivery acknowledgement (client to relay). */
export interface AckFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "ack";
  /** Number of DELIVER frames received on this connection so far (u32). */
  count: number;
}

/** Join or leave a room (client to relay). */
export interface RoomRequestFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "join" | "leave";
  /** Room name. */
  room: string;
}

/** Ask for a roster: of one room, or (empty `room`) of every online user. */
export interface ListFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "list";
  /** Room name, or `""` for every online user. */
  room: string;
}

/** Ask for the rooms the client is a member of. */
export interface ListRoomsFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "list-rooms";
}

/** A one-time prekey: id and X25519 public key. */
export interface OneTimePrekey {
  /** u32 id chosen by the owner. */
  id: number;
  /** 32-byte X25519 public key. */
  key: Uint8Array;
}

/** The signed part of a prekey bundle (see `docs/PROTOCOL.md`, "Key directory"). */
export interface SignedBundle {
  /** X25519 identity DH public key (32 bytes). */
  identityDhKey: Uint8Array;
  /** Ed25519 signature of `"hush-identity-dh-v1" || identityDhKey` (64 bytes). */
  identityDhSignature: Uint8Array;
  /** u32 id of the signed prekey. */
  signedPrekeyId: number;
  /** X25519 signed prekey (32 bytes). */
  signedPrekey: Uint8Array;
  /** Ed25519 signature of `"hush-signed-prekey-v1" || u32be(id) || signedPrekey` (64 bytes). */
  signedPrekeySignature: Uint8Array;
}

/** Publish (or refresh) the client's prekey bundle and add one-time prekeys. */
export interface PublishKeysFrame extends SignedBundle {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "publish-keys";
  /** When true the relay first discards every one-time prekey it holds for this nick. */
  replaceOneTimePrekeys: boolean;
  /** 0-100 one-time prekeys to add. */
  oneTimePrekeys: OneTimePrekey[];
}

/** Ask for a nick's identity key and bundle (consumes one of its one-time prekeys). */
export interface FetchKeysFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "fetch-keys";
  /** Nick. */
  nick: string;
}

/**
 * Ask for a nick's identity key and bundle without taking a one-time prekey (a client checking
 * that a peer it already has a session with still has the same identity).
 */
export interface FetchIdentityFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "fetch-identity";
  /** Nick. */
  nick: string;
}

/** The relay's random challenge (relay to client). */
export interface ChallengeFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "challenge";
  /** 32 random bytes. */
  nonce: Uint8Array;
}

/** Authentication succeeded (relay to client). */
export interface ReadyFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "ready";
  /** The nick granted (the requested one, or it with a `_N` suffix). */
  nick: string;
  /** Largest frame the relay accepts, in bytes (u32). */
  maxFrameBytes: number;
  /** Heartbeat interval in milliseconds (u32): the relay pings after this much silence. */
  heartbeatMs: number;
  /** Envelopes waiting in the relay's queue for this nick (u32); DELIVERs follow. */
  queued: number;
  /** One-time prekeys the relay still holds for this nick (u16). */
  oneTimePrekeys: number;
  /** Whether the relay holds a bundle for this nick (flags bit 0). */
  hasBundle: boolean;
  /**
   * Whether the relay runs a persistent store (flags bit 1): everything it ACCEPTED survives a
   * relay crash or restart.
   */
  durable: boolean;
  /**
   * The relay's storage epoch (8 bytes): a memory relay picks a new one at every start, a
   * `--store` relay keeps one in its file. A changed epoch means the relay may have lost what it
   * had accepted (queues, bindings, rooms).
   */
  epoch: Uint8Array;
}

/** Cumulative acceptance of SENDs (relay to client). */
export interface AcceptedFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "accepted";
  /** Number of SEND frames on this connection the relay has handled so far (u32). */
  count: number;
}

/** A SEND the relay refused, wholly or for one member of a room (relay to client). */
export interface RejectedFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "rejected";
  /** 1-based index of the refused SEND on this connection (u32). */
  seq: number;
  /** The refused envelope's message id (16 bytes). */
  id: Uint8Array;
  /** Kind of `recipient`. */
  recipientKind: RecipientKind;
  /** The recipient the refusal is about (the SEND's recipient, or one member of a room). */
  recipient: string;
  /** Stable error code, e.g. `QUEUE_FULL`. */
  code: string;
  /** Human-readable detail (UTF-8, at most 1024 bytes). */
  detail: string;
}

/**
 * An envelope the relay dropped without delivering it (relay to client): sent to the envelope's
 * sender and to the nick whose queue held it, queued and numbered like a DELIVER.
 */
export interface UndeliveredFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "undelivered";
  /** The dropped envelope's message id (16 bytes). */
  id: Uint8Array;
  /** The envelope's sender nick. */
  from: string;
  /** Whether `to` names a nick or a room. */
  toKind: RecipientKind;
  /** The envelope's recipient, as the sender wrote it (a nick or a room). */
  to: string;
  /** The nick whose queue held the envelope. */
  holder: string;
  /** Why it was dropped: `EXPIRED` or `NICK_RELEASED`. */
  reason: string;
  /** When the envelope was queued, Unix seconds (u32). */
  enqueuedAt: number;
}

/** A member joined or left a room (relay to client). */
export interface MembershipFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "joined" | "left";
  /** Room name. */
  room: string;
  /** Nick. */
  nick: string;
}

/** One roster entry. */
export interface RosterEntry {
  /** Nick. */
  nick: string;
  /** Whether the nick is connected. */
  online: boolean;
}

/** A roster: members of a room (online or not), or (empty room) every online user. */
export interface RosterFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "roster";
  /** Room name, or `""` for the list of online users. */
  room: string;
  /** Members, sorted by nick. */
  members: RosterEntry[];
}

/** One entry of a ROOMS frame. */
export interface RoomEntry {
  /** Room name. */
  room: string;
  /** Number of members (u16, saturating). */
  members: number;
}

/** The rooms the client is a member of (relay to client). */
export interface RoomsFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "rooms";
  /** Rooms, sorted by name. */
  rooms: RoomEntry[];
}

/** A nick sharing a room with the client came online or went offline (relay to client). */
export interface PresenceFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "presence";
  /** Nick. */
  nick: string;
  /** Whether the nick is connected. */
  online: boolean;
}

/** How many one-time prekeys the relay still holds for the client (relay to client). */
export interface PrekeyCountFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "prekey-count";
  /** u16. */
  count: number;
}

/** The answer to FETCH_KEYS and FETCH_IDENTITY (relay to client). */
export type KeysFrame =
  | { type: "keys"; nick: string; status: "no-such-user" }
  | { type: "keys"; nick: string; status: "no-bundle"; identityKey: Uint8Array }
  | {
    /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
    type: "keys";
    /** Nick. */
    nick: string;
    /** Outcome of the fetch. */
    status: "ok";
    /** The nick's Ed25519 identity public key, as bound by the relay. */
    identityKey: Uint8Array;
    /** The signed bundle. */
    bundle: SignedBundle;
    /** One one-time prekey, handed out once, or null when none is left. */
    oneTimePrekey: OneTimePrekey | null;
  };

/** An error (relay to client); when `fatal` the relay closes the connection after it. */
export interface ErrorFrame {
  /** Frame discriminator (the `type` names of `FRAME_TYPE_BY_NAME`). */
  type: "error";
  /** Whether the relay closes the connection after this frame. */
  fatal: boolean;
  /** Stable error code. */
  code: string;
  /** Human-readable detail (UTF-8, at most 1024 bytes); never a stack trace. */
  detail: string;
}

/** Every frame a client may send. */
export type ClientFrame =
  | HelloFrame
  | AuthFrame
  | (PingFrame & { type: "ping" })
  | (PongFrame & { type: "pong" })
  | (EnvelopeFrame & { type: "send" })
  | AckFrame
  | RoomRequestFrame
  | ListFrame
  | ListRoomsFrame
  | PublishKeysFrame
  | FetchKeysFrame
  | FetchIdentityFrame;

/** Every frame a relay may send. */
export type RelayFrame =
  | ChallengeFrame
  | ReadyFrame
  | (PingFrame & { type: "relay-ping" })
  | (PongFrame & { type: "relay-pong" })
  | (EnvelopeFrame & { type: "deliver" })
  | AcceptedFrame
  | RejectedFrame
  | UndeliveredFrame
  | MembershipFrame
  | RosterFrame
  | RoomsFrame
  | PresenceFrame
  | PrekeyCountFrame
  | KeysFrame
  | ErrorFrame;

/** Any frame. */
export type Frame = ClientFrame | RelayFrame;

/** The `type` names of every frame. */
export type FrameName = Frame["type"];

/** Type byte of each frame name. */
export const FRAME_TYPE_BY_NAME: Readonly<Record<FrameName, number>> = Object.freeze({
  "hello": FrameType.HELLO,
  "auth": FrameType.AUTH,
  "ping": FrameType.PING,
  "pong": FrameType.PONG,
  "send": FrameType.SEND,
  "ack": FrameType.ACK,
  "join": FrameType.JOIN,
  "leave": FrameType.LEAVE,
  "list": FrameType.LIST,
  "list-rooms": FrameType.LIST_ROOMS,
  "publish-keys": FrameType.PUBLISH_KEYS,
  "fetch-keys": FrameType.FETCH_KEYS,
  "fetch-identity": FrameType.FETCH_IDENTITY,
  "challenge": FrameType.CHALLENGE,
  "ready": FrameType.READY,
  "relay-ping": FrameType.RELAY_PING,
  "relay-pong": FrameType.RELAY_PONG,
  "deliver": FrameType.DELIVER,
  "accepted": FrameType.ACCEPTED,
  "rejected": FrameType.REJECTED,
  "undelivered": FrameType.UNDELIVERED,
  "joined": FrameType.JOINED,
  "left": FrameType.LEFT,
  "roster": FrameType.ROSTER,
  "rooms": FrameType.ROOMS,
  "presence": FrameType.PRESENCE,
  "prekey-count": FrameType.PREKEY_COUNT,
  "keys": FrameType.KEYS,
  "error": FrameType.ERROR,
});

/** Frame name of each type byte (the inverse of {@link FRAME_TYPE_BY_NAME}). */
export const FRAME_NAME_BY_TYPE: ReadonlyMap<number, FrameName> = new Map(
  Object.entries(FRAME_TYPE_BY_NAME).map(([name, type]) => [type, name as FrameName]),
);

/**
 * Tells whether a type byte is sent by clients (0x01-0x7F) or by the relay (0x80-0xFF).
 *
 * @param type A frame type byte.
 * @returns `"client"` or `"relay"`.
 */
export function frameDirection(type: number): "client" | "relay" {
  return type >= 0x80 ? "relay" : "client";
}
