import assert from "node:assert/strict";
import { backoffDelay } from "../../chat/backoff.ts";

Deno.test("backoffDelay() doubles the ceiling from 100 ms and caps it at 10 s", () => {
  const top = () => 0.999999;
  assert.equal(backoffDelay(0, { random: top }), 100);
  assert.equal(backoffDelay(1, { random: top }), 200);
  assert.equal(backoffDelay(2, { random: top }), 400);
  assert.equal(backoffDelay(7, { random: top }), 10_000);
  assert.equal(backoffDelay(1000, { random: top }), 10_000);
});

Deno.test("backoffDelay() draws from the upper half of the ceiling", () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(10_000, 100 * 2 ** attempt);
    assert.equal(backoffDelay(attempt, { random: () => 0 }), ceiling / 2);
    for (let i = 0; i < 50; i++) {
      const delay = backoffDelay(attempt);
      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
    }
  }
});

Deno.test("backoffDelay() honours custom bounds", () => {
  assert.equal(backoffDelay(0, { baseMs: 10, maxMs: 50, random: () => 0.999999 }), 10);
  assert.equal(backoffDelay(5, { baseMs: 10, maxMs: 50, random: () => 0.999999 }), 50);
});

Deno.test("backoffDelay() rejects a negative or fractional attempt", () => {
  assert.throws(() => backoffDelay(-1), RangeError);
  assert.throws(() => backoffDelay(1.5), RangeError);
});
