/**
 * Issue 10 item 11: the state a peer can make us keep is bounded in total: sender-key entries
 * (least recently stored go first), skipped message keys over every session and sender key, and
 * distributions for rooms the caller refuses (`acceptRoomKey`) are not kept at all.
 */
import assert from "node:assert/strict";
import { RelayDouble } from "./_relay_double.ts";

function skippedTotal(json: string): number {
  const counts = JSON.parse(json) as Record<string, number>;
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

Deno.test("a distribution for a room acceptRoomKey refuses is reported ignored and not stored", async () => {
  const relay = new RelayDouble();
  relay.addParty("mallory");
  const bob = relay.addParty("bob", { acceptRoomKey: (room) => room === "lobby" });
  const mallory = relay.party("mallory").hush;
  const junk = await mallory.encryptToRoom("junk", ["bob"], "x");
  const got = bob.hush.decryptFrom("mallory", junk.distributions[0]!.body);
  assert.equal(got.type, "sender-key");
  assert.equal(got.type === "sender-key" && got.ignored, true);
  assert.deepEqual(bob.store.keys("room/"), []);
  const lobby = await mallory.encryptToRoom("lobby", ["bob"], "hi");
  const kept = bob.hush.decryptFrom("mallory", lobby.distributions[0]!.body);
  assert.equal(kept.type === "sender-key" && kept.ignored, undefined);
  assert.equal(bob.hush.decryptRoom("lobby", "mallory", lobby.room.body).text, "hi");
});

Deno.test("sender-key entries are bounded in total: the least recently stored go first", async () => {
  const relay = new RelayDouble();
  relay.addParty("mallory");
  const bob = relay.addParty("bob", { limits: { senderKeyEntries: 5 } });
  const mallory = relay.party("mallory").hush;
  for (let i = 0; i < 12; i++) {
    const send = await mallory.encryptToRoom(`r${i}`, ["bob"], "x");
    bob.hush.decryptFrom("mallory", send.distributions[0]!.body);
  }
  const kept = bob.store.keys("room/").filter((k) => k.includes("/in/")).sort();
  assert.deepEqual(kept, ["r10", "r11", "r7", "r8", "r9"].map((r) => `room/${r}/in/mallory`));
});

Deno.test("skipped message keys are bounded in total over every session", async () => {
  const relay = new RelayDouble();
  const bob = relay.addParty("bob", { limits: { totalSkipped: 50 } });
  for (const nick of ["m1", "m2", "m3"]) {
    const m = relay.addParty(nick).hush;
    const bodies = [];
    for (let i = 0; i < 40; i++) bodies.push((await m.encryptTo("bob", `n${i}`)).body);
    // Only the last: 39 keys skipped in that session.
    const got = bob.hush.decryptFrom(nick, bodies[39]!);
    assert.equal(got.type === "text" && got.text, "n39");
  }
  assert.ok(skippedTotal(bob.store.get("skipped/counts") as string) <= 50);
  let stored = 0;
  for (const key of bob.store.keys("session/")) {
    const sessions = JSON.parse(bob.store.get(key) as string) as {
      ratchet: { skipped: unknown[] };
    }[];
    stored += sessions.reduce((n, s) => n + s.ratchet.skipped.length, 0);
  }
  assert.ok(stored <= 50, `stored ${stored} skipped keys`);
  assert.ok(stored >= 39, "the newest session keeps its own");
});
