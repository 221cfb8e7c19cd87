/**
 * Item 9 of issue 9: a message that cannot be opened for want of a session is recovered, not
 * dropped: the receiver asks the sender to send it again (pairwise, a new X3DH session when
 * needed), the sender re-sends it from its sent log with its original id, and both sides are
 * told. Real relay and `client.ts --json` processes.
 */
import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: after /nick away and /nick back, the peer's next messages are recovered and shown once", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("bob");
    await alice.send("@bob one");
    await bob.waitForType("message", (e) => e.text === "one", wait);
    await bob.send("@alice two");
    await alice.waitForType("message", (e) => e.text === "two", wait);

    await bob.send("/nick away");
    await bob.waitForType("ready", (e) => e.nick === "away", wait);
    await bob.send("/nick bob");
    const since = bob.events.length;
    await bob.waitForType("ready", (e) => e.nick === "bob", { ...wait, since });

    await alice.send("@bob three");
    const own = await alice.waitForType("message", (e) => e.own && e.text === "three", wait);
    const got = await bob.waitForType("message", (e) => !e.own && e.text === "three", wait);
    assert.equal(got.id, own.id, "shown as the original message");
    assert.equal(got.private, true);
    await alice.waitForType("info", (e) => /again/.test(e.message) && /bob/.test(e.message), wait);
    await bob.waitForType("info", (e) => /alice/.test(e.message) && /again/.test(e.message), wait);

    // The conversation goes on normally afterwards, both ways.
    await alice.send("@bob four");
    await bob.waitForType("message", (e) => e.text === "four", wait);
    await bob.send("@alice five");
    await alice.waitForType("message", (e) => e.text === "five", wait);
    await settle();
    assert.equal(bob.eventsOf("message").filter((e) => e.text === "three").length, 1);
    assert.deepEqual(
      bob.eventsOf("error").map((e) => e.code),
      [],
      "nothing dropped with an error",
    );
  });
});

Deno.test("client --json: room messages a member could not open (room key lost or never sent) are sent again pairwise and shown once as room messages", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("bob");
    await alice.send("room zero");
    await bob.waitForType("message", (e) => e.text === "room zero", wait);
    await bob.send("/nick away");
    await bob.waitForType("ready", (e) => e.nick === "away", wait);
    await alice.send("room while away");
    await bob.waitForType("message", (e) => e.text === "room while away", wait);
    await bob.send("/nick bob");
    const since = bob.events.length;
    await bob.waitForType("ready", (e) => e.nick === "bob", { ...wait, since });
    await alice.send("room after back");
    const own = await alice.waitForType("message", (e) => e.own && e.text === "room after back");
    const got = await bob.waitForType("message", (e) => e.text === "room after back", {
      timeoutMs: 25_000,
    });
    assert.equal(got.id, own.id);
    assert.equal(got.private, false);
    assert.equal(got.to, "lobby");
    // Our room key reached bob again with the recovery: the next line opens at once.
    await alice.send("room later");
    await bob.waitForType("message", (e) => e.text === "room later", { timeoutMs: 5_000 });
    await settle();
    for (const text of ["room zero", "room while away", "room after back", "room later"]) {
      assert.equal(bob.eventsOf("message").filter((e) => e.text === text).length, 1, text);
    }
    assert.deepEqual(bob.eventsOf("error").map((e) => `${e.code}: ${e.message}`), []);
    assert.deepEqual(alice.eventsOf("error").map((e) => `${e.code}: ${e.message}`), []);
  });
});
