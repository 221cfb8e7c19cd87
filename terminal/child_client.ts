/**
 * A `client.ts --json` child process, driven line by line: for the demo and the end-to-end
 * tests. Its stdout is parsed as one `ChatEvent` per line; waits are bounded.
 *
 * @module
 */

import type { ChatEvent } from "../chat/events.ts";
import { readLines } from "./read_lines.ts";
import { CLIENT_ENV_VARS, CLIENT_TEST_ENV_VARS } from "./env.ts";

/**
 * The permissions `client.ts` needs: those of `deno task client`, plus the variables only the
 * tests set (`HUSH_TEST_*`). The environment is granted variable by variable, never whole.
 */
export const CLIENT_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  `--allow-env=${[...CLIENT_ENV_VARS, ...CLIENT_TEST_ENV_VARS].join(",")}`,
];

/** Options of {@link ChildClient.start}. */
export interface ChildClientOptions {
  /** Nick to ask for. */
  nick: string;
  /** Relay URL. */
  server: string;
  /** Home directory; absent: none is passed (the client finds the default one by the nick). */
  home?: string;
  /** Cipher suite, when not the default. */
  cipher?: string;
  /** Room, when not the default. */
  room?: string;
  /** More command-line arguments. */
  args?: readonly string[];
  /** Project root (where `client.ts` is); default: this file's parent folder. */
  root?: string | URL;
  /** The program to run instead of `client.ts` (a test wrapper), relative to `root`. */
  script?: string;
  /** More environment variables for the child. */
  env?: Readonly<Record<string, string>>;
}

/** A condition on one event, for {@link ChildClient.waitFor}. */
export type Predicate = (event: ChatEvent) => boolean;

/** A running `client.ts --json`. */
export class ChildClient {
  /** Every event received so far, in order. */
  readonly events: ChatEvent[] = [];
  /** Lines the child wrote to stderr. */
  readonly stderr: string[] = [];
  /** The nick it was started with. */
  readonly nick: string;
  #process: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #waiters = new Set<() => void>();
  #reading: Promise<void>;
  #onEvent: ((event: ChatEvent) => void) | undefined;
  #stdinClosed = false;
  #exit: Promise<Deno.CommandStatus>;

  private constructor(
    nick: string,
    process: Deno.ChildProcess,
    onEvent?: (event: ChatEvent) => void,
  ) {
    this.nick = nick;
    this.#process = process;
    this.#onEvent = onEvent;
    this.#stdin = process.stdin.getWriter();
    this.#reading = Promise.all([
      this.#read(process.stdout, (line) => this.#onLine(line)),
      this.#read(process.stderr, (line) => this.stderr.push(line)),
    ]).then(() => {});
    this.#exit = process.status;
  }

  /**
   * Starts `client.ts --json` with the given nick, relay and home.
   *
   * @param options Nick, server, home and extra flags.
   * @param onEvent Called for every event as it arrives (the demo prints them).
   * @returns The running client.
   */
  static start(options: ChildClientOptions, onEvent?: (event: ChatEvent) => void): ChildClient {
    const root = options.root ?? new URL("../", import.meta.url);
    const args = [
      "run",
      ...CLIENT_PERMISSIONS,
      options.script ?? "client.ts",
      "--json",
      "--nick",
      options.nick,
      "--server",
      options.server,
      ...(options.home === undefined ? [] : ["--home", options.home]),
      ...(options.cipher === undefined ? [] : ["--cipher", options.cipher]),
      ...(options.room === undefined ? [] : ["--room", options.room]),
      ...(options.args ?? []),
    ];
    const process = new Deno.Command(Deno.execPath(), {
      args,
      cwd: root instanceof URL ? root.pathname : root,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
    }).spawn();
    return new ChildClient(options.nick, process, onEvent);
  }

  /** The child's process id. */
  get pid(): number {
    return this.#process.pid;
  }

  /**
   * Sends one line (a message or a command) to the client's stdin.
   *
   * @param line The line, without newline.
   * @returns When written.
   */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /**
   * Waits for the first event (at or after index `since`) that matches.
   *
   * @param predicate What to wait for.
   * @param options `since` (default 0), `timeoutMs` (default 15,000), `what` for the message.
   * @returns The event.
   * @throws {Error} On timeout, listing the last events seen.
   */
  waitFor(
    predicate: Predicate,
    options: { since?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<ChatEvent> {
    const since = options.since ?? 0;
    const timeoutMs = options.timeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      let checked = since;
      const check = () => {
        for (; checked < this.events.length; checked++) {
          const event = this.events[checked];
          if (event !== undefined && predicate(event)) {
            done();
            resolve(event);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        done();
        const recent = this.events.slice(-8).map((e) => JSON.stringify(e)).join("\n  ");
        reject(
          new Error(
            `${this.nick}: timed out after ${timeoutMs} ms waiting for ${
              options.what ?? "an event"
            }; last events:\n  ${recent}\nstderr:\n  ${this.stderr.slice(-5).join("\n  ")}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /**
   * Waits for an event of one type (and optional condition).
   *
   * @param type The event type.
   * @param where Extra condition.
   * @param options As for {@link ChildClient.waitFor}.
   * @returns The event.
   */
  async waitForType<T extends ChatEvent["type"]>(
    type: T,
    where: (event: Extract<ChatEvent, { type: T }>) => boolean = () => true,
    options: { since?: number; timeoutMs?: number } = {},
  ): Promise<Extract<ChatEvent, { type: T }>> {
    const event = await this.waitFor(
      (e) => e.type === type && where(e as Extract<ChatEvent, { type: T }>),
      { ...options, what: `a "${type}" event` },
    );
    return event as Extract<ChatEvent, { type: T }>;
  }

  /**
   * The events of one type received so far.
   *
   * @param type The event type.
   * @returns Those events, in order.
   */
  eventsOf<T extends ChatEvent["type"]>(type: T): Extract<ChatEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === type) as Extract<ChatEvent, { type: T }>[];
  }

  /**
   * Closes stdin (the client then flushes, closes and exits) and waits for the exit.
   *
   * @param timeoutMs How long to wait before killing it (default 10,000).
   * @returns The exit code (or -1 when it had to be killed).
   */
  async end(timeoutMs = 10_000): Promise<number> {
    if (!this.#stdinClosed) {
      this.#stdinClosed = true;
      await this.#stdin.close().catch(() => {});
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        this.kill();
        resolve(-1);
      }, timeoutMs);
    });
    const code = await Promise.race([this.#exit.then((s) => s.code), killed]);
    clearTimeout(timer);
    await this.#exit;
    await this.#reading;
    return code;
  }

  /**
   * Waits until the process exits by itself (it is not killed).
   *
   * @returns Its exit status.
   */
  exited(): Promise<Deno.CommandStatus> {
    return this.#exit;
  }

  /** Kills the process (SIGKILL) without waiting; safe to call when it has exited. */
  kill(): void {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /**
   * Kills the process and waits until it is gone and its pipes are drained.
   *
   * @returns When cleaned up.
   */
  async stop(): Promise<void> {
    if (!this.#stdinClosed) {
      this.#stdinClosed = true;
      await this.#stdin.close().catch(() => {});
    }
    this.kill();
    await this.#exit;
    await this.#reading;
  }

  #onLine(line: string): void {
    if (line.trim() === "") return;
    let event: ChatEvent;
    try {
      event = JSON.parse(line) as ChatEvent;
    } catch {
      this.stderr.push(`(not JSON on stdout) ${line}`);
      return;
    }
    this.events.push(event);
    this.#onEvent?.(event);
    for (const check of [...this.#waiters]) check();
  }

  async #read(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
    for await (const line of readLines(stream)) onLine(line);
  }
}
