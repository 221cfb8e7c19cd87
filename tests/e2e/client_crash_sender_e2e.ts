/**
 * A sender killed in the middle of sending (the fault bench's sender-kill scenario, made exact):
 *
 * - killed inside the session-store commit of a new message (rows written, `COMMIT` not run:
 *   `HUSH_TEST_CRASH_AFTER=commit:chat/outbox`), nothing of it left the client and nothing was
 *   echoed; after a restart the next message goes through, readable, with no error anywhere (a
 *   reused or skipped message key would show as a decryption error at the receiver);
 * - killed right after that commit, before the envelope was written to the relay or echoed
 *   (`HUSH_TEST_CRASH_AFTER=outbox-saved`), the message is in the saved outbox: the restarted
 *   client says so, sends it with the same id, gets `sent` for it, and the receiver shows it once;
 * - killed right after the envelope was handed to the connection, before the echo
 *   (`HUSH_TEST_CRASH_AFTER=send-written`; the frame may or may not have left), likewise: the
 *   receiver shows it once, whether it got it before the restart or from the restart's resend.
 *
 * Real relay and `client.ts --json` processes; the crash hooks exit like a SIGKILL (code 137).
 */
import assert from "node:assert/strict";
import { type ChildClient, settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

function line(kind: "private" | "room", text: string): string {
  return kind === "private" ? `@bob ${text}` : text;
}

function shown(client: ChildClient, text: string): string[] {
  return client.eventsOf("message").filter((e) => !e.own && e.text === text).map((e) => e.id);
}

for (const kind of ["private", "room"] as const) {
  Deno.test(`client --json: a sender killed inside the commit of a ${kind} message sends nothing of it; the next one is read`, async () => {
    await withWorld(async (world) => {
      // A first run makes alice's home (its first commits save an empty outbox), then the run
      // with the hook, whose first commit that changes the outbox is the message's.
      const setup = await world.client("alice");
      const bob = await world.client("bob");
      if (kind === "room") await setup.waitForType("join", (e) => e.nick === "bob", wait);
      await settle(1000); // the prekey fill after READY is committed
      assert.equal(await setup.end(), 0);
      const first = await world.client("alice", {
        env: { HUSH_TEST_CRASH_AFTER: "commit:chat/outbox" },
      });
      const text = `killed in the commit (${kind})`;
      await first.send(line(kind, text));
      assert.equal((await first.exited()).code, 137, "alice crashed at the hook");
      assert.equal(first.eventsOf("message").length, 0, "no echo: the line was not taken");
      const alice = await world.client("alice");
      await alice.send(line(kind, "after the crash"));
      await bob.waitForType("message", (e) => e.text === "after the crash", wait);
      await settle();
      assert.deepEqual(shown(bob, text), [], "nothing of the uncommitted message arrived");
      assert.equal(shown(bob, "after the crash").length, 1);
      for (const client of [bob, alice]) {
        assert.deepEqual(client.eventsOf("error").map((e) => e.code), [], "no error anywhere");
      }
    });
  });

  for (const hook of ["outbox-saved", "send-written"] as const) {
    const when = hook === "outbox-saved"
      ? "after saving a message, before sending it"
      : "right after handing a message to the connection, before its echo";
    Deno.test(`client --json: a sender killed ${when} (${kind}) has it shown once, after its next start at the latest`, async () => {
      await withWorld(async (world) => {
        const first = await world.client("alice", { env: { HUSH_TEST_CRASH_AFTER: hook } });
        const bob = await world.client("bob");
        if (kind === "room") await first.waitForType("join", (e) => e.nick === "bob", wait);
        const text = `${hook}, then killed (${kind})`;
        await first.send(line(kind, text));
        assert.equal((await first.exited()).code, 137, "alice crashed at the hook");
        assert.equal(first.eventsOf("message").length, 0, "killed before the echo");
        await settle();
        if (hook === "outbox-saved") {
          assert.deepEqual(shown(bob, text), [], "nothing was written to the relay");
        } // send-written: the frame may or may not have left before the exit

        const alice = await world.client("alice");
        const got = await bob.waitForType("message", (e) => e.text === text, wait);
        await alice.waitForType("sent", (e) => e.id === got.id, wait);
        assert.ok(
          alice.eventsOf("info").some((e) => /^Sending \d+ envelope\(s\) again/.test(e.message)),
          "the restarted client says it sends what the relay had not acknowledged",
        );
        await alice.send(line(kind, "and after"));
        await bob.waitForType("message", (e) => e.text === "and after", wait);
        await settle();
        assert.deepEqual(shown(bob, text), [got.id], "shown once, under the saved id");
        for (const client of [bob, alice]) {
          assert.deepEqual(client.eventsOf("error").map((e) => e.code), [], "no error anywhere");
        }
      });
    });
  }
}
