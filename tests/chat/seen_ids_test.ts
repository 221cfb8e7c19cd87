import assert from "node:assert/strict";
import { SeenIds } from "../../chat/seen_ids.ts";

Deno.test("SeenIds.add() reports a duplicate id as not new", () => {
  const seen = new SeenIds(10);
  assert.equal(seen.add("aa"), true);
  assert.equal(seen.add("aa"), false);
  assert.equal(seen.has("aa"), true);
  assert.equal(seen.has("bb"), false);
});

Deno.test("SeenIds forgets the oldest ids beyond its capacity", () => {
  const seen = new SeenIds(3);
  for (const id of ["a", "b", "c", "d"]) seen.add(id);
  assert.equal(seen.size, 3);
  assert.equal(seen.has("a"), false);
  assert.equal(seen.has("d"), true);
});

Deno.test("SeenIds survives a JSON round trip, keeping the newest ids", () => {
  const seen = new SeenIds(5);
  for (let i = 0; i < 8; i++) seen.add(`id${i}`);
  const restored = SeenIds.fromJSON(seen.toJSON(), 4);
  assert.equal(restored.size, 4);
  assert.equal(restored.has("id7"), true);
  assert.equal(restored.has("id3"), false);
  assert.equal(restored.add("id6"), false);
});

Deno.test("SeenIds.fromJSON() skips entries that are not strings", () => {
  const restored = SeenIds.fromJSON('["x", 1, null, "y"]');
  assert.equal(restored.size, 2);
});

Deno.test("SeenIds rejects a capacity that is not a positive integer", () => {
  assert.throws(() => new SeenIds(0), RangeError);
});
