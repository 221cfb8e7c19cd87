/**
 * A bounded set of message ids already shown, so a message the relay delivers twice (after a
 * reconnect or a resend) is dropped. The oldest ids are forgotten first once the bound is hit;
 * the set serializes to JSON for the home.
 *
 * @module
 */

/** Default number of remembered ids. */
export const DEFAULT_SEEN_CAPACITY = 10_000;

/** An insertion-ordered, bounded set of message ids (hex strings). */
export class SeenIds {
  #ids = new Set<string>();
  #capacity: number;

  /**
   * Creates an empty set.
   *
   * @param capacity How many ids to keep; the oldest are dropped beyond it.
   * @throws {RangeError} When `capacity` is not a positive integer.
   */
  constructor(capacity: number = DEFAULT_SEEN_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`Seen-id capacity must be a positive integer: "${capacity}"`);
    }
    this.#capacity = capacity;
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#ids.size;
  }

  /**
   * Tells whether an id was seen.
   *
   * @param id Message id (hex).
   * @returns True when remembered.
   */
  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /**
   * Remembers an id, forgetting the oldest beyond the capacity.
   *
   * @param id Message id (hex).
   * @returns True when the id is new, false when it was already remembered.
   */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    while (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next().value as string;
      this.#ids.delete(oldest);
    }
    return true;
  }

  /**
   * Serializes the ids, oldest first.
   *
   * @returns A JSON string: an array of hex strings.
   */
  toJSON(): string {
    return JSON.stringify([...this.#ids]);
  }

  /**
   * Restores a set from {@linkcode SeenIds.toJSON} output; malformed entries are skipped.
   *
   * @param json The serialized array.
   * @param capacity The bound for the restored set.
   * @returns The restored set (the newest `capacity` ids).
   * @throws {SyntaxError} When `json` is not JSON.
   */
  static fromJSON(json: string, capacity: number = DEFAULT_SEEN_CAPACITY): SeenIds {
    const set = new SeenIds(capacity);
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed)) {
      for (const id of parsed) if (typeof id === "string") set.add(id);
    }
    return set;
  }
}
