/**
 * Promises waiting for an answer from the relay, keyed (by nick, room, ...), each with an
 * optional timeout. Private to the engine.
 *
 * @module
 */

interface Entry<V> {
  resolve(value: V): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Keyed waiters, answered first come first served. */
export class Waiters<K, V> {
  #map = new Map<K, Entry<V>[]>();

  /** The keys somebody waits on. */
  keys(): K[] {
    return [...this.#map.keys()];
  }

  /**
   * Waits for an answer about `key`.
   *
   * @param key What is waited for.
   * @param timeoutMs Reject after this long; undefined waits without a bound.
   * @param timeoutError Makes the rejection error.
   * @returns The answer.
   */
  wait(key: K, timeoutMs: number | undefined, timeoutError: () => Error): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const entry: Entry<V> = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.#remove(key, entry);
          reject(timeoutError());
        }, timeoutMs);
      }
      const list = this.#map.get(key) ?? [];
      list.push(entry);
      this.#map.set(key, list);
    });
  }

  /**
   * Answers the oldest waiter on `key`.
   *
   * @returns False when nobody waited.
   */
  resolveFirst(key: K, value: V): boolean {
    const entry = this.#map.get(key)?.[0];
    if (entry === undefined) return false;
    this.#remove(key, entry);
    entry.resolve(value);
    return true;
  }

  /** Answers every waiter on `key`. */
  resolveAll(key: K, value: V): void {
    const list = this.#map.get(key) ?? [];
    this.#map.delete(key);
    for (const entry of list) {
      clearTimeout(entry.timer);
      entry.resolve(value);
    }
  }

  /** Rejects every waiter on every key. */
  rejectAll(error: unknown): void {
    const lists = [...this.#map.values()];
    this.#map.clear();
    for (const list of lists) {
      for (const entry of list) {
        clearTimeout(entry.timer);
        entry.reject(error);
      }
    }
  }

  #remove(key: K, entry: Entry<V>): void {
    clearTimeout(entry.timer);
    const list = (this.#map.get(key) ?? []).filter((e) => e !== entry);
    if (list.length === 0) this.#map.delete(key);
    else this.#map.set(key, list);
  }
}
