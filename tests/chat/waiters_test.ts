import assert from "node:assert/strict";
import { Waiters } from "../../chat/_waiters.ts";

Deno.test("Waiters answers the oldest waiter first, or everyone on a key", async () => {
  const waiters = new Waiters<string, number>();
  const never = () => new Error("timeout");
  const a = waiters.wait("k", undefined, never);
  const b = waiters.wait("k", undefined, never);
  const c = waiters.wait("other", undefined, never);
  assert.deepEqual(waiters.keys().sort(), ["k", "other"]);
  assert.equal(waiters.resolveFirst("k", 1), true);
  assert.equal(await a, 1);
  waiters.resolveAll("k", 2);
  assert.equal(await b, 2);
  assert.equal(waiters.resolveFirst("k", 3), false);
  waiters.rejectAll(new Error("closed"));
  await assert.rejects(c, /closed/);
  assert.deepEqual(waiters.keys(), []);
});

Deno.test("Waiters rejects a waiter after its timeout and forgets it", async () => {
  const waiters = new Waiters<string, number>();
  await assert.rejects(waiters.wait("k", 5, () => new Error("no answer")), /no answer/);
  assert.deepEqual(waiters.keys(), []);
  assert.equal(waiters.resolveFirst("k", 1), false);
});
