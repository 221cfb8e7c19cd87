/**
 * The chat engine: one local user talking to one relay. It owns the connection (handshake,
 * heartbeats, reconnect with backoff), the end-to-end layer (`sessions/`'s {@linkcode Hush}),
 * the outbox (nothing is lost), the seen-id set (nothing is shown twice) and the home (state
 * survives a restart). It has no UI: it reports everything as {@linkcode ChatEvent}s
 * (`chat/events.ts`) and a UI calls its methods.
 *
 * Engine behaviour in prose: `docs/CLIENT.md`, section "Engine behaviour".
 *
 * @module
 */

import {
  type CipherSuiteId,
  DEFAULT_CIPHER_SUITE,
  fingerprint,
  getCipherSuite,
  HushError,
  type IdentityKeyPair,
  randomBytes,
  sign,
  toHex,
  utf8Encode,
} from "../crypto/mod.ts";
import {
  authTranscript,
  decodeFrame,
  DEFAULT_ROOM,
  encodeFrame,
  type EnvelopeFrame,
  type Frame,
  isValidNick,
  isValidRoom,
  type KeysFrame,
  MAX_FRAME_BYTES_LIMIT,
  MAX_ONE_TIME_PREKEYS_PER_FRAME,
  MAX_TOKEN_BYTES,
  PROTOCOL_VERSION,
  type RelayFrame,
} from "../protocol/mod.ts";
import {
  Hush,
  ONE_TIME_PREKEY_LOW_WATER,
  ONE_TIME_PREKEY_TARGET,
  type PrekeyBundle,
  type Received,
  SessionError,
} from "../sessions/mod.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { decodeChatPayload, encodeChatPayload } from "./content.ts";
import { ChatError } from "./errors.ts";
import type { ChatEvent, ChatEventListener, UserInfo } from "./events.ts";
import type { ChatHome } from "./home.ts";
import { loadOrCreateIdentity } from "./identity.ts";
import { HomeSessionStore } from "./home_session_store.ts";
import { bundleFromKeys, publishKeysFrame } from "./key_directory.ts";
import { Outbox } from "./outbox.ts";
import { Waiters } from "./_waiters.ts";
import { wireView } from "./wire_view.ts";
import { SeenIds } from "./seen_ids.ts";
import {
  connectTransport,
  isSecureUrl,
  type Transport,
  type TransportHandlers,
  type TransportOptions,
} from "./transport.ts";

/** Home file holding the profile (granted nick, cipher, rooms). */
export const PROFILE_FILE = "profile.json";
/** Home file holding the seen message ids. */
export const SEEN_FILE = "seen.json";
/** Home file holding the unacknowledged envelopes. */
export const OUTBOX_FILE = "outbox.json";

/** How long a connection may take from connect to READY before it is dropped and retried. */
const HANDSHAKE_TIMEOUT_MS = 15_000;
/** Most room messages kept while waiting for their sender key. */
const MAX_PENDING_ROOM = 256;
/** How long a room message waits for its sender key before an error is shown. */
const PENDING_SENDER_KEY_MS = 10_000;

/** Relay error codes after which reconnecting cannot help: the engine stops. */
const FATAL_CODES = new Set([
  "UNSUPPORTED_VERSION",
  "BAD_TOKEN",
  "AUTH_FAILED",
  "NICK_UNAVAILABLE",
  "REPLACED",
]);

/** Options of {@linkcode createChatClient}. */
export interface ChatClientOptions {
  /** Relay URL: `tcp://`, `tls://`, `tcp+tls://`, `ws://` or `wss://`. */
  server: string;
  /** The nick to ask for (a nick granted earlier and kept in the home wins). */
  nick: string;
  /** Where identity, sessions, trust, seen ids and the outbox live. */
  home: ChatHome;
  /** Default cipher suite for new messages (default `aes-256-gcm`). */
  cipher?: string;
  /** Access token of a private relay. */
  token?: string;
  /** PEM CA certificates to trust for `tls://` (from `--ca FILE`). */
  caCerts?: string[];
  /** Room to join and make current (default `lobby`). */
  room?: string;
  /** Refuse to connect over a transport that is not TLS/WSS. */
  requireSecure?: boolean;
  /** Reconnect automatically after a connection loss (default true). */
  reconnect?: boolean;
  /**
   * Keep retrying when the very first connection attempt fails (default false: `connect()`
   * rejects with `CONNECT_FAILED`, so a mistyped URL is reported at once).
   */
  retryFirstConnect?: boolean;
  /** Reconnect delays (default 100 ms doubling to 10 s, equal jitter). */
  backoff?: BackoffOptions;
  /** How long `close()` waits for the relay to acknowledge what was sent (default 5,000 ms). */
  closeTimeoutMs?: number;
  /** How long a connection may take from connect to READY (default 15,000 ms). */
  handshakeTimeoutMs?: number;
  /** How long a key-directory lookup may take (default 10,000 ms). */
  requestTimeoutMs?: number;
  /**
   * How long a room message whose sender key has not arrived yet is kept before an
   * `error` event `NO_SENDER_KEY` gives up on it (default 10,000 ms).
   */
  senderKeyWaitMs?: number;
  /** Refuse messages under an insecure suite (Caesar). */
  refuseInsecure?: boolean;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /**
   * Opens a transport (default {@linkcode connectTransport}); a browser build or a test passes
   * its own.
   */
  connectTransport?: (
    url: string,
    handlers: TransportHandlers,
    options: TransportOptions,
  ) => Promise<Transport>;
}

interface OutgoingEnvelope {
  to: string;
  toKind: "nick" | "room";
  cipher: number;
  body: Uint8Array;
  kind: string;
}

interface Profile {
  /** The nick to ask for: the one granted last time (maybe `bob_1`), or a new choice. */
  nick?: string;
  /** The nick the user asked for (the `nick` option or `changeNick`). */
  requested?: string;
  /** The nick the relay granted last. */
  granted?: string;
  /** Nicks this identity had before (still members of rooms): never sent sender keys. */
  former?: string[];
  cipher?: string;
  room?: string;
  rooms?: string[];
  /** Rooms left while disconnected: LEAVE goes out after the next READY. */
  leaving?: string[];
}

interface Connection {
  transport: Transport;
  generation: number;
  requestedNick: string;
  ready: boolean;
  /** DELIVERs received on this connection. */
  delivered: number;
  /** DELIVERs handled and durably stored (what ACK reports). */
  handled: number;
  acked: number;
  /** Set when a batch could not be saved: no more ACKs on this connection. */
  ackBlocked: boolean;
  /** Drops a connection that does not reach READY in time. */
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  lastReceived: number;
  heartbeatMs: number;
  maxFrameBytes: number;
}

/**
 * Loads (or creates) the user's identity and state from `options.home` and returns an engine,
 * not yet connected: register a listener with {@linkcode ChatClient.on}, then call
 * {@linkcode ChatClient.connect}.
 *
 * @param options Server, nick, home and the optional settings of {@linkcode ChatClientOptions}.
 * @returns The engine.
 * @throws {ChatError} `BAD_SERVER_URL`, `INSECURE_TRANSPORT`, `BAD_NICK`, `BAD_ROOM`,
 *   `UNKNOWN_CIPHER_SUITE`, `BAD_HOME` (unreadable or corrupt home).
 */
export async function createChatClient(options: ChatClientOptions): Promise<ChatClient> {
  if (options.requireSecure === true && !isSecureUrl(options.server)) {
    throw new ChatError(
      "INSECURE_TRANSPORT",
      `Server "${options.server}" is not encrypted: use tls:// or wss://`,
    );
  }
  isSecureUrl(options.server); // validates the URL
  if (!isValidNick(options.nick)) {
    throw new ChatError(
      "BAD_NICK",
      `Invalid nick "${options.nick}": 1-32 characters from A-Z a-z 0-9 _ -`,
    );
  }
  if (options.token !== undefined && utf8Encode(options.token).length > MAX_TOKEN_BYTES) {
    throw new ChatError("BAD_TOKEN", `Token is too long: at most ${MAX_TOKEN_BYTES} bytes`);
  }
  const room = options.room ?? DEFAULT_ROOM;
  if (!isValidRoom(room)) {
    throw new ChatError("BAD_ROOM", `Invalid room "${room}": 1-32 characters from A-Z a-z 0-9 _ -`);
  }
  const home = options.home;
  const { identity } = await loadOrCreateIdentity(home);
  const profile = await readJsonFile<Profile>(home, PROFILE_FILE) ?? {};
  const seenText = await home.read(SEEN_FILE);
  const outboxText = await home.read(OUTBOX_FILE);
  let seen: SeenIds;
  let outbox: Outbox;
  try {
    seen = seenText === undefined ? new SeenIds() : SeenIds.fromJSON(seenText);
    outbox = outboxText === undefined ? new Outbox() : Outbox.fromJSON(outboxText);
  } catch (error) {
    throw new ChatError("BAD_HOME", `Cannot read state in "${home.location}"`, { cause: error });
  }
  const store = await HomeSessionStore.load(home);
  const cipher = options.cipher ?? profile.cipher ?? DEFAULT_CIPHER_SUITE;
  checkSuite(cipher);
  return new ChatClient({ options, identity, profile, seen, outbox, store, cipher, room });
}

/**
 * A chat engine. Every method that talks to the relay works while disconnected too: sends are
 * queued in the outbox and go out on (re)connect; requests that need an answer from the relay
 * wait for the connection (bounded by `requestTimeoutMs`). Methods never throw for problems a
 * user can cause: they report an `error` event with a stable code instead.
 */
export class ChatClient {
  #options: ChatClientOptions;
  #identity: IdentityKeyPair;
  #profile: Profile;
  #seen: SeenIds;
  #outbox: Outbox;
  #store: HomeSessionStore;
  #hush: Hush;
  #listeners = new Set<ChatEventListener>();
  #now: () => number;

  #connection: Connection | undefined;
  #generation = 0;
  #closed = false;
  #closing = false;
  #stopReason: string | undefined;
  #stopCode = "HANDSHAKE_FAILED";
  #loop: Promise<void> | undefined;
  #wakeLoop: (() => void) | undefined;
  #readyWaiters = new Waiters<"ready", void>();
  #firstReady = true;
  #grantedNick: string | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  #inbox: { frame: EnvelopeFrame & { type: "deliver" }; generation: number }[] = [];
  #processing = false;
  #pendingRoom: { frame: EnvelopeFrame; generation: number; since: number }[] = [];
  #pendingTimer: ReturnType<typeof setInterval> | undefined;
  #keyRequests = new Waiters<string, KeysFrame>();
  #rosterRequests = new Waiters<string, string[]>();
  #sendChain: Promise<unknown> = Promise.resolve();
  #persistChain: Promise<void> = Promise.resolve();

  #room: string;
  #rooms: Set<string>;
  #pendingLeaves = new Set<string>();
  /** Peers whose identity key was checked with the key directory on this connection. */
  #checkedPeers = new Set<string>();
  #members = new Map<string, Map<string, boolean>>();
  /** Per room, in request order: whether each outstanding LIST came from the UI. */
  #rosterAsks = new Map<string, boolean[]>();
  /** Rooms whose own-join notice was shown (the relay repeats JOINED on every JOIN). */
  #selfJoinShown = new Set<string>();
  #online = new Map<string, boolean>();
  #wire = false;
  #cipher: string;

  /** @internal Use {@linkcode createChatClient}. */
  constructor(init: {
    options: ChatClientOptions;
    identity: IdentityKeyPair;
    profile: Profile;
    seen: SeenIds;
    outbox: Outbox;
    store: HomeSessionStore;
    cipher: string;
    room: string;
  }) {
    this.#options = init.options;
    this.#identity = init.identity;
    this.#profile = init.profile;
    if (this.#profile.nick !== undefined && !isValidNick(this.#profile.nick)) {
      delete this.#profile.nick; // a damaged profile: ask for the nick given
    }
    if (this.#profile.requested !== init.options.nick) {
      // Another nick on the command line than last time: ask for that one.
      this.#profile.requested = init.options.nick;
      this.#profile.nick = init.options.nick;
    }
    this.#seen = init.seen;
    this.#outbox = init.outbox;
    this.#store = init.store;
    this.#now = init.options.now ?? Date.now;
    this.#cipher = init.cipher;
    this.#room = init.room;
    // Rooms joined earlier (kept in the profile) are joined again; the relay joins nobody by itself.
    this.#rooms = new Set([...(init.profile.rooms ?? []).filter(isValidRoom), init.room]);
    for (const room of init.profile.leaving ?? []) {
      if (isValidRoom(room) && !this.#rooms.has(room)) this.#pendingLeaves.add(room);
    }
    this.#hush = new Hush({
      store: init.store,
      identity: init.identity,
      fetchBundle: (nick) => this.#fetchBundle(nick),
      suite: init.cipher as CipherSuiteId,
      refuseInsecure: init.options.refuseInsecure ?? false,
      now: this.#now,
    });
  }

  /** The nick granted by the relay (or the requested one before the first READY). */
  get nick(): string {
    return this.#grantedNick ?? this.#profile.nick ?? this.#options.nick;
  }

  /** The short fingerprint of the local identity key. */
  get fingerprint(): string {
    return fingerprint(this.#identity.publicKey);
  }

  /** The current room (where `sendRoom` goes). */
  get room(): string {
    return this.#room;
  }

  /** The default cipher suite id for new messages. */
  get cipher(): string {
    return this.#cipher;
  }

  /** True while authenticated with the relay. */
  get connected(): boolean {
    return this.#connection?.ready === true;
  }

  /** Number of envelopes sent but not yet acknowledged by the relay. */
  get unacknowledged(): number {
    return this.#outbox.size;
  }

  /**
   * Registers an event listener.
   *
   * @param listener Called synchronously for every event, in order.
   * @returns A function that removes the listener.
   */
  on(listener: ChatEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Starts the connection loop (connect, authenticate, reconnect on loss) and waits for the
   * first READY.
   *
   * @returns Resolves once authenticated (`ready` event emitted).
   * @throws {ChatError} `HANDSHAKE_FAILED` when the relay refuses for good (bad token, nick
   *   unavailable, ...), `CONNECT_FAILED` when not reconnecting and the first attempt fails,
   *   `CLOSED` when `close()` is called first.
   */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new ChatError("CLOSED", "The chat client is closed"));
    const ready = this.#waitReady(undefined);
    if (this.#loop === undefined) this.#loop = this.#runLoop();
    return ready;
  }

  /**
   * Sends a text message to the current room, encrypted with our sender key (distributed first,
   * pairwise, to every member lacking it). Emits `message` (own: true) at once and `sent` once
   * the relay accepted it.
   *
   * @param text Any Unicode text (at most 16 KiB of UTF-8).
   * @returns The message id (hex), or undefined when it could not be sent (an `error` event says
   *   why).
   */
  sendRoom(text: string): Promise<string | undefined> {
    const room = this.#room;
    return this.#serial(() => this.#sendRoomNow(room, text));
  }

  /**
   * Sends a private message through the pairwise Double Ratchet session with `nick` (started
   * with X3DH from the relay's key directory when there is none). Blocked with an `error` event
   * (`IDENTITY_CHANGED`) while the peer's identity key changed and was not accepted with
   * {@linkcode ChatClient.trust}.
   *
   * @param nick The recipient's nick.
   * @param text Any Unicode text.
   * @returns The message id (hex), or undefined when it could not be sent.
   */
  sendPrivate(nick: string, text: string): Promise<string | undefined> {
    return this.#serial(() => this.#sendPrivateNow(nick, text));
  }

  /**
   * Joins a room and makes it current; emits `room` and, from the relay, `join`.
   *
   * @param room The room name.
   * @returns Resolves once the JOIN is queued.
   */
  join(room: string): Promise<void> {
    if (!isValidRoom(room)) {
      this.#error("BAD_ROOM", `Invalid room "${room}": 1-32 characters from A-Z a-z 0-9 _ -`);
      return Promise.resolve();
    }
    this.#rooms.add(room);
    this.#room = room;
    this.#members.delete(room);
    this.#sendFrame({ type: "join", room });
    this.#askRoster(room, false);
    this.#emit({ type: "room", current: room });
    return this.#saveProfile();
  }

  /**
   * Leaves a room (default: the current one); our sender key for it is forgotten. The current
   * room becomes another joined room (with none left, `sendRoom` reports `NOT_IN_ROOM`). While
   * disconnected, the LEAVE is sent after the next READY.
   *
   * @param room The room to leave.
   * @returns Resolves once the LEAVE is queued.
   */
  leave(room: string = this.#room): Promise<void> {
    if (!this.#rooms.has(room)) {
      this.#error("NOT_IN_ROOM", `Not in room "${room}"`);
      return Promise.resolve();
    }
    this.#rooms.delete(room);
    this.#members.delete(room);
    this.#hush.leaveRoom(room);
    if (this.connected) this.#sendFrame({ type: "leave", room });
    else this.#pendingLeaves.add(room);
    if (this.#room === room) {
      this.#room = [...this.#rooms][0] ?? room;
      this.#emit({ type: "room", current: this.#room });
    }
    return this.#persist().then(() => this.#saveProfile());
  }

  /**
   * Asks the relay for a roster; the answer is a `users` event (with verified marks and
   * fingerprints of known peers).
   *
   * @param room A room name; omitted: every online user (`room: null` in the event).
   */
  listUsers(room?: string): void {
    if (room !== undefined && !isValidRoom(room)) {
      this.#error("BAD_ROOM", `Invalid room "${room}": 1-32 characters from A-Z a-z 0-9 _ -`);
      return;
    }
    if (this.#requireConnection()) this.#askRoster(room ?? "", true);
  }

  /** Asks the relay for the rooms we are in; the answer is a `rooms` event. */
  listRooms(): void {
    if (this.#requireConnection()) this.#sendFrame({ type: "list-rooms" });
  }

  /** Sends LIST, remembering whether the answer is for the UI (`users` event) or internal. */
  #askRoster(room: string, fromUi: boolean): void {
    if (!this.connected) return;
    const asks = this.#rosterAsks.get(room) ?? [];
    asks.push(fromUi);
    this.#rosterAsks.set(room, asks);
    this.#sendFrame({ type: "list", room });
  }

  #requireConnection(): boolean {
    if (this.connected) return true;
    this.#error("NOT_CONNECTED", "Not connected to the relay (reconnecting); try again soon");
    return false;
  }

  /**
   * Asks for another nick: the engine reconnects with it; the relay grants it (or a suffixed
   * one), then a `nick` event and a `ready` event report the result.
   *
   * @param nick The new nick.
   */
  changeNick(nick: string): void {
    if (!isValidNick(nick)) {
      this.#error("BAD_NICK", `Invalid nick "${nick}": 1-32 characters from A-Z a-z 0-9 _ -`);
      return;
    }
    this.#profile.nick = nick;
    this.#profile.requested = nick;
    this.#saveProfile().then(() => this.#connection?.transport.close(), () => {});
  }

  /**
   * Reports what we know about a peer as a `whois` event: fingerprint (fetched from the key
   * directory and pinned on first use), verified, the cipher used with them, online.
   *
   * @param nick The peer.
   * @returns Resolves after the event (or an `error` event).
   */
  whois(nick: string): Promise<void> {
    return this.#serial(async () => {
      if (nick === this.nick) {
        this.#emit({
          type: "whois",
          nick,
          fingerprint: this.fingerprint,
          verified: true,
          cipher: this.#cipher,
          online: this.connected,
        });
        return;
      }
      if (!await this.#ensureKnown(nick)) return;
      const trust = this.#hush.trust.get(nick);
      if (trust === undefined) return;
      this.#emit({
        type: "whois",
        nick,
        fingerprint: trust.fingerprint,
        verified: this.#hush.trust.isVerified(nick),
        cipher: this.#hush.suiteFor(nick).id,
        online: this.#online.get(nick) ?? false,
      });
    });
  }

  /**
   * Sets the cipher suite for new messages: of one conversation (`target`: a nick or a room)
   * or, without a target, the default for every conversation without its own. Emits `cipher`,
   * and an `info` warning for an insecure suite.
   *
   * @param id A suite id (`aes-256-gcm`, `chacha20-poly1305`, `xchacha20-poly1305`, `caesar`).
   * @param target A nick or room; omitted: the default.
   */
  setCipher(id: string, target?: string): Promise<void> {
    return this.#serial(() => this.#setCipherNow(id, target));
  }

  #setCipherNow(id: string, target: string | undefined): Promise<void> {
    let suite;
    try {
      suite = getCipherSuite(id);
    } catch {
      this.#error("UNKNOWN_CIPHER_SUITE", `Unknown cipher suite "${id}"`);
      return Promise.resolve();
    }
    if (target === undefined) {
      this.#cipher = suite.id;
      this.#hush = this.#rebuildHush();
    } else {
      this.#hush.setSuite(target, suite.id);
    }
    this.#emit({ type: "cipher", cipher: suite.id, insecure: suite.insecure });
    if (suite.insecure) {
      this.#emit({
        type: "info",
        message:
          `Cipher "${suite.id}" is INSECURE: a teaching tool, anyone can read these messages`,
      });
    }
    return this.#persist().then(() => this.#saveProfile());
  }

  /**
   * Accepts a changed identity key for `nick` (after an `identity-changed` event): sending is
   * unblocked, sessions restart, and messages held back by the change are shown. Emits
   * `trusted`.
   *
   * @param nick The peer.
   */
  trust(nick: string): Promise<void> {
    return this.#serial(async () => {
      if (!isValidNick(nick)) {
        this.#error("BAD_NICK", `Invalid nick "${nick}": 1-32 characters from A-Z a-z 0-9 _ -`);
        return;
      }
      const before = this.#hush.trust.get(nick);
      if (before === undefined) {
        this.#error("UNKNOWN_PEER", `No identity known for "${nick}"`);
        return;
      }
      if (before.changed === undefined) {
        // Nothing to accept: keep the sessions, just confirm the pinned key.
        this.#emit({ type: "trusted", peer: nick, fingerprint: before.fingerprint });
        return;
      }
      const released = this.#hush.acceptIdentity(nick);
      await this.#persist();
      const after = this.#hush.trust.get(nick);
      this.#emit({ type: "trusted", peer: nick, fingerprint: after?.fingerprint ?? "" });
      for (const received of released) {
        const id = toHex(randomBytes(16));
        this.#showPairwise(received, id);
      }
    });
  }

  /**
   * Shows the safety number with `nick` (`safety-number` event); with `digits` (what the peer
   * read out, spaces allowed) compares it, marks the peer verified on a match and emits
   * `verified`.
   *
   * @param nick The peer.
   * @param digits The peer's safety number as read out, optional.
   */
  verify(nick: string, digits?: string): Promise<void> {
    return this.#serial(async () => {
      if (nick === this.nick) {
        this.#error("BAD_RECIPIENT", "Verify a peer, not yourself: /verify NICK");
        return;
      }
      if (!await this.#ensureKnown(nick)) return;
      try {
        if (digits !== undefined) {
          const match = this.#hush.trust.markVerified(nick, digits.replace(/\s+/g, ""));
          await this.#persist();
          this.#emit({ type: "verified", peer: nick, match });
        }
        const view = this.#hush.trust.safetyNumber(nick);
        this.#emit({
          type: "safety-number",
          peer: nick,
          safetyNumber: view.digits,
          formatted: view.formatted,
          words: view.words,
          verified: this.#hush.trust.isVerified(nick),
        });
      } catch (error) {
        this.#reportError(error);
      }
    });
  }

  /**
   * Turns the teaching view on or off: while on, every envelope in and out is reported as a
   * `wire` event (clear header, body hex, size), never the plaintext.
   *
   * @param on True to turn it on.
   */
  setWire(on: boolean): void {
    this.#wire = on;
  }

  /**
   * Closes the engine: waits (at most `closeTimeoutMs`) until the relay acknowledged every
   * envelope sent, saves the state, and disconnects. Later calls do nothing.
   *
   * @returns Resolves when closed; `unacknowledged` tells what was not acknowledged in time.
   */
  async close(): Promise<void> {
    if (this.#closed || this.#closing) {
      await this.#loop;
      return;
    }
    this.#closing = true;
    await this.#sendChain.catch(() => {});
    const timeoutMs = this.#options.closeTimeoutMs ?? 5_000;
    const running = this.#loop !== undefined && this.#stopReason === undefined;
    if (this.#outbox.size > 0 && running && (this.#options.reconnect ?? true)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#outbox.drained(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    // Let the inbox finish what it has (acks included).
    while (this.#processing) await new Promise((resolve) => setTimeout(resolve, 5));
    this.#closed = true;
    this.#stopReason ??= "closed";
    clearInterval(this.#pendingTimer);
    this.#pendingTimer = undefined;
    clearTimeout(this.#outboxSaveTimer);
    this.#outboxSaveTimer = undefined;
    await this.#persist().catch(() => {});
    await this.#saveOutbox().catch(() => {});
    this.#connection?.transport.close();
    this.#wakeLoop?.();
    this.#readyWaiters.rejectAll(new ChatError("CLOSED", "The chat client is closed"));
    this.#failRequests(new ChatError("CLOSED", "The chat client is closed"));
    await this.#loop;
  }

  // ---- connection loop ------------------------------------------------------------------

  async #runLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#closed && this.#stopReason === undefined) {
      let connectFailed = false;
      const closedPromise = new Promise<string>((resolve) => {
        this.#openConnection(resolve).catch((error) => {
          connectFailed = true;
          resolve(errorMessage(error));
        });
      });
      const reason = await closedPromise;
      if (connectFailed && this.#firstReady && this.#options.retryFirstConnect !== true) {
        this.#stopCode = "CONNECT_FAILED";
        this.#stopReason = reason;
      }
      const wasReady = this.#connection?.ready === true;
      this.#dropConnection();
      if (wasReady) attempt = 0;
      if (this.#closed) break;
      this.#emit({ type: "disconnected", reason });
      if (this.#stopReason !== undefined) break;
      if (this.#options.reconnect === false) {
        this.#stopReason = reason;
        break;
      }
      const delayMs = attempt === 0 && this.#nickChangePending()
        ? 0
        : backoffDelay(attempt, this.#options.backoff);
      attempt++;
      this.#emit({ type: "reconnecting", attempt, delayMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.#wakeLoop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeLoop = undefined;
    }
    const error = new ChatError(
      this.#closed ? "CLOSED" : this.#stopCode,
      this.#closed ? "The chat client is closed" : this.#stopReason ?? "Disconnected",
    );
    this.#readyWaiters.rejectAll(error);
    this.#failRequests(error);
  }

  #nickChangePending(): boolean {
    return this.#grantedNick !== undefined && this.#profile.nick !== undefined &&
      this.#profile.nick !== this.#grantedNick;
  }

  async #openConnection(onClose: (reason: string) => void): Promise<void> {
    const generation = ++this.#generation;
    const slot: { connection?: Connection } = {};
    const open = this.#options.connectTransport ?? connectTransport;
    const transport = await open(this.#options.server, {
      onFrame: (frame) => {
        if (slot.connection !== undefined) this.#onFrame(slot.connection, frame);
      },
      onClose,
    }, {
      ...(this.#options.caCerts === undefined ? {} : { caCerts: this.#options.caCerts }),
      maxFrameSize: MAX_FRAME_BYTES_LIMIT,
    });
    if (this.#closed) {
      transport.close();
      return;
    }
    const requestedNick = this.#profile.nick ?? this.#options.nick;
    const connection: Connection = {
      transport,
      generation,
      requestedNick,
      ready: false,
      delivered: 0,
      handled: 0,
      acked: 0,
      ackBlocked: false,
      handshakeTimer: undefined,
      lastReceived: this.#now(),
      heartbeatMs: 30_000,
      maxFrameBytes: 65_536,
    };
    slot.connection = connection;
    this.#connection = connection;
    connection.handshakeTimer = setTimeout(() => {
      if (!connection.ready) {
        this.#error("HANDSHAKE_TIMEOUT", "The relay did not complete the handshake in time");
        transport.close();
      }
    }, this.#options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    this.#emit({ type: "connected", server: this.#options.server });
    try {
      transport.send(encodeFrame({
        type: "hello",
        version: PROTOCOL_VERSION,
        nick: requestedNick,
        identityKey: this.#identity.publicKey,
        token: utf8Encode(this.#options.token ?? ""),
      }));
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  #dropConnection(): void {
    clearTimeout(this.#connection?.handshakeTimer);
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#connection = undefined;
    this.#outbox.resetConnection();
    // Rosters (and peers' keys) may change while we are away: ask again after the next READY.
    this.#members.clear();
    this.#checkedPeers.clear();
    this.#rosterAsks.clear();
    // Requests waiting for an answer on the lost connection are asked again after reconnect.
  }

  #onFrame(connection: Connection, bytes: Uint8Array): void {
    try {
      this.#onFrameUnsafe(connection, bytes);
    } catch (error) {
      // A bug must not take the process down: one error line, drop the connection, reconnect.
      this.#error("INTERNAL_ERROR", `Cannot handle a frame from the relay: ${errorMessage(error)}`);
      connection.transport.close();
    }
  }

  #onFrameUnsafe(connection: Connection, bytes: Uint8Array): void {
    if (connection !== this.#connection) return;
    connection.lastReceived = this.#now();
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, { from: "relay", maxFrameBytes: MAX_FRAME_BYTES_LIMIT });
    } catch (error) {
      this.#error("PROTOCOL_ERROR", `Bad frame from the relay: ${errorMessage(error)}`);
      connection.transport.close();
      return;
    }
    this.#handleFrame(connection, frame as RelayFrame, bytes);
  }

  #handleFrame(connection: Connection, frame: RelayFrame, bytes: Uint8Array): void {
    switch (frame.type) {
      case "challenge": {
        const transcript = authTranscript({
          version: PROTOCOL_VERSION,
          challenge: frame.nonce,
          identityKey: this.#identity.publicKey,
          nick: connection.requestedNick,
        });
        connection.transport.send(
          encodeFrame({ type: "auth", signature: sign(this.#identity.privateKey, transcript) }),
        );
        return;
      }
      case "ready":
        this.#onReady(connection, frame);
        return;
      case "deliver":
        connection.delivered++;
        this.#inbox.push({ frame, generation: connection.generation });
        if (this.#wire) this.#emitWire("in", frame, bytes.length);
        this.#processInbox();
        return;
      case "accepted":
        for (const entry of this.#outbox.acknowledge(frame.count)) {
          if (!String(entry.meta?.kind ?? "").endsWith("sender-key")) {
            this.#emit({ type: "sent", id: entry.id });
          }
        }
        this.#saveOutboxSoon();
        return;
      case "rejected": {
        const id = toHex(frame.id);
        this.#error(
          frame.code,
          `Message ${id.slice(0, 8)} to "${frame.recipient}" refused by the relay: ${frame.detail}`,
        );
        return;
      }
      case "joined":
        this.#members.get(frame.room)?.set(frame.nick, true);
        if (frame.nick !== this.nick) {
          this.#online.set(frame.nick, true);
        } else {
          this.#rooms.add(frame.room);
          // Every (re)JOIN is answered with JOINED: tell the UI once per room.
          if (this.#selfJoinShown.has(frame.room)) return;
          this.#selfJoinShown.add(frame.room);
        }
        this.#emit({ type: "join", nick: frame.nick, room: frame.room });
        return;
      case "left":
        this.#members.get(frame.room)?.delete(frame.nick);
        if (frame.nick === this.nick) this.#selfJoinShown.delete(frame.room);
        if (frame.nick === this.nick && frame.room !== this.#room) this.#rooms.delete(frame.room);
        if (frame.nick !== this.nick) {
          this.#hush.removeMember(frame.room, frame.nick);
          this.#persist().catch((error) => this.#reportError(error));
        }
        this.#emit({ type: "leave", nick: frame.nick, room: frame.room });
        return;
      case "roster": {
        const room = frame.room === "" ? null : frame.room;
        const members = new Map(frame.members.map((m) => [m.nick, m.online]));
        for (const m of frame.members) if (m.nick !== this.nick) this.#online.set(m.nick, m.online);
        if (room !== null) {
          this.#members.set(room, members);
          this.#rosterRequests.resolveAll(room, [...members.keys()]);
        }
        // Rosters the engine asked for itself stay quiet; the UI's (and unsolicited ones) show.
        const fromUi = this.#rosterAsks.get(frame.room)?.shift() ?? true;
        if (fromUi) {
          this.#emit({
            type: "users",
            room,
            users: frame.members.map((m) => this.#userInfo(m.nick, m.online)),
          });
        }
        return;
      }
      case "rooms":
        this.#emit({ type: "rooms", rooms: frame.rooms.map((r) => r.room), current: this.#room });
        return;
      case "presence":
        this.#online.set(frame.nick, frame.online);
        for (const members of this.#members.values()) {
          if (members.has(frame.nick)) members.set(frame.nick, frame.online);
        }
        this.#emit({ type: "presence", nick: frame.nick, online: frame.online });
        return;
      case "prekey-count":
        if (frame.count < ONE_TIME_PREKEY_LOW_WATER) this.#topUpPrekeys(frame.count);
        return;
      case "keys": {
        this.#keyRequests.resolveFirst(frame.nick, frame);
        return;
      }
      case "relay-ping":
        connection.transport.send(encodeFrame({ type: "pong", nonce: frame.nonce }));
        return;
      case "relay-pong":
        return;
      case "error":
        this.#onRelayError(connection, frame.code, frame.detail, frame.fatal);
        return;
    }
  }

  #onRelayError(connection: Connection, code: string, detail: string, fatal: boolean): void {
    if (code === "NOT_IN_ROOM") {
      // A roster of a room we are not in: nobody to encrypt to. (The ERROR does not name the
      // room, so the quiet/shown bookkeeping of outstanding rosters starts over.)
      for (const room of this.#rosterRequests.keys()) this.#rosterRequests.resolveAll(room, []);
      this.#rosterAsks.clear();
    }
    this.#error(code, `Relay error: ${detail}`);
    if (!fatal) return;
    if (FATAL_CODES.has(code) && !connection.ready) {
      this.#stopReason = `Relay refused the connection (${code}): ${detail}`;
    } else if (code === "REPLACED") {
      this.#stopReason = `Another client with this identity took over the nick: ${detail}`;
    }
    connection.transport.close();
  }

  #onReady(connection: Connection, frame: RelayFrame & { type: "ready" }): void {
    connection.ready = true;
    clearTimeout(connection.handshakeTimer);
    connection.heartbeatMs = frame.heartbeatMs;
    connection.maxFrameBytes = frame.maxFrameBytes;
    // The nick granted last time (this session or, from the profile, an earlier one).
    const old = this.#grantedNick ?? this.#profile.granted;
    this.#grantedNick = frame.nick;
    const nickChanged = old !== undefined && old !== frame.nick;
    this.#profile.nick = frame.nick;
    this.#profile.granted = frame.nick;
    if (nickChanged && old !== undefined) {
      this.#profile.former = [old, ...(this.#profile.former ?? []).filter((n) => n !== old)]
        .filter((n) => n !== frame.nick).slice(0, 16);
      this.#forgetOldNick();
    }
    this.#startHeartbeat(connection);
    // Keys: publish the bundle when the relay has none, top up when it runs low.
    try {
      const maintained = this.#hush.user.maintain();
      if (!frame.hasBundle) this.#publishKeys(true, []);
      else if (maintained.rotated) this.#publishKeys(false, []);
      if (frame.hasBundle && frame.oneTimePrekeys < ONE_TIME_PREKEY_LOW_WATER) {
        this.#topUpPrekeys(frame.oneTimePrekeys);
      }
      this.#persist().catch((error) => this.#reportError(error));
    } catch (error) {
      this.#reportError(error);
    }
    // JOIN is idempotent at the relay: (re)join every room of the profile, then ask for the
    // current room's roster (frames are handled in order, so the roster includes us).
    for (const room of this.#pendingLeaves) {
      if (!this.#rooms.has(room)) connection.transport.send(encodeFrame({ type: "leave", room }));
    }
    this.#pendingLeaves.clear();
    for (const room of this.#rooms) connection.transport.send(encodeFrame({ type: "join", room }));
    this.#saveProfile().catch((error) => this.#reportError(error));
    this.#askRoster(this.#room, false);
    // Resend everything not acknowledged, same ids, in order.
    if (this.#outbox.size > 0) {
      this.#emit({
        type: "info",
        message: `Sending ${this.#outbox.size} envelope(s) again that the relay had not ` +
          "acknowledged (same message ids: the receiver drops any duplicate)",
      });
    }
    this.#flushOutbox();
    // Retry key lookups that were waiting.
    for (const nick of this.#keyRequests.keys()) {
      connection.transport.send(encodeFrame({ type: "fetch-keys", nick }));
    }
    for (const room of this.#rosterRequests.keys()) this.#askRoster(room, false);
    if (nickChanged && old !== undefined) this.#emit({ type: "nick", old, new: frame.nick });
    // `ready` after every successful (re)authentication: scripts wait for it after a reconnect.
    this.#emit({
      type: "ready",
      nick: frame.nick,
      fingerprint: this.fingerprint,
      server: this.#options.server,
      room: this.#room,
    });
    if (this.#firstReady && getCipherSuite(this.#cipher).insecure) {
      this.#emit({ type: "cipher", cipher: this.#cipher, insecure: true });
    }
    this.#firstReady = false;
    this.#readyWaiters.resolveAll("ready", undefined);
  }

  /**
   * Peers know us by nick: their sessions and our sender keys are filed under the old one. So
   * after a nick change every pairwise session restarts (the next message to each peer is an
   * X3DH initial message under the new nick) and every room gets a new sender key.
   */
  #forgetOldNick(): void {
    for (const peer of this.#hush.peersWithSessions()) this.#hush.resetSession(peer);
    this.#hush.rotateRoomKeys();
    this.#persist().catch((error) => this.#reportError(error));
  }

  #startHeartbeat(connection: Connection): void {
    clearInterval(this.#heartbeat);
    const every = Math.max(50, Math.floor(connection.heartbeatMs / 2));
    this.#heartbeat = setInterval(() => {
      if (connection !== this.#connection) return;
      const silent = this.#now() - connection.lastReceived;
      if (silent >= 2 * connection.heartbeatMs) {
        connection.transport.close();
      } else if (silent >= connection.heartbeatMs) {
        connection.transport.send(encodeFrame({ type: "ping", nonce: randomBytes(8) }));
      }
    }, every);
  }

  #publishKeys(replace: boolean, ids: number[]): void {
    this.#sendFrame(publishKeysFrame(this.#hush.bundle(), { replace, ids }));
  }

  #topUpPrekeys(relayCount: number): void {
    const wanted = Math.min(MAX_ONE_TIME_PREKEYS_PER_FRAME, ONE_TIME_PREKEY_TARGET - relayCount);
    if (wanted <= 0) return;
    const ids = this.#hush.user.addOneTimePrekeys(wanted);
    this.#persist().then(() => this.#publishKeys(false, ids), (e) => this.#reportError(e));
  }

  #sendFrame(frame: Frame): void {
    const connection = this.#connection;
    if (!connection?.ready) return;
    try {
      connection.transport.send(encodeFrame(frame));
    } catch (error) {
      // Names are checked before they get here; this is a last line of defence.
      this.#error("BAD_REQUEST", `Cannot send a ${frame.type} request: ${errorMessage(error)}`);
    }
  }

  #flushOutbox(): void {
    const connection = this.#connection;
    if (!connection?.ready) return;
    for (const entry of this.#outbox.takeUnsent()) {
      // A nick change since the envelope was made: the relay wants the granted nick as sender.
      if (entry.meta?.from !== undefined && entry.meta.from !== this.nick) {
        const old = decodeFrame(entry.frame, {
          from: "client",
          maxFrameBytes: MAX_FRAME_BYTES_LIMIT,
        });
        if (old.type === "send") {
          entry.frame = encodeFrame({ ...old, from: this.nick });
          entry.meta.from = this.nick;
        }
      }
      connection.transport.send(entry.frame);
    }
  }

  #waitReady(timeoutMs: number | undefined): Promise<void> {
    if (this.#connection?.ready) return Promise.resolve();
    if (this.#closed) return Promise.reject(new ChatError("CLOSED", "The chat client is closed"));
    return this.#readyWaiters.wait(
      "ready",
      timeoutMs,
      () => new ChatError("NOT_CONNECTED", "Not connected to the relay"),
    );
  }

  #failRequests(error: unknown): void {
    this.#keyRequests.rejectAll(error);
    this.#rosterRequests.rejectAll(error);
  }

  // ---- requests -------------------------------------------------------------------------

  async #fetchKeys(nick: string): Promise<KeysFrame> {
    const timeoutMs = this.#options.requestTimeoutMs ?? 10_000;
    await this.#waitReady(timeoutMs);
    const answer = this.#keyRequests.wait(
      nick,
      timeoutMs,
      () => new ChatError("NOT_CONNECTED", `No answer from the relay about "${nick}"`),
    );
    this.#sendFrame({ type: "fetch-keys", nick });
    return await answer;
  }

  async #fetchBundle(nick: string): Promise<PrekeyBundle> {
    let keys = await this.#fetchKeys(nick);
    // A peer that just connected publishes its bundle right after READY: give it a moment.
    for (let attempt = 0; keys.status === "no-bundle" && attempt < 5; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      keys = await this.#fetchKeys(nick);
    }
    if (keys.status === "no-such-user") {
      throw new ChatError("UNKNOWN_PEER", `No user "${nick}" on this relay`);
    }
    if (keys.status === "no-bundle") {
      throw new ChatError("NO_BUNDLE", `"${nick}" has not published keys yet`);
    }
    return bundleFromKeys(keys);
  }

  async #roomMembers(room: string): Promise<string[]> {
    const known = this.#members.get(room);
    if (known !== undefined) return [...known.keys()];
    const timeoutMs = this.#options.requestTimeoutMs ?? 10_000;
    await this.#waitReady(timeoutMs);
    const answer = this.#rosterRequests.wait(
      room,
      timeoutMs,
      () => new ChatError("NOT_CONNECTED", `No roster from the relay for "${room}"`),
    );
    this.#askRoster(room, false);
    return await answer;
  }

  /**
   * Once per connection, before the first private message to a peer we already have a session
   * with, asks the key directory for the peer's identity key: a peer who reinstalled (new key,
   * same nick) would otherwise get messages for a session it no longer has. A different key is
   * recorded as a pending change, which blocks the send (`IDENTITY_CHANGED`). Costs the peer one
   * one-time prekey (the relay hands one out with every answer); they are topped up.
   */
  async #checkPeerKey(nick: string): Promise<void> {
    if (!this.connected || this.#checkedPeers.has(nick) || !this.#hush.hasSession(nick)) return;
    let keys: KeysFrame;
    try {
      keys = await this.#fetchKeys(nick);
    } catch {
      return; // no answer: send on the session we have
    }
    this.#checkedPeers.add(nick);
    if (keys.status === "no-such-user") return;
    if (this.#hush.trust.observe(nick, keys.identityKey) === "changed") await this.#persist();
  }

  /** Makes sure we know `nick`'s identity key (fetching the bundle and pinning it). */
  async #ensureKnown(nick: string): Promise<boolean> {
    if (!isValidNick(nick)) {
      this.#error("BAD_NICK", `Invalid nick "${nick}": 1-32 characters from A-Z a-z 0-9 _ -`);
      return false;
    }
    if (this.#hush.trust.get(nick) !== undefined) return true;
    try {
      const bundle = await this.#fetchBundle(nick);
      if (!this.#hush.hasSession(nick)) this.#hush.startSession(nick, bundle);
      else this.#hush.trust.observe(nick, bundle.identityKey);
      await this.#persist();
      return true;
    } catch (error) {
      this.#reportError(error);
      return false;
    }
  }

  // ---- sending --------------------------------------------------------------------------

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#sendChain.then(fn, fn);
    this.#sendChain = run.catch(() => undefined);
    return run;
  }

  async #sendPrivateNow(nick: string, text: string): Promise<string | undefined> {
    if (this.#closed) return this.#refuseClosed();
    if (!isValidNick(nick)) {
      this.#error("BAD_NICK", `Invalid nick "${nick}"`);
      return undefined;
    }
    if (nick === this.nick) {
      this.#error("BAD_RECIPIENT", "Cannot send a private message to yourself");
      return undefined;
    }
    const ts = this.#now();
    try {
      await this.#checkPeerKey(nick);
      const payload = encodeChatPayload({ text, ts });
      const out = await this.#hush.encryptTo(nick, payload);
      const [id] = await this.#enqueue([
        { to: nick, toKind: "nick", cipher: out.suite.wireId, body: out.body, kind: out.kind },
      ]);
      if (id === undefined) return undefined;
      this.#emit({
        type: "message",
        id,
        from: this.nick,
        to: nick,
        private: true,
        text,
        cipher: out.suite.id,
        insecure: out.insecure,
        verified: this.#hush.trust.isVerified(nick),
        ts,
        own: true,
      });
      return id;
    } catch (error) {
      this.#reportError(error, nick);
      return undefined;
    }
  }

  async #sendRoomNow(room: string, text: string): Promise<string | undefined> {
    if (this.#closed) return this.#refuseClosed();
    if (!this.#rooms.has(room)) {
      this.#error("NOT_IN_ROOM", `Not in a room: join one first (/join ROOM)`);
      return undefined;
    }
    const ts = this.#now();
    try {
      const payload = encodeChatPayload({ text, ts });
      const former = new Set(this.#profile.former ?? []);
      const members = (await this.#roomMembers(room)).filter((m) =>
        m !== this.nick && !former.has(m)
      );
      const send = await this.#hush.encryptToRoom(room, members, payload);
      for (const skipped of send.skipped) {
        if (skipped.code === "IDENTITY_CHANGED") this.#identityChanged(skipped.nick);
        this.#error(
          skipped.code,
          `"${skipped.nick}" cannot read this message in "${room}": ${skipped.message}`,
        );
      }
      const ids = await this.#enqueue([
        ...send.distributions.map((d): OutgoingEnvelope => ({
          to: d.to,
          toKind: "nick",
          cipher: d.suite.wireId,
          body: d.body,
          kind: `${d.kind}/sender-key`,
        })),
        {
          to: room,
          toKind: "room",
          cipher: send.room.suite.wireId,
          body: send.room.body,
          kind: "room",
        },
      ]);
      const id = ids[ids.length - 1];
      if (id === undefined) return undefined;
      this.#emit({
        type: "message",
        id,
        from: this.nick,
        to: room,
        private: false,
        text,
        cipher: send.room.suite.id,
        insecure: send.room.insecure,
        verified: false,
        ts,
        own: true,
      });
      return id;
    } catch (error) {
      this.#reportError(error);
      return undefined;
    }
  }

  #refuseClosed(): undefined {
    this.#error("CLOSED", "The chat client is closed");
    return undefined;
  }

  /**
   * Queues envelopes: session state is saved first (a crash never reuses a message key), then
   * the envelopes enter the outbox, the outbox is saved, and they are written to the relay.
   */
  async #enqueue(items: OutgoingEnvelope[]): Promise<string[]> {
    const prepared = items.map((item) => {
      const idBytes = randomBytes(16);
      const envelope: EnvelopeFrame & { type: "send" } = {
        type: "send",
        id: idBytes,
        cipher: item.cipher,
        from: this.nick,
        toKind: item.toKind,
        to: item.to,
        body: item.body,
      };
      return { id: toHex(idBytes), envelope, frame: encodeFrame(envelope), kind: item.kind };
    });
    await this.#persist();
    for (const p of prepared) {
      this.#outbox.enqueue({
        id: p.id,
        frame: p.frame,
        meta: { from: this.nick, to: p.envelope.to, toKind: p.envelope.toKind, kind: p.kind },
      });
    }
    await this.#saveOutbox();
    if (this.#wire) {
      for (const p of prepared) this.#emitWire("out", p.envelope, p.frame.length, p.kind);
    }
    this.#flushOutbox();
    return prepared.map((p) => p.id);
  }

  // ---- receiving ------------------------------------------------------------------------

  async #processInbox(): Promise<void> {
    if (this.#processing) return;
    this.#processing = true;
    try {
      while (this.#inbox.length > 0) {
        const batch = this.#inbox.splice(0, 64);
        const events: ChatEvent[] = [];
        const handled = new Map<number, number>();
        for (const item of batch) {
          try {
            this.#openEnvelope(item.frame, item.generation, events);
          } catch (error) {
            this.#seen.add(toHex(item.frame.id));
            events.push(decryptErrorEvent(error, item.frame.from, ""));
          }
          handled.set(item.generation, (handled.get(item.generation) ?? 0) + 1);
        }
        // Durable before shown and before acknowledged.
        let saved = true;
        try {
          await this.#persist();
          await this.#home().write(SEEN_FILE, this.#seen.toJSON());
        } catch (error) {
          // Shown anyway (the keys are used up in memory) but not acknowledged: the relay keeps
          // the envelopes, so after a crash they are delivered and opened again. Nothing lost.
          saved = false;
          this.#reportError(error);
        }
        for (const event of events) this.#emit(event);
        const connection = this.#connection;
        // Acks are cumulative: after an unsaved batch nothing more is acknowledged on this
        // connection, so the relay delivers all of it again on the next one.
        if (!saved && connection !== undefined) connection.ackBlocked = true;
        if (connection !== undefined && !connection.ackBlocked) {
          connection.handled += handled.get(connection.generation) ?? 0;
          if (connection.handled > connection.acked && connection.ready) {
            connection.acked = connection.handled;
            connection.transport.send(encodeFrame({ type: "ack", count: connection.handled }));
          }
        }
      }
    } finally {
      this.#processing = false;
    }
  }

  #openEnvelope(
    frame: EnvelopeFrame,
    generation: number,
    events: ChatEvent[],
    retry = false,
  ): void {
    const id = toHex(frame.id);
    if (this.#seen.has(id)) {
      if (this.#wire && !retry) {
        events.push({
          type: "info",
          message: `Envelope ${id} was delivered again: already shown, dropped by message id`,
        });
      }
      return;
    }
    try {
      if (frame.toKind === "room") {
        const got = this.#hush.decryptRoom(frame.to, frame.from, frame.body);
        const payload = decodeChatPayload(got.plaintext, this.#now());
        this.#seen.add(id);
        events.push({
          type: "message",
          id,
          from: frame.from,
          to: frame.to,
          private: false,
          text: payload.text,
          cipher: got.suite,
          insecure: got.insecure,
          verified: got.verified,
          ts: payload.ts,
          own: false,
        });
        return;
      }
      const got = this.#hush.decryptFrom(frame.from, frame.body);
      this.#seen.add(id);
      if (got.type === "sender-key") {
        this.#retryPendingRoom(events);
        return;
      }
      events.push(this.#pairwiseEvent(got, id));
    } catch (error) {
      if (error instanceof SessionError && error.code === "NO_SENDER_KEY" && !retry) {
        // The distribution may still be on its way: keep the body, retry when a key arrives.
        this.#pendingRoom.push({ frame, generation, since: this.#now() });
        if (this.#pendingRoom.length > MAX_PENDING_ROOM) {
          const dropped = this.#pendingRoom.shift();
          if (dropped !== undefined) events.push(noSenderKeyEvent(dropped.frame));
        }
        this.#pendingTimer ??= setInterval(
          () => this.#expirePending(),
          Math.min(1_000, this.#options.senderKeyWaitMs ?? 1_000),
        );
        return;
      }
      if (error instanceof SessionError && error.code === "DUPLICATE_MESSAGE") {
        this.#seen.add(id);
        return;
      }
      if (retry) throw error;
      this.#seen.add(id);
      if (error instanceof SessionError && error.code === "IDENTITY_CHANGED") {
        events.push(this.#identityChangedEvent(frame.from));
      }
      events.push(decryptErrorEvent(error, frame.from, frame.toKind === "room" ? frame.to : ""));
    }
  }

  /** Gives up on room messages whose sender key did not arrive in time: one error each. */
  #expirePending(): void {
    const limit = this.#now() - (this.#options.senderKeyWaitMs ?? PENDING_SENDER_KEY_MS);
    const expired = this.#pendingRoom.filter((item) => item.since <= limit);
    this.#pendingRoom = this.#pendingRoom.filter((item) => item.since > limit);
    if (this.#pendingRoom.length === 0) {
      clearInterval(this.#pendingTimer);
      this.#pendingTimer = undefined;
    }
    for (const item of expired) this.#emit(noSenderKeyEvent(item.frame));
  }

  #retryPendingRoom(events: ChatEvent[]): void {
    const pending = this.#pendingRoom;
    this.#pendingRoom = [];
    for (const item of pending) {
      try {
        this.#openEnvelope(item.frame, item.generation, events, true);
      } catch (error) {
        if (error instanceof SessionError && error.code === "NO_SENDER_KEY") {
          this.#pendingRoom.push(item);
        } else {
          this.#seen.add(toHex(item.frame.id));
          events.push(decryptErrorEvent(error, item.frame.from, item.frame.to));
        }
      }
    }
  }

  #pairwiseEvent(got: Received & { type: "text" }, id: string): ChatEvent {
    const payload = decodeChatPayload(got.plaintext, this.#now());
    return {
      type: "message",
      id,
      from: got.from,
      to: this.nick,
      private: true,
      text: payload.text,
      cipher: got.suite,
      insecure: got.insecure,
      verified: got.verified,
      ts: payload.ts,
      own: false,
    };
  }

  #showPairwise(received: Received, id: string): void {
    if (received.type === "text") this.#emit(this.#pairwiseEvent(received, id));
  }

  // ---- events and persistence -----------------------------------------------------------

  #identityChangedEvent(nick: string): ChatEvent {
    const trust = this.#hush.trust.get(nick);
    return {
      type: "identity-changed",
      peer: nick,
      oldFingerprint: trust?.fingerprint ?? "",
      newFingerprint: trust?.changed?.newFingerprint ?? "",
    };
  }

  #identityChanged(nick: string): void {
    this.#emit(this.#identityChangedEvent(nick));
  }

  #reportError(error: unknown, peer?: string): void {
    if (error instanceof HushError) {
      if (error.code === "IDENTITY_CHANGED" && peer !== undefined) this.#identityChanged(peer);
      this.#error(error.code, error.message);
    } else {
      this.#error("INTERNAL_ERROR", errorMessage(error));
    }
  }

  #error(code: string, message: string): void {
    this.#emit({ type: "error", code, message });
  }

  #emit(event: ChatEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not break the engine
      }
    }
  }

  #emitWire(
    direction: "in" | "out",
    frame: EnvelopeFrame,
    size: number,
    kind?: string,
  ): void {
    this.#emit({ type: "wire", wire: wireView(direction, frame, size, kind) });
  }

  #userInfo(nick: string, online: boolean): UserInfo {
    const trust = nick === this.nick ? undefined : this.#hush.trust.get(nick);
    const info: UserInfo = {
      nick,
      online,
      verified: trust?.verified === true && trust.changed === undefined,
    };
    if (nick === this.nick) info.fingerprint = this.fingerprint;
    else if (trust !== undefined) info.fingerprint = trust.fingerprint;
    return info;
  }

  #rebuildHush(): Hush {
    return new Hush({
      store: this.#store,
      identity: this.#identity,
      fetchBundle: (nick) => this.#fetchBundle(nick),
      suite: this.#cipher as CipherSuiteId,
      refuseInsecure: this.#options.refuseInsecure ?? false,
      now: this.#now,
    });
  }

  #home(): ChatHome {
    return this.#options.home;
  }

  #persist(): Promise<void> {
    return this.#store.flush();
  }

  #saveOutbox(): Promise<void> {
    const run = this.#persistChain.catch(() => {}).then(() =>
      this.#home().write(OUTBOX_FILE, this.#outbox.toJSON())
    );
    this.#persistChain = run;
    return run;
  }

  #outboxSaveTimer: ReturnType<typeof setTimeout> | undefined;

  #saveOutboxSoon(): void {
    if (this.#outboxSaveTimer !== undefined || this.#closed) return;
    this.#outboxSaveTimer = setTimeout(() => {
      this.#outboxSaveTimer = undefined;
      this.#saveOutbox().catch((error) => this.#reportError(error));
    }, 0);
  }

  #saveProfile(): Promise<void> {
    this.#profile.room = this.#room;
    this.#profile.rooms = [...this.#rooms];
    this.#profile.leaving = [...this.#pendingLeaves];
    this.#profile.cipher = this.#cipher;
    return this.#home().write(PROFILE_FILE, JSON.stringify(this.#profile));
  }
}

function checkSuite(id: string): void {
  try {
    getCipherSuite(id);
  } catch (error) {
    throw new ChatError("UNKNOWN_CIPHER_SUITE", `Unknown cipher suite "${id}"`, { cause: error });
  }
}

function noSenderKeyEvent(frame: EnvelopeFrame): ChatEvent {
  return {
    type: "error",
    code: "NO_SENDER_KEY",
    message:
      `Cannot open a message from "${frame.from}" in "${frame.to}": their room key never arrived`,
  };
}

function decryptErrorEvent(error: unknown, from: string, room: string): ChatEvent {
  const code = error instanceof HushError ? error.code : "DECRYPT_FAILED";
  const where = room === "" ? "" : ` in "${room}"`;
  return {
    type: "error",
    code,
    message: `Cannot open a message from "${from}"${where}: ${errorMessage(error)}`,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readJsonFile<T>(home: ChatHome, name: string): Promise<T | undefined> {
  const text = await home.read(name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ChatError("BAD_HOME", `Cannot parse "${home.location}/${name}"`, { cause: error });
  }
}
