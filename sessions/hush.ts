/**
 * `Hush`: the facade the clients use. It owns no I/O: keys, sessions, trust pins and room state
 * live in the injected {@linkcode SessionStore}; peer bundles come from an injected fetcher.
 *
 * Store keys used here (besides those of `LocalUser` and `TrustStore`):
 * `session/<nick>` (pairwise sessions, active first), `x3dh/seen` (ephemeral keys already
 * accepted), `prefs/suite/<nick or #room>`, `room/<room>/out` (our sender key and who has it),
 * `room/<room>/in/<nick>` (members' sender keys), `rooms` (room index), `held/<nick>` (bodies
 * held back by an identity change). Nicks and rooms are `encodeURIComponent`-escaped.
 *
 * @module
 */
import {
  type CipherSuite,
  type CipherSuiteId,
  DEFAULT_CIPHER_SUITE,
  fingerprint,
  fromHex,
  getCipherSuite,
  HushError,
  type IdentityKeyPair,
  toHex,
} from "../crypto/mod.ts";
import {
  MAX_SEEN_BASE_KEYS,
  MAX_SENDER_KEY_ENTRIES,
  MAX_SENDER_KEYS_PER_MEMBER,
  MAX_SESSIONS_PER_PEER,
  MAX_TOTAL_SKIPPED,
} from "./constants.ts";
import { DoubleRatchet, type DoubleRatchetJson } from "./double_ratchet.ts";
import { SessionError } from "./errors.ts";
import { LocalUser, type PublishedBundle } from "./local_user.ts";
import {
  type BodyKind,
  type Content,
  decodeContent,
  decodeInitialMessage,
  decodeRatchetMessage,
  decodeRoomMessage,
  encodeContent,
  encodeInitialPrefix,
  INITIAL_PREFIX_LENGTH,
  type InitialMessage,
  type RatchetMessage,
  type SenderKeyDistribution,
} from "./message.ts";
import {
  InboundSenderKey,
  type InboundSenderKeyJson,
  OutboundSenderKey,
  type OutboundSenderKeyJson,
} from "./sender_keys.ts";
import { readJson, type SessionStore, writeJson } from "./store.ts";
import { identityChangedError, TrustStore } from "./trust.ts";
import { type PrekeyBundle, x3dhInitiate, x3dhRespond } from "./x3dh.ts";
import { BODY_INITIAL, BODY_RATCHET } from "./constants.ts";

/** Fetches a nick's prekey bundle from the relay's key directory. */
export type BundleFetcher = (nick: string) => Promise<PrekeyBundle>;

/** Options of {@linkcode Hush}. */
export interface HushOptions {
  /** The local user's store (one per local user). */
  store: SessionStore;
  /** The local user's Ed25519 identity. */
  identity: IdentityKeyPair;
  /** Fetches a peer's bundle when a session must be started. */
  fetchBundle?: BundleFetcher;
  /** Suite for new conversations and rooms (default `aes-256-gcm`). */
  suite?: CipherSuiteId;
  /** Refuse every message under an insecure suite (Caesar) with `INSECURE_SUITE_REFUSED`. */
  refuseInsecure?: boolean;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /**
   * Our nick as the relay knows it (a value, or a function read at each use): bound with the
   * peer's nick into the associated data of every first message we send and receive. Default
   * the empty string (library use without a relay).
   */
  nick?: string | (() => string);
  /**
   * Whether a sender-key distribution for `room` from `from` is kept (default: all). The chat
   * engine keeps only those of rooms it is in: a peer cannot grow our state with keys of rooms
   * we never joined. A refused one is reported as `type: "sender-key"` with `ignored: true`.
   */
  acceptRoomKey?: (room: string, from: string) => boolean;
  /** Test hooks: the total bounds (default `MAX_TOTAL_SKIPPED`, `MAX_SENDER_KEY_ENTRIES`). */
  limits?: { totalSkipped?: number; senderKeyEntries?: number };
}

/** A body ready to send as an envelope body. */
export interface OutgoingBody {
  /** The opaque envelope body. */
  body: Uint8Array;
  /** What the body is (`initial`, `ratchet` or `room`). */
  kind: BodyKind;
  /** The suite used: put `suite.wireId` in the envelope's clear header. */
  suite: CipherSuite;
  /** `suite.insecure`, for the UI's warning. */
  insecure: boolean;
}

/** A pairwise text message, decrypted. */
export interface ReceivedText {
  /** Discriminant. */
  type: "text";
  /** Sender nick (from the envelope). */
  from: string;
  /** Plaintext bytes. */
  plaintext: Uint8Array;
  /** Plaintext as text (UTF-8, invalid sequences replaced). */
  text: string;
  /** Suite id the message was sealed with (from its authenticated header). */
  suite: CipherSuiteId;
  /** True for an insecure suite (Caesar): warn the user. */
  insecure: boolean;
  /** Whether the sender's identity is verified. */
  verified: boolean;
  /** `initial` or `ratchet`. */
  kind: BodyKind;
  /**
   * Other nicks already pinned to the sender's identity key, set when this first message made a
   * new pin (the same person under a new nick, or a relay relabelling someone): warn the user.
   */
  sameKeyAs?: string[];
}

/** A sender-key distribution, received and stored (nothing to show, or a quiet notice). */
export interface ReceivedSenderKey {
  /** Discriminant. */
  type: "sender-key";
  /** Sender nick (from the envelope). */
  from: string;
  /** The room whose messages from `from` can now be read. */
  room: string;
  /** Suite of the pairwise message that carried it. */
  suite: CipherSuiteId;
  /** Whether that suite is insecure (never true for our own distributions). */
  insecure: boolean;
  /** Whether the sender's identity is verified. */
  verified: boolean;
  /** `initial` or `ratchet`. */
  kind: BodyKind;
  /** As in {@linkcode ReceivedText}. */
  sameKeyAs?: string[];
  /** True when the key was not kept (`acceptRoomKey` refused it: a room we are not in). */
  ignored?: boolean;
}

/** What {@linkcode Hush.prototype.decryptFrom} returns. */
export type Received = ReceivedText | ReceivedSenderKey;

/** A held message released by {@linkcode Hush.prototype.acceptIdentity}. */
export type ReleasedMessage = Received & {
  /** The caller's tag given to `decryptFrom` when it was held (e.g. the message id). */
  tag?: string;
};

/** A held body as stored under `held/<nick>` (a bare hex string in older stores). */
interface HeldJson {
  body: string;
  tag?: string;
  /** The nick the body was written to (bound into a first message's associated data). */
  to?: string;
}

/** A room message, decrypted. */
export interface ReceivedRoomText {
  /** Discriminant. */
  type: "text";
  /** Sender nick (from the envelope). */
  from: string;
  /** Room name (from the envelope). */
  room: string;
  /** Plaintext bytes. */
  plaintext: Uint8Array;
  /** Plaintext as text (UTF-8, invalid sequences replaced). */
  text: string;
  /** Suite id from the authenticated room header. */
  suite: CipherSuiteId;
  /** True for an insecure suite (Caesar): warn the user. */
  insecure: boolean;
  /** Whether the sender's identity is verified. */
  verified: boolean;
}

/** What {@linkcode Hush.prototype.encryptToRoom} returns. Send `distributions` first. */
export interface RoomSend {
  /** The room body: one envelope to the room. */
  room: OutgoingBody;
  /** Pairwise bodies to send, before the room body, each to `to`. */
  distributions: (OutgoingBody & { to: string })[];
  /** Members that could not be given our sender key (they cannot read this message). */
  skipped: { nick: string; code: string; message: string }[];
}

interface PairwiseJson {
  peerIdentityKey: string;
  peerIdentityDhKey: string;
  baseKey: string;
  pendingInitial: string | null;
  /** Responder side: the X3DH prefix that created the session (later ones must match it). */
  initialPrefix?: string;
  /**
   * Initiator side: our nick bound into the session's associated data. A session whose first
   * message is not out yet is started again when our nick changed (or is absent: made by an
   * older version, whose initial bodies peers refuse).
   */
  from?: string;
  ratchet: DoubleRatchetJson;
}

interface Pairwise {
  json: PairwiseJson;
  ratchet: DoubleRatchet;
}

interface RoomOutJson {
  key: OutboundSenderKeyJson;
  distributedTo: string[];
  needsRotation: boolean;
}

const enc = (s: string) => encodeURIComponent(s);
const decoder = new TextDecoder();
const MAX_HELD = 200;

/**
 * The end-to-end layer for one local user. Methods are synchronous except those that may have
 * to fetch a bundle; async calls are serialized internally.
 */
export class Hush {
  #store: SessionStore;
  #identity: IdentityKeyPair;
  #fetch: BundleFetcher | undefined;
  #defaultSuite: CipherSuiteId;
  #refuseInsecure: boolean;
  #nick: string | (() => string);
  #acceptRoomKey: (room: string, from: string) => boolean;
  #maxSkipped: number;
  #maxSenderKeyEntries: number;
  /** Skipped keys per store entry (`skipped/counts`), cached. */
  #skippedCounts: Record<string, number> | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  /** The local user's identity and prekeys. */
  readonly user: LocalUser;
  /** TOFU pins and verification. */
  readonly trust: TrustStore;

  /**
   * Opens (or initialises) the local user's end-to-end state in `options.store`.
   *
   * @param options Store, identity, bundle fetcher, default suite, policy.
   * @throws {SessionError} `BAD_STATE` if the store belongs to another identity,
   *   `UNKNOWN_CIPHER_SUITE` on a bad `suite`.
   */
  constructor(options: HushOptions) {
    this.#store = options.store;
    this.#identity = options.identity;
    this.#fetch = options.fetchBundle;
    this.#defaultSuite = options.suite ?? DEFAULT_CIPHER_SUITE;
    this.#refuseInsecure = options.refuseInsecure ?? false;
    this.#nick = options.nick ?? "";
    this.#acceptRoomKey = options.acceptRoomKey ?? (() => true);
    this.#maxSkipped = options.limits?.totalSkipped ?? MAX_TOTAL_SKIPPED;
    this.#maxSenderKeyEntries = options.limits?.senderKeyEntries ?? MAX_SENDER_KEY_ENTRIES;
    resolveSuite(this.#defaultSuite);
    this.user = new LocalUser(
      options.store,
      options.identity,
      options.now ? { now: options.now } : {},
    );
    this.trust = new TrustStore(options.store, options.identity.publicKey);
  }

  /** Our nick as bound into first messages (the `nick` option). */
  get localNick(): string {
    return typeof this.#nick === "string" ? this.#nick : this.#nick();
  }

  /** Our Ed25519 identity public key. */
  get identityKey(): Uint8Array {
    return this.#identity.publicKey.slice();
  }

  /** Our short fingerprint. */
  get fingerprint(): string {
    return fingerprint(this.#identity.publicKey);
  }

  /**
   * The bundle to publish to the relay's key directory.
   *
   * @returns The bundle (see `PublishedBundle`).
   */
  bundle(): PublishedBundle {
    return this.user.bundle();
  }

  /**
   * Sets the suite for a conversation (`nick`) or a room (`#room` style names are fine too:
   * use the room name as given to the room calls).
   *
   * @param target A nick or a room name.
   * @param suite A suite id from the crypto registry.
   * @throws {SessionError} `UNKNOWN_CIPHER_SUITE`.
   */
  setSuite(target: string, suite: CipherSuiteId): void {
    resolveSuite(suite);
    this.#store.set(`prefs/suite/${enc(target)}`, suite);
  }

  /**
   * The suite used when sending to a nick or room (its setting, else the default).
   *
   * @param target A nick or a room name.
   * @returns The suite used when sending to it.
   */
  suiteFor(target: string): CipherSuite {
    const stored = this.#store.get(`prefs/suite/${enc(target)}`);
    return resolveSuite(typeof stored === "string" ? stored : this.#defaultSuite);
  }

  /**
   * Whether a pairwise session with `nick` exists.
   *
   * @param nick A peer nick.
   * @returns Whether a pairwise session exists.
   */
  hasSession(nick: string): boolean {
    return this.#loadSessions(nick).length > 0;
  }

  /**
   * The peers we hold a pairwise session with (in store order). Needs a store that can list
   * keys (`SessionStore.keys`); with one that cannot, the list is empty.
   *
   * @returns The peers' nicks.
   */
  peersWithSessions(): string[] {
    const prefix = "session/";
    return (this.#store.keys?.(prefix) ?? [])
      .map((key) => decodeURIComponent(key.slice(prefix.length)))
      .filter((nick) => this.hasSession(nick));
  }

  /**
   * Starts a session from a fetched bundle (X3DH as initiator), replacing the active one.
   *
   * @param nick The peer nick.
   * @param bundle The bundle the relay returned for `nick`.
   * @throws {SessionError} `BAD_BUNDLE`, `BAD_BUNDLE_SIGNATURE`, `IDENTITY_CHANGED`.
   */
  startSession(nick: string, bundle: PrekeyBundle): void {
    const from = this.localNick;
    let x;
    try {
      x = x3dhInitiate(this.user.x3dhKeys, bundle, { initiator: from, responder: nick });
    } catch (cause) {
      // Name the peer: "Malformed prekey bundle" alone does not say whose.
      if (
        cause instanceof SessionError &&
        (cause.code === "BAD_BUNDLE" || cause.code === "BAD_BUNDLE_SIGNATURE")
      ) {
        throw new SessionError(cause.code, `${nick}: ${cause.message}`, { cause });
      }
      throw cause;
    }
    const seen = this.trust.observe(nick, bundle.identityKey);
    if (seen === "changed") this.trust.assertSendable(nick);
    const ratchet = DoubleRatchet.initiator(x.sharedSecret, {
      remoteRatchetKey: x.remoteRatchetKey,
      ad: x.ad,
    });
    const session: Pairwise = {
      ratchet,
      json: {
        peerIdentityKey: toHex(bundle.identityKey),
        peerIdentityDhKey: toHex(bundle.identityDhKey),
        baseKey: toHex(x.fields.baseKey),
        pendingInitial: toHex(encodeInitialPrefix(x.fields)),
        from,
        ratchet: ratchet.toJSON(),
      },
    };
    this.#saveSessions(nick, [session, ...this.#loadSessions(nick)]);
  }

  /**
   * Encrypts a private message to `nick`, starting a session first (fetching the bundle) if
   * there is none.
   *
   * @param nick The recipient.
   * @param plaintext Text or bytes.
   * @returns The body to send.
   * @throws {SessionError} `IDENTITY_CHANGED` (blocked until accepted), `NO_BUNDLE_FETCHER`,
   *   `BAD_BUNDLE_SIGNATURE`, `BAD_BUNDLE`; errors of the fetcher pass through.
   */
  encryptTo(nick: string, plaintext: string | Uint8Array): Promise<OutgoingBody> {
    const body = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
    return this.#exclusive(() =>
      this.#encryptContent(nick, encodeContent({ type: "text", body }), this.suiteFor(nick))
    );
  }

  /**
   * Decrypts a pairwise body (initial or ratchet) from `nick`. Sender-key distributions are
   * stored and reported as `type: "sender-key"`. Nothing changes unless it authenticates.
   *
   * @param nick The sender nick from the envelope's clear header.
   * @param body The envelope body.
   * @param options `tag`: kept with the body if it is held (IDENTITY_CHANGED) and returned with
   *   it by {@linkcode Hush.prototype.acceptIdentity} (the caller's message id). `to`: the nick
   *   the envelope was written to (its recipient field; default our nick), bound with `nick`
   *   into a first message's associated data.
   * @returns The message.
   * @throws {SessionError} `BAD_MESSAGE`, `UNSUPPORTED_VERSION`, `NO_SESSION`, `DECRYPT_FAILED`,
   *   `DUPLICATE_MESSAGE`, `TOO_MANY_SKIPPED`, `INSECURE_SUITE_REFUSED`, `UNKNOWN_PREKEY`,
   *   `INSECURE_KEY_MATERIAL` (a sender-key distribution sealed under an insecure suite),
   *   `REPLAYED_INITIAL`, `BAD_INITIAL_SIGNATURE`, `UNKNOWN_CIPHER_SUITE`, and `IDENTITY_CHANGED`
   *   for a valid first message from a new identity (the body is held and opened by
   *   {@linkcode Hush.prototype.acceptIdentity}).
   */
  decryptFrom(
    nick: string,
    body: Uint8Array,
    options: { tag?: string; to?: string } = {},
  ): Received {
    const type = body[0];
    let opened: {
      content: Content;
      suite: CipherSuite;
      kind: BodyKind;
      peer: Uint8Array;
      sameKeyAs?: string[];
    };
    if (type === BODY_INITIAL) {
      const to = options.to ?? this.localNick;
      opened = {
        ...this.#openInitial(nick, decodeInitialMessage(body), body, to, options.tag),
        kind: "initial",
      };
    } else if (type === BODY_RATCHET) {
      opened = { ...this.#openRatchet(nick, decodeRatchetMessage(body)), kind: "ratchet" };
    } else {
      throw new SessionError("BAD_MESSAGE", `Not a pairwise body: type byte "${type ?? "empty"}"`);
    }
    const content = opened.content;
    const common = {
      from: nick,
      suite: opened.suite.id,
      insecure: opened.suite.insecure,
      verified: this.trust.isVerified(nick),
      kind: opened.kind,
      ...(opened.sameKeyAs?.length ? { sameKeyAs: opened.sameKeyAs } : {}),
    };
    if (content.type === "text") {
      return {
        type: "text",
        ...common,
        plaintext: content.body,
        text: decoder.decode(content.body),
      };
    }
    const room = content.distribution.room;
    if (!this.#acceptRoomKey(room, nick)) {
      return { type: "sender-key", ...common, room, ignored: true };
    }
    this.#storeInbound(nick, content.distribution, opened.peer);
    return { type: "sender-key", ...common, room };
  }

  /**
   * Encrypts a room message. Creates (or, after a member left, rotates) our sender key and
   * returns its distribution for every member that does not have it yet: send those first, then
   * the room body. Members not in `members` any more trigger a rotation automatically.
   *
   * @param room The room name.
   * @param members The other members' nicks (not ourselves).
   * @param plaintext Text or bytes.
   * @returns The room body and the distributions.
   * @throws {SessionError} `NO_BUNDLE_FETCHER` only if nobody could be reached; per-member
   *   failures (e.g. `IDENTITY_CHANGED`) are listed in `skipped` instead.
   */
  encryptToRoom(
    room: string,
    members: readonly string[],
    plaintext: string | Uint8Array,
  ): Promise<RoomSend> {
    const bytes = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
    return this.#exclusive(async () => {
      const wanted = [...new Set(members)];
      const outKey = `room/${enc(room)}/out`;
      let out = readJson<RoomOutJson>(this.#store, outKey);
      const existed = out !== undefined;
      const departed = out?.distributedTo.some((nick) => !wanted.includes(nick)) ?? false;
      if (out === undefined || out.needsRotation || departed) {
        out = { key: OutboundSenderKey.create().toJSON(), distributedTo: [], needsRotation: false };
        this.#indexRoom(room);
      }
      const key = OutboundSenderKey.fromJSON(out.key);
      const distributions: RoomSend["distributions"] = [];
      const skipped: RoomSend["skipped"] = [];
      const content = encodeContent({ type: "sender-key", distribution: key.distribution(room) });
      for (const nick of wanted) {
        if (out.distributedTo.includes(nick)) continue;
        try {
          let suite = this.suiteFor(nick);
          // Key material never travels under an insecure suite.
          if (suite.insecure) suite = resolveSuite(DEFAULT_CIPHER_SUITE);
          distributions.push({ to: nick, ...(await this.#encryptContent(nick, content, suite)) });
          out.distributedTo.push(nick);
        } catch (error) {
          if (!(error instanceof HushError)) throw error;
          skipped.push({ nick, code: error.code, message: error.message });
        }
      }
      const suite = this.suiteFor(room);
      const body = key.encrypt(encodeContent({ type: "text", body: bytes }), {
        room,
        senderIdentityKey: this.#identity.publicKey,
        suite,
      });
      out.key = key.toJSON();
      // Fetching bundles awaited: a removeMember() or leaveRoom() may have run meanwhile.
      const latest = readJson<RoomOutJson>(this.#store, outKey);
      if (latest?.needsRotation === true && latest.key.keyId === out.key.keyId) {
        out.needsRotation = true;
      }
      if (!existed || latest !== undefined) writeJson(this.#store, outKey, out);
      return {
        room: { body, kind: "room", suite, insecure: suite.insecure },
        distributions,
        skipped,
      };
    });
  }

  /**
   * Verifies and decrypts a room body from `from`.
   *
   * @param room The room (from the envelope's clear header).
   * @param from The sender nick (from the envelope's clear header).
   * @param body The envelope body.
   * @returns The message.
   * @throws {SessionError} `NO_SENDER_KEY` (keep the body and retry after the sender's
   *   distribution arrives), `BEFORE_SENDER_KEY` (sent before the sender shared the key we
   *   hold: ask the sender for it), `BAD_ROOM_SIGNATURE`, `DUPLICATE_MESSAGE`, `TOO_MANY_SKIPPED`,
   *   `DECRYPT_FAILED`, `INSECURE_SUITE_REFUSED`, `BAD_MESSAGE`.
   */
  decryptRoom(room: string, from: string, body: Uint8Array): ReceivedRoomText {
    const message = decodeRoomMessage(body);
    const storeKey = `room/${enc(room)}/in/${enc(from)}`;
    const keys = readJson<InboundSenderKeyJson[]>(this.#store, storeKey) ?? [];
    const index = keys.findIndex((k) => k.keyId === message.keyId);
    const json = keys[index];
    if (json === undefined) {
      throw new SessionError(
        "NO_SENDER_KEY",
        `No sender key "${message.keyId}" from "${from}" in room "${room}"`,
      );
    }
    const key = InboundSenderKey.fromJSON(json);
    const { plaintext, suite } = key.decrypt(message, {
      room,
      refuseInsecure: this.#refuseInsecure,
    });
    const content = decodeContent(plaintext);
    if (content.type !== "text") {
      throw new SessionError("BAD_MESSAGE", "A room message must carry text content");
    }
    keys[index] = key.toJSON();
    writeJson(this.#store, storeKey, keys);
    this.#noteSkipped(storeKey, countSkipped(keys));
    return {
      type: "text",
      from,
      room,
      plaintext: content.body,
      text: decoder.decode(content.body),
      suite: suite.id,
      insecure: suite.insecure,
      verified: this.trust.isVerified(from),
    };
  }

  /**
   * Records that `nick` left `room`: their sender key is dropped and ours is rotated before the
   * next room message, so they cannot read what follows.
   *
   * @param room The room.
   * @param nick The member who left.
   */
  removeMember(room: string, nick: string): void {
    this.#store.delete(`room/${enc(room)}/in/${enc(nick)}`);
    this.rotateRoomKeys(room);
  }

  /**
   * Forces a new sender key in one room, or in every room we hold a sender key for: the next
   * room message creates and distributes a fresh key (as after a member left). Used when peers
   * must stop relying on our current keys, e.g. after our nick changed (they file our keys under
   * the old one). Rooms without a sender key of ours are left alone.
   *
   * @param room The room; omitted: every room.
   */
  rotateRoomKeys(room?: string): void {
    const rooms = room === undefined ? readJson<string[]>(this.#store, "rooms") ?? [] : [room];
    for (const name of rooms) {
      const key = `room/${enc(name)}/out`;
      const out = readJson<RoomOutJson>(this.#store, key);
      if (out !== undefined) {
        out.needsRotation = true;
        writeJson(this.#store, key, out);
      }
    }
  }

  /**
   * Forgets all state of a room we left.
   *
   * @param room The room.
   */
  leaveRoom(room: string): void {
    this.#store.delete(`room/${enc(room)}/out`);
    for (const key of this.#store.keys?.(`room/${enc(room)}/in/`) ?? []) this.#store.delete(key);
    const rooms = (readJson<string[]>(this.#store, "rooms") ?? []).filter((r) => r !== room);
    writeJson(this.#store, "rooms", rooms);
  }

  /**
   * Accepts a changed identity for `nick`: the new key becomes the (unverified) pin, old
   * sessions are dropped, our room sender keys will be re-sent to them, and held first messages
   * are opened.
   *
   * Does nothing (and returns `[]`) when no change is pending.
   *
   * @param nick The peer nick.
   * @param onFailure Called for each held body that does not open now (with its tag), instead
   *   of dropping it without a word.
   * @returns The held messages that now open, each with the tag it was held with.
   */
  acceptIdentity(
    nick: string,
    onFailure?: (error: HushError, tag: string | undefined) => void,
  ): ReleasedMessage[] {
    if (!this.trust.accept(nick)) return []; // nothing pending: keep everything as it is
    this.#store.delete(`session/${enc(nick)}`);
    for (const room of readJson<string[]>(this.#store, "rooms") ?? []) {
      const key = `room/${enc(room)}/out`;
      const out = readJson<RoomOutJson>(this.#store, key);
      if (out !== undefined) {
        out.distributedTo = out.distributedTo.filter((n) => n !== nick);
        writeJson(this.#store, key, out);
      }
      this.#store.delete(`room/${enc(room)}/in/${enc(nick)}`);
    }
    const held = readJson<(string | HeldJson)[]>(this.#store, `held/${enc(nick)}`) ?? [];
    this.#store.delete(`held/${enc(nick)}`);
    const opened: ReleasedMessage[] = [];
    for (const entry of held) {
      const item: HeldJson = typeof entry === "string" ? { body: entry } : entry;
      try {
        const got = this.decryptFrom(
          nick,
          fromHex(item.body),
          item.to === undefined ? {} : { to: item.to },
        );
        opened.push(item.tag === undefined ? got : { ...got, tag: item.tag });
      } catch (error) {
        if (!(error instanceof HushError)) throw error;
        onFailure?.(error, item.tag);
      }
    }
    return opened;
  }

  /**
   * Forgets that `nick` has our sender keys: the next room message in each of our rooms sends
   * them our current key again (after they lost it, e.g. their state was reset). The keys are
   * not rotated.
   *
   * @param nick The peer nick.
   */
  redistributeTo(nick: string): void {
    for (const room of readJson<string[]>(this.#store, "rooms") ?? []) {
      const key = `room/${enc(room)}/out`;
      const out = readJson<RoomOutJson>(this.#store, key);
      if (out !== undefined && out.distributedTo.includes(nick)) {
        out.distributedTo = out.distributedTo.filter((n) => n !== nick);
        writeJson(this.#store, key, out);
      }
    }
  }

  /**
   * Drops every pairwise session with `nick` (the next message starts a new X3DH).
   *
   * @param nick The peer nick.
   */
  resetSession(nick: string): void {
    this.#store.delete(`session/${enc(nick)}`);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #encryptContent(
    nick: string,
    content: Uint8Array,
    suite: CipherSuite,
  ): Promise<OutgoingBody> {
    this.trust.assertSendable(nick);
    if (!this.#sendable(this.#loadSessions(nick)[0])) {
      if (this.#fetch === undefined) {
        throw new SessionError(
          "NO_BUNDLE_FETCHER",
          `No session with "${nick}" and no bundle fetcher`,
        );
      }
      const bundle = await this.#fetch(nick);
      this.trust.assertSendable(nick);
      if (!this.#sendable(this.#loadSessions(nick)[0])) this.startSession(nick, bundle);
    }
    const sessions = this.#loadSessions(nick);
    const active = sessions[0]!;
    const ratchetBody = active.ratchet.encrypt(content, suite);
    this.#saveSessions(nick, sessions);
    const pending = active.json.pendingInitial;
    if (pending === null) {
      return { body: ratchetBody, kind: "ratchet", suite, insecure: suite.insecure };
    }
    const prefix = fromHex(pending);
    const body = new Uint8Array(prefix.length + ratchetBody.length);
    body.set(prefix);
    body.set(ratchetBody, prefix.length);
    return { body, kind: "initial", suite, insecure: suite.insecure };
  }

  /**
   * Whether a session can send now: it can ratchet, and a first message not yet answered binds
   * our current nick (else a new X3DH binds the new one).
   */
  #sendable(session: Pairwise | undefined): boolean {
    if (session === undefined || !session.ratchet.canSend) return false;
    return session.json.pendingInitial === null || session.json.from === this.localNick;
  }

  #openRatchet(
    nick: string,
    message: RatchetMessage,
  ): { content: Content; suite: CipherSuite; peer: Uint8Array } {
    const sessions = this.#loadSessions(nick);
    if (sessions.length === 0) {
      throw new SessionError("NO_SESSION", `No session with "${nick}" for a ratchet message`);
    }
    let failure: SessionError | undefined;
    for (const [i, session] of sessions.entries()) {
      try {
        const result = session.ratchet.decrypt(message, { refuseInsecure: this.#refuseInsecure });
        const content = decodeContent(result.plaintext); // before anything is stored
        refuseInsecureKeyMaterial(nick, content, result.suite);
        session.json.pendingInitial = null;
        sessions.splice(i, 1);
        this.#saveSessions(nick, [session, ...sessions]);
        return { content, suite: result.suite, peer: fromHex(session.json.peerIdentityKey) };
      } catch (error) {
        if (!(error instanceof SessionError)) throw error;
        if (failure === undefined || failure.code === "DECRYPT_FAILED") failure = error;
      }
    }
    throw failure!;
  }

  #openInitial(
    nick: string,
    message: InitialMessage,
    body: Uint8Array,
    to: string,
    tag?: string,
  ): { content: Content; suite: CipherSuite; peer: Uint8Array; sameKeyAs?: string[] } {
    const baseKey = toHex(message.baseKey);
    const prefix = toHex(body.subarray(0, INITIAL_PREFIX_LENGTH));
    const existing = this.#loadSessions(nick).find((s) => s.json.baseKey === baseKey);
    if (existing !== undefined) {
      // A later message of an initiator that has not heard from us yet: its X3DH fields are not
      // used again, so they must be exactly those that created the session.
      if (existing.json.initialPrefix !== undefined && existing.json.initialPrefix !== prefix) {
        throw new SessionError(
          "DECRYPT_FAILED",
          "Cannot open message: its X3DH fields differ from those that started the session",
        );
      }
      return this.#openRatchet(nick, message.message);
    }
    const seen = readJson<string[]>(this.#store, "x3dh/seen") ?? [];
    if (seen.includes(baseKey)) {
      throw new SessionError(
        "REPLAYED_INITIAL",
        "Initial message refused: ephemeral key already used",
      );
    }
    const signedPrekey = this.user.signedPrekey(message.signedPrekeyId);
    if (signedPrekey === undefined) {
      throw new SessionError(
        "UNKNOWN_PREKEY",
        `Unknown signed prekey: "${message.signedPrekeyId}"`,
      );
    }
    let oneTimePrekey;
    if (message.oneTimePrekeyId !== undefined) {
      oneTimePrekey = this.user.oneTimePrekey(message.oneTimePrekeyId);
      if (oneTimePrekey === undefined) {
        throw new SessionError(
          "UNKNOWN_PREKEY",
          `Unknown or already used one-time prekey: "${message.oneTimePrekeyId}"`,
        );
      }
    }
    const x = x3dhRespond(
      { ...this.user.x3dhKeys, signedPrekey, ...(oneTimePrekey ? { oneTimePrekey } : {}) },
      message,
      { initiator: nick, responder: to },
    );
    const ratchet = DoubleRatchet.responder(x.sharedSecret, {
      ratchetKeyPair: signedPrekey,
      ad: x.ad,
    });
    const result = ratchet.decrypt(message.message, { refuseInsecure: this.#refuseInsecure });
    const content = decodeContent(result.plaintext);
    refuseInsecureKeyMaterial(nick, content, result.suite);
    // Authenticated. A known nick with a different identity: hold it, block sending, and say so.
    if (this.trust.compare(nick, message.identityKey) === "changed") {
      const old = this.trust.get(nick)!.identityKey;
      this.trust.observe(nick, message.identityKey);
      const heldKey = `held/${enc(nick)}`;
      const held = readJson<(string | HeldJson)[]>(this.#store, heldKey) ?? [];
      held.push({ body: toHex(body), to, ...(tag === undefined ? {} : { tag }) });
      writeJson(this.#store, heldKey, held.slice(-MAX_HELD));
      const error = identityChangedError(nick, old, message.identityKey);
      if (held.length <= MAX_HELD) throw error;
      // Never without a word: the oldest held message is gone.
      throw new SessionError(
        "IDENTITY_CHANGED",
        `${error.message} (more than ${MAX_HELD} messages held: the oldest was dropped)`,
      );
    }
    const observed = this.trust.observe(nick, message.identityKey);
    const sameKeyAs = observed === "new"
      ? this.trust.nicksWithKey(message.identityKey).filter((n) => n !== nick)
      : [];
    if (message.oneTimePrekeyId !== undefined) {
      this.user.consumeOneTimePrekey(message.oneTimePrekeyId);
    }
    seen.push(baseKey);
    writeJson(this.#store, "x3dh/seen", seen.slice(-MAX_SEEN_BASE_KEYS));
    const session: Pairwise = {
      ratchet,
      json: {
        peerIdentityKey: toHex(message.identityKey),
        peerIdentityDhKey: toHex(message.identityDhKey),
        baseKey,
        pendingInitial: null,
        initialPrefix: prefix,
        ratchet: ratchet.toJSON(),
      },
    };
    this.#saveSessions(nick, [session, ...this.#loadSessions(nick)]);
    return { content, suite: result.suite, peer: message.identityKey, sameKeyAs };
  }

  #storeInbound(nick: string, distribution: SenderKeyDistribution, peer: Uint8Array): void {
    const storeKey = `room/${enc(distribution.room)}/in/${enc(nick)}`;
    const keys = readJson<InboundSenderKeyJson[]>(this.#store, storeKey) ?? [];
    if (keys.some((k) => k.keyId === distribution.keyId)) return;
    keys.unshift(InboundSenderKey.fromDistribution(distribution, peer).toJSON());
    const kept = keys.slice(0, MAX_SENDER_KEYS_PER_MEMBER);
    writeJson(this.#store, storeKey, kept);
    this.#noteSkipped(storeKey, countSkipped(kept));
    this.#indexRoom(distribution.room);
    // The (room, sender) entries in the order stored: beyond the bound, the oldest go.
    const index = (readJson<string[]>(this.#store, "room-keys/index") ?? [])
      .filter((k) => k !== storeKey);
    index.push(storeKey);
    while (index.length > this.#maxSenderKeyEntries) {
      const oldest = index.shift()!;
      this.#store.delete(oldest);
      this.#noteSkipped(oldest, 0);
    }
    writeJson(this.#store, "room-keys/index", index);
  }

  /**
   * Records how many skipped keys `storeKey` holds and keeps the total under the bound: the
   * largest other entries lose their oldest skipped keys first, then this one.
   */
  #noteSkipped(storeKey: string, count: number): void {
    const counts = this.#skippedCounts ??= readJson<Record<string, number>>(
      this.#store,
      "skipped/counts",
    ) ?? {};
    const before = counts[storeKey] ?? 0;
    if (count === 0) delete counts[storeKey];
    else counts[storeKey] = count;
    let total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total > this.#maxSkipped) {
      const order = Object.entries(counts)
        .sort(([ka, a], [kb, b]) => (ka === storeKey ? 1 : kb === storeKey ? -1 : b - a));
      for (const [key, n] of order) {
        if (total <= this.#maxSkipped) break;
        const keep = Math.max(0, n - (total - this.#maxSkipped));
        const now = trimSkipped(this.#store, key, keep);
        total -= n - now;
        if (now === 0) delete counts[key];
        else counts[key] = now;
      }
    } else if (before === count) return;
    writeJson(this.#store, "skipped/counts", counts);
  }

  #indexRoom(room: string): void {
    const rooms = readJson<string[]>(this.#store, "rooms") ?? [];
    if (!rooms.includes(room)) {
      rooms.push(room);
      writeJson(this.#store, "rooms", rooms);
    }
  }

  #loadSessions(nick: string): Pairwise[] {
    const list = readJson<PairwiseJson[]>(this.#store, `session/${enc(nick)}`) ?? [];
    return list.map((json) => ({ json, ratchet: DoubleRatchet.fromJSON(json.ratchet) }));
  }

  #saveSessions(nick: string, sessions: Pairwise[]): void {
    const kept = sessions.slice(0, MAX_SESSIONS_PER_PEER);
    writeJson(
      this.#store,
      `session/${enc(nick)}`,
      kept.map((s) => ({ ...s.json, ratchet: s.ratchet.toJSON() })),
    );
    this.#noteSkipped(
      `session/${enc(nick)}`,
      kept.reduce((n, s) => n + s.ratchet.skippedCount, 0),
    );
  }
}

function countSkipped(keys: { skipped: unknown[] }[]): number {
  return keys.reduce((n, k) => n + k.skipped.length, 0);
}

/**
 * Drops the oldest skipped keys of a stored session list or sender-key list so that at most
 * `keep` remain (the first, most recent, entries keep theirs longest).
 *
 * @returns How many remain.
 */
function trimSkipped(store: SessionStore, storeKey: string, keep: number): number {
  const list = readJson<Record<string, unknown>[]>(store, storeKey);
  if (!Array.isArray(list)) return 0;
  let left = keep;
  for (const entry of list) {
    const holder = (storeKey.startsWith("session/") ? entry.ratchet : entry) as
      | { skipped?: unknown[] }
      | undefined;
    if (holder === undefined || !Array.isArray(holder.skipped)) continue;
    const n = Math.min(left, holder.skipped.length);
    holder.skipped = n === 0 ? [] : holder.skipped.slice(-n);
    left -= n;
  }
  writeJson(store, storeKey, list);
  return keep - left;
}

/**
 * Key material (a sender-key distribution) sealed under an insecure suite is refused: the relay
 * could read the chain key and every room message under it. Checked before anything is stored,
 * so the refused message changes no state.
 */
function refuseInsecureKeyMaterial(nick: string, content: Content, suite: CipherSuite): void {
  if (content.type !== "sender-key" || !suite.insecure) return;
  throw new SessionError(
    "INSECURE_KEY_MATERIAL",
    `Refused the room key of "${nick}" for "${content.distribution.room}": it was sealed under ` +
      `the insecure suite "${suite.id}", so the relay could read it; their messages in that ` +
      "room cannot be opened until they send a key under a secure suite",
  );
}

function resolveSuite(id: string): CipherSuite {
  try {
    return getCipherSuite(id);
  } catch (cause) {
    throw new SessionError("UNKNOWN_CIPHER_SUITE", `Unknown cipher suite: "${id}"`, { cause });
  }
}

/** @internal Re-exported for the overview in `mod.ts`. */
export type { PrekeyBundle, PublishedBundle };
