import assert from "node:assert/strict";
import { TokenBucket } from "../../relay/mod.ts";

Deno.test("TokenBucket allows a burst, then refuses, then refills at its rate", () => {
  const b = new TokenBucket(10, 3, 0);
  assert.ok(b.take(0));
  assert.ok(b.take(0));
  assert.ok(b.take(0));
  assert.ok(!b.take(0));
  assert.ok(!b.take(50)); // half a token
  assert.ok(b.take(100)); // a full token after 100 ms at 10/s
  assert.ok(!b.take(100));
  assert.ok(b.take(10_000) && b.take(10_000) && b.take(10_000));
  assert.ok(!b.take(10_000)); // never more than the burst
});

Deno.test("TokenBucket with rate 0 never refuses", () => {
  const b = new TokenBucket(0, 1, 0);
  for (let i = 0; i < 1000; i++) assert.ok(b.take(0));
});

Deno.test("TokenBucket: a cost takes that many tokens; one over the burst needs a full bucket and leaves a debt", () => {
  const b = new TokenBucket(100, 50, 0);
  assert.ok(b.take(0, 30));
  assert.ok(!b.take(0, 30), "20 left: 30 refused, nothing taken");
  assert.ok(b.take(0, 20));
  assert.ok(!b.take(100, 200), "over the burst: only with a full bucket (10 tokens now)");
  assert.ok(b.take(500, 200), "full (50): passes, 150 in debt");
  assert.ok(!b.take(1500, 1), "-150 + 100 = -50");
  assert.ok(b.take(2600, 1));
});
