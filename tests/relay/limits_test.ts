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
