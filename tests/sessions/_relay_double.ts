/**
 * Test helper: an in-memory relay double for in-process parties. It keeps the key directory
 * (handing each one-time prekey out once), routes pairwise and room envelopes into per-recipient
 * queues, and records every byte it sees (`traffic`) so tests can search it for plaintext.
 *
 * @module
 */
import { generateIdentityKeyPair, type IdentityKeyPair } from "../../crypto/mod.ts";
import {
  Hush,
  type HushOptions,
  MemorySessionStore,
  type PrekeyBundle,
  type PublishedBundle,
} from "../../sessions/mod.ts";

/** One envelope as the relay sees it. */
export interface Envelope {
  from: string;
  /** Recipient nick (pairwise) or room name. */
  to: string;
  room?: string;
  suiteWireId: number;
  body: Uint8Array;
}

/** A party: a nick, its identity, store and `Hush` instance. */
export interface Party {
  nick: string;
  identity: IdentityKeyPair;
  store: MemorySessionStore;
  hush: Hush;
}

/** The relay double. */
export class RelayDouble {
  /** Every body and bundle byte string the relay saw, in order. */
  readonly traffic: Uint8Array[] = [];
  readonly parties = new Map<string, Party>();
  readonly #directory = new Map<string, PublishedBundle>();
  readonly #queues = new Map<string, Envelope[]>();
  readonly #rooms = new Map<string, Set<string>>();
  /** A malicious relay's hook: rewrite a bundle before handing it out. */
  onFetch: ((nick: string, bundle: PrekeyBundle) => PrekeyBundle) | undefined;

  /**
   * Creates a party with a fresh identity and publishes its bundle.
   */
  addParty(nick: string, options: Partial<HushOptions> = {}): Party {
    const identity = options.identity ?? generateIdentityKeyPair();
    const store = (options.store as MemorySessionStore | undefined) ?? new MemorySessionStore();
    const hush = new Hush({
      fetchBundle: (target) => Promise.resolve(this.fetch(target)),
      nick,
      ...options,
      store,
      identity,
    });
    const party = { nick, identity, store, hush };
    this.parties.set(nick, party);
    this.publish(nick, hush.bundle());
    return party;
  }

  /** Replaces a party's Hush instance (restart from its store), keeping its queue. */
  restart(nick: string, options: Partial<HushOptions> = {}): Party {
    const old = this.party(nick);
    const hush = new Hush({
      fetchBundle: (target) => Promise.resolve(this.fetch(target)),
      nick,
      ...options,
      store: old.store,
      identity: old.identity,
    });
    const party = { ...old, hush };
    this.parties.set(nick, party);
    return party;
  }

  party(nick: string): Party {
    const party = this.parties.get(nick);
    if (party === undefined) throw new Error(`No party ${nick}`);
    return party;
  }

  publish(nick: string, bundle: PublishedBundle): void {
    this.#directory.set(nick, {
      ...bundle,
      oneTimePrekeys: bundle.oneTimePrekeys.map((k) => ({ ...k })),
    });
    this.#record(bundle.identityDhKey, bundle.signedPrekey, bundle.signedPrekeySignature);
  }

  /** The directory's answer: identity, signed parts, and one one-time prekey handed out once. */
  fetch(nick: string): PrekeyBundle {
    const published = this.#directory.get(nick);
    if (published === undefined) throw new Error(`No bundle for ${nick}`);
    const oneTime = published.oneTimePrekeys.shift();
    let bundle: PrekeyBundle = {
      identityKey: published.identityKey,
      identityDhKey: published.identityDhKey,
      identityDhSignature: published.identityDhSignature,
      signedPrekeyId: published.signedPrekeyId,
      signedPrekey: published.signedPrekey,
      signedPrekeySignature: published.signedPrekeySignature,
      ...(oneTime ? { oneTimePrekey: oneTime } : {}),
    };
    if (this.onFetch) bundle = this.onFetch(nick, bundle);
    return bundle;
  }

  #record(...parts: Uint8Array[]): void {
    for (const part of parts) this.traffic.push(part.slice());
  }

  /** Queues a pairwise envelope. */
  send(envelope: Envelope): void {
    this.#record(envelope.body);
    const queue = this.#queues.get(envelope.to) ?? [];
    queue.push({ ...envelope, body: envelope.body.slice() });
    this.#queues.set(envelope.to, queue);
  }

  join(room: string, nick: string): void {
    const members = this.#rooms.get(room) ?? new Set();
    members.add(nick);
    this.#rooms.set(room, members);
  }

  leave(room: string, nick: string): void {
    this.#rooms.get(room)?.delete(nick);
  }

  members(room: string): string[] {
    return [...(this.#rooms.get(room) ?? [])];
  }

  /** Fans a room envelope out to every other member. */
  sendRoom(from: string, room: string, suiteWireId: number, body: Uint8Array): void {
    this.#record(body);
    for (const nick of this.members(room)) {
      if (nick === from) continue;
      const queue = this.#queues.get(nick) ?? [];
      queue.push({ from, to: room, room, suiteWireId, body: body.slice() });
      this.#queues.set(nick, queue);
    }
  }

  /** Takes everything queued for `nick`. */
  drain(nick: string): Envelope[] {
    const queue = this.#queues.get(nick) ?? [];
    this.#queues.set(nick, []);
    return queue;
  }

  /** Sends a private message from `from` to `to` through the relay. */
  async pm(from: string, to: string, text: string): Promise<Envelope> {
    const out = await this.party(from).hush.encryptTo(to, text);
    const envelope = { from, to, suiteWireId: out.suite.wireId, body: out.body };
    this.send(envelope);
    return envelope;
  }

  /** Sends a room message from `from`: distributions first, then the room body. */
  async say(from: string, room: string, text: string): Promise<Uint8Array> {
    const others = this.members(room).filter((nick) => nick !== from);
    const out = await this.party(from).hush.encryptToRoom(room, others, text);
    for (const d of out.distributions) {
      this.send({ from, to: d.to, suiteWireId: d.suite.wireId, body: d.body });
    }
    this.sendRoom(from, room, out.room.suite.wireId, out.room.body);
    return out.room.body;
  }

  /**
   * Delivers everything queued for `nick` and returns the texts it shows (sender-key
   * distributions are processed silently).
   */
  receiveAll(nick: string): { from: string; room?: string; text: string; insecure: boolean }[] {
    const hush = this.party(nick).hush;
    const shown: { from: string; room?: string; text: string; insecure: boolean }[] = [];
    for (const envelope of this.drain(nick)) {
      if (envelope.room !== undefined) {
        const got = hush.decryptRoom(envelope.room, envelope.from, envelope.body);
        shown.push({ from: got.from, room: got.room, text: got.text, insecure: got.insecure });
      } else {
        const got = hush.decryptFrom(envelope.from, envelope.body);
        if (got.type === "text") {
          shown.push({ from: got.from, text: got.text, insecure: got.insecure });
        }
      }
    }
    return shown;
  }
}

/**
 * Whether `needle` occurs anywhere in `haystack`.
 */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/**
 * Asserts-free check used by tests: the plaintexts that appear in the recorded traffic.
 */
export function leakedPlaintexts(relay: RelayDouble, plaintexts: Iterable<string>): string[] {
  const leaked: string[] = [];
  for (const text of plaintexts) {
    const needle = new TextEncoder().encode(text);
    if (relay.traffic.some((bytes) => containsBytes(bytes, needle))) leaked.push(text);
  }
  return leaked;
}
