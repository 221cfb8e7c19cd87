/**
 * The chat engine: one local user talking to one relay. It owns the connection (handshake,
 * heartbeats, reconnect with backoff), the end-to-end layer (`sessions/`'s {@linkcode Hush}),
 * the outbox (nothing is lost), the seen-id set (nothing is shown twice) and the home (state
 * survives a restart). It has no UI: it reports everything as {@linkcode ChatEvent}s
 * (`chat/events.ts`) and a UI calls its methods.
 *
 * This file wires the parts together; each lives in a private file: `_connection.ts` (transport,
 * handshake, heartbeats, reconnect loop), `_delivery.ts` (incoming envelopes, held room messages,
 * acks), `_outgoing.ts` (encrypting and queueing, the outbox), `_rooms.ts` (membership, rosters,
 * presence), `_directory.ts` (key publishing and lookups), `_commands.ts` (whois, verify, trust),
 * `_profile.ts` (home files), `_emitter.ts` (events).
 *
 * Engine behaviour in prose: `docs/CLIENT.md`, section "Engine behaviour".
 *
 * @module
 */

import { ROOM_KEY_POLICIES, RoomKeyGate } from "./_room_keys.ts";
import {
  type CipherSuiteId,
  DEFAULT_CIPHER_SUITE,
  fingerprint,
  getCipherSuite,
  type IdentityKeyPair,
  utf8Encode,
} from "../crypto/mod.ts";
import {
  DEFAULT_ROOM,
  isValidNick,
  isValidRoom,
  MAX_TOKEN_BYTES,
  type RelayFrame,
  sameNick,
} from "../protocol/mod.ts";
import { Hush } from "../sessions/mod.ts";
import * as commands from "./_commands.ts";
import { type Connection, type ReadyFrame, RelayLink } from "./_connection.ts";
import type { EngineCore } from "./_core.ts";
import { Delivery, SHOWN_FILE } from "./_delivery.ts";
import { Directory } from "./_directory.ts";
import { badNickMessage, badRoomMessage, Emitter, identityChangedEvent } from "./_emitter.ts";
import type { ChatClientOptions } from "./_options.ts";
import { Outgoing, type RelayStorage } from "./_outgoing.ts";
import { Recovery } from "./_recovery.ts";
import { SentLog } from "./sent_log.ts";
import {
  adoptProfile,
  type HomeState,
  keptNickNote,
  loadHomeState,
  OUTBOX_KEY,
  type Profile,
  PROFILE_FILE,
  REPLACED_FILE,
  type ReplacedNote,
  UNCONFIRMED_FILE,
} from "./_profile.ts";
import { Rooms } from "./_rooms.ts";
import { ChatError } from "./errors.ts";
import type { ChatEventListener } from "./events.ts";
import { FencedHome } from "./home.ts";
import type { HomeSessionStore } from "./home_session_store.ts";
import type { Outbox } from "./outbox.ts";
import { isSecureUrl } from "./transport.ts";

export type { ChatClientOptions } from "./_options.ts";
export { OUTBOX_FILE, OUTBOX_KEY, PROFILE_FILE, SEEN_FILE, UNCONFIRMED_FILE } from "./_profile.ts";

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
    throw new ChatError("BAD_NICK", badNickMessage(options.nick));
  }
  if (options.token !== undefined && utf8Encode(options.token).length > MAX_TOKEN_BYTES) {
    throw new ChatError("BAD_TOKEN", `Token is too long: at most ${MAX_TOKEN_BYTES} bytes`);
  }
  const room = options.room ?? DEFAULT_ROOM;
  if (!isValidRoom(room)) {
    throw new ChatError("BAD_ROOM", badRoomMessage(room));
  }
  if (options.roomKeys !== undefined && !ROOM_KEY_POLICIES.includes(options.roomKeys)) {
    throw new ChatError(
      "BAD_OPTION",
      `Unknown room-key policy "${options.roomKeys}": use all, approve or verified`,
    );
  }
  const home = new FencedHome(options.home);
  const state = await loadHomeState(home);
  const cipher = options.cipher ?? state.profile.cipher ?? DEFAULT_CIPHER_SUITE;
  checkSuite(cipher);
  return new ChatClient({ options, ...state, cipher, room, home });
}

/**
 * A chat engine. Every method that talks to the relay works while disconnected too: sends are
 * queued in the outbox and go out on (re)connect; requests that need an answer from the relay
 * wait for the connection (bounded by `requestTimeoutMs`). Methods never throw for problems a
 * user can cause: they report an `error` event with a stable code instead.
 */
export class ChatClient {
  #options: ChatClientOptions;
  /** The home, fenced: once the session ended for good, nothing more is written there. */
  #home: FencedHome;
  /** Set when the session ended for good: nothing more is encrypted or saved. */
  #stopped: ChatError | undefined;
  #identity: IdentityKeyPair;
  #profile: Profile;
  #outbox: Outbox;
  #store: HomeSessionStore;
  #hush: Hush;
  #now: () => number;
  #emitter: Emitter;
  #link: RelayLink;
  #directory: Directory;
  #rooms: Rooms;
  #delivery: Delivery;
  #outgoing: Outgoing;
  #commands: commands.CommandHost;
  #roomKeys: RoomKeyGate;

  #closing = false;
  /** Said once at the first `connect()` (a former nick given: the current one is kept). */
  #startNote: string | undefined;
  /** A session of this home was replaced elsewhere: restart every session before connecting. */
  #replaced: ReplacedNote | undefined;
  /** The write of the `replaced` note, awaited by `close()`. */
  #replacedWrite: Promise<void> = Promise.resolve();
  #grantedNick: string | undefined;
  /** The requested/granted nick pair last explained (`bob is taken; you are bob_1`). */
  #suffixExplained: string | undefined;
  #sendChain: Promise<unknown> = Promise.resolve();
  #wire = false;
  #cipher: string;

  /** @internal Use {@linkcode createChatClient}. */
  constructor(
    init: HomeState & {
      options: ChatClientOptions;
      cipher: string;
      room: string;
      home?: FencedHome;
    },
  ) {
    const options = init.options;
    this.#options = options;
    this.#home = init.home ?? new FencedHome(options.home);
    this.#home.onTakenOver = (error) =>
      this.#stop("HOME_TAKEN_OVER", error.message.replace(/^[^:]*: /, ""));
    this.#identity = init.identity;
    this.#startNote = keptNickNote(init.profile, options.nick);
    this.#replaced = init.replaced;
    this.#profile = adoptProfile(init.profile, options.nick);
    this.#outbox = init.outbox;
    this.#store = init.store;
    this.#now = options.now ?? Date.now;
    this.#cipher = init.cipher;
    this.#emitter = new Emitter((nick) => identityChangedEvent(this.#hush, nick));
    const core: EngineCore = {
      hush: () => this.#hush,
      emitter: this.#emitter,
      now: this.#now,
      nick: () => this.nick,
      persist: () => this.#persist(),
    };
    const link = new RelayLink({
      ...core,
      options,
      identity: init.identity,
      requestedNick: () => this.#profile.nick ?? this.#options.nick,
      nickChangePending: () => this.#nickChangePending(),
      onFrame: (connection, frame, bytes) => this.#onFrame(connection, frame, bytes),
      onReady: (connection, frame, first) => this.#onReady(connection, frame, first),
      onRelayError: (code) => {
        if (code === "NOT_IN_ROOM") this.#rooms.onNotInRoom();
      },
      onSessionEnd: (code, reason) => this.#stop(code, reason),
      onDrop: () => {
        this.#outbox.resetConnection();
        this.#rooms.forgetConnection();
        this.#directory.forgetConnection();
        // Requests waiting for an answer on the lost connection are asked again after reconnect.
      },
      onStop: (error) => {
        this.#directory.fail(error);
        this.#rooms.fail(error);
      },
    });
    this.#link = link;
    this.#directory = new Directory({ ...core, link });
    this.#roomKeys = new RoomKeyGate(options.roomKeys ?? "all", {
      store: init.store,
      emitter: this.#emitter,
      hush: () => this.#hush,
    });
    this.#rooms = new Rooms(
      {
        ...core,
        link,
        fingerprint: () => this.fingerprint,
        shown: (room, nick) => this.#roomKeys.markShown(room, nick),
        identityOf: (nick) => this.#directory.identityOf(nick),
      },
      { room: init.room, rooms: this.#profile.rooms ?? [], leaving: this.#profile.leaving ?? [] },
    );
    const seen = init.seen;
    const wire = () => this.#wire;
    const sentLog = new SentLog(init.store, this.#now);
    const recovery = new Recovery({
      ...core,
      store: init.store,
      seen,
      sentLog,
      sendPayload: (nick, payload) => this.#outgoing.sendPayload(nick, payload),
      roomMembers: (room) => this.#rooms.members(room),
    });
    this.#delivery = new Delivery({
      ...core,
      seen,
      wire,
      connection: () => link.connection,
      store: init.store,
      recovery,
      senderKeyWaitMs: options.senderKeyWaitMs,
      formerNicks: () => this.#profile.former ?? [],
      inRoom: (room) => this.#rooms.has(room),
      shownJournal: this.#home.canWriteSync
        ? {
          read: () => this.#home.read(SHOWN_FILE),
          appendSync: (text) => this.#home.appendSync(SHOWN_FILE, text),
          writeSync: (text) => this.#home.writeSync(SHOWN_FILE, text),
        }
        : undefined,
    });
    this.#outgoing = new Outgoing({
      ...core,
      link,
      directory: this.#directory,
      rooms: this.#rooms,
      outbox: init.outbox,
      formerNicks: () => this.#profile.former ?? [],
      wire,
      // In the session store: one commit with the state that encrypted the envelopes.
      stageOutbox: (json) => this.#store.set(OUTBOX_KEY, json),
      writeUnconfirmed: (json) => this.#home.write(UNCONFIRMED_FILE, json),
      relayMemory: () => (this.#profile.relay ??= {}),
      retryDelayMs: options.retryDelayMs,
      sentLog,
      roomKeys: this.#roomKeys,
    });
    this.#commands = {
      ...core,
      fingerprint: () => this.fingerprint,
      cipher: () => this.#cipher,
      connected: () => this.connected,
      isOnline: (peer) => this.#rooms.isOnline(peer),
      ensureKnown: (peer) => this.#directory.ensureKnown(peer),
      release: (peer) => this.#delivery.release(peer),
    };
    this.#hush = this.#createHush();
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
    return this.#rooms.current;
  }

  /** The default cipher suite id for new messages. */
  get cipher(): string {
    return this.#cipher;
  }

  /** True while authenticated with the relay. */
  get connected(): boolean {
    return this.#link.connected;
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
    return this.#emitter.on(listener);
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
  async connect(): Promise<void> {
    if (this.#startNote !== undefined) {
      this.#emitter.emit({ type: "info", message: this.#startNote });
      this.#startNote = undefined;
    }
    if (this.#replaced !== undefined && !this.#link.closed) await this.#restartAfterReplaced();
    // Messages opened and saved before a crash, never shown: shown first.
    await this.#delivery.showSaved().catch((error) => this.#emitter.reportError(error));
    return await this.#link.connect();
  }

  /**
   * The last session of this home was replaced by another connection of the same identity (a
   * copy of the home): that copy may have sent from the ratchet and sender-key states saved
   * here, so continuing from them could reuse message keys. Every pairwise session restarts (new
   * X3DH) and every room gets a new sender key before anything is sent.
   */
  async #restartAfterReplaced(): Promise<void> {
    const note = this.#replaced!;
    for (const peer of this.#hush.peersWithSessions()) this.#hush.resetSession(peer);
    this.#hush.rotateRoomKeys();
    await this.#persist();
    await this.#home.remove(REPLACED_FILE);
    this.#replaced = undefined;
    this.#emitter.emit({
      type: "info",
      message: `At ${note.at} another client with this identity replaced this one (a copy of ` +
        "this home?). It may have used the session state saved here, so every conversation " +
        "starts again with fresh keys. Run one client per identity, from one home.",
    });
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
    const room = this.#rooms.current;
    return this.#serial(() => this.#refuseStopped() ?? this.#outgoing.sendRoom(room, text));
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
    return this.#serial(() =>
      this.#refuseStopped() ?? this.#outgoing.sendPrivate(this.canonicalNick(nick), text)
    );
  }

  /**
   * The relay's spelling of a typed nick: the relay binds one identity per nick skeleton (case
   * and look-alikes folded, `protocol/names.ts`) but routes by exact spelling, so `/pm BOB` must
   * go to `bob`. Looks among the nicks we know (ours, rosters, presence, peers with a session):
   * an exact match wins, else the only one with the same skeleton; otherwise the nick as typed.
   * Sessions, trust pins and conversations are thereby keyed by one spelling per peer.
   *
   * @param nick A nick as typed.
   * @returns The spelling to use.
   */
  canonicalNick(nick: string): string {
    if (!isValidNick(nick)) return nick;
    const known = this.#rooms.knownNicks();
    known.add(this.nick);
    for (const peer of this.#hush.peersWithSessions()) known.add(peer);
    if (known.has(nick)) return nick;
    const matches = [...known].filter((k) => sameNick(k, nick));
    return matches.length === 1 ? matches[0]! : nick;
  }

  /**
   * Joins a room and makes it current; emits `room` and, from the relay, `join`.
   *
   * @param room The room name.
   * @returns Resolves once the JOIN is queued.
   */
  join(room: string): Promise<void> {
    return this.#rooms.join(room) ? this.#saveProfile() : Promise.resolve();
  }

  /**
   * Leaves a room (default: the current one); our sender key for it is forgotten. The current
   * room becomes another joined room (with none left, `sendRoom` reports `NOT_IN_ROOM`). While
   * disconnected, the LEAVE is sent after the next READY.
   *
   * @param room The room to leave.
   * @returns Resolves once the LEAVE is queued.
   */
  leave(room: string = this.#rooms.current): Promise<void> {
    if (!this.#rooms.leave(room)) return Promise.resolve();
    return this.#persist().then(() => this.#saveProfile());
  }

  /**
   * Asks the relay for a roster; the answer is a `users` event (with verified marks and
   * fingerprints of known peers).
   *
   * @param room A room name; omitted: every online user (`room: null` in the event).
   */
  listUsers(room?: string): void {
    this.#rooms.listUsers(room);
  }

  /** Asks the relay for the rooms we are in; the answer is a `rooms` event. */
  listRooms(): void {
    this.#rooms.listRooms();
  }

  /**
   * Asks for another nick: the engine reconnects with it; the relay grants it (or a suffixed
   * one), then a `nick` event and a `ready` event report the result.
   *
   * @param nick The new nick.
   */
  changeNick(nick: string): void {
    if (!isValidNick(nick)) {
      this.#emitter.error("BAD_NICK", badNickMessage(nick));
      return;
    }
    this.#profile.nick = nick;
    this.#profile.requested = nick;
    this.#saveProfile().then(
      () => this.#link.hangUp("reconnecting to ask for the new nick"),
      () => {},
    );
  }

  /**
   * Reports what we know about a peer as a `whois` event: fingerprint (fetched from the key
   * directory and pinned on first use), verified, the cipher used with them, online.
   *
   * @param nick The peer.
   * @returns Resolves after the event (or an `error` event).
   */
  whois(nick: string): Promise<void> {
    return this.#serial(() => commands.whois(this.#commands, this.canonicalNick(nick)));
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
    return this.#serial(() =>
      this.#setCipherNow(
        id,
        target === undefined || this.#rooms.has(target) ? target : this.canonicalNick(target),
      )
    );
  }

  /**
   * Accepts a changed identity key for `nick` (after an `identity-changed` event): sending is
   * unblocked, sessions restart, and messages held back by the change are shown. Emits
   * `trusted`.
   *
   * @param nick The peer.
   */
  trust(nick: string): Promise<void> {
    return this.#serial(() => commands.trust(this.#commands, this.canonicalNick(nick)));
  }

  /**
   * Approves `nick` for a room (default the current one): with `roomKeys: "approve"`, our room
   * key goes to them with our next message in that room. Kept in the home. Emits an `info`.
   *
   * @param nick The member.
   * @param room The room (default the current room).
   */
  approve(nick: string, room?: string): Promise<void> {
    return this.#serial(async () => {
      if (!isValidNick(nick)) {
        this.#emitter.error("BAD_NICK", badNickMessage(nick));
        return;
      }
      const target = room ?? this.#rooms.current;
      this.#roomKeys.approve(target, nick);
      await this.#persist();
      this.#emitter.emit({
        type: "info",
        message: this.#roomKeys.policy === "approve"
          ? `Approved ${nick} in ${target}: your next message there gives them your room key`
          : `Approved ${nick} in ${target} (room keys go to ${
            this.#roomKeys.policy === "all" ? "every member" : "verified members only"
          } anyway: --room-keys ${this.#roomKeys.policy})`,
      });
    });
  }

  /**
   * Shows the safety number with `nick` (`safety-number` event); with `digits` (what the peer
   * read out, spaces allowed) compares it, marks the peer verified on a match and emits
   * `verified`.
   *
   * @param nick The peer.
   * @param digits The peer's safety number as read out (or its read-aloud words), optional.
   */
  verify(nick: string, digits?: string): Promise<void> {
    return this.#serial(() => commands.verify(this.#commands, this.canonicalNick(nick), digits));
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
    if (this.#link.closed || this.#closing) {
      await this.#link.done();
      return;
    }
    this.#closing = true;
    await this.#sendChain.catch(() => {});
    const timeoutMs = this.#options.closeTimeoutMs ?? 5_000;
    if (this.#outbox.size > 0 && this.#link.running && (this.#options.reconnect ?? true)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#outbox.drained(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    // Let the inbox finish what it has (acks included).
    while (this.#delivery.busy) await new Promise((resolve) => setTimeout(resolve, 5));
    this.#link.markClosed();
    this.#delivery.stop();
    this.#outgoing.stop();
    if (this.#stopped === undefined) {
      await this.#persist().catch(() => {});
      await this.#outgoing.save(true).catch(() => {});
    }
    await this.#link.shutDown();
    await this.#replacedWrite;
    await this.#home.close().catch(() => {});
  }

  /**
   * The session ended for good (the relay replaced or refused us, or another session took the
   * home over): from now on nothing is encrypted and nothing is written to the home, because a
   * newer session may be using the same ratchet state. Emits one `error` event `STOPPED`.
   */
  #stop(code: string, reason: string): void {
    if (this.#stopped !== undefined) return;
    const error = new ChatError(
      "STOPPED",
      `This client stopped (${code}): ${reason}. Nothing more is encrypted or saved; ` +
        "quit and start again (only one client per identity at a time)",
    );
    this.#stopped = error;
    this.#home.stop(error);
    if (code === "REPLACED") {
      // Another copy of this identity is running: the next start here must not continue from
      // the state saved here (see #restartAfterReplaced). Refused if this home was taken over.
      const note: ReplacedNote = { at: new Date(this.#now()).toISOString(), reason };
      this.#replacedWrite = this.#home.writeThrough(REPLACED_FILE, JSON.stringify(note))
        .catch(() => {});
    }
    this.#outgoing.stop();
    this.#link.stop(code, reason);
    this.#emitter.error(error.code, error.message);
  }

  /** After a stop: reports `STOPPED` and returns a resolved undefined; else undefined. */
  #refuseStopped(): Promise<undefined> | undefined {
    const error = this.#stopped;
    if (error === undefined) return undefined;
    this.#emitter.error(error.code, error.message);
    return Promise.resolve(undefined);
  }

  // ---- wiring ---------------------------------------------------------------------------

  /** Every relay frame the link does not handle itself. */
  #onFrame(connection: Connection, frame: RelayFrame, bytes: Uint8Array): void {
    switch (frame.type) {
      case "deliver":
        this.#delivery.receive(connection, frame, bytes.length);
        return;
      case "undelivered":
        this.#delivery.receiveNotice(connection, frame);
        return;
      case "accepted":
        this.#outgoing.onAccepted(frame.count);
        return;
      case "rejected":
        this.#outgoing.onRejected(frame);
        return;
      case "joined":
      case "left":
      case "roster":
      case "rooms":
      case "presence":
        this.#rooms.onFrame(frame);
        // A peer back after a relay restart: what it was unknown for goes again.
        if (frame.type === "joined" || (frame.type === "presence" && frame.online)) {
          if (frame.nick !== this.nick) this.#outgoing.peerBack(frame.nick);
        }
        if (frame.type === "joined" && frame.nick !== this.nick) {
          this.#outgoing.memberBack(frame.room, frame.nick);
        }
        return;
      case "prekey-count":
        this.#directory.onPrekeyCount(frame.count);
        return;
      case "keys":
        this.#directory.onKeys(frame);
        return;
    }
  }

  #onReady(connection: Connection, frame: ReadyFrame, first: boolean): void {
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
    // Keys: publish the bundle when the relay has none, top up when it runs low.
    this.#directory.maintain(frame);
    // JOIN is idempotent at the relay: (re)join every room of the profile, then ask for the
    // current room's roster (frames are handled in order, so the roster includes us).
    this.#rooms.rejoin(connection);
    // What READY says of the relay's storage (protocol version 2: `durable`, `epoch`); a new
    // epoch puts back in the outbox what the relay lost.
    this.#outgoing.onReady(frame as RelayStorage);
    this.#saveProfile().catch((error) => this.#emitter.reportError(error));
    this.#rooms.askRoster(this.#rooms.current, false);
    // Resend everything not acknowledged, same ids, in order.
    if (this.#outbox.size > 0) {
      this.#emitter.emit({
        type: "info",
        message: `Sending ${this.#outbox.size} envelope(s) again that the relay had not ` +
          "acknowledged (same message ids: the receiver drops any duplicate)",
      });
    }
    this.#outgoing.flush();
    // Room lines typed while disconnected: encrypted for the members now, in order.
    if (this.#outbox.hasLines()) {
      this.#serial(() => this.#outgoing.encryptLines()).catch((error) =>
        this.#emitter.reportError(error)
      );
    }
    // Retry key lookups and rosters that were waiting.
    this.#directory.retryLookups(connection);
    this.#rooms.retryRosters();
    if (nickChanged && old !== undefined) {
      this.#emitter.emit({ type: "nick", old, new: frame.nick });
    }
    // `ready` after every successful (re)authentication: scripts wait for it after a reconnect.
    this.#emitter.emit({
      type: "ready",
      nick: frame.nick,
      fingerprint: this.fingerprint,
      server: this.#options.server,
      room: this.#rooms.current,
    });
    if (connection.requestedNick !== frame.nick) {
      // The relay suffixes a nick another identity holds: say so once, not only show it.
      const pair = `${connection.requestedNick}\n${frame.nick}`;
      if (this.#suffixExplained !== pair) {
        this.#suffixExplained = pair;
        this.#emitter.emit({
          type: "info",
          message: `${connection.requestedNick} is taken (another identity holds it); you are ` +
            `${frame.nick}. /nick NEW asks for another nick`,
        });
      }
    }
    if (first && getCipherSuite(this.#cipher).insecure) {
      this.#emitter.emit({ type: "cipher", cipher: this.#cipher, insecure: true });
    }
  }

  /**
   * Peers know us by nick: their sessions and our sender keys are filed under the old one. So
   * after a nick change every pairwise session restarts (the next message to each peer is an
   * X3DH initial message under the new nick) and every room gets a new sender key.
   */
  #forgetOldNick(): void {
    for (const peer of this.#hush.peersWithSessions()) this.#hush.resetSession(peer);
    this.#hush.rotateRoomKeys();
    this.#persist().catch((error) => this.#emitter.reportError(error));
  }

  #nickChangePending(): boolean {
    return this.#grantedNick !== undefined && this.#profile.nick !== undefined &&
      this.#profile.nick !== this.#grantedNick;
  }

  #setCipherNow(id: string, target: string | undefined): Promise<void> {
    let suite;
    try {
      suite = getCipherSuite(id);
    } catch {
      this.#emitter.error("UNKNOWN_CIPHER_SUITE", `Unknown cipher suite "${id}"`);
      return Promise.resolve();
    }
    if (target === undefined) {
      this.#cipher = suite.id;
      this.#hush = this.#createHush();
    } else {
      this.#hush.setSuite(target, suite.id);
    }
    this.#emitter.emit({ type: "cipher", cipher: suite.id, insecure: suite.insecure });
    if (suite.insecure) {
      this.#emitter.emit({
        type: "info",
        message:
          `Cipher "${suite.id}" is INSECURE: a teaching tool, anyone can read these messages`,
      });
    }
    return this.#persist().then(() => this.#saveProfile());
  }

  /** The end-to-end layer over the home's store, with the current default suite. */
  #createHush(): Hush {
    return new Hush({
      store: this.#store,
      identity: this.#identity,
      fetchBundle: (nick) => this.#directory.fetchBundle(nick),
      suite: this.#cipher as CipherSuiteId,
      refuseInsecure: this.#options.refuseInsecure ?? false,
      now: this.#now,
      nick: () => this.nick,
      // Room keys only for rooms we are in: nobody grows our state with keys of other rooms.
      acceptRoomKey: (room) => this.#rooms.has(room),
    });
  }

  /** Runs UI calls one at a time, in order. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#sendChain.then(fn, fn);
    this.#sendChain = run.catch(() => undefined);
    return run;
  }

  #persist(): Promise<void> {
    return this.#store.flush();
  }

  #saveProfile(): Promise<void> {
    this.#profile.room = this.#rooms.current;
    this.#profile.rooms = this.#rooms.joined();
    this.#profile.leaving = this.#rooms.leaving();
    this.#profile.cipher = this.#cipher;
    return this.#home.write(PROFILE_FILE, JSON.stringify(this.#profile));
  }
}

function checkSuite(id: string): void {
  try {
    getCipherSuite(id);
  } catch (error) {
    throw new ChatError("UNKNOWN_CIPHER_SUITE", `Unknown cipher suite "${id}"`, { cause: error });
  }
}
