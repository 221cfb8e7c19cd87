/**
 * A message the relay refuses is never reported `sent` (issue 9, item 4): real relay and
 * `client.ts --json` processes, a relay with a tiny queue bound.
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };
/**
 * A `QUEUE_FULL` envelope waits 30 s while its recipient is away, but goes again 2 s after the
 * recipient comes online (then 4 s, 8 s while the queue is still full): well inside this wait,
 * which the 30 s offline backoff would miss.
 */
const RETRY_WAIT = { timeoutMs: 20_000 };

Deno.test({
  name: "client --json: a message refused with QUEUE_FULL is undelivered, retried, then sent",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      let bob = await world.client("bob");
      assert.equal(await bob.end(), 0);
      // Bob is offline: his queue holds at most 2 envelopes.
      await alice.send("@bob one");
      await alice.send("@bob two");
      const one = await alice.waitForType("message", (e) => e.own && e.text === "one", wait);
      const two = await alice.waitForType("message", (e) => e.own && e.text === "two", wait);
      await alice.waitForType("sent", (e) => e.id === two.id, wait);
      assert.ok(alice.eventsOf("sent").some((e) => e.id === one.id));

      await alice.send("@bob three");
      const three = await alice.waitForType("message", (e) => e.own && e.text === "three", wait);
      const undelivered = await alice.waitForType("undelivered", (e) => e.id === three.id, wait);
      assert.equal(undelivered.to, "bob");
      assert.equal(undelivered.code, "QUEUE_FULL");
      assert.equal(undelivered.retrying, true);
      await settle(500);
      assert.ok(
        !alice.eventsOf("sent").some((e) => e.id === three.id),
        "no `sent` for a refused message",
      );

      // Bob comes back and drains his queue; the retry, brought forward, delivers the third.
      bob = await world.client("bob");
      await bob.waitForType("message", (e) => e.text === "two", wait);
      await alice.waitForType("sent", (e) => e.id === three.id, RETRY_WAIT);
      const got = await bob.waitForType("message", (e) => e.text === "three", wait);
      assert.equal(got.id, three.id, "the retry is the same envelope (same message id)");
      await settle(500);
      assert.equal(bob.eventsOf("message").filter((e) => e.text === "three").length, 1);
      assert.deepEqual(
        bob.eventsOf("message").filter((e) => !e.own).map((e) => e.text),
        ["one", "two", "three"],
      );
    }, { args: ["--queue-max", "2"] });
  },
});

Deno.test({
  name: "client --json: a room message refused for one member's full queue is retried to the room",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      const carol = await world.client("carol");
      let bob = await world.client("bob");
      await alice.waitForType("join", (e) => e.nick === "bob", wait);
      assert.equal(await bob.end(), 0);
      // Bob stays a member of the lobby while offline. The first room message fills his queue:
      // alice's sender key and the message itself.
      await alice.send("first");
      const first = await alice.waitForType("message", (e) => e.own && e.text === "first", wait);
      await alice.waitForType("sent", (e) => e.id === first.id, wait);
      await carol.waitForType("message", (e) => e.text === "first", wait);
      // Issue 10: deliveries count against a queue until acknowledged, online or not; with
      // --queue-max 2 carol's two unacked deliveries would fill hers too. Her ACK leaves within
      // 50 ms (docs/CLIENT.md): give it time, so that only bob's queue is full.
      await settle(300);

      await alice.send("second");
      const second = await alice.waitForType("message", (e) => e.own && e.text === "second", wait);
      const undelivered = await alice.waitForType("undelivered", (e) => e.id === second.id, wait);
      assert.deepEqual(
        [undelivered.to, undelivered.code, undelivered.retrying],
        ["bob", "QUEUE_FULL", true],
      );
      // The other members got it.
      await carol.waitForType("message", (e) => e.text === "second", wait);
      await settle(500);
      assert.ok(!alice.eventsOf("sent").some((e) => e.id === second.id), "not `sent` yet");

      bob = await world.client("bob");
      await bob.waitForType("message", (e) => e.text === "first", wait);
      await alice.waitForType("sent", (e) => e.id === second.id, RETRY_WAIT);
      const got = await bob.waitForType("message", (e) => e.text === "second", wait);
      assert.equal(got.id, second.id);
      await settle(500);
      for (const [who, client] of [["bob", bob], ["carol", carol]] as const) {
        const copies = client.eventsOf("message").filter((e) => e.text === "second").length;
        assert.equal(copies, 1, `${who} shows "second" ${copies} times`);
      }
    }, { args: ["--queue-max", "2"] });
  },
});
