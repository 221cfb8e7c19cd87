/**
 * The interactive screen in a real terminal (tmux), issue 11: `[unverified]` once per
 * conversation, a bell on a mention, and one updating status line while the relay is gone.
 */

import assert from "node:assert/strict";
import { CLIENT_PERMISSIONS } from "../../terminal/child_client.ts";
import { WAIT_MS, withWorld } from "./_client_harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SOCKET = `hush-ux-${Deno.pid}`;

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
  name: "interactive client in tmux: [unverified] once, one status line during an outage",
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
        "40",
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
        for (let i = 1; i <= 3; i++) await bob.send(`room line ${i}`);
        const lines = await waitForScreen(
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
        await waitForScreen(
          (l) => /^\[offline: attempt [4-9]\d* in /.test(lastLine(l)),
          "the status counting attempts",
        );
        const during = await screen();
        const text = during.join("\n");
        assert.equal(text.split("disconnected:").length - 1, 1, text);
        assert.ok(!text.includes("reconnecting in"), text);
      } finally {
        await tmux("kill-server").catch(() => "");
      }
    });
  },
  sanitizeResources: false,
  sanitizeOps: false,
});
