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
