/**
 * The interactive client in a real terminal: a private tmux server per test file, a session
 * running `client.ts` as alice against the world's relay, and screen captures.
 *
 * @module
 */

import { CLIENT_PERMISSIONS } from "../../terminal/child_client.ts";
import { WAIT_MS } from "./_client_harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A tmux server of our own (`-L name`), so tests never touch the user's. */
export class Tmux {
  #socket: string;

  constructor(name: string) {
    this.#socket = `${name}-${Deno.pid}`;
  }

  /** Runs one tmux command; its stdout. */
  async run(...args: string[]): Promise<string> {
    const { code, stdout, stderr } = await new Deno.Command("tmux", {
      args: ["-L", this.#socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output().catch((error) => {
      throw new Error(`tmux is needed for this test (apt-get install -y tmux): ${error}`);
    });
    const decoder = new TextDecoder();
    if (code !== 0) throw new Error(`tmux ${args.join(" ")}: ${decoder.decode(stderr)}`);
    return decoder.decode(stdout);
  }

  /** Starts session `hush`: `client.ts --nick NICK` on the relay, in a WIDTH x HEIGHT terminal. */
  async startClient(
    world: { relay: { tcpUrl: string }; dir: string },
    nick: string,
    size: { width: number; height: number },
  ): Promise<void> {
    const command = [
      Deno.execPath(),
      "run",
      ...CLIENT_PERMISSIONS,
      "client.ts",
      "--nick",
      nick,
      "--server",
      world.relay.tcpUrl,
      "--home",
      `${world.dir}/${nick}`,
    ].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    await this.run(
      "new-session",
      "-d",
      "-s",
      "hush",
      "-x",
      String(size.width),
      "-y",
      String(size.height),
      "-c",
      ROOT,
      `NO_COLOR=1 ${command}; sleep 30`,
    );
  }

  /** The visible rows of session `hush`. */
  async screen(): Promise<string[]> {
    return (await this.run("capture-pane", "-p", "-t", "hush")).split("\n");
  }

  /** Polls the screen until `test` holds (bounded by WAIT_MS). */
  async waitForScreen(test: (lines: string[]) => boolean, what: string): Promise<string[]> {
    const deadline = Date.now() + WAIT_MS;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = await this.screen();
      if (test(lines)) return lines;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}; screen:\n${lines.join("\n")}`);
  }

  /** Ends the tmux server (and the client in it). */
  async kill(): Promise<void> {
    await this.run("kill-server").catch(() => "");
  }
}

/** The last non-blank row. */
export function lastLine(lines: string[]): string {
  const filled = lines.filter((l) => l.trim() !== "");
  return filled[filled.length - 1] ?? "";
}
