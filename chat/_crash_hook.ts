/**
 * Test-only crash hooks. With `HUSH_TEST_CRASH_AFTER=<point>` in the environment (and the env
 * permission for it granted: never a prompt in the middle of a chat), the process exits with
 * code 137, as if SIGKILLed, at that point. The end-to-end tests use it to kill a client at its
 * most dangerous moments; never set it otherwise. Points:
 *
 * - `sessions-write`, `printed`, `shown`: a receiver's batch (see `_delivery.ts`);
 * - `outbox-saved`: a sender's new envelopes saved with their session state, before any of them
 *   is written to the relay and before the message's echo (see `_outgoing.ts`);
 * - `send-written`: right after they were handed to the connection (they may or may not have
 *   left the process), before the echo;
 * - `commit:<key>`: inside the first session-store commit that changes `<key>`, its rows written
 *   and `COMMIT` not run (see `_sqlite_entries.ts`).
 *
 * @module
 */

const VARIABLE = "HUSH_TEST_CRASH_AFTER";

/** The point asked for, read once (`null`: not read yet). */
let wanted: string | undefined | null = null;

/**
 * The crash point asked for, or undefined (not set, not granted, or not Deno). Read once per
 * process: the hooks sit on every send, delivery and commit.
 */
export function crashPointForTest(): string | undefined {
  if (wanted !== null) return wanted;
  try {
    const deno = globalThis.Deno;
    wanted = deno?.permissions.querySync({ name: "env", variable: VARIABLE }).state === "granted"
      ? deno.env.get(VARIABLE)
      : undefined;
  } catch {
    wanted = undefined;
  }
  return wanted;
}

/** Exits like a SIGKILL when `point` is the crash point asked for. */
export function crashForTest(point: string): void {
  if (crashPointForTest() === point) globalThis.Deno?.exit(137);
}
