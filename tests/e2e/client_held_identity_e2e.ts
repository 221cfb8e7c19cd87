/**
 * Item 14 of issue 9: messages from a peer whose identity key changed (private and room) are
 * held durably until `/trust NICK`, then shown once with their original ids (real relay and
 * `client.ts --json` processes; the receiver is killed and restarted while they are held).
 */
import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: messages from a reinstalled peer are held across a restart until /trust, then shown once", async () => {
  await withWorld(async (world) => {
    let alice = await world.client("alice");
    const oldBob = await world.client("bob");
    await alice.send("@bob hi old bob");
    await oldBob.waitForType("message", (e) => e.text === "hi old bob", wait);
    await oldBob.stop();
    // A memory relay restarted forgets the nick binding: a new identity can take "bob".
    const readies = alice.eventsOf("ready").length;
    world.relay = await world.relay.restart();
    await alice.waitFor((e) => e.type === "ready" && alice.eventsOf("ready").length > readies, {
      ...wait,
      what: "alice back",
    });
    const bob = await world.client("bob", { home: "bob-reinstalled" });
    await bob.waitForType("join", (e) => e.nick === "alice", wait).catch(() => {});
    await bob.send("room line from the new bob");
    await bob.send("@alice private line from the new bob");
    const ownPrivate = await bob.waitForType(
      "message",
      (e) => e.own && e.text === "private line from the new bob",
      wait,
    );
    await alice.waitForType("identity-changed", (e) => e.peer === "bob", wait);
    // Longer than the wait for a room key (10 s): nothing may be given up meanwhile.
    await settle(11_000);
    const fromBob = (c: typeof alice) =>
      c.eventsOf("message").filter((e) => !e.own && e.from === "bob" && e.text !== "hi old bob");
    assert.deepEqual(fromBob(alice), [], "held, not shown before /trust");
    // Killed and restarted while held: nothing lost.
    await alice.stop();
    alice = await world.client("alice");
    await settle(1_000);
    assert.deepEqual(fromBob(alice), []);
    await alice.send("/trust bob");
    await alice.waitForType("trusted", (e) => e.peer === "bob", wait);
    const room = await alice.waitForType(
      "message",
      (e) => e.text === "room line from the new bob",
      wait,
    );
    assert.equal(room.private, false);
    const pm = await alice.waitForType(
      "message",
      (e) => e.text === "private line from the new bob",
      wait,
    );
    assert.equal(pm.private, true);
    assert.equal(pm.id, ownPrivate.id, "shown with its original id");
    await settle();
    assert.equal(fromBob(alice).length, 2, "each shown once");
    assert.deepEqual(
      alice.eventsOf("error").filter((e) => e.code !== "IDENTITY_CHANGED").map((e) => e.code),
      [],
    );
  });
});
