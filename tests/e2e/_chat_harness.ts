/**
 * Helpers for the chat-engine integration tests: a real relay process (`server.ts`, port 0,
 * URLs read from its output) and in-process engines with recorded events and bounded waits.
 *
 * @module
 */

import { type ChatClient, type ChatClientOptions, createChatClient } from "../../chat/engine.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { type ChatHome, MemoryHome } from "../../chat/home.ts";

const ROOT = new URL("../../", import.meta.url);

/** A running relay process. */
export interface RelayProcess {
  ws: string;
  tcp: string;
  /** Stops the relay gracefully (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the relay at once (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
}

/**
 * Starts `server.ts` on loopback with free ports.
 *
 * @param options `store`: SQLite path; `ports`: fixed ports (for a restart on the same URLs);
 *   `args`: extra flags.
 * @returns The relay with its URLs.
 */
export async function startRelay(
  options: { store?: string; ports?: { ws: number; tcp: number }; args?: string[] } = {},
): Promise<RelayProcess> {
  // Fixed ports (a restart) may still be held for a moment by the old process' sockets.
  for (let attempt = 0;; attempt++) {
    try {
      return await startRelayOnce(options);
    } catch (error) {
      const busy = error instanceof Error && /in use/i.test(error.message);
      if (!busy || options.ports === undefined || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function startRelayOnce(
  options: { store?: string; ports?: { ws: number; tcp: number }; args?: string[] },
): Promise<RelayProcess> {
  const args = [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "server.ts",
    "--host",
    "127.0.0.1",
    "--port",
    String(options.ports?.ws ?? 0),
    "--tcp-port",
    String(options.ports?.tcp ?? 0),
    ...(options.store === undefined ? [] : ["--store", options.store]),
    ...(options.args ?? []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let ws: string | undefined;
  let tcp: string | undefined;
  let output = "";
  const decoder = new TextDecoder();
  const found = new Promise<void>((resolve) => {
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        output += decoder.decode(chunk, { stream: true });
        ws ??= output.match(/wss?:\/\/127\.0\.0\.1:\d+\/?/)?.[0];
        tcp ??= output.match(/(?:tcp|tls):\/\/127\.0\.0\.1:\d+/)?.[0];
        if (ws !== undefined && tcp !== undefined) resolve();
      }
    };
    pump(child.stdout).catch(() => {});
    pump(child.stderr).catch(() => {});
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    found.then(() => true),
    child.status.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 15_000))),
  ]);
  clearTimeout(timer);
  const exit = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
    await child.status;
  };
  if (!ok || ws === undefined || tcp === undefined) {
    await exit("SIGKILL");
    throw new Error(`Relay did not print its URLs:\n${output}`);
  }
  return { ws, tcp, stop: () => exit("SIGTERM"), kill: () => exit("SIGKILL") };
}

/** An engine under test with every event it emitted. */
export interface TestClient {
  client: ChatClient;
  home: ChatHome;
  events: ChatEvent[];
  /** Waits (bounded) for an event matching `match` that was not returned by an earlier wait. */
  waitFor<T extends ChatEvent["type"]>(
    type: T,
    match?: (event: Extract<ChatEvent, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ChatEvent, { type: T }>>;
  /** Received (not own) message texts, in order. */
  received(): string[];
}

/**
 * Creates an engine with recorded events (not connected).
 *
 * @param options Engine options; `home` defaults to a fresh memory home.
 * @returns The test client.
 */
export async function makeClient(
  options: Omit<ChatClientOptions, "home"> & { home?: ChatHome },
): Promise<TestClient> {
  const home = options.home ?? new MemoryHome();
  const client = await createChatClient({
    backoff: { baseMs: 50, maxMs: 500 },
    closeTimeoutMs: 3_000,
    requestTimeoutMs: 5_000,
    ...options,
    home,
  });
  const events: ChatEvent[] = [];
  const consumed = new Set<ChatEvent>();
  const waiters: (() => void)[] = [];
  client.on((event) => {
    events.push(event);
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async <T extends ChatEvent["type"]>(
    type: T,
    match: (event: Extract<ChatEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<ChatEvent, { type: T }>> => {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const hit = events.find((e) =>
        e.type === type && !consumed.has(e) && match(e as Extract<ChatEvent, { type: T }>)
      );
      if (hit !== undefined) {
        consumed.add(hit);
        return hit as Extract<ChatEvent, { type: T }>;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Timed out waiting for a "${type}" event; got:\n${
            events.map((e) => JSON.stringify(e)).join("\n")
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const received = () => events.flatMap((e) => e.type === "message" && !e.own ? [e.text] : []);
  return { client, home, events, waitFor, received };
}

/**
 * Waits until `check` is true, polling every 20 ms.
 *
 * @param check The condition.
 * @param what Description for the timeout error.
 * @param timeoutMs Bound.
 */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Asks for a room's roster until it lists `count` members (JOINs of clients that just
 * connected may still be on their way to the relay).
 *
 * @param client The asking client.
 * @param room The room.
 * @param count How many members to wait for.
 */
export async function untilMembers(client: TestClient, room: string, count: number) {
  const deadline = Date.now() + 10_000;
  while (true) {
    client.client.listUsers(room);
    const users = await client.waitFor("users", (u) => u.room === room);
    if (users.users.length >= count) return;
    if (Date.now() > deadline) throw new Error(`Timed out: ${count} members in "${room}"`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
