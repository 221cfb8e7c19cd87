/**
 * Adapts a {@linkcode ChatHome} (asynchronous, file-like) to the sessions library's synchronous
 * `SessionStore`: every key lives in memory, changes mark the store dirty, and
 * {@linkcode HomeSessionStore.flush} writes the whole map to one home file (`sessions.json`)
 * atomically. One file means one consistent snapshot: a crash never leaves a ratchet advanced in
 * one key and its trust or skipped keys in another. The engine keeps its delivery state in the
 * same snapshot (entries `chat/seen` and `chat/inbox`, see `_delivery.ts`), so a message's ratchet
 * step, its seen id and its opened text are saved together or not at all.
 *
 * File layout: `{"v":1,"entries":{"<key>":{"t":"<text>"} | {"b":"<base64 bytes>"}}}`.
 *
 * @module
 */

import { fromBase64, toBase64 } from "../crypto/bytes.ts";
import type { SessionStore, StoredValue } from "../sessions/store.ts";
import { ChatError } from "./errors.ts";
import type { ChatHome } from "./home.ts";

/** The home file the session store is kept in. */
export const SESSIONS_FILE = "sessions.json";

/** A synchronous session store whose contents are saved to a home on {@linkcode flush}. */
export class HomeSessionStore implements SessionStore {
  #home: ChatHome;
  #map = new Map<string, StoredValue>();
  #dirty = false;
  #flushing: Promise<void> = Promise.resolve();

  private constructor(home: ChatHome) {
    this.#home = home;
  }

  /**
   * Loads the store from a home (empty when the file is missing).
   *
   * @param home The home.
   * @returns The loaded store.
   * @throws {ChatError} `BAD_HOME` when the file is malformed.
   */
  static async load(home: ChatHome): Promise<HomeSessionStore> {
    const store = new HomeSessionStore(home);
    const text = await home.read(SESSIONS_FILE);
    if (text === undefined) return store;
    try {
      const parsed = JSON.parse(text) as { v?: number; entries?: Record<string, unknown> };
      if (parsed.v !== 1 || typeof parsed.entries !== "object" || parsed.entries === null) {
        throw new Error("unknown layout");
      }
      for (const [key, raw] of Object.entries(parsed.entries)) {
        const entry = raw as { t?: unknown; b?: unknown };
        if (typeof entry.t === "string") store.#map.set(key, entry.t);
        else if (typeof entry.b === "string") store.#map.set(key, fromBase64(entry.b));
        else throw new Error(`bad entry "${key}"`);
      }
    } catch (error) {
      throw new ChatError(
        "BAD_HOME",
        `Cannot read session state in "${home.location}/${SESSIONS_FILE}": ${
          error instanceof Error ? error.message : error
        }`,
        { cause: error },
      );
    }
    return store;
  }

  /** True when changes are waiting for {@linkcode flush}. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Reads a value.
   *
   * @param key The key to read.
   * @returns The value (bytes copied) or undefined.
   */
  get(key: string): StoredValue | undefined {
    const value = this.#map.get(key);
    return value instanceof Uint8Array ? value.slice() : value;
  }

  /**
   * Writes a value (saved on the next {@linkcode HomeSessionStore.flush}).
   *
   * @param key The key to write.
   * @param value The value (bytes copied).
   */
  set(key: string, value: StoredValue): void {
    this.#map.set(key, value instanceof Uint8Array ? value.slice() : value);
    this.#dirty = true;
  }

  /**
   * Removes a value (no error when absent).
   *
   * @param key The key to remove.
   */
  delete(key: string): void {
    if (this.#map.delete(key)) this.#dirty = true;
  }

  /**
   * Lists keys.
   *
   * @param prefix Key prefix.
   * @returns Matching keys in insertion order.
   */
  keys(prefix: string): string[] {
    return [...this.#map.keys()].filter((key) => key.startsWith(prefix));
  }

  /**
   * Writes the store to the home if it changed; concurrent calls are serialized, and a call
   * resolves only after a write covering every change made before it.
   *
   * @returns Resolves once saved.
   * @throws {ChatError} `BAD_HOME` when the write fails.
   */
  flush(): Promise<void> {
    const run = this.#flushing.catch(() => {}).then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      const entries: Record<string, { t: string } | { b: string }> = {};
      for (const [key, value] of this.#map) {
        entries[key] = typeof value === "string" ? { t: value } : { b: toBase64(value) };
      }
      try {
        await this.#home.write(SESSIONS_FILE, JSON.stringify({ v: 1, entries }));
      } catch (error) {
        this.#dirty = true;
        throw error;
      }
    });
    this.#flushing = run;
    return run;
  }
}
