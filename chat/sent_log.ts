/**
 * The sent log: a bounded record of our own recent messages (plaintext, recipients, room,
 * timestamp), so that a message a recipient could not open (it lost its session, or our room
 * key never reached it) can be sent to it again, pairwise, when it asks (`_recovery.ts`).
 *
 * It lives in the session store (entry `chat/sent`, in `sessions.sqlite` of a file home, saved
 * with the next state write) and keeps at most {@linkcode SENT_LOG_MAX} messages and {@linkcode SENT_LOG_MAX_TEXT} of
 * text, none older than {@linkcode SENT_LOG_MAX_AGE_MS}. It holds plaintext: `docs/SECURITY.md` says so.
 *
 * @module
 */

import type { SessionStore } from "../sessions/mod.ts";

/** Store entry of the sent log. */
export const SENT_LOG_KEY = "chat/sent";
/** Most messages kept. */
export const SENT_LOG_MAX = 500;
/** Oldest message kept: 7 days. */
export const SENT_LOG_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Most text kept, in UTF-16 code units (about 1 MB): it is saved with every state write. */
export const SENT_LOG_MAX_TEXT = 1_000_000;

/** One of our messages, as sent. */
export interface SentEntry {
  /** Message id (hex) of the envelope that carried it (the room envelope for a room message). */
  id: string;
  /** Recipient nick or room name. */
  to: string;
  /** Whether `to` is a nick or a room. */
  toKind: "nick" | "room";
  /** Who could read it: the nick, or the room's other members when it was sent. */
  recipients: string[];
  /** The text. */
  text: string;
  /** Our timestamp in the payload (ms). */
  ts: number;
  /** Ids of the sender-key distributions sent just before a room message, if any. */
  keyIds?: string[];
  /**
   * The identity key (hex) each recipient had when it was sent: a message goes again only to the
   * same identity, never to someone who took the nick since (a reinstall, a released nick).
   */
  identities?: Record<string, string>;
}

/** The sent log of one engine. */
export class SentLog {
  #store: SessionStore;
  #now: () => number;
  #entries: SentEntry[];

  /**
   * Loads the log from the store (empty when absent or unreadable).
   *
   * @param store The session store.
   * @param now Clock in milliseconds.
   */
  constructor(store: SessionStore, now: () => number) {
    this.#store = store;
    this.#now = now;
    this.#entries = [];
    const text = store.get(SENT_LOG_KEY);
    if (typeof text === "string") {
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed)) {
          this.#entries = parsed.filter((e): e is SentEntry =>
            typeof e === "object" && e !== null && typeof e.id === "string" &&
            typeof e.text === "string" && Array.isArray(e.recipients)
          );
        }
      } catch {
        // an unreadable log: start empty (it is only a courtesy for recovery)
      }
    }
  }

  /** How many messages are kept. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Records a message we sent (saved with the next state write).
   *
   * @param entry The message.
   */
  record(entry: SentEntry): void {
    this.#entries.push({ ...entry, recipients: [...entry.recipients] });
    this.#prune();
    this.#store.set(SENT_LOG_KEY, JSON.stringify(this.#entries));
  }

  /**
   * Finds a kept message by id.
   *
   * @param id Message id (hex).
   * @returns The message, or undefined when unknown, too old or pushed out.
   */
  get(id: string): SentEntry | undefined {
    this.#prune();
    return this.#entries.find((entry) => entry.id === id);
  }

  /**
   * The logged room message whose sender-key distributions included `id`.
   *
   * @param id Message id (hex) of a distribution.
   * @returns The room message, or undefined when `id` was no distribution of a kept message.
   */
  keyEntry(id: string): SentEntry | undefined {
    this.#prune();
    return this.#entries.find((entry) => entry.keyIds?.includes(id) === true);
  }

  #prune(): void {
    const oldest = this.#now() - SENT_LOG_MAX_AGE_MS;
    const kept = this.#entries.filter((entry) => entry.ts >= oldest).slice(-SENT_LOG_MAX);
    let text = kept.reduce((sum, entry) => sum + entry.text.length, 0);
    while (text > SENT_LOG_MAX_TEXT && kept.length > 0) text -= kept.shift()!.text.length;
    if (kept.length !== this.#entries.length) {
      this.#entries = kept;
      this.#store.set(SENT_LOG_KEY, JSON.stringify(kept));
    }
  }
}
