/**
 * A receiver killed right after it showed a message, before it saved the inbox without it (the
 * last window of "nothing shown twice", found by the fault bench's client-kill scenario), does
 * not show it again after a restart: the `shown` journal of its home names it. Real relay and
 * `client.ts --json` processes; the crash comes from the test-only `HUSH_TEST_CRASH_AFTER=shown`
 * hook, which exits like a SIGKILL right after the batch's events were written to stdout.
 *
 * Killed in the instant between writing a message and noting it in the journal
 * (`HUSH_TEST_CRASH_AFTER=printed`), nobody can know whether the reader got the line: it is shown
 * again, once, flagged `repeat` with the same id (never silently twice, never lost).
 */
import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

for (const kind of ["private", "room"] as const) {
  Deno.test(`client --json: a receiver killed right after showing a ${kind} message does not show it again after restart`, async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      const first = await world.client("bob", { env: { HUSH_TEST_CRASH_AFTER: "shown" } });
      if (kind === "room") {
        await alice.waitForType("join", (e) => e.nick === "bob", wait).catch(() => {});
      }
      const text = `shown then killed (${kind})`;
      await alice.send(kind === "private" ? `@bob ${text}` : text);
      const status = await first.exited();
      assert.equal(status.code, 137, "bob crashed at the hook");
      assert.equal(
        first.events.filter((e) => e.type === "message" && e.text === text).length,
        1,
        "shown once before the crash",
      );
      const bob = await world.client("bob");
      await alice.send(kind === "private" ? "@bob and after" : "and after");
      await bob.waitForType("message", (e) => e.text === "and after", wait);
      await settle();
      assert.equal(
        bob.eventsOf("message").filter((e) => e.text === text).length,
        0,
        "not shown again by the restarted client",
      );
      assert.deepEqual(bob.eventsOf("error").map((e) => e.code), [], "no error on the way");
    });
  });
}

for (const kind of ["private", "room"] as const) {
  Deno.test(`client --json: a receiver killed while showing a ${kind} message shows it again once, flagged repeat`, async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      const first = await world.client("bob", { env: { HUSH_TEST_CRASH_AFTER: "printed" } });
      if (kind === "room") {
        await alice.waitForType("join", (e) => e.nick === "bob", wait).catch(() => {});
      }
      const text = `printed then killed (${kind})`;
      await alice.send(kind === "private" ? `@bob ${text}` : text);
      const status = await first.exited();
      assert.equal(status.code, 137, "bob crashed at the hook");
      const before = first.eventsOf("message").filter((e) => e.text === text);
      assert.equal(before.length, 1, "written once before the crash");
      assert.equal(before[0]!.repeat, undefined, "not flagged the first time");
      const bob = await world.client("bob");
      await alice.send(kind === "private" ? "@bob and after" : "and after");
      await bob.waitForType("message", (e) => e.text === "and after", wait);
      await settle();
      const again = bob.eventsOf("message").filter((e) => e.text === text);
      assert.equal(again.length, 1, "shown again once by the restarted client");
      assert.equal(again[0]!.repeat, true, "flagged as a possible repeat");
      assert.equal(again[0]!.id, before[0]!.id, "under the same id");
      assert.deepEqual(bob.eventsOf("error").map((e) => e.code), [], "no error on the way");
    });
  });
}
