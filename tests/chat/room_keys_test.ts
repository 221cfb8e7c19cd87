/**
 * Issue 10 item 10: the room-key gate. `key-shared` once per member not shown, before sharing;
 * `approve` and `verified` policies withhold the key (one `key-withheld` per member and room).
 */
import assert from "node:assert/strict";
import { generateIdentityKeyPair } from "../../crypto/mod.ts";
import { Emitter } from "../../chat/_emitter.ts";
import { RoomKeyGate } from "../../chat/_room_keys.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { Hush, MemorySessionStore } from "../../sessions/mod.ts";

function gate(policy: "all" | "approve" | "verified") {
  const store = new MemorySessionStore();
  const hush = new Hush({ store, identity: generateIdentityKeyPair() });
  const emitter = new Emitter(() => ({ type: "info", message: "" }));
  const events: ChatEvent[] = [];
  emitter.on((e) => events.push(e));
  return {
    gate: new RoomKeyGate(policy, { store, emitter, hush: () => hush }),
    events,
    hush,
    store,
  };
}

Deno.test("RoomKeyGate all: key-shared once for a member not shown; none for a shown one", () => {
  const { gate: g, events } = gate("all");
  g.markShown("lobby", "bob");
  assert.deepEqual(g.filter("lobby", ["bob", "ghost"]), ["bob", "ghost"]);
  g.beforeSharing("lobby", ["bob", "ghost"]);
  g.beforeSharing("lobby", ["ghost"]);
  assert.deepEqual(events.map((e) => e.type === "key-shared" && [e.room, e.nick]), [[
    "lobby",
    "ghost",
  ]]);
  // Shown in lobby is not shown in another room.
  g.beforeSharing("dev", ["bob"]);
  assert.equal(events.length, 2);
});

Deno.test("RoomKeyGate approve: withheld until approved (said once), approval kept in the store", () => {
  const { gate: g, events, store, hush } = gate("approve");
  assert.deepEqual(g.filter("lobby", ["bob", "carol"]), []);
  assert.deepEqual(g.filter("lobby", ["bob"]), []);
  assert.deepEqual(
    events.map((e) => e.type === "key-withheld" && `${e.nick}:${e.reason}`),
    ["bob:not-approved", "carol:not-approved"],
  );
  g.approve("lobby", "bob");
  assert.deepEqual(g.filter("lobby", ["bob", "carol"]), ["bob"]);
  assert.deepEqual(g.filter("dev", ["bob"]), [], "approval is per room");
  const again = new RoomKeyGate("approve", {
    store,
    emitter: new Emitter(() => ({ type: "info", message: "" })),
    hush: () => hush,
  });
  assert.equal(again.isApproved("lobby", "bob"), true);
});

Deno.test("RoomKeyGate verified: only verified members get the key", () => {
  const { gate: g, events, hush } = gate("verified");
  const bob = generateIdentityKeyPair().publicKey;
  hush.trust.observe("bob", bob);
  assert.deepEqual(g.filter("lobby", ["bob"]), []);
  assert.equal(events[0]?.type === "key-withheld" && events[0].reason, "not-verified");
  hush.trust.markVerified("bob", hush.trust.safetyNumber("bob").digits);
  assert.deepEqual(g.filter("lobby", ["bob"]), ["bob"]);
});
