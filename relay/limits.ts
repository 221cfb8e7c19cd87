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
   * Takes one token if there is one, refilling first for the time elapsed.
   *
   * @param now Current time in milliseconds.
   * @returns False when the bucket is empty (the frame is over the limit).
   */
  take(now: number): boolean {
    if (this.#rate === 0) return true;
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
