/**
 * Test helpers for the sessions tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SessionError } from "../../sessions/mod.ts";
import type { MemorySessionStore } from "../../sessions/mod.ts";

/** Asserts that `fn` throws a SessionError with `code`. */
export function assertSessionError(fn: () => unknown, code: string, note?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SessionError, `${note ?? ""} expected SessionError, got ${error}`);
    assert.equal(error.code, code, note);
    return true;
  });
}

/** Asserts that `promise` rejects with a SessionError with `code`. */
export async function assertRejectsSession(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SessionError, `expected SessionError, got ${error}`);
    assert.equal(error.code, code);
    return true;
  });
}

/** Every entry of a memory store as one string (to compare states before and after). */
export function dumpStore(store: MemorySessionStore): string {
  return JSON.stringify(store.keys("").sort().map((key) => [key, store.get(key)]));
}

/** fast-check run count: small by default, larger with SLOW=1 (read without permissions). */
export function runs(fast: number, slow = fast * 10): number {
  let value: string | undefined;
  try {
    const status = Deno.permissions.querySync({ name: "env", variable: "SLOW" });
    value = status.state === "granted" ? Deno.env.get("SLOW") : undefined;
  } catch {
    value = undefined;
  }
  return value === "1" ? slow : fast;
}
