/**
 * A room message refused with `STORE_FAILED` (the relay's SQLite file locked by another process:
 * an operator's `sqlite3` shell, a backup) is sent again within seconds, and the room messages
 * typed after it wait behind it, so the other members see them in the order they were typed.
 * Real `server.ts --store` and `client.ts --json` processes, a real SQLite file, a real second
 * process holding the write lock (found by the fault bench's locked-store scenario).
 */
import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";
import { lockStore } from "./_store_locker.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: a room message refused while the relay's store is locked is retried within seconds, and later ones keep their order", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("bob");
    await alice.waitForType("join", (e) => e.nick === "bob", wait).catch(() => {});
    await alice.send("warm up");
    await bob.waitForType("message", (e) => e.text === "warm up", wait);
    // Held longer than the relay's busy timeout (2 s): the SEND is refused, not delayed.
    const locker = await lockStore(`${world.dir}/relay.sqlite`, 2_500);
    try {
      await alice.send("first");
      const refused = await alice.waitForType("undelivered", () => true, wait);
      assert.equal(refused.code, "STORE_FAILED");
      assert.equal(refused.retrying, true);
    } finally {
      await locker.status;
    }
    const typedSecond = Date.now();
    await alice.send("second");
    await bob.waitForType("message", (e) => e.text === "second", wait);
    await settle();
    assert.deepEqual(
      bob.eventsOf("message").filter((e) => !e.own).map((e) => e.text),
      ["warm up", "first", "second"],
      "bob sees the room messages in the order alice typed them",
    );
    assert.ok(Date.now() - typedSecond < 10_000, "the refused message went again within seconds");
    const sent = new Set(alice.eventsOf("sent").map((e) => e.id));
    const own = alice.eventsOf("message").filter((e) => e.own && e.text !== "warm up");
    assert.ok(own.every((e) => sent.has(e.id)), "both reported sent");
  }, { store: true });
});
