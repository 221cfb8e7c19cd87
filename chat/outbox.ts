/**
 * The outbox: every envelope sent but not yet acknowledged by the relay, in order. Nothing
 * leaves the outbox until the relay accepts it (a cumulative SEND ack) or refuses it (REJECTED);
 * after a reconnect every remaining envelope is sent again, byte for byte, so with the SAME
 * message id, and the receiver's seen-id set drops any duplicate.
 *
 * Ack accounting per connection (docs/PROTOCOL.md section 6): the relay handles SENDs in order
 * and ACCEPTED {count} says the first `count` SENDs of this connection are handled, accepted or
 * refused (a REJECTED frame for a refused one comes first). The outbox remembers, per connection,
 * the ordered list of entries it handed out; an ACCEPTED of total `n` settles the first `n`.
 *
 * @module
 */

import { fromBase64, toBase64 } from "../crypto/bytes.ts";

/** One queued envelope. */
export interface OutboxEntry {
  /** Message id, hex (32 characters for 16 bytes). */
  id: string;
  /** The encoded SEND frame, resent unchanged after a reconnect. */
  frame: Uint8Array;
  /** Free-form metadata the engine keeps with the envelope (recipient, kind). */
  meta?: Record<string, string | boolean | number>;
}

/** The ordered queue of unacknowledged envelopes. */
export class Outbox {
  #entries: OutboxEntry[] = [];
  /** Entries handed out on the current connection, oldest first, not yet settled. */
  #inFlight: OutboxEntry[] = [];
  /** Accepted total acknowledged so far on the current connection. */
  #acked = 0;
  #waiters: (() => void)[] = [];

  /** Number of entries not yet acknowledged. */
  get size(): number {
    return this.#entries.length;
  }

  /** Every unacknowledged entry, oldest first (a copy of the list). */
  get entries(): OutboxEntry[] {
    return [...this.#entries];
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

  /**
   * Returns the entries not yet sent on the current connection, in order, and marks them sent.
   *
   * @returns The entries to write now (possibly empty).
   */
  takeUnsent(): OutboxEntry[] {
    const sent = new Set(this.#inFlight);
    const out = this.#entries.filter((e) => !sent.has(e));
    this.#inFlight.push(...out);
    return out;
  }

  /**
   * Applies a cumulative acknowledgement from the relay.
   *
   * @param total The number of SENDs the relay has handled on this connection so far.
   * @returns The entries settled by this ack, oldest first.
   */
  acknowledge(total: number): OutboxEntry[] {
    const count = Math.min(total - this.#acked, this.#inFlight.length);
    if (count <= 0) return [];
    this.#acked += count;
    const settled = this.#inFlight.splice(0, count);
    const gone = new Set(settled);
    this.#entries = this.#entries.filter((e) => !gone.has(e));
    this.#wake();
    return settled;
  }

  /** Forgets per-connection state after a disconnect: every entry will be handed out again. */
  resetConnection(): void {
    this.#inFlight = [];
    this.#acked = 0;
  }

  /**
   * Resolves when the outbox is empty (immediately if it already is).
   *
   * @returns A promise resolved once nothing is left unacknowledged.
   */
  drained(): Promise<void> {
    if (this.#entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Serializes the queued entries (frames as base64).
   *
   * @returns A JSON string.
   */
  toJSON(): string {
    return JSON.stringify(
      this.#entries.map((e) => ({ id: e.id, frame: toBase64(e.frame), meta: e.meta ?? {} })),
    );
  }

  /**
   * Restores an outbox from {@linkcode Outbox.toJSON} output; malformed entries are skipped.
   *
   * @param json The serialized entries.
   * @returns An outbox holding them, none sent on any connection yet.
   * @throws {SyntaxError} When `json` is not JSON.
   */
  static fromJSON(json: string): Outbox {
    const outbox = new Outbox();
    const parsed: unknown = JSON.parse(json);
    if (!Array.isArray(parsed)) return outbox;
    for (const item of parsed) {
      if (
        typeof item !== "object" || item === null || typeof item.id !== "string" ||
        typeof item.frame !== "string"
      ) continue;
      try {
        const meta = typeof item.meta === "object" && item.meta !== null ? item.meta : {};
        outbox.enqueue({ id: item.id, frame: fromBase64(item.frame), meta });
      } catch {
        // skip a corrupt or duplicate entry
      }
    }
    return outbox;
  }

  #wake(): void {
    if (this.#entries.length > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
