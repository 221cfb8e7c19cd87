/**
 * A `server.ts` child process on loopback, for the demo and the end-to-end tests: started on
 * free ports, its listening URLs read from what it prints, stopped and restarted on the same
 * ports (with the same store) on request.
 *
 * @module
 */

import { readLines } from "./read_lines.ts";

/** The permissions `server.ts` needs. */
export const RELAY_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/** Options of {@link ChildRelay.start}. */
export interface ChildRelayOptions {
  /** WebSocket port (default 0: any free port). */
  port?: number;
  /** TCP port (default 0: any free port). */
  tcpPort?: number;
  /** SQLite store file; absent: the in-memory store. */
  store?: string;
  /** More command-line arguments. */
  args?: readonly string[];
  /** Project root (where `server.ts` is); default: this file's parent folder. */
  root?: string | URL;
  /** How long to wait for the listening line (default 15,000 ms). */
  timeoutMs?: number;
}

const WS_URL = /\bwss?:\/\/[0-9.]+:(\d+)\/?/;
const TCP_URL = /\b(?:tcp|tls):\/\/[0-9.]+:(\d+)/;

/** A running relay. */
export class ChildRelay {
  /** `ws://127.0.0.1:PORT/` (`wss://` with TLS). */
  readonly wsUrl: string;
  /** `tcp://127.0.0.1:PORT` (`tls://` with TLS). */
  readonly tcpUrl: string;
  /** Everything the relay printed (stdout and stderr), line by line. */
  readonly output: string[];
  readonly #options: ChildRelayOptions;
  readonly #process: Deno.ChildProcess;
  readonly #reading: Promise<void>;

  private constructor(
    options: ChildRelayOptions,
    process: Deno.ChildProcess,
    urls: { ws: string; tcp: string },
    output: string[],
    reading: Promise<void>,
  ) {
    this.#options = options;
    this.#process = process;
    this.wsUrl = urls.ws;
    this.tcpUrl = urls.tcp;
    this.output = output;
    this.#reading = reading;
  }

  /**
   * Starts `server.ts` and waits until it prints where it listens.
   *
   * @param options Ports, store and extra flags.
   * @returns The running relay.
   * @throws {Error} When it exits or prints no URL in time (its output is in the message).
   */
  static async start(options: ChildRelayOptions = {}): Promise<ChildRelay> {
    const root = options.root ?? new URL("../", import.meta.url);
    const args = [
      "run",
      ...RELAY_PERMISSIONS,
      "server.ts",
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port ?? 0),
      "--tcp-port",
      String(options.tcpPort ?? 0),
      ...(options.store === undefined ? [] : ["--store", options.store]),
      ...(options.args ?? []),
    ];
    const process = new Deno.Command(Deno.execPath(), {
      args,
      cwd: root instanceof URL ? root.pathname : root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const output: string[] = [];
    let ws: string | undefined;
    let tcp: string | undefined;
    let notify = () => {};
    const onLine = (line: string) => {
      output.push(line);
      ws ??= WS_URL.exec(line)?.[0];
      tcp ??= TCP_URL.exec(line)?.[0];
      notify();
    };
    const reading = Promise.all([
      pipeLines(process.stdout, onLine),
      pipeLines(process.stderr, onLine),
    ])
      .then(() => {});
    const timeoutMs = options.timeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    process.status.then(() => {
      exited = true;
      notify();
    });
    while (ws === undefined || tcp === undefined) {
      if (exited || Date.now() > deadline) {
        try {
          process.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await process.status;
        await reading;
        throw new Error(
          `server.ts did not report its URLs (${exited ? "it exited" : "timeout"}):\n${
            output.join("\n")
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    notify = () => {};
    const url = ws.endsWith("/") ? ws : `${ws}/`;
    return new ChildRelay(options, process, { ws: url, tcp }, output, reading);
  }

  /** The WebSocket port. */
  get port(): number {
    return Number(new URL(this.wsUrl).port);
  }

  /** The TCP port. */
  get tcpPort(): number {
    return Number(/:(\d+)$/.exec(this.tcpUrl)?.[1] ?? 0);
  }

  /**
   * Stops the relay (SIGTERM, then SIGKILL after `timeoutMs`) and waits until it is gone.
   *
   * @param timeoutMs Grace period (default 5,000 ms).
   * @returns When stopped.
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    try {
      this.#process.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        this.#process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, timeoutMs);
    await this.#process.status;
    clearTimeout(timer);
    await this.#reading;
  }

  /**
   * Stops this relay and starts a new one on the same ports with the same options (store).
   *
   * @returns The new relay.
   */
  async restart(): Promise<ChildRelay> {
    await this.stop();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await ChildRelay.start({ ...this.#options, port: this.port, tcpPort: this.tcpPort });
      } catch (error) {
        // The port may take a moment to be free again.
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

async function pipeLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  for await (const line of readLines(stream)) onLine(line);
}
