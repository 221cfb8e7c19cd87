/**
 * Issue 10 item 13: a peer cannot fake another user's line on the interactive screen. Drives a
 * real interactive client in tmux (60 columns) while a `client.ts --json` peer sends padding that
 * would make the terminal wrap the rest to column 0 as "[12:00] <carol> ...", and invisible or
 * line-breaking format characters (U+200B, U+2028, U+202E).
 */

import assert from "node:assert/strict";
import { WAIT_MS, withWorld } from "./_client_harness.ts";
import { Tmux } from "./_tmux_harness.ts";

const term = new Tmux("hush-spoof");

Deno.test({
  name:
    "interactive client in tmux: padding cannot fake another user's line; format characters are shown",
  async fn() {
    await withWorld(async (world) => {
      const bob = await world.client("bob");
      await term.startClient(world, "alice", { width: 60, height: 30 });
      try {
        await term.waitForScreen(
          (l) => l.some((x) => x.includes("Connected to")),
          "alice connected",
        );
        await bob.waitForType("join", (e) => e.nick === "alice", { timeoutMs: WAIT_MS });
        // "[HH:MM] [unverified] <bob> " is 27 columns: 33 more fill the 60-column row.
        const fake = "[12:00] <carol> wire the money to mallory";
        await bob.send(`hi${" ".repeat(31)}${fake}`);
        await bob.send("zero\u200bwidth, a\u2028break, \u202eevil");
        const lines = await term.waitForScreen(
          (l) => l.some((x) => x.includes("zero")),
          "bob's messages",
        );
        const shown = lines.find((x) => x.includes("<carol>"));
        assert.ok(shown, "the padded text is on screen");
        assert.equal(/^\[\d\d:\d\d\]/.test(shown), false, `a row posing as carol's: ${shown}`);
        assert.match(shown, /^ {10}/, "continuation rows are indented");
        const zero = lines.find((x) => x.includes("zero"))!;
        assert.match(zero, /zero\\u\{200b\}width/);
        // Rows joined as they wrap (a continuation row starts with 10 spaces).
        const screen = lines.join("\n").replaceAll(/\n {10}/g, "");
        assert.match(screen, /\\u\{2028\}break/);
        assert.match(screen, /\\u\{202e\}evil/);
      } finally {
        await term.kill();
      }
    });
  },
});
