import assert from "node:assert/strict";
import { isValidNick, nickSkeleton, sameNick } from "../../protocol/mod.ts";
import { nickCandidate } from "../../relay/auth.ts";

/** Vectors: nick, skeleton (docs/PROTOCOL.md section 1). */
const VECTORS: [string, string][] = [
  ["alice", "allce"],
  ["Alice", "allce"],
  ["ALICE", "allce"],
  ["aIice", "allce"],
  ["a1ice", "allce"],
  ["alice_", "allce"],
  ["_alice-", "allce"],
  ["al1ce", "allce"],
  ["bob", "bob"],
  ["Bob", "bob"],
  ["BOB", "bob"],
  ["b0b", "bob"],
  ["B0B", "bob"],
  ["bob__", "bob"],
  ["bob_1", "bob_l"],
  ["bob-1", "bob_l"],
  ["bob__1", "bob_l"],
  ["bob_10", "bob_lo"],
  ["bob1", "bobl"],
  ["rnary", "mary"],
  ["mary", "mary"],
  ["RNary", "mary"],
  ["vvill", "wlll"],
  ["will", "wlll"],
  ["_", ""],
  ["-_-", ""],
  ["a_b", "a_b"],
  ["a-b", "a_b"],
  ["a--b", "a_b"],
];

Deno.test("nickSkeleton() folds case, look-alikes and decoration (vectors)", () => {
  for (const [nick, skeleton] of VECTORS) {
    assert.ok(isValidNick(nick), nick);
    assert.equal(nickSkeleton(nick), skeleton, nick);
  }
});

Deno.test("sameNick(): the issue's look-alikes of alice are one person, the relay's suffixes are not", () => {
  for (const n of ["Alice", "aIice", "a1ice", "alice_", "ALICE", "alice-"]) {
    assert.ok(sameNick("alice", n), n);
  }
  assert.ok(sameNick("bob", "b0b"));
  assert.ok(!sameNick("bob", "bob_1"));
  assert.ok(!sameNick("bob", "bobby"));
  assert.ok(!sameNick("bob_1", "bob_2"));
  assert.ok(!sameNick("carol", "karol"));
});

Deno.test("nickSkeleton(): every relay suffix of a nick has its own skeleton", () => {
  for (const base of ["bob", "Bob_", "x".repeat(32), "rn", "a1"]) {
    const seen = new Set<string>();
    for (let i = 0; i <= 999; i++) seen.add(nickSkeleton(nickCandidate(base, i)));
    assert.equal(seen.size, 1000, base);
  }
});

Deno.test("nickSkeleton() is idempotent and never longer than the nick", () => {
  const alphabet = "aAiIlL1oO0rnmvVwW_-bB";
  let seed = 7;
  for (let k = 0; k < 2000; k++) {
    let nick = "";
    const len = 1 + (k % 12);
    for (let j = 0; j < len; j++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      nick += alphabet[seed % alphabet.length];
    }
    const s = nickSkeleton(nick);
    assert.ok(s.length <= nick.length, nick);
    assert.equal(nickSkeleton(s === "" ? "_" : s), s, nick);
  }
});
