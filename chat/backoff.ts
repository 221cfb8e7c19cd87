/**
 * Reconnect delays: exponential backoff with jitter, bounded. Attempt 0 waits about `baseMs`,
 * each attempt doubles the ceiling up to `maxMs`; the delay is drawn uniformly from the upper
 * half of the ceiling ("equal jitter"), so clients that lost the same relay spread out but none
 * waits less than half the ceiling.
 *
 * @module
 */

/** Options for {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /** First ceiling in milliseconds; default 100. */
  baseMs?: number;
  /** Largest ceiling in milliseconds; default 10,000. */
  maxMs?: number;
  /** Source of randomness in [0, 1); default `Math.random` (jitter needs no secrecy). */
  random?: () => number;
}

/**
 * Computes the delay before reconnect attempt `attempt` (0-based).
 *
 * @param attempt How many attempts have failed so far (0 for the first retry).
 * @param options Base and maximum ceilings, random source.
 * @returns A delay in whole milliseconds in `[ceiling / 2, ceiling]`, where
 *   `ceiling = min(maxMs, baseMs * 2 ** attempt)`.
 * @throws {RangeError} When `attempt` is negative or not an integer.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`Backoff attempt must be a non-negative integer: "${attempt}"`);
  }
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 10_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 52));
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
