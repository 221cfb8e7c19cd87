import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: a recipient that is offline gets its messages when it connects", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    let bob = await world.client("bob");
    assert.equal(await bob.end(), 0);
    await alice.send("@bob you were away (1)");
    await alice.send("@bob you were away (2)");
    await alice.waitForType("sent", () => true, wait);
    await settle(300);
    bob = await world.client("bob");
    const first = await bob.waitForType("message", (e) => e.text === "you were away (1)", wait);
    const second = await bob.waitForType("message", (e) => e.text === "you were away (2)", wait);
    assert.ok(bob.events.indexOf(first) < bob.events.indexOf(second), "delivered in order");
  });
});

Deno.test("client --json: the relay restarts mid-conversation (--store) and nothing is lost or doubled", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("bob", { ws: true });
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      texts.push(`before restart ${i}`);
      await alice.send(`@bob before restart ${i}`);
    }
    await bob.waitForType("message", (e) => e.text === "before restart 2", wait);

    await world.relay.stop();
    // Sent while the relay is down: kept in the outbox, resent after reconnecting.
    for (let i = 0; i < 3; i++) {
      texts.push(`during restart ${i}`);
      await alice.send(`@bob during restart ${i}`);
      texts.push(`room during restart ${i}`);
      await bob.send(`room during restart ${i}`);
    }
    world.relay = await world.relay.restart();
    for (let i = 0; i < 3; i++) {
      texts.push(`after restart ${i}`);
      await alice.send(`@bob after restart ${i}`);
    }
    await bob.waitForType("message", (e) => e.text === "after restart 2", wait);
    await alice.waitForType("message", (e) => e.text === "room during restart 2" && !e.own, wait);
    await settle(1000);
    for (const text of texts) {
      const [receiver] = text.startsWith("room") ? [alice] : [bob];
      const copies = receiver.eventsOf("message").filter((m) => !m.own && m.text === text);
      assert.equal(copies.length, 1, `${JSON.stringify(text)} arrived ${copies.length} times`);
    }
    const ids = bob.eventsOf("message").map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, "no message id shown twice");
  }, { store: true });
});
