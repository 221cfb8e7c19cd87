/**
 * Outgoing messages: encrypting a private or room message (room messages after the sender-key
 * distributions their members lack), queueing the envelopes durably in the outbox, writing them
 * to the relay (again, same ids, after a reconnect) and reporting the relay's acknowledgements.
 * Private to the engine.
 *
 * @module
 */

import type { RoomKeyGate } from "./_room_keys.ts";
import { fromHex, randomBytes, toHex } from "../crypto/mod.ts";
import {
  decodeFrame,
  encodeFrame,
  type EnvelopeFrame,
  isValidNick,
  MAX_FRAME_BYTES_LIMIT,
  type RelayFrame,
} from "../protocol/mod.ts";
import type { EngineCore } from "./_core.ts";
import type { RelayLink } from "./_connection.ts";
import type { Directory } from "./_directory.ts";
import { crashForTest } from "./_crash_hook.ts";
import { closedError, messageEvent } from "./_emitter.ts";
import type { Rooms } from "./_rooms.ts";
import { encodeChatPayload } from "./content.ts";
import { ChatError } from "./errors.ts";
import type { Outbox, OutboxEntry, Rejection, Settled } from "./outbox.ts";
import type { SentLog } from "./sent_log.ts";

/** The first wait before a refused envelope is sent again (doubling after each refusal). */
export const RETRY_DELAY_MS = 30_000;
/**
 * The first wait before an envelope refused with `STORE_FAILED` is sent again (doubling after
 * each refusal, at most {@linkcode STORE_RETRY_MAX_MS}): a locked store is a short matter (a
 * backup, an operator's `sqlite3` shell), and later envelopes to the same conversation wait.
 */
export const STORE_RETRY_DELAY_MS = 1_000;
/** The longest wait between two retries after `STORE_FAILED`. */
export const STORE_RETRY_MAX_MS = 30_000;
/**
 * The first wait before an envelope refused with `QUEUE_FULL` is sent again while every
 * recipient it was refused for is online, so draining its queue (doubling after each refusal, at
 * most the normal first wait). A recipient coming online brings a held retry forward to this.
 */
export const DRAIN_RETRY_DELAY_MS = 2_000;
/** The longest wait between two retries, in multiples of the first one. */
const RETRY_MAX_FACTOR = 20;
/** The longest an outbox changed by ACCEPTED frames waits for another commit to save it. */
export const OUTBOX_LAZY_SAVE_MS = 250;
/** A refused envelope is given up on once its first refusal is this old (7 days). */
export const RETRY_GIVE_UP_MS = 7 * 24 * 3600 * 1000;
/** How long after a relay epoch change `NO_SUCH_USER` counts as passing (the peer not back yet). */
export const EPOCH_GRACE_MS = 24 * 3600 * 1000;
/** Refusal codes that pass: the envelope is kept and sent again. */
const TRANSIENT_CODES = new Set(["QUEUE_FULL", "STORE_FAILED"]);

/** A REJECTED frame. */
export type RejectedFrame = RelayFrame & { type: "rejected" };

/** What READY says about the relay's storage (protocol version 2; absent from older relays). */
export interface RelayStorage {
  /** True when everything accepted survives a relay crash (undefined: not said, assumed). */
  durable?: boolean;
  /** The relay's storage epoch (undefined: not said). */
  epoch?: Uint8Array;
}

/** What the engine remembers of the relay across restarts (kept in the profile). */
export interface RelayMemory {
  /** The last storage epoch seen, hex. */
  epoch?: string;
  /** When (ms) a change of the epoch was last seen. */
  epochChangedAt?: number;
}

interface OutgoingEnvelope {
  to: string;
  toKind: "nick" | "room";
  cipher: number;
  body: Uint8Array;
  kind: string;
  /** A message id to use (hex; default: a fresh random one). */
  id?: string;
  /** More metadata for the outbox entry. */
  meta?: Record<string, string>;
}

/** What sending needs from the engine. */
export interface OutgoingHost extends EngineCore {
  link: RelayLink;
  directory: Directory;
  rooms: Rooms;
  outbox: Outbox;
  /** Nicks this identity had before: never sent sender keys. */
  formerNicks(): readonly string[];
  /** Whether the teaching view is on. */
  wire(): boolean;
  /**
   * Puts the outbox in the session store (entry `OUTBOX_KEY`): saved by the next commit
   * (`persist()`), with the session state that encrypted its envelopes.
   */
  stageOutbox(json: string): void;
  /** Our recent messages, for recovery (`sent_log.ts`). */
  sentLog?: SentLog;
  /** Writes the unconfirmed list to the home. */
  writeUnconfirmed(json: string): Promise<void>;
  /** What is known of the relay's storage epoch (mutated here, saved with the profile). */
  relayMemory(): RelayMemory;
  /** The first retry delay (default {@linkcode RETRY_DELAY_MS}). */
  retryDelayMs?: number | undefined;
  /** Who gets our room keys, and the `key-shared` notices (`_room_keys.ts`). */
  roomKeys?: RoomKeyGate;
}

/** The sending half of one engine. */
export class Outgoing {
  #host: OutgoingHost;
  #persistChain: Promise<void> = Promise.resolve();
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** The save of what ACCEPTED frames took out of the outbox, if no other commit came first. */
  #lazyTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Saves the unconfirmed list, at most once a second (it is only a fallback). */
  #unconfirmedTimer: ReturnType<typeof setTimeout> | undefined;
  #unconfirmedDirty = false;
  #unconfirmedVersion = 0;
  #retryAt: number | undefined;
  /** Whether the relay of this connection stores durably (READY; assumed until it says not). */
  #durable = true;
  /** The relay's storage epoch on this connection, hex. */
  #epoch: string | undefined;
  /** Room messages whose sender key for a member was given up on: never reported `sent`. */
  #keysGivenUp = new Set<string>();

  constructor(host: OutgoingHost) {
    this.#host = host;
  }

  /** Encrypts and queues a private message; returns its id (undefined after an `error`). */
  async sendPrivate(nick: string, text: string): Promise<string | undefined> {
    const host = this.#host;
    if (host.link.closed) return this.#refuseClosed();
    if (!isValidNick(nick)) {
      host.emitter.error("BAD_NICK", `Invalid nick "${nick}"`);
      return undefined;
    }
    if (nick === host.nick()) {
      host.emitter.error("BAD_RECIPIENT", "Cannot send a private message to yourself");
      return undefined;
    }
    const ts = host.now();
    try {
      await host.directory.checkPeerKey(nick);
      const payload = encodeChatPayload({ text, ts });
      const out = await host.hush().encryptTo(nick, payload);
      const [id] = await this.#enqueue([
        { to: nick, toKind: "nick", cipher: out.suite.wireId, body: out.body, kind: out.kind },
      ]);
      if (id === undefined) return undefined;
      host.sentLog?.record({
        id,
        to: nick,
        toKind: "nick",
        recipients: [nick],
        text,
        ts,
        identities: this.#identities([nick]),
      });
      host.emitter.emit(messageEvent(
        { id, from: host.nick(), to: nick, private: true, text, ts },
        {
          cipher: out.suite.id,
          insecure: out.insecure,
          verified: host.hush().trust.isVerified(nick),
          own: true,
        },
      ));
      return id;
    } catch (error) {
      host.emitter.reportError(error, nick);
      return undefined;
    }
  }

  /**
   * Encrypts and queues a room message, after the pairwise distributions of our sender key to
   * the members lacking it; returns its id (undefined after an `error`). While the room's
   * members cannot be asked for (the relay is down), the line is queued in the outbox as it is,
   * in order with everything else, and encrypted for the members of the time once the
   * connection is back ({@linkcode Outgoing.encryptLines}).
   */
  async sendRoom(room: string, text: string): Promise<string | undefined> {
    const host = this.#host;
    if (host.link.closed) return this.#refuseClosed();
    if (!host.rooms.has(room)) {
      host.emitter.error("NOT_IN_ROOM", `Not in a room: join one first (/join ROOM)`);
      return undefined;
    }
    const ts = host.now();
    try {
      // Lines queued before this one go first.
      if (host.outbox.hasLines() || !host.link.connected) {
        const id = await this.#queueLine(room, text, ts);
        if (host.link.connected) await this.encryptLines();
        return id;
      }
      let members: string[];
      try {
        members = await host.rooms.members(room);
      } catch (error) {
        if (!(error instanceof ChatError) || error.code !== "NOT_CONNECTED" || host.link.closed) {
          throw error;
        }
        return await this.#queueLine(room, text, ts);
      }
      const { id, send } = await this.#encryptRoom(room, members, text, ts, undefined);
      if (id === undefined) return undefined;
      host.emitter.emit(messageEvent(
        { id, from: host.nick(), to: room, private: false, text, ts },
        { cipher: send.room.suite.id, insecure: send.room.insecure, verified: false, own: true },
      ));
      return id;
    } catch (error) {
      host.emitter.reportError(error);
      return undefined;
    }
  }

  /**
   * Encrypts the room lines queued while disconnected, in order, for the room's members now
   * (after READY; run in the engine's send order). Stops, keeping the rest, when the connection
   * is lost again.
   */
  async encryptLines(): Promise<void> {
    const host = this.#host;
    for (const entry of host.outbox.lines()) {
      const line = entry.line;
      if (line === undefined || host.link.closed) return;
      if (!host.rooms.has(line.room)) {
        host.outbox.remove(entry);
        this.#undelivered(entry.id, line.room, "NOT_IN_ROOM", `you left "${line.room}"`, false);
        await this.save();
        continue;
      }
      let members: string[];
      try {
        members = await host.rooms.members(line.room);
      } catch (error) {
        if (error instanceof ChatError && error.code === "NOT_CONNECTED") return;
        throw error;
      }
      try {
        await this.#encryptRoom(line.room, members, line.text, line.ts, entry);
      } catch (error) {
        host.outbox.remove(entry);
        await this.save();
        host.emitter.reportError(error);
        this.#undelivered(entry.id, line.room, "NOT_SENT", "it could not be encrypted", false);
      }
    }
    this.flush();
  }

  /**
   * Encrypts and queues a pairwise recovery payload (`_recovery.ts`); no `message` event, no
   * `sent` event.
   *
   * @returns Its id, or undefined after an `error` event.
   */
  async sendPayload(nick: string, payload: Uint8Array): Promise<string | undefined> {
    const host = this.#host;
    if (host.link.closed) return undefined;
    try {
      const out = await host.hush().encryptTo(nick, payload);
      const [id] = await this.#enqueue([
        { to: nick, toKind: "nick", cipher: out.suite.wireId, body: out.body, kind: "recovery" },
      ]);
      return id;
    } catch (error) {
      host.emitter.reportError(error, nick);
      return undefined;
    }
  }

  /** The identity keys (hex) pinned for `nicks`, for the sent log. */
  #identities(nicks: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const nick of nicks) {
      const key = this.#host.hush().trust.get(nick)?.identityKey;
      if (key !== undefined) out[nick] = toHex(key);
    }
    return out;
  }

  /** A REJECTED frame: noted on the envelope; reported when the ACCEPTED covering it comes. */
  onRejected(frame: RejectedFrame): void {
    const id = toHex(frame.id);
    const entry = this.#host.outbox.reject(frame.seq, id, {
      to: frame.recipient,
      toKind: frame.recipientKind,
      code: frame.code,
      detail: frame.detail,
    });
    if (entry === undefined) {
      this.#host.emitter.error(
        frame.code,
        `Message ${id.slice(0, 8)} to "${frame.recipient}" refused by the relay: ${frame.detail}`,
      );
    }
  }

  /**
   * An ACCEPTED frame. A message accepted for every recipient gets `sent` (sender keys get no
   * event of their own); one the relay refused gets `undelivered`, and is kept and retried when
   * the refusal may pass (a full queue), or dropped. A room message whose sender key for a
   * member is retried waits and goes again with it. On a relay that does not store durably,
   * accepted envelopes are kept (bounded) to be sent again if the relay loses them.
   */
  onAccepted(count: number): void {
    const host = this.#host;
    const outbox = host.outbox;
    const now = host.now();
    const settled = outbox.acknowledge(count, (entry) => this.#keysHeld(entry));
    const reported = new Set<string>();
    for (const s of settled) if (s.rejections.length > 0) this.#refused(s, now, reported);
    for (const s of settled) {
      if (s.rejections.length > 0) continue;
      const entry = s.entry;
      if (outbox.isHeld(entry)) {
        // Kept back for its sender keys: it goes again right after them.
        const until = this.#keysHeldUntil(entry);
        if (until === undefined) outbox.remove(entry);
        else {
          outbox.hold(entry, until, this.#keysBlock(entry));
          continue;
        }
      }
      this.#accepted(entry, now);
    }
    this.#checkUnconfirmed();
    this.#armRetry();
    this.#saveLazily();
  }

  /**
   * After READY: what the relay says of its storage. An epoch other than the last one seen
   * means the relay restarted and lost what it held: own envelopes it had accepted are sent
   * again. Held envelopes go again on this connection (the outbox was reset on the drop).
   */
  onReady(storage: RelayStorage): void {
    const host = this.#host;
    const outbox = host.outbox;
    const now = host.now();
    this.#durable = storage.durable ?? true;
    if (storage.epoch !== undefined) {
      const epoch = toHex(storage.epoch);
      const memory = host.relayMemory();
      if (memory.epoch !== undefined && memory.epoch !== epoch) {
        memory.epochChangedAt = now;
        host.emitter.emit({
          type: "info",
          message: "The relay restarted and lost what it held (a new storage epoch): messages " +
            "it had accepted from you are sent again",
        });
      }
      memory.epoch = epoch;
      this.#epoch = epoch;
      const back = outbox.requeueUnconfirmed(epoch);
      if (back.length > 0) {
        host.emitter.emit({
          type: "info",
          message: `Sending ${back.length} envelope(s) again that the relay may have lost ` +
            "(same message ids: the receiver drops any duplicate)",
        });
      }
    } else {
      this.#epoch = undefined;
    }
    if (this.#durable || this.#epoch === undefined) outbox.clearUnconfirmed();
    outbox.pruneUnconfirmed(now);
    this.#checkUnconfirmed();
    this.#armRetry();
    this.#saveSoon();
  }

  /**
   * A peer is back (PRESENCE online, JOINED): envelopes to it refused with `NO_SUCH_USER` after
   * a relay restart go again now; those refused with `QUEUE_FULL` go again within
   * {@linkcode DRAIN_RETRY_DELAY_MS} (it is reading its queue).
   */
  peerBack(nick: string): void {
    const outbox = this.#host.outbox;
    // Refused for a full queue while the peer was away: it reads its queue now, so try again
    // soon rather than after the offline backoff.
    const soon = this.#host.now() +
      Math.min(DRAIN_RETRY_DELAY_MS, this.#host.retryDelayMs ?? Infinity);
    let sooner = false;
    for (const e of outbox.entries) {
      if (!outbox.isHeld(e) || e.meta?.retryCode !== "QUEUE_FULL") continue;
      if (!String(e.meta?.retryTo ?? e.meta?.to).split("\n").includes(nick)) continue;
      if ((outbox.heldUntil(e) ?? 0) <= soon) continue;
      outbox.hold(e, soon);
      sooner = true;
    }
    if (sooner) this.#armRetry();
    const waiting = outbox.entries.filter((e) =>
      outbox.isHeld(e) && e.meta?.retryCode === "NO_SUCH_USER" && e.meta?.to === nick
    );
    if (waiting.length === 0) return;
    const ids = new Set(waiting.flatMap((e) => [e.id, String(e.meta?.for ?? e.id)]));
    outbox.release((e) => ids.has(e.id));
    this.flush();
    this.#armRetry();
  }

  /**
   * A member (re)joined a room after an in-memory relay restarted: room envelopes that relay
   * accepted since the restart went only to the members back at the time. They go to the room
   * again (same ids: members who have them drop the copy), after our sender keys for that member.
   */
  memberBack(room: string, nick: string): void {
    const host = this.#host;
    const changed = host.relayMemory().epochChangedAt;
    const epoch = this.#epoch;
    if (this.#durable || epoch === undefined || changed === undefined) return;
    if (host.now() - changed > EPOCH_GRACE_MS) return;
    const again = host.outbox.unconfirmed.filter((e) =>
      e.meta?.epoch === epoch && (
        (e.meta?.toKind === "room" && e.meta?.to === room) ||
        (isSenderKey(e) && e.meta?.to === nick && e.meta?.room === room)
      )
    );
    if (again.length === 0) return;
    const back = host.outbox.requeue(again);
    if (back.length === 0) return;
    host.emitter.emit({
      type: "info",
      message: `"${nick}" is back in "${room}" after the relay restarted: sending ${back.length} ` +
        "envelope(s) again that it may have missed (same ids)",
    });
    this.flush();
  }

  /** Writes every envelope not yet written on this connection (after READY: all of them). */
  flush(): void {
    const connection = this.#host.link.connection;
    if (!connection?.ready) return;
    const nick = this.#host.nick();
    for (const entry of this.#host.outbox.takeUnsent()) {
      // A nick change since the envelope was made: the relay wants the granted nick as sender.
      if (entry.meta?.from !== undefined && entry.meta.from !== nick) {
        const old = decodeFrame(entry.frame, {
          from: "client",
          maxFrameBytes: MAX_FRAME_BYTES_LIMIT,
        });
        if (old.type === "send") {
          entry.frame = encodeFrame({ ...old, from: nick });
          entry.meta.from = nick;
        }
      }
      connection.transport.send(entry.frame);
    }
  }

  /**
   * Saves the outbox (writes are chained, never concurrent); with `all`, also the unconfirmed
   * list if it changed (otherwise saved within a second of a change).
   */
  save(all = false): Promise<void> {
    const host = this.#host;
    const run = this.#persistChain.catch(() => {}).then(async () => {
      host.stageOutbox(host.outbox.toJSON());
      await host.persist();
      if (all && this.#unconfirmedDirty) {
        this.#unconfirmedDirty = false;
        clearTimeout(this.#unconfirmedTimer);
        this.#unconfirmedTimer = undefined;
        await host.writeUnconfirmed(host.outbox.unconfirmedJSON());
      }
    });
    this.#persistChain = run;
    return run;
  }

  /** Cancels pending timers (on close, which saves itself). */
  stop(): void {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    clearTimeout(this.#unconfirmedTimer);
    this.#unconfirmedTimer = undefined;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryAt = undefined;
  }

  /** When the unconfirmed list changed: saved within a second (or with the next outbox save). */
  #checkUnconfirmed(): void {
    const version = this.#host.outbox.unconfirmedVersion;
    if (version === this.#unconfirmedVersion) return;
    this.#unconfirmedVersion = version;
    this.#unconfirmedDirty = true;
    if (this.#unconfirmedTimer !== undefined || this.#host.link.closed) return;
    this.#unconfirmedTimer = setTimeout(() => {
      this.#unconfirmedTimer = undefined;
      if (!this.#unconfirmedDirty) return;
      const host = this.#host;
      const run = this.#persistChain.catch(() => {}).then(() => {
        if (!this.#unconfirmedDirty) return;
        this.#unconfirmedDirty = false;
        return host.writeUnconfirmed(host.outbox.unconfirmedJSON());
      });
      this.#persistChain = run;
      run.catch((error) => host.emitter.reportError(error));
    }, 1_000);
  }

  /**
   * After an ACCEPTED: what left the outbox is saved with the next commit of the session store
   * (a delivery's, a send's), or within {@linkcode OUTBOX_LAZY_SAVE_MS}. A crash before that only
   * sends those envelopes again, with the same ids, and their receivers drop the duplicates; a
   * send or a delivery does not wait behind a commit of its own for the acknowledgement.
   */
  #saveLazily(): void {
    const host = this.#host;
    host.stageOutbox(host.outbox.toJSON());
    if (this.#lazyTimer !== undefined || host.link.closed) return;
    this.#lazyTimer = setTimeout(() => {
      this.#lazyTimer = undefined;
      // Commits only what no other commit took meanwhile (nothing, often).
      host.persist().catch((error) => host.emitter.reportError(error));
    }, OUTBOX_LAZY_SAVE_MS);
  }

  #saveSoon(): void {
    if (this.#saveTimer !== undefined || this.#host.link.closed) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.save().catch((error) => this.#host.emitter.reportError(error));
    }, 0);
  }

  #refuseClosed(): undefined {
    const error = closedError();
    this.#host.emitter.error(error.code, error.message);
    return undefined;
  }

  /** A message (or sender key) accepted for every recipient. */
  #accepted(entry: OutboxEntry, now: number): void {
    const host = this.#host;
    const requeued = entry.meta?.requeued === true;
    if (entry.meta !== undefined) {
      for (const key of ["retrySince", "retryAttempts", "retryCode", "retryTo", "requeued"]) {
        delete entry.meta[key];
      }
    }
    if (!this.#durable && this.#epoch !== undefined) {
      host.outbox.keepUnconfirmed(entry, this.#epoch, now);
    }
    if (isSenderKey(entry) || isRecovery(entry) || requeued) return;
    if (this.#keysGivenUp.delete(entry.id)) return; // someone cannot read it: `undelivered` said so
    host.emitter.emit({ type: "sent", id: entry.id });
  }

  /** An envelope refused for at least one recipient: retried or given up, and reported. */
  #refused(s: Settled, now: number, reported: Set<string>): void {
    const host = this.#host;
    const entry = s.entry;
    const meta = entry.meta ?? (entry.meta = {});
    const id = String(meta.for ?? entry.id);
    const since = typeof meta.retrySince === "number" ? meta.retrySince : now;
    const expired = now - since >= RETRY_GIVE_UP_MS;
    const attempts = (typeof meta.retryAttempts === "number" ? meta.retryAttempts : 0) + 1;
    // The store failed for every recipient: short retries, and the conversation waits behind.
    const storeFailed = s.rejections.some((r) => r.code === "STORE_FAILED");
    // Full queues of recipients who are online empty as they read: a short retry.
    const draining = s.rejections.every((r) =>
      r.code === "QUEUE_FULL" && this.#host.rooms.isOnline(r.to)
    );
    const delay = this.#retryDelay(attempts, storeFailed, draining);
    let retrying = false;
    for (const r of s.rejections) {
      const transient = !expired && this.#transient(r, entry, now);
      retrying ||= transient;
      const key = `${id}\n${r.to}`;
      if (reported.has(key) || isRecovery(entry)) continue; // a recovery answer has no message event
      reported.add(key);
      const why = transient
        ? `will retry in ${Math.round(delay / 1000)} s`
        : expired
        ? "given up after retrying for 7 days"
        : "not retried";
      this.#undelivered(id, r.to, r.code, `${r.detail}; ${why}`, transient);
    }
    if (retrying) {
      meta.retrySince = since;
      meta.retryAttempts = attempts;
      meta.retryCode = storeFailed ? "STORE_FAILED" : s.rejections[0]?.code ?? "";
      // Who refused it (for a room, the members): one coming online brings the retry forward.
      meta.retryTo = s.rejections.map((r) => r.to).join("\n");
      host.outbox.hold(entry, now + delay, storeFailed);
      return;
    }
    host.outbox.remove(entry);
    if (isSenderKey(entry)) {
      // The member never gets this key: the next room message starts a new one for everybody.
      this.#keysGivenUp.add(id);
      if (typeof meta.room === "string") {
        host.hush().rotateRoomKeys(meta.room);
        host.persist().catch((error) => host.emitter.reportError(error));
      }
    }
  }

  #transient(r: Rejection, entry: OutboxEntry, now: number): boolean {
    if (TRANSIENT_CODES.has(r.code)) return true;
    if (r.code !== "NO_SUCH_USER") return false;
    // Right after the relay lost its state (a new epoch), a peer is unknown until it is back.
    if (entry.meta?.requeued === true) return true;
    const changed = this.#host.relayMemory().epochChangedAt;
    return changed !== undefined && now - changed < EPOCH_GRACE_MS;
  }

  #retryDelay(attempts: number, storeFailed = false, draining = false): number {
    const base = this.#host.retryDelayMs ?? RETRY_DELAY_MS;
    if (draining) {
      const first = Math.min(DRAIN_RETRY_DELAY_MS, base);
      return Math.min(first * 2 ** Math.min(attempts - 1, 30), base);
    }
    if (storeFailed) {
      const first = Math.min(STORE_RETRY_DELAY_MS, base);
      return Math.min(first * 2 ** Math.min(attempts - 1, 30), STORE_RETRY_MAX_MS);
    }
    return Math.min(base * 2 ** Math.min(attempts - 1, 30), base * RETRY_MAX_FACTOR);
  }

  #undelivered(id: string, to: string, code: string, why: string, retrying: boolean): void {
    this.#host.emitter.emit({
      type: "undelivered",
      id,
      to,
      code,
      message: `Message ${id.slice(0, 8)} not delivered to "${to}" (${code}): ${why}`,
      retrying,
    });
  }

  /** Whether a sender key sent before this room message is held for a retry. */
  #keysHeld(entry: OutboxEntry): boolean {
    return this.#keysHeldUntil(entry) !== undefined;
  }

  /** Whether a sender key this room message waits for was refused with `STORE_FAILED`. */
  #keysBlock(entry: OutboxEntry): boolean {
    const outbox = this.#host.outbox;
    return outbox.entries.some((e) =>
      e.meta?.for === entry.id && outbox.isHeld(e) && e.meta?.retryCode === "STORE_FAILED"
    );
  }

  #keysHeldUntil(entry: OutboxEntry): number | undefined {
    const outbox = this.#host.outbox;
    let until: number | undefined;
    for (const e of outbox.entries) {
      if (e.meta?.for !== entry.id || !outbox.isHeld(e)) continue;
      const at = outbox.heldUntil(e) ?? Infinity;
      until = until === undefined ? at : Math.max(until, at);
    }
    return until;
  }

  /** Sets the timer for the next held envelope's retry. */
  #armRetry(): void {
    const next = this.#host.outbox.nextRelease();
    if (next === this.#retryAt) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryAt = next;
    if (next === undefined || this.#host.link.closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#retryAt = undefined;
      if (this.#host.link.closed) return;
      this.#host.outbox.releaseDue(this.#host.now());
      this.flush();
      this.#armRetry();
    }, Math.max(0, next - this.#host.now()));
  }

  /** Queues a room line as it is (encrypted later); emits its `message` echo. */
  async #queueLine(room: string, text: string, ts: number): Promise<string> {
    const host = this.#host;
    const id = toHex(randomBytes(16));
    host.outbox.enqueue({
      id,
      frame: new Uint8Array(0),
      line: { room, text, ts },
      meta: { from: host.nick(), to: room, toKind: "room", kind: "room" },
    });
    await this.save();
    const suite = host.hush().suiteFor(room);
    host.emitter.emit(messageEvent(
      { id, from: host.nick(), to: room, private: false, text, ts },
      { cipher: suite.id, insecure: suite.insecure, verified: false, own: true },
    ));
    if (!host.link.connected) {
      host.emitter.emit({
        type: "info",
        message: "Not connected: the message waits in the outbox and is encrypted and sent " +
          "when the relay is back",
      });
    }
    return id;
  }

  /**
   * Encrypts a room message for `members` and queues its envelopes (sender-key distributions
   * first); with `line`, they take that queued line's place and the room envelope its id.
   */
  async #encryptRoom(
    room: string,
    members: string[],
    text: string,
    ts: number,
    line: OutboxEntry | undefined,
  ) {
    const host = this.#host;
    const payload = encodeChatPayload({ text, ts });
    const former = new Set(host.formerNicks());
    const others = members.filter((m) => m !== host.nick() && !former.has(m));
    const wanted = host.roomKeys?.filter(room, others) ?? others;
    const send = await host.hush().encryptToRoom(room, wanted, payload);
    // Shown before it is sent: our key never reaches a reader the user was not shown.
    host.roomKeys?.beforeSharing(room, send.distributions.map((d) => d.to));
    for (const skipped of send.skipped) {
      if (skipped.code === "IDENTITY_CHANGED") host.emitter.identityChanged(skipped.nick);
      host.emitter.error(
        skipped.code,
        `"${skipped.nick}" cannot read this message in "${room}": ${skipped.message}`,
      );
    }
    const roomId = line?.id ?? toHex(randomBytes(16));
    const ids = await this.#enqueue([
      ...send.distributions.map((d): OutgoingEnvelope => ({
        to: d.to,
        toKind: "nick",
        cipher: d.suite.wireId,
        body: d.body,
        kind: `${d.kind}/sender-key`,
        meta: { for: roomId, room },
      })),
      {
        to: room,
        toKind: "room",
        cipher: send.room.suite.wireId,
        body: send.room.body,
        kind: "room",
        id: roomId,
      },
    ], line);
    const id = ids[ids.length - 1];
    if (id !== undefined) {
      host.sentLog?.record({
        id,
        to: room,
        toKind: "room",
        recipients: wanted,
        text,
        ts,
        keyIds: ids.slice(0, -1),
        identities: this.#identities(wanted),
      });
    }
    return { id, send };
  }

  /**
   * Queues envelopes: they enter the outbox (in the place of `replacing`, a queued room line, if
   * given), the outbox is saved in the same commit as the session state that encrypted them (a
   * crash never reuses a message key, nor keeps an envelope whose state was lost), and they are
   * written to the relay.
   */
  async #enqueue(items: OutgoingEnvelope[], replacing?: OutboxEntry): Promise<string[]> {
    const host = this.#host;
    const from = host.nick();
    const prepared = items.map((item) => {
      const idBytes = item.id === undefined ? randomBytes(16) : fromHex(item.id);
      const envelope: EnvelopeFrame & { type: "send" } = {
        type: "send",
        id: idBytes,
        cipher: item.cipher,
        from,
        toKind: item.toKind,
        to: item.to,
        body: item.body,
      };
      return {
        id: toHex(idBytes),
        envelope,
        frame: encodeFrame(envelope),
        kind: item.kind,
        meta: item.meta,
      };
    });
    const entries: OutboxEntry[] = prepared.map((p) => ({
      id: p.id,
      frame: p.frame,
      meta: {
        from: host.nick(),
        to: p.envelope.to,
        toKind: p.envelope.toKind,
        kind: p.kind,
        ...p.meta,
      },
    }));
    if (replacing === undefined) { for (const e of entries) host.outbox.enqueue(e); }
    else host.outbox.replace(replacing, entries);
    await this.save();
    crashForTest("outbox-saved");
    if (host.wire()) {
      for (const p of prepared) host.emitter.wire("out", p.envelope, p.frame.length, p.kind);
    }
    this.flush();
    crashForTest("send-written");
    return prepared.map((p) => p.id);
  }
}

function isRecovery(entry: OutboxEntry): boolean {
  return entry.meta?.kind === "recovery";
}

function isSenderKey(entry: OutboxEntry): boolean {
  return String(entry.meta?.kind ?? "").endsWith("sender-key");
}
