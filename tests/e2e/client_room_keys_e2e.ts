/**
 * Issue 10 item 10, ghost members: a relay above `--room-notice-limit` (or one hiding a join)
 * sends no JOINED for a new member, yet the engine's own roster names it and our room key goes to
 * it. Real `client.ts --json` processes over a real relay: the sender is told with a `key-shared`
 * event before the key leaves; with `--room-keys approve` the key goes only after `/approve`.
 */
import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: our room key going to a member never shown joining is announced first (key-shared)", async () => {
  await withWorld(async (world) => {
    // ghost is in the room first; alice joins a room above the notice limit: her own roster
    // names ghost, but nothing is shown to her.
    const ghost = await world.client("ghost");
    await ghost.waitForType("join", (e) => e.nick === "ghost", wait);
    const alice = await world.client("alice");
    await settle(1_000);
    assert.equal(
      alice.events.some((e) => e.type === "join" && e.nick === "ghost"),
      false,
      "above --room-notice-limit the relay shows alice no join",
    );
    await alice.send("hello room");
    const shared = await alice.waitForType("key-shared", (e) => e.nick === "ghost", wait);
    assert.equal(shared.room, "lobby");
    assert.equal(shared.verified, false);
    assert.match(shared.fingerprint, /\S/);
    await ghost.waitForType("message", (e) => e.text === "hello room", wait);
    // Said before the key left: the key-shared event comes before any `sent`.
    const sharedAt = alice.events.indexOf(shared);
    const firstSent = alice.events.findIndex((e) => e.type === "sent");
    assert.ok(firstSent === -1 || sharedAt < firstSent, "key-shared precedes the sends");
    // Once shown, not again.
    await alice.send("second");
    await ghost.waitForType("message", (e) => e.text === "second", wait);
    assert.equal(alice.eventsOf("key-shared").length, 1);
  }, { args: ["--room-notice-limit", "1"] });
});

Deno.test("client --json: --room-keys approve withholds the room key until /approve", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice", { args: ["--room-keys", "approve"] });
    const bob = await world.client("bob");
    await alice.waitForType("join", (e) => e.nick === "bob", wait);
    await alice.send("before approval");
    const withheld = await alice.waitForType("key-withheld", (e) => e.nick === "bob", wait);
    assert.equal(withheld.reason, "not-approved");
    assert.equal(withheld.room, "lobby");
    await settle(1_500);
    assert.equal(
      bob.events.some((e) => e.type === "message" && e.text === "before approval"),
      false,
      "bob has no key before approval",
    );
    await alice.send("/approve bob");
    await alice.waitForType("info", (e) => /Approved bob in lobby/.test(e.message), wait);
    await alice.send("after approval");
    await bob.waitForType("message", (e) => e.text === "after approval", wait);
  });
});
