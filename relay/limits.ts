/**
 * Per-connection rate limiting: a token bucket.
 *
 * @module
 */

/**
 * A token bucket: holds at most `burst` tokens, refills `rate` tokens per second, and each
 * frame takes one. A rate of 0 disables it (every take succeeds).
 */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;

  /**
   * Creates a full bucket.
   *
   * @param rate Tokens per second (0: unlimited).
   * @param burst Capacity in tokens.
   * @param now Current time in milliseconds (default `performance.now()`).
   */
  constructor(rate: number, burst: number, now: number = performance.now()) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Tokens available now (without refilling). */
  get tokens(): number {
    return this.#tokens;
  }

  /**
   * Takes `cost` tokens if there are that many, refilling first for the time elapsed.
   *
   * @param now Current time in milliseconds.
   * @param cost Tokens to take (default 1: one frame).
   * @returns False when the bucket has fewer (or, for a cost over the burst, is not full): the
   *   frame is over the limit and nothing is taken.
   */
  take(now: number, cost = 1): boolean {
    if (this.#rate === 0) return true;
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
    }
    // A cost over the whole burst passes with a full bucket and leaves it in debt, paid off at
    // the rate (a big message to a big room is slow, not impossible).
    if (this.#tokens < Math.min(cost, this.#burst)) return false;
    this.#tokens -= cost;
    return true;
  }
}

/** Bytes of delivery that cost one token when a SEND fans out (deliveries x bytes). */
export const FANOUT_UNIT_BYTES = 256;

/**
 * Tokens a SEND costs beyond its frame's one: one per {@link FANOUT_UNIT_BYTES} (rounded up) per
 * delivery, less the one the frame paid.
 *
 * @param deliveries Recipients it goes to.
 * @param bytes Its size.
 */
export function fanoutCost(deliveries: number, bytes: number): number {
  return Math.max(0, deliveries * Math.ceil(bytes / FANOUT_UNIT_BYTES) - 1);
}
