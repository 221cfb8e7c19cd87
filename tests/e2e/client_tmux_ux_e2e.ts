/**
 * The interactive screen in a real terminal (tmux), issue 11: `[unverified]` once per
 * conversation, a bell on a mention, and one updating status line while the relay is gone.
 */

import assert from "node:assert/strict";
import { WAIT_MS, withWorld } from "./_client_harness.ts";
import { lastLine, Tmux } from "./_tmux_harness.ts";

const term = new Tmux("hush-ux");

Deno.test({
  name: "interactive client in tmux: [unverified] once, one status line during an outage",
  async fn() {
    await withWorld(async (world) => {
      const bob = await world.client("bob");
      await term.startClient(world, "alice", { width: 120, height: 40 });
      try {
        await term.waitForScreen(
          (l) =>
            l.some((x) => x.includes("Connected to")) && lastLine(l).startsWith("alice@lobby>"),
          "alice's prompt",
        );
        await bob.waitForType("join", (e) => e.nick === "alice", { timeoutMs: WAIT_MS });
        for (let i = 1; i <= 3; i++) await bob.send(`room line ${i}`);
        const lines = await term.waitForScreen(
          (l) => l.some((x) => x.includes("room line 3")),
          "bob's lines",
        );
        const bobs = lines.filter((l) => l.includes("<bob> room line"));
        assert.equal(bobs.length, 3, lines.join("\n"));
        assert.equal(bobs.filter((l) => l.includes("[unverified]")).length, 1, bobs.join("\n"));
        assert.ok(bobs[0]?.includes("[unverified]"), bobs.join("\n"));

        // The relay goes away: one "disconnected" line, then a status in the prompt that
        // counts the attempts (several within a few seconds), no line per attempt.
        await world.relay.stop();
        await term.waitForScreen(
          (l) => /^\[offline: attempt [4-9]\d* in /.test(lastLine(l)),
          "the status counting attempts",
        );
        const during = await term.screen();
        const text = during.join("\n");
        assert.equal(text.split("disconnected:").length - 1, 1, text);
        assert.ok(!text.includes("reconnecting in"), text);
      } finally {
        await term.kill();
      }
    });
  },
  sanitizeResources: false,
  sanitizeOps: false,
});
