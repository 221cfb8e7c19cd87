/**
 * An in-memory relay that restarts loses what it held; clients resend what they had sent
 * (issue 9, item 6): real relay (no `--store`) and `client.ts --json` processes. Needs the relay
 * to name its storage epoch in READY (protocol version 2).
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test({
  name:
    "client --json: a message queued at an in-memory relay that restarts is resent and arrives once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      let bob = await world.client("bob");
      await alice.send("@bob hi");
      await bob.waitForType("message", (e) => e.text === "hi", wait);
      assert.equal(await bob.end(), 0);

      await alice.send("@bob while you were away");
      const away = await alice.waitForType(
        "message",
        (e) => e.own && e.text.includes("away"),
        wait,
      );
      await alice.waitForType("sent", (e) => e.id === away.id, wait);
      const readies = alice.eventsOf("ready").length;
      // The relay restarts: its queues, bindings and rooms are gone (a new storage epoch).
      world.relay = await world.relay.restart();
      await alice.waitFor((e) => e.type === "ready" && alice.eventsOf("ready").length > readies, {
        ...wait,
        what: "alice's READY after the restart",
      });
      // Resent at once; bob is unknown to the restarted relay until he is back: kept, retried.
      const refused = await alice.waitForType("undelivered", (e) => e.id === away.id, wait);
      assert.deepEqual([refused.code, refused.retrying], ["NO_SUCH_USER", true]);

      bob = await world.client("bob");
      const got = await bob.waitForType("message", (e) => e.text === "while you were away", wait);
      assert.equal(got.id, away.id, "the same envelope");
      await settle(1_000);
      assert.equal(bob.eventsOf("message").filter((e) => e.id === away.id).length, 1);
      assert.equal(alice.eventsOf("sent").filter((e) => e.id === away.id).length, 1);
    });
  },
});

Deno.test({
  name:
    "client --json: a room message sent after an in-memory relay restarted reaches a member who comes back later, once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      const bob = await world.client("bob");
      let carol = await world.client("carol");
      await alice.send("warm up");
      await bob.waitForType("message", (e) => e.text === "warm up", wait);
      await carol.waitForType("message", (e) => e.text === "warm up", wait);
      assert.equal(await carol.end(), 0);

      const readies = [alice, bob].map((c) => c.eventsOf("ready").length);
      world.relay = await world.relay.restart(); // memberships gone: carol is in no room now
      for (const [i, c] of [alice, bob].entries()) {
        await c.waitFor((e) => e.type === "ready" && c.eventsOf("ready").length > readies[i]!, {
          ...wait,
          what: "READY after the restart",
        });
      }
      await alice.send("after the restart");
      const sent = await alice.waitForType(
        "message",
        (e) => e.own && e.text.includes("after"),
        wait,
      );
      await alice.waitForType("sent", (e) => e.id === sent.id, wait);
      await bob.waitForType("message", (e) => e.id === sent.id, wait);

      carol = await world.client("carol"); // back: the relay tells alice carol joined lobby
      const got = await carol.waitForType("message", (e) => e.text === "after the restart", wait);
      assert.equal(got.id, sent.id, "the same envelope");
      await settle(1_000);
      assert.equal(carol.eventsOf("message").filter((e) => e.id === sent.id).length, 1);
      assert.equal(bob.eventsOf("message").filter((e) => e.id === sent.id).length, 1);
      assert.equal(alice.eventsOf("sent").filter((e) => e.id === sent.id).length, 1);
    });
  },
});
