/**
 * Item 8 of issue 9: a receiver killed right after it saved its session state for a delivery,
 * before showing it, shows that message exactly once after a restart (real relay and
 * `client.ts --json` processes; the crash comes from the test-only `HUSH_TEST_CRASH_AFTER`
 * hook, which exits like a SIGKILL at that point).
 */
import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

for (const kind of ["private", "room"] as const) {
  Deno.test(`client --json: a receiver killed after its state write shows the ${kind} message once after restart`, async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      const first = await world.client("bob", { env: { HUSH_TEST_CRASH_AFTER: "sessions-write" } });
      if (kind === "room") {
        await alice.waitForType("join", (e) => e.nick === "bob", wait).catch(() => {});
      }
      const text = `hello through a crash (${kind})`;
      await alice.send(kind === "private" ? `@bob ${text}` : text);
      const status = await first.exited();
      assert.equal(status.code, 137, "bob crashed at the hook");
      assert.equal(
        first.events.some((e) => e.type === "message" && e.text === text),
        false,
        "not shown before the crash",
      );
      const bob = await world.client("bob");
      await bob.waitForType("message", (e) => e.text === text, wait);
      await alice.send(kind === "private" ? "@bob and after" : "and after");
      await bob.waitForType("message", (e) => e.text === "and after", wait);
      await settle();
      assert.equal(bob.eventsOf("message").filter((e) => e.text === text).length, 1);
      assert.deepEqual(
        bob.eventsOf("error").map((e) => e.code),
        [],
        "no error on the way",
      );
    });
  });
}
