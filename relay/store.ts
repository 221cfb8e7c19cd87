/**
 * The relay's persistence interface: nick bindings, room memberships, offline queues and key
 * bundles. Two implementations: `MemoryStore` (default) and `SqliteStore` (`--store PATH`).
 *
 * The interface is synchronous (both implementations are); the relay keeps its routing tables
 * in memory and writes through to the store.
 *
 * @module
 */

import type { OneTimePrekey, SignedBundle } from "../protocol/mod.ts";

/** One queued envelope. */
export interface QueuedEnvelope {
  /** Store-wide increasing id; a nick's envelopes are delivered in id order. */
  id: number;
  /** The DELIVER frame, byte for byte (no TCP length prefix). */
  frame: Uint8Array;
  /** Enqueue time, milliseconds since the epoch. */
  enqueuedAt: number;
}

/** A queued envelope with the nick whose queue holds it. */
export interface HeldEnvelope extends QueuedEnvelope {
  /** The nick whose queue holds it. */
  nick: string;
}

/** Size of one nick's queue. */
export interface QueueStats {
  /** Envelopes. */
  count: number;
  /** Bytes of their frames. */
  bytes: number;
}

/** Persistent relay state. */
export interface Store {
  /** `memory` or `sqlite <path>`, for the start-up banner and the log. */
  readonly description: string;
  /** Whether the store survives a restart. */
  readonly persistent: boolean;
  /**
   * The storage epoch announced in READY (8 bytes): random for each memory store, kept in the
   * file of a persistent one (a new file gets a new epoch).
   */
  readonly epoch: Uint8Array;

  /** Every nick binding: nick and Ed25519 identity key. */
  bindings(): [nick: string, identityKey: Uint8Array][];
  /** Binds a nick to an identity key (first claim wins; the relay checks before calling). */
  bindNick(nick: string, identityKey: Uint8Array): void;

  /** Records that a nick was in use (a connection under it became ready or ended) at `at` ms. */
  touchNick(nick: string, at: number): void;
  /** When a bound nick was last used (or bound), in ms; 0 when it is not bound. */
  nickLastUsed(nick: string): number;
  /** Bound nicks whose last use (or binding) is before `cutoff` ms. */
  nicksUnusedSince(cutoff: number): string[];
  /**
   * Releases a nick: removes its binding, room memberships, bundle, one-time prekeys and queue.
   *
   * @returns The envelopes (and notices) its queue held.
   */
  releaseNick(nick: string): HeldEnvelope[];

  /** Every room membership. */
  memberships(): [room: string, nick: string][];
  /** Adds a member (idempotent). */
  addMember(room: string, nick: string): void;
  /** Removes a member (idempotent). */
  removeMember(room: string, nick: string): void;

  /**
   * Appends a DELIVER frame to a nick's queue (the store keeps its own copy). Calls in one turn
   * with the same frame object (a room SEND's recipients) may share one stored copy: the frame
   * must not change once handed over.
   *
   * @returns The envelope's id.
   */
  enqueue(nick: string, frame: Uint8Array, enqueuedAt: number): number;
  /** Up to `limit` queued envelopes of any of `nicks` with id above `afterId`, in id order. */
  queuedFor(nicks: readonly string[], afterId: number, limit: number): HeldEnvelope[];
  /** Up to `limit` queued envelopes of a nick with id above `afterId`, in id order. */
  queued(nick: string, afterId: number, limit: number): QueuedEnvelope[];
  /** Deletes a nick's queued envelopes with id at most `id`; returns what was deleted. */
  deleteQueuedThrough(nick: string, id: number): QueueStats;
  /**
   * Up to `limit` queued envelopes of any nick enqueued before `cutoff` (ms) with id above
   * `afterId`, in id order.
   */
  queuedBefore(cutoff: number, afterId: number, limit: number): HeldEnvelope[];
  /** Deletes one queued envelope (idempotent); `nick`, when given, is the queue that holds it. */
  deleteQueuedId(id: number, nick?: string): void;
  /** Deletes every queued envelope enqueued before `cutoff` (ms); returns how many. */
  deleteQueuedBefore(cutoff: number): number;
  /** Queue sizes of every nick with a non-empty queue. */
  queueStats(): Map<string, QueueStats>;

  /** Stores (replaces) a nick's signed bundle. */
  putBundle(nick: string, bundle: SignedBundle): void;
  /** A nick's bundle, if published. */
  getBundle(nick: string): SignedBundle | undefined;
  /** Adds one-time prekeys (same id: replaced); `replace` first discards the held ones. */
  addOneTimePrekeys(nick: string, keys: OneTimePrekey[], replace: boolean): void;
  /** Removes and returns the oldest one-time prekey of a nick. */
  takeOneTimePrekey(nick: string): OneTimePrekey | undefined;
  /** One-time prekeys held for a nick. */
  countOneTimePrekeys(nick: string): number;

  /**
   * Runs `fn` atomically: either every write it makes is kept (until the turn's commit) or none
   * (a savepoint, rolled back when `fn` throws). The memory store just runs `fn`.
   */
  atomically<T>(fn: () => T): T;

  /** Whether writes wait for {@link commit} (an open transaction). Always false in memory. */
  readonly pending: boolean;

  /**
   * Called when the store opens a transaction (the first write of a turn), so that its owner
   * schedules the commit; when unset, the store commits in a microtask by itself.
   */
  onPending: (() => void) | undefined;

  /**
   * Makes every write so far durable. A store may group writes (the SQLite store: one transaction
   * per turn of the event loop); the relay calls this before an ACCEPTED leaves, so ACCEPTED never
   * covers an envelope that is not yet stored. A no-op for stores that write at once.
   */
  commit(): void;

  /** Removes one one-time prekey (idempotent): re-applies a take whose commit failed. */
  dropOneTimePrekey(nick: string, id: number): void;

  /** Commits, flushes and closes. */
  close(): void;
}
