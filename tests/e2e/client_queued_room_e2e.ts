/**
 * Room lines typed while the relay is down wait in the outbox (issue 9, item 11): real relay
 * (`--store`) and `client.ts --json` processes.
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test({
  name:
    "client --json: room lines typed while the relay is down arrive once, in order, after it is back",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      const bob = await world.client("bob");
      await alice.waitForType("join", (e) => e.nick === "bob", wait);
      // A session with bob, so that a private line needs no key lookup while the relay is down.
      await alice.send("@bob hi");
      await bob.waitForType("message", (e) => e.text === "hi", wait);
      await alice.send("room before");
      await bob.waitForType("message", (e) => e.text === "room before", wait);

      await world.relay.stop();
      await alice.waitForType("disconnected", () => true, wait);
      const typed = ["room down 1", "@bob private down", "room down 2"];
      for (const line of typed) await alice.send(line);
      const texts = typed.map((t) => t.replace(/^@bob /, ""));
      for (const text of texts) {
        await alice.waitForType("message", (e) => e.own && e.text === text, wait);
      }
      // Longer than any request timeout (10 s): the lines must still wait.
      await settle(11_000);
      world.relay = await world.relay.restart();

      for (const text of texts) await bob.waitForType("message", (e) => e.text === text, wait);
      await settle(1_000);
      const got = bob.eventsOf("message").filter((e) => !e.own).map((e) => e.text);
      assert.deepEqual(got, ["hi", "room before", ...texts], "each once, in the order typed");
      const own = alice.eventsOf("message").filter((e) => e.own && texts.includes(e.text));
      for (const message of own) {
        await alice.waitForType("sent", (e) => e.id === message.id, wait);
        const shown = bob.eventsOf("message").find((e) => e.text === message.text);
        assert.equal(shown?.id, message.id, "the id the sender was shown");
      }
      const notConnected = alice.eventsOf("error").filter((e) => e.code === "NOT_CONNECTED");
      assert.deepEqual(notConnected, [], "no line refused for want of a connection");
    }, { store: true });
  },
});
