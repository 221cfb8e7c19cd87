/**
 * The outbox: every envelope sent but not yet accepted by the relay, in order. Nothing leaves the
 * outbox until the relay accepts it for every recipient, or refuses it for good; after a
 * reconnect every remaining envelope is sent again, byte for byte, so with the SAME message id,
 * and the receiver's seen-id set drops any duplicate.
 *
 * Ack accounting per connection (docs/PROTOCOL.md section 6): the relay handles SENDs in order
 * and ACCEPTED {count} says the first `count` SENDs of this connection are handled, accepted or
 * refused; a REJECTED frame (naming the SEND by its 1-based sequence number) for a refused one
 * comes first, and a room SEND may get one REJECTED per member whose queue was full. The outbox
 * remembers, per connection, the ordered list of entries it handed out and the refusals each
 * got; an ACCEPTED of total `n` settles the first `n`: an entry without refusals leaves the
 * outbox, an entry with refusals stays, held back until the engine decides (drop it, or retry it
 * later: {@linkcode Outbox.hold}).
 *
 * Besides the queued envelopes the outbox keeps:
 * - room lines typed while the relay could not be asked for the room's members (`line`): not
 *   encrypted yet, they keep their place in the order and nothing after them is handed out until
 *   the engine has encrypted them ({@linkcode Outbox.replace});
 * - "unconfirmed" envelopes: accepted by a relay that does not store durably, kept (bounded) so
 *   they can be sent again when that relay is seen to have restarted (another storage epoch).
 *   They are serialized apart ({@linkcode Outbox.unconfirmedJSON}): the engine saves them in
 *   their own file, lazily, so that a send does not rewrite them.
 *
 * @module
 */

import { fromBase64, toBase64 } from "../crypto/bytes.ts";

/** One queued envelope. */
export interface OutboxEntry {
  /** Message id, hex (32 characters for 16 bytes). */
  id: string;
  /** The encoded SEND frame, resent unchanged after a reconnect (empty while `line` is set). */
  frame: Uint8Array;
  /** Free-form metadata the engine keeps with the envelope (recipient, kind). */
  meta?: Record<string, string | boolean | number>;
  /** A room line not encrypted yet (typed while the room's members could not be asked for). */
  line?: { room: string; text: string; ts: number };
}

/** A refusal of one SEND by the relay (a REJECTED frame). */
export interface Rejection {
  /** The recipient named by the relay: the nick, the room member, or the room. */
  to: string;
  /** `nick` or `room`. */
  toKind: "nick" | "room";
  /** The relay's code (`QUEUE_FULL`, `NO_SUCH_USER`, ...). */
  code: string;
  /** The relay's text. */
  detail: string;
}

/** An entry settled by an ACCEPTED, with the refusals it got on this connection. */
export interface Settled {
  entry: OutboxEntry;
  rejections: Rejection[];
}

/** Bounds of the unconfirmed list. */
export interface UnconfirmedLimits {
  /** Most entries kept (oldest dropped first). */
  maxEntries: number;
  /** Most frame bytes kept in all (oldest dropped first). */
  maxBytes: number;
  /** Entries accepted longer ago than this (ms) are dropped. */
  maxAgeMs: number;
}

/** Default bounds: 1,000 envelopes, 4 MiB, 7 days (the relay's default queue age). */
export const UNCONFIRMED_LIMITS: UnconfirmedLimits = {
  maxEntries: 1_000,
  maxBytes: 4 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 3600 * 1000,
};

interface InFlight {
  entry: OutboxEntry;
  rejections: Rejection[];
}

/** The ordered queue of unaccepted envelopes. */
export class Outbox {
  #entries: OutboxEntry[] = [];
  /** Entries handed out on the current connection, oldest first, not yet settled. */
  #inFlight: InFlight[] = [];
  /** Accepted total acknowledged so far on the current connection. */
  #acked = 0;
  /** Entries refused and held back, each with the time (ms) it may be sent again. */
  #held = new Map<OutboxEntry, number>();
  /** Held room entries that later entries to the same room wait behind (see `hold`). */
  #blocking = new Set<OutboxEntry>();
  /** Accepted by a relay that may lose them; oldest first. */
  #unconfirmed: OutboxEntry[] = [];
  #unconfirmedVersion = 0;
  #waiters: (() => void)[] = [];

  /** Number of entries not yet accepted (held ones and unencrypted room lines included). */
  get size(): number {
    return this.#entries.length;
  }

  /** Every entry not yet accepted, oldest first (a copy of the list). */
  get entries(): OutboxEntry[] {
    return [...this.#entries];
  }

  /** A number that changes whenever the unconfirmed list does (to know when to save it). */
  get unconfirmedVersion(): number {
    return this.#unconfirmedVersion;
  }

  /** The accepted envelopes kept in case the relay loses them, oldest first (a copy). */
  get unconfirmed(): OutboxEntry[] {
    return [...this.#unconfirmed];
  }

  /**
   * Appends an entry; it is handed out by the next {@linkcode Outbox.takeUnsent}.
   *
   * @param entry The envelope.
   * @throws {RangeError} When an entry with the same id is already queued.
   */
  enqueue(entry: OutboxEntry): void {
    if (this.#entries.some((e) => e.id === entry.id)) {
      throw new RangeError(`Message id is already in the outbox: "${entry.id}"`);
    }
    this.#entries.push(entry);
  }

  /** Whether a room line waits to be encrypted. */
  hasLines(): boolean {
    return this.#entries.some((e) => e.line !== undefined);
  }

  /** The room lines waiting to be encrypted, in order. */
  lines(): OutboxEntry[] {
    return this.#entries.filter((e) => e.line !== undefined);
  }

  /**
   * Puts encrypted envelopes in the place of a room line (or of any queued entry).
   *
   * @param entry The entry to replace (no effect when it is no longer queued).
   * @param replacements The envelopes, in order (none: the entry is just removed).
   * @throws {RangeError} When a replacement's id is already queued.
   */
  replace(entry: OutboxEntry, replacements: OutboxEntry[]): void {
    const at = this.#entries.indexOf(entry);
    if (at < 0) return;
    for (const r of replacements) {
      if (r.id !== entry.id && this.#entries.some((e) => e.id === r.id)) {
        throw new RangeError(`Message id is already in the outbox: "${r.id}"`);
      }
    }
    this.#entries.splice(at, 1, ...replacements);
    this.#held.delete(entry);
    this.#blocking.delete(entry);
    this.#wake();
  }

  /**
   * Returns the entries to write on the current connection now, in order, and marks them sent.
   * Not handed out: entries already sent on this connection, held entries, private envelopes
   * to a nick that has a held envelope before them (order per peer is kept), room envelopes to
   * a room that has a blocking held envelope before them (order per room is kept; see
   * {@linkcode Outbox.hold}), and everything from the first room line not yet encrypted on.
   *
   * @returns The entries to write now (possibly empty).
   */
  takeUnsent(): OutboxEntry[] {
    const out = this.#sendable();
    for (const entry of out) this.#inFlight.push({ entry, rejections: [] });
    return out;
  }

  /**
   * Records a REJECTED frame for the SEND with that sequence number on this connection.
   *
   * @param seq The 1-based sequence number of the SEND on this connection.
   * @param id The message id, hex (checked against the entry; an unknown SEND is ignored).
   * @param rejection What the relay said.
   * @returns The entry refused, or undefined when no in-flight entry matches.
   */
  reject(seq: number, id: string, rejection: Rejection): OutboxEntry | undefined {
    let record = this.#inFlight[seq - this.#acked - 1];
    if (record?.entry.id !== id) record = this.#inFlight.find((r) => r.entry.id === id);
    if (record === undefined) return undefined;
    record.rejections.push(rejection);
    return record.entry;
  }

  /**
   * Applies a cumulative acknowledgement from the relay. Settled entries without a refusal
   * leave the outbox; refused ones stay, held back until {@linkcode Outbox.hold} (retry) or
   * {@linkcode Outbox.remove} (give up).
   *
   * @param total The number of SENDs the relay has handled on this connection so far.
   * @param keep Accepted entries this returns true for stay queued and held too (called in
   *   order, after the earlier settled entries were marked held).
   * @returns The entries settled by this ack, oldest first, with their refusals.
   */
  acknowledge(total: number, keep: (entry: OutboxEntry) => boolean = () => false): Settled[] {
    const count = Math.min(total - this.#acked, this.#inFlight.length);
    if (count <= 0) return [];
    this.#acked += count;
    const settled = this.#inFlight.splice(0, count);
    const gone = new Set<OutboxEntry>();
    for (const s of settled) {
      if (s.rejections.length === 0 && !keep(s.entry)) gone.add(s.entry);
      else this.#held.set(s.entry, Infinity);
    }
    this.#entries = this.#entries.filter((e) => !gone.has(e));
    this.#wake();
    return settled;
  }

  /**
   * Holds an entry back until `until` (ms, the clock of {@linkcode Outbox.releaseDue}).
   * Later private envelopes to the same nick always wait behind a held one; later room
   * envelopes to the same room wait behind a held room envelope only when `blocking` (the
   * refusal covered every member, as `STORE_FAILED` does: one member's full queue must not stall
   * the room for the others).
   *
   * @param entry A queued entry.
   * @param until When it may be sent again.
   * @param blocking For a room envelope: later envelopes to its room wait behind it.
   */
  hold(entry: OutboxEntry, until: number, blocking = false): void {
    if (!this.#entries.includes(entry)) return;
    this.#held.set(entry, until);
    if (blocking) this.#blocking.add(entry);
    else this.#blocking.delete(entry);
    this.#wake();
  }

  /** Whether an entry is held back. */
  isHeld(entry: OutboxEntry): boolean {
    return this.#held.has(entry);
  }

  /** When a held entry may be sent again (undefined: not held; Infinity: not decided yet). */
  heldUntil(entry: OutboxEntry): number | undefined {
    return this.#held.get(entry);
  }

  /** The earliest time a held entry may be sent again (undefined: none held with a time). */
  nextRelease(): number | undefined {
    let next: number | undefined;
    for (const at of this.#held.values()) {
      if (Number.isFinite(at) && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /**
   * Releases the held entries whose time has come (they are handed out again).
   *
   * @param now The current time (ms).
   * @param which Only entries this returns true for (default: all due ones).
   * @returns How many were released.
   */
  releaseDue(now: number, which: (entry: OutboxEntry) => boolean = () => true): number {
    let released = 0;
    for (const [entry, at] of [...this.#held]) {
      if (at <= now && which(entry)) {
        this.#held.delete(entry);
        this.#blocking.delete(entry);
        released++;
      }
    }
    return released;
  }

  /**
   * Releases held entries now, whatever their time.
   *
   * @param which Only entries this returns true for (default: all).
   * @returns How many were released.
   */
  release(which: (entry: OutboxEntry) => boolean = () => true): number {
    return this.releaseDue(Infinity, which);
  }

  /**
   * Removes an entry (a refusal that is final).
   *
   * @param entry A queued entry.
   */
  remove(entry: OutboxEntry): void {
    this.#entries = this.#entries.filter((e) => e !== entry);
    this.#held.delete(entry);
    this.#blocking.delete(entry);
    this.#wake();
  }

  /**
   * Forgets per-connection state after a disconnect: every entry, held ones included, will be
   * handed out again on the next connection.
   */
  resetConnection(): void {
    this.#inFlight = [];
    this.#acked = 0;
    this.#held.clear();
    this.#blocking.clear();
  }

  /**
   * Keeps an accepted envelope in the unconfirmed list (its `meta.epoch` names the relay's
   * storage epoch it was accepted in), dropping the oldest beyond the limits.
   *
   * @param entry The accepted entry.
   * @param epoch The relay's storage epoch, hex.
   * @param now The current time (ms).
   * @param limits Bounds (default {@linkcode UNCONFIRMED_LIMITS}).
   */
  keepUnconfirmed(
    entry: OutboxEntry,
    epoch: string,
    now: number,
    limits: UnconfirmedLimits = UNCONFIRMED_LIMITS,
  ): void {
    if (this.#unconfirmed.some((e) => e.id === entry.id)) return;
    entry.meta = { ...entry.meta, epoch, acceptedAt: now };
    this.#unconfirmed.push(entry);
    this.#unconfirmedVersion++;
    this.pruneUnconfirmed(now, limits);
  }

  /** Drops unconfirmed entries beyond the limits (oldest first). */
  pruneUnconfirmed(now: number, limits: UnconfirmedLimits = UNCONFIRMED_LIMITS): void {
    const before = this.#unconfirmed.length;
    this.#unconfirmed = this.#unconfirmed.filter((e) =>
      now - Number(e.meta?.acceptedAt ?? now) <= limits.maxAgeMs
    );
    if (this.#unconfirmed.length > limits.maxEntries) {
      this.#unconfirmed = this.#unconfirmed.slice(this.#unconfirmed.length - limits.maxEntries);
    }
    let bytes = 0;
    let keep = this.#unconfirmed.length;
    while (keep > 0 && bytes + this.#unconfirmed[keep - 1]!.frame.length <= limits.maxBytes) {
      bytes += this.#unconfirmed[--keep]!.frame.length;
    }
    if (keep > 0) this.#unconfirmed = this.#unconfirmed.slice(keep);
    if (this.#unconfirmed.length !== before) this.#unconfirmedVersion++;
  }

  /**
   * After READY: the unconfirmed entries accepted in another storage epoch than `epoch` (the
   * relay lost them) go back to the front of the queue, in order, to be sent again (same ids).
   * Entries of the current epoch stay unconfirmed.
   *
   * @param epoch The relay's storage epoch now, hex.
   * @returns The entries queued again.
   */
  requeueUnconfirmed(epoch: string): OutboxEntry[] {
    const lost = this.#unconfirmed.filter((e) => e.meta?.epoch !== epoch);
    if (lost.length === 0) return [];
    this.#unconfirmed = this.#unconfirmed.filter((e) => e.meta?.epoch === epoch);
    this.#unconfirmedVersion++;
    const queued = new Set(this.#entries.map((e) => e.id));
    const back = lost.filter((e) => !queued.has(e.id));
    for (const e of back) e.meta = { ...e.meta, requeued: true };
    this.#entries = [...back, ...this.#entries];
    return back;
  }

  /**
   * Puts copies of kept (unconfirmed) entries back at the end of the queue to be sent again
   * (same ids), unless already queued; they get no second `sent` (`meta.requeued`).
   *
   * @param entries Entries of {@linkcode Outbox.unconfirmed}.
   * @returns The entries queued again.
   */
  requeue(entries: OutboxEntry[]): OutboxEntry[] {
    const queued = new Set(this.#entries.map((e) => e.id));
    const back = entries.filter((e) => !queued.has(e.id)).map((e) => ({
      ...e,
      meta: { ...e.meta, requeued: true },
    }));
    this.#entries.push(...back);
    return back;
  }

  /** Forgets the unconfirmed entries (a durable relay keeps what it accepted). */
  clearUnconfirmed(): void {
    if (this.#unconfirmed.length > 0) this.#unconfirmedVersion++;
    this.#unconfirmed = [];
  }

  /**
   * Resolves when no entry waits for an answer from the relay: the outbox is empty or every
   * entry left is held back (a refused envelope waiting for its retry, or one queued behind it).
   *
   * @returns A promise resolved once nothing is left in flight or to send.
   */
  drained(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Serializes the queued entries (frames as base64; room lines not encrypted yet with a `line`).
   *
   * @returns A JSON string.
   */
  toJSON(): string {
    return JSON.stringify(this.#entries.map(entryJson));
  }

  /**
   * Serializes the unconfirmed list (as {@linkcode Outbox.toJSON} does the queue).
   *
   * @returns A JSON string.
   */
  unconfirmedJSON(): string {
    return JSON.stringify(this.#unconfirmed.map(entryJson));
  }

  /**
   * Restores an outbox from {@linkcode Outbox.toJSON} output; malformed entries are skipped.
   *
   * @param json The serialized entries.
   * @param unconfirmed The serialized unconfirmed list ({@linkcode Outbox.unconfirmedJSON}),
   *   if any; malformed entries are skipped.
   * @returns An outbox holding them, none sent on any connection yet, none held.
   * @throws {SyntaxError} When `json` or `unconfirmed` is not JSON.
   */
  static fromJSON(json: string, unconfirmed?: string): Outbox {
    const outbox = new Outbox();
    for (const entry of parseEntries(json)) {
      try {
        outbox.enqueue(entry);
      } catch {
        // skip a duplicate entry
      }
    }
    if (unconfirmed !== undefined) {
      for (const entry of parseEntries(unconfirmed)) {
        if (entry.line !== undefined || typeof entry.meta?.epoch !== "string") continue;
        if (!outbox.#unconfirmed.some((e) => e.id === entry.id)) outbox.#unconfirmed.push(entry);
      }
    }
    return outbox;
  }

  /** What takeUnsent would hand out now. */
  #sendable(): OutboxEntry[] {
    const sent = new Set(this.#inFlight.map((r) => r.entry));
    const blocked = new Set<string>();
    const out: OutboxEntry[] = [];
    for (const e of this.#entries) {
      if (e.line !== undefined) break;
      const kind = e.meta?.toKind;
      const conversation = kind === "nick" || kind === "room"
        ? `${kind}:${String(e.meta?.to)}`
        : undefined;
      if (this.#held.has(e)) {
        if (conversation !== undefined && (kind === "nick" || this.#blocking.has(e))) {
          blocked.add(conversation);
        }
        continue;
      }
      if (conversation !== undefined && blocked.has(conversation)) continue;
      if (!sent.has(e)) out.push(e);
    }
    return out;
  }

  #idle(): boolean {
    if (this.#inFlight.length > 0) return false;
    if (this.#entries.some((e) => e.line !== undefined)) return false;
    return this.#sendable().length === 0;
  }

  #wake(): void {
    if (!this.#idle()) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function entryJson(e: OutboxEntry) {
  return {
    id: e.id,
    frame: toBase64(e.frame),
    meta: e.meta ?? {},
    ...(e.line === undefined ? {} : { line: e.line }),
  };
}

/** The well-formed entries of a serialized list. */
function parseEntries(json: string): OutboxEntry[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) return [];
  const out: OutboxEntry[] = [];
  for (const item of parsed) {
    if (
      typeof item !== "object" || item === null || typeof item.id !== "string" ||
      typeof item.frame !== "string"
    ) continue;
    try {
      const meta = typeof item.meta === "object" && item.meta !== null ? item.meta : {};
      const entry: OutboxEntry = { id: item.id, frame: fromBase64(item.frame), meta };
      const line = item.line;
      if (line !== undefined) {
        if (
          typeof line !== "object" || line === null || typeof line.room !== "string" ||
          typeof line.text !== "string" || typeof line.ts !== "number"
        ) continue;
        entry.line = { room: line.room, text: line.text, ts: line.ts };
      }
      out.push(entry);
    } catch {
      // skip a corrupt entry
    }
  }
  return out;
}
