/**
 * Drives the interactive client in a real terminal (tmux): typing, incoming messages printed
 * above the input line without garbling it, history, tab completion, /quit.
 */

import assert from "node:assert/strict";
import { WAIT_MS, withWorld } from "./_client_harness.ts";
import { lastLine, Tmux } from "./_tmux_harness.ts";

const term = new Tmux("hush-e2e");

Deno.test({
  name: "interactive client in tmux: incoming messages never garble the line being typed",
  async fn() {
    await withWorld(async (world) => {
      const bob = await world.client("bob");
      await term.startClient(world, "alice", { width: 120, height: 30 });
      try {
        await term.waitForScreen(
          (l) =>
            l.some((x) => x.includes("Connected to")) && lastLine(l).startsWith("alice@lobby>"),
          "alice's prompt",
        );
        await bob.waitForType("join", (e) => e.nick === "alice", { timeoutMs: WAIT_MS });

        // Alice types half a line, with Unicode and an emoji, and does not press Enter.
        const partial = "half-typed héllo 👋 and more";
        await term.run("send-keys", "-t", "hush", "-l", partial);
        await term.waitForScreen((l) => lastLine(l).endsWith(partial), "the partial input");

        // Bob writes three messages while she types.
        for (let i = 1; i <= 3; i++) await bob.send(`incoming ${i} from bob`);
        await bob.send("@alice a private word");
        const lines = await term.waitForScreen(
          (l) => l.some((x) => x.includes("a private word")),
          "bob's messages",
        );
        assert.equal(lastLine(lines), `alice@lobby> ${partial}`, "the input line survived");
        for (let i = 1; i <= 3; i++) {
          const line = lines.find((x) => x.includes(`incoming ${i} from bob`));
          assert.ok(line, `message ${i} shown`);
          assert.match(line, /^\[\d\d:\d\d\] (\[unverified\] )?<bob> incoming \d from bob$/);
        }
        assert.ok(lines.some((x) => /\[pm from bob\].*<bob> a private word/.test(x)));
        assert.equal(lines.filter((x) => x.includes(partial)).length, 1, "no garbled copies");

        // Enter sends the line intact.
        await term.run("send-keys", "-t", "hush", "Enter");
        await bob.waitForType("message", (e) => e.text === partial && e.from === "alice", {
          timeoutMs: WAIT_MS,
        });

        // Cursor editing: Home, then insert at the start.
        await term.run("send-keys", "-t", "hush", "-l", "world");
        await term.run("send-keys", "-t", "hush", "Home");
        await term.run("send-keys", "-t", "hush", "-l", "hello ");
        await term.run("send-keys", "-t", "hush", "Enter");
        await bob.waitForType("message", (e) => e.text === "hello world", { timeoutMs: WAIT_MS });

        // Up arrow recalls the last line; Tab completes "@b" to "@bob ".
        await term.run("send-keys", "-t", "hush", "Up");
        await term.waitForScreen((l) => lastLine(l).endsWith("hello world"), "history");
        await term.run("send-keys", "-t", "hush", "C-u");
        await term.run("send-keys", "-t", "hush", "-l", "@b");
        await term.run("send-keys", "-t", "hush", "Tab");
        await term.waitForScreen((l) => lastLine(l).endsWith("@bob"), "completion");
        await term.run("send-keys", "-t", "hush", "-l", "completed");
        await term.run("send-keys", "-t", "hush", "Enter");
        const pm = await bob.waitForType("message", (e) => e.text === "completed", {
          timeoutMs: WAIT_MS,
        });
        assert.equal(pm.private, true);

        // /join changes the prompt to the new room.
        await term.run("send-keys", "-t", "hush", "-l", "/join dev");
        await term.run("send-keys", "-t", "hush", "Enter");
        await term.waitForScreen((l) => lastLine(l).startsWith("alice@dev>"), "the prompt in dev");

        // A bad command is one clear line; /quit ends the client.
        await term.run("send-keys", "-t", "hush", "-l", "/jion dev");
        await term.run("send-keys", "-t", "hush", "Enter");
        await term.waitForScreen(
          (l) => l.some((x) => x.includes('error: Unknown command "/jion"; did you mean /join?')),
          "the error line",
        );
        await term.run("send-keys", "-t", "hush", "-l", "/quit");
        await term.run("send-keys", "-t", "hush", "Enter");
        await bob.waitForType("presence", (e) => e.nick === "alice" && !e.online, {
          timeoutMs: WAIT_MS,
        });
      } finally {
        await term.kill();
      }
    });
  },
});
