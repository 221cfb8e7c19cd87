/**
 * Adapts a {@linkcode ChatHome} (asynchronous) to the sessions library's synchronous
 * `SessionStore`: every key lives in memory, changes are noted, and
 * {@linkcode HomeSessionStore.flush} saves them to the home in one atomic step. A crash never
 * leaves a ratchet advanced in one key and its trust or skipped keys in another. The engine keeps
 * its delivery state in the same store (entries `chat/seen` and `chat/inbox`, see
 * `_delivery.ts`), so a message's ratchet step, its seen id and its opened text are saved
 * together or not at all.
 *
 * Two ways to save, by what the home offers:
 * - Per key (the home has `openEntries`, as the file home and `MemoryHome` do): the entries live
 *   in the home's per-key store `sessions`, and a flush commits only the keys set or deleted since
 *   the last flush, as one atomic commit. A snapshot left by an older version (`sessions.json`)
 *   is imported in one commit when the store is empty, then removed (a crash in between is
 *   safe: a store that has entries is not imported into again, and the leftover file is removed
 *   at the next start).
 * - Snapshot (other homes): the whole map is written to one home file, `sessions.json`, on each
 *   flush: `{"v":1,"entries":{"<key>":{"t":"<text>"} | {"b":"<base64 bytes>"}}}`.
 *
 * @module
 */

import { fromBase64, toBase64 } from "../crypto/bytes.ts";
import type { SessionStore, StoredValue } from "../sessions/store.ts";
import { ChatError } from "./errors.ts";
import type { ChatHome, EntryStore } from "./home.ts";

/** The home file of the snapshot (homes without a per-key store, and older homes). */
export const SESSIONS_FILE = "sessions.json";
/** The name of the home's per-key store that holds the session entries. */
export const SESSIONS_ENTRIES = "sessions";

/** A synchronous session store whose contents are saved to a home on {@linkcode flush}. */
export class HomeSessionStore implements SessionStore {
  #home: ChatHome;
  #entries: EntryStore | undefined;
  #map = new Map<string, StoredValue>();
  /** Snapshot mode: something changed since the last write. */
  #dirty = false;
  /** Per-key mode: the keys set or deleted since the last commit. */
  #changed = new Set<string>();
  #flushing: Promise<void> = Promise.resolve();

  private constructor(home: ChatHome, entries: EntryStore | undefined) {
    this.#home = home;
    this.#entries = entries;
  }

  /**
   * Loads the store from a home: from its per-key store when it has one (importing an older
   * `sessions.json` into it first), else from `sessions.json` (empty when missing).
   *
   * @param home The home.
   * @returns The loaded store.
   * @throws {ChatError} `BAD_HOME` when the state is malformed or unreadable; the home's errors.
   */
  static async load(home: ChatHome): Promise<HomeSessionStore> {
    if (home.openEntries === undefined) {
      const store = new HomeSessionStore(home, undefined);
      const text = await home.read(SESSIONS_FILE);
      if (text !== undefined) {
        for (const [key, value] of parseSnapshot(home, text)) store.#map.set(key, value);
      }
      return store;
    }
    const entries = await home.openEntries(SESSIONS_ENTRIES);
    const store = new HomeSessionStore(home, entries);
    let loaded = await entries.load();
    const legacy = await home.read(SESSIONS_FILE);
    if (legacy !== undefined) {
      if (loaded.size === 0) {
        // One commit: the import is all there or absent, and done again after a crash.
        loaded = parseSnapshot(home, legacy);
        await entries.commit(loaded);
      }
      await home.remove(SESSIONS_FILE);
    }
    for (const [key, value] of loaded) store.#map.set(key, value);
    return store;
  }

  /** Whether the home's per-key store is used (else the `sessions.json` snapshot). */
  get perKey(): boolean {
    return this.#entries !== undefined;
  }

  /** True when changes are waiting for {@linkcode flush}. */
  get dirty(): boolean {
    return this.#entries === undefined ? this.#dirty : this.#changed.size > 0;
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
    if (this.#entries !== undefined) this.#changed.add(key);
  }

  /**
   * Removes a value (no error when absent).
   *
   * @param key The key to remove.
   */
  delete(key: string): void {
    if (!this.#map.delete(key)) return;
    this.#dirty = true;
    if (this.#entries !== undefined) this.#changed.add(key);
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
   * Saves the changes to the home, if any: per key, one commit of the keys changed since the
   * last flush; else a rewrite of the snapshot. Concurrent calls are serialized, and a call
   * resolves only after a save covering every change made before it. A failed save keeps its
   * changes for the next flush.
   *
   * @returns Resolves once saved.
   * @throws {ChatError} `BAD_HOME` when the write fails; the home's errors (a fenced home's
   *   stop error, `HOME_TAKEN_OVER`).
   */
  flush(): Promise<void> {
    const run = this.#flushing.catch(() => {}).then(() =>
      this.#entries === undefined ? this.#writeSnapshot() : this.#commitChanged(this.#entries)
    );
    this.#flushing = run;
    return run;
  }

  async #commitChanged(entries: EntryStore): Promise<void> {
    if (this.#changed.size === 0) return;
    const changes = new Map<string, StoredValue | undefined>();
    for (const key of this.#changed) changes.set(key, this.#map.get(key));
    this.#changed = new Set();
    try {
      await entries.commit(changes);
    } catch (error) {
      // Not saved: commit these keys (with their values then) next time.
      for (const key of changes.keys()) this.#changed.add(key);
      throw error;
    }
  }

  async #writeSnapshot(): Promise<void> {
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
  }
}

/** Reads a `sessions.json` snapshot. */
function parseSnapshot(home: ChatHome, text: string): Map<string, StoredValue> {
  const out = new Map<string, StoredValue>();
  try {
    const parsed = JSON.parse(text) as { v?: number; entries?: Record<string, unknown> };
    if (parsed.v !== 1 || typeof parsed.entries !== "object" || parsed.entries === null) {
      throw new Error("unknown layout");
    }
    for (const [key, raw] of Object.entries(parsed.entries)) {
      const entry = raw as { t?: unknown; b?: unknown };
      if (typeof entry.t === "string") out.set(key, entry.t);
      else if (typeof entry.b === "string") out.set(key, fromBase64(entry.b));
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
  return out;
}
