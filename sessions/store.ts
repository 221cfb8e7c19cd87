/**
 * The storage seam of the sessions library: everything it remembers goes through a
 * {@linkcode SessionStore}, so the library itself does no I/O. The terminal client provides a
 * file-backed store; a browser can provide one over IndexedDB or localStorage.
 *
 * @module
 */

/** A value the sessions library stores: bytes or a string (always JSON text today). */
export type StoredValue = Uint8Array | string;

/**
 * A synchronous key-value store for one local user. Keys are short ASCII paths such as
 * `session/bob` or `prekeys/signed`; values are JSON text. Writes must be durable before the
 * call returns if the caller wants crash safety (the library writes after every state change).
 */
export interface SessionStore {
  /**
   * Reads a value.
   *
   * @param key The key to read.
   * @returns The stored value, or `undefined`.
   */
  get(key: string): StoredValue | undefined;
  /**
   * Writes a value.
   *
   * @param key The key to write.
   * @param value The value (replaces any previous one).
   */
  set(key: string, value: StoredValue): void;
  /**
   * Removes a value.
   *
   * @param key The key to remove (no error when absent).
   */
  delete(key: string): void;
  /**
   * Optional: every key that starts with `prefix` (used only for listing and cleanup).
   *
   * @param prefix The prefix to match.
   * @returns The matching keys.
   */
  keys?(prefix: string): string[];
}

/** An in-memory {@linkcode SessionStore} (tests, benchmarks, ephemeral clients). */
export class MemorySessionStore implements SessionStore {
  #map = new Map<string, StoredValue>();

  /**
   * Reads a value.
   *
   * @param key The key to read.
   * @returns The stored value (bytes are copied), or `undefined`.
   */
  get(key: string): StoredValue | undefined {
    const value = this.#map.get(key);
    return value instanceof Uint8Array ? value.slice() : value;
  }

  /**
   * Writes a value.
   *
   * @param key The key to write.
   * @param value The value; bytes are copied.
   */
  set(key: string, value: StoredValue): void {
    this.#map.set(key, value instanceof Uint8Array ? value.slice() : value);
  }

  /**
   * Removes a value.
   *
   * @param key The key to remove.
   */
  delete(key: string): void {
    this.#map.delete(key);
  }

  /**
   * Lists keys by prefix.
   *
   * @param prefix The prefix to match.
   * @returns The matching keys, in insertion order.
   */
  keys(prefix: string): string[] {
    return [...this.#map.keys()].filter((key) => key.startsWith(prefix));
  }

  /**
   * A deep copy of this store (tests use it to "steal" a device's state at one moment).
   *
   * @returns A new store with the same entries.
   */
  clone(): MemorySessionStore {
    const copy = new MemorySessionStore();
    for (const [key, value] of this.#map) copy.set(key, value);
    return copy;
  }
}

/**
 * Reads a JSON value from a store.
 *
 * @param store The store.
 * @param key The key.
 * @returns The parsed value, or `undefined` when absent.
 */
export function readJson<T>(store: SessionStore, key: string): T | undefined {
  const value = store.get(key);
  if (value === undefined) return undefined;
  const text = typeof value === "string" ? value : new TextDecoder().decode(value);
  return JSON.parse(text) as T;
}

/**
 * Writes a JSON value to a store.
 *
 * @param store The store.
 * @param key The key.
 * @param value A JSON-safe value.
 */
export function writeJson(store: SessionStore, key: string, value: unknown): void {
  store.set(key, JSON.stringify(value));
}
