/**
 * The processes of one fault scenario: a `server.ts` child that can be SIGKILLed and restarted
 * on the same ports and store, and `client.ts --json` peers that can be SIGKILLed and restarted on
 * the same home; plus the seeded random numbers every schedule is drawn from.
 *
 * @module
 */

import type { ChatEvent } from "../../chat/events.ts";
import { ChildClient } from "../../terminal/child_client.ts";
import { RELAY_PERMISSIONS } from "../../terminal/child_relay.ts";
import { readLines } from "../../terminal/read_lines.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG (mulberry32): the same seed gives the same schedule. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError("pick() from an empty list");
    return item;
  }

  /** A child generator with its own stream, so one schedule does not shift another. */
  fork(label: string): Random {
    let h = this.#state ^ 0x9e3779b9;
    for (const c of label) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    return new Random(h);
  }
}

const WS_URL = /\bwss?:\/\/[0-9.]+:(\d+)\/?/;
const TCP_URL = /\btcp:\/\/[0-9.]+:(\d+)/;

/** A relay child process on 127.0.0.1 that survives SIGKILLs: restarted on the same ports. */
export class Relay {
  /** The TCP port (fixed after the first start). */
  tcpPort = 0;
  /** The WebSocket/HTTP port (fixed after the first start). */
  port = 0;
  /** The last lines the relay printed (all incarnations), for a failure message. */
  readonly output: string[] = [];
  /** Starts so far. */
  starts = 0;
  readonly #store: string | undefined;
  readonly #args: readonly string[];
  #process: Deno.ChildProcess | undefined;
  #reading: Promise<void> = Promise.resolve();

  /**
   * @param store SQLite file, or undefined for the in-memory relay.
   * @param args More `server.ts` flags.
   */
  constructor(store: string | undefined, args: readonly string[] = []) {
    this.#store = store;
    this.#args = args;
  }

  /** `tcp://127.0.0.1:PORT`. */
  get url(): string {
    return `tcp://127.0.0.1:${this.tcpPort}`;
  }

  /** Whether a relay process is running. */
  get running(): boolean {
    return this.#process !== undefined;
  }

  /**
   * Starts the relay (on the ports of the first start) and waits until it prints its URLs;
   * retries for up to 10 s while the port is not free yet.
   */
  async start(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await this.#startOnce();
        this.starts++;
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
  }

  /**
   * Stops the relay with a signal and waits until it is gone.
   *
   * @param signal `SIGKILL` (a crash) or `SIGTERM` (an orderly stop).
   */
  async stop(signal: "SIGKILL" | "SIGTERM"): Promise<void> {
    const process = this.#process;
    if (process === undefined) return;
    this.#process = undefined;
    try {
      process.kill(signal);
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 5_000);
    await process.status;
    clearTimeout(timer);
    await this.#reading;
  }

  async #startOnce(): Promise<void> {
    const args = [
      "run",
      ...RELAY_PERMISSIONS,
      "server.ts",
      "--host",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--tcp-port",
      String(this.tcpPort),
      ...(this.#store === undefined ? [] : ["--store", this.#store]),
      ...this.#args,
    ];
    const process = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    let ws: string | undefined;
    let tcp: string | undefined;
    const onLine = (line: string) => {
      this.output.push(line);
      if (this.output.length > 200) this.output.shift();
      ws ??= WS_URL.exec(line)?.[1];
      tcp ??= TCP_URL.exec(line)?.[1];
    };
    const pipe = async (stream: ReadableStream<Uint8Array>) => {
      for await (const line of readLines(stream)) onLine(line);
    };
    this.#reading = Promise.all([pipe(process.stdout), pipe(process.stderr)]).then(() => {});
    let exited = false;
    process.status.then(() => (exited = true));
    const deadline = Date.now() + 15_000;
    while (ws === undefined || tcp === undefined) {
      if (exited || Date.now() > deadline) {
        try {
          process.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await process.status;
        await this.#reading;
        throw new Error(`server.ts did not start:\n${this.output.slice(-10).join("\n")}`);
      }
      await sleep(50);
    }
    this.port = Number(ws);
    this.tcpPort = Number(tcp);
    this.#process = process;
  }
}

/**
 * One user: a `client.ts --json` process on a fixed home, restarted (same home, so the same
 * identity, sessions and outbox) after a SIGKILL. Every event of every incarnation goes to
 * `onEvent`.
 */
export class Peer {
  readonly nick: string;
  readonly home: string;
  /** Processes started so far (the current one last). */
  readonly incarnations: ChildClient[] = [];
  #server: string;
  #onEvent: (nick: string, event: ChatEvent) => void;
  #alive = false;

  constructor(
    nick: string,
    home: string,
    server: string,
    onEvent: (nick: string, event: ChatEvent) => void,
  ) {
    this.nick = nick;
    this.home = home;
    this.#server = server;
    this.#onEvent = onEvent;
  }

  /** The current process (the last started). */
  get client(): ChildClient {
    const client = this.incarnations[this.incarnations.length - 1];
    if (client === undefined) throw new Error(`${this.nick} was never started`);
    return client;
  }

  /** Whether the current process runs (started and not killed). */
  get alive(): boolean {
    return this.#alive;
  }

  /**
   * Starts a process on the home and waits (bounded) for its `ready`; up to three tries.
   *
   * @param timeoutMs Wait for `ready` per try.
   */
  async start(timeoutMs = 30_000): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const client = ChildClient.start(
        { nick: this.nick, server: this.#server, home: this.home, root: ROOT },
        (event) => this.#onEvent(this.nick, event),
      );
      this.incarnations.push(client);
      this.#alive = true;
      try {
        await client.waitForType("ready", () => true, { timeoutMs });
        return;
      } catch (error) {
        last = error;
        this.#alive = false;
        await client.stop();
        await sleep(500);
      }
    }
    throw last;
  }

  /** SIGKILLs the current process and waits until it is gone. */
  async kill(): Promise<void> {
    this.#alive = false;
    this.client.kill(); // first, so that the client does not see its stdin close before dying
    await this.client.stop();
  }

  /**
   * Ends the current process the normal way (stdin closed: it waits for the relay's
   * acknowledgements, bounded), then makes sure it is gone.
   */
  async end(): Promise<void> {
    if (this.#alive) await this.client.end(10_000);
    this.#alive = false;
    await this.client.stop();
  }

  /**
   * Writes one line to the current process (ignored when it is dead or its stdin is closed).
   *
   * @param line A message or command.
   */
  async type(line: string): Promise<void> {
    if (!this.#alive) return;
    await this.client.send(line).catch(() => {});
  }
}
