/**
 * UNDELIVERED notices as real `client.ts --json` processes see them (issue 9, items 5 and 12):
 * the sender gets an `undelivered` event for its own message, the holder an `info` line.
 *
 * @module
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: a message that expires in the relay's queue is reported to both ends", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    let bob = await world.client("bob");
    assert.equal(await bob.end(), 0);
    await alice.send("@bob this one will wait too long");
    const sent = await alice.waitForType("sent", () => true, wait);
    const told = await alice.waitForType("undelivered", (e) => e.id === sent.id, wait);
    assert.deepEqual([told.to, told.code, told.retrying], ["bob", "EXPIRED", false]);
    assert.match(told.message, /to bob was not delivered/);
    await settle(300);
    bob = await world.client("bob");
    const info = await bob.waitForType(
      "info",
      (e) => /A message from alice was lost/.test(e.message),
      wait,
    );
    assert.match(info.message, /EXPIRED/);
    await settle(300);
    assert.ok(
      !bob.eventsOf("message").some((m) => m.text === "this one will wait too long"),
      "the expired message is not shown",
    );
  }, { store: true, args: ["--queue-max-age", "2"] });
});
