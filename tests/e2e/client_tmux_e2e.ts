/**
 * Drives the interactive client in a real terminal (tmux): typing, incoming messages printed
 * above the input line without garbling it, history, tab completion, /quit.
 */

import assert from "node:assert/strict";
import { CLIENT_PERMISSIONS } from "../../terminal/child_client.ts";
import { WAIT_MS, withWorld } from "./_client_harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SOCKET = `hush-e2e-${Deno.pid}`;

async function tmux(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("tmux", {
    args: ["-L", SOCKET, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => {
    throw new Error(`tmux is needed for this test (apt-get install -y tmux): ${error}`);
  });
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`tmux ${args.join(" ")}: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

async function screen(): Promise<string[]> {
  return (await tmux("capture-pane", "-p", "-t", "hush")).split("\n");
}

async function waitForScreen(test: (lines: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + WAIT_MS;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    lines = await screen();
    if (test(lines)) return lines;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${lines.join("\n")}`);
}

function lastLine(lines: string[]): string {
  const filled = lines.filter((l) => l.trim() !== "");
  return filled[filled.length - 1] ?? "";
}

Deno.test({
  name: "interactive client in tmux: incoming messages never garble the line being typed",
  async fn() {
    await withWorld(async (world) => {
      const bob = await world.client("bob");
      const command = [
        Deno.execPath(),
        "run",
        ...CLIENT_PERMISSIONS,
        "client.ts",
        "--nick",
        "alice",
        "--server",
        world.relay.tcpUrl,
        "--home",
        `${world.dir}/alice`,
      ].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
      await tmux(
        "new-session",
        "-d",
        "-s",
        "hush",
        "-x",
        "120",
        "-y",
        "30",
        "-c",
        ROOT,
        `NO_COLOR=1 ${command}; sleep 30`,
      );
      try {
        await waitForScreen(
          (l) =>
            l.some((x) => x.includes("Connected to")) && lastLine(l).startsWith("alice@lobby>"),
          "alice's prompt",
        );
        await bob.waitForType("join", (e) => e.nick === "alice", { timeoutMs: WAIT_MS });

        // Alice types half a line, with Unicode and an emoji, and does not press Enter.
        const partial = "half-typed héllo 👋 and more";
        await tmux("send-keys", "-t", "hush", "-l", partial);
        await waitForScreen((l) => lastLine(l).endsWith(partial), "the partial input");

        // Bob writes three messages while she types.
        for (let i = 1; i <= 3; i++) await bob.send(`incoming ${i} from bob`);
        await bob.send("@alice a private word");
        const lines = await waitForScreen(
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
        await tmux("send-keys", "-t", "hush", "Enter");
        await bob.waitForType("message", (e) => e.text === partial && e.from === "alice", {
          timeoutMs: WAIT_MS,
        });

        // Cursor editing: Home, then insert at the start.
        await tmux("send-keys", "-t", "hush", "-l", "world");
        await tmux("send-keys", "-t", "hush", "Home");
        await tmux("send-keys", "-t", "hush", "-l", "hello ");
        await tmux("send-keys", "-t", "hush", "Enter");
        await bob.waitForType("message", (e) => e.text === "hello world", { timeoutMs: WAIT_MS });

        // Up arrow recalls the last line; Tab completes "@b" to "@bob ".
        await tmux("send-keys", "-t", "hush", "Up");
        await waitForScreen((l) => lastLine(l).endsWith("hello world"), "history");
        await tmux("send-keys", "-t", "hush", "C-u");
        await tmux("send-keys", "-t", "hush", "-l", "@b");
        await tmux("send-keys", "-t", "hush", "Tab");
        await waitForScreen((l) => lastLine(l).endsWith("@bob"), "completion");
        await tmux("send-keys", "-t", "hush", "-l", "completed");
        await tmux("send-keys", "-t", "hush", "Enter");
        const pm = await bob.waitForType("message", (e) => e.text === "completed", {
          timeoutMs: WAIT_MS,
        });
        assert.equal(pm.private, true);

        // /join changes the prompt to the new room.
        await tmux("send-keys", "-t", "hush", "-l", "/join dev");
        await tmux("send-keys", "-t", "hush", "Enter");
        await waitForScreen((l) => lastLine(l).startsWith("alice@dev>"), "the prompt in dev");

        // A bad command is one clear line; /quit ends the client.
        await tmux("send-keys", "-t", "hush", "-l", "/jion dev");
        await tmux("send-keys", "-t", "hush", "Enter");
        await waitForScreen(
          (l) => l.some((x) => x.includes('error: Unknown command "/jion"; did you mean /join?')),
          "the error line",
        );
        await tmux("send-keys", "-t", "hush", "-l", "/quit");
        await tmux("send-keys", "-t", "hush", "Enter");
        await bob.waitForType("presence", (e) => e.nick === "alice" && !e.online, {
          timeoutMs: WAIT_MS,
        });
      } finally {
        await tmux("kill-server").catch(() => "");
      }
    });
  },
});
