/**
 * Test helpers for the relay's end-to-end tests: start `server.ts` as a real process on port 0,
 * and a small protocol client over TCP, TLS or WebSocket.
 *
 * @module
 */

import { generateIdentityKeyPair, type IdentityKeyPair, sign } from "../../crypto/ed25519.ts";
import { randomBytes } from "../../crypto/random.ts";
import {
  authTranscript,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameSplitter,
  PROTOCOL_VERSION,
  type ReadyFrame,
  type RelayFrame,
  withLengthPrefix,
} from "../../protocol/mod.ts";

import { type RelayHandle, type RelayOptions, runRelay } from "../../relay/mod.ts";

const SERVER = new URL("../../server.ts", import.meta.url).pathname;

/** The relay frame whose `type` is `T` (works for frames sharing a layout, like joined/left). */
export type FrameOf<T extends string> = RelayFrame extends infer F
  ? F extends { type: infer U } ? T extends U ? F & { type: T } : never : never
  : never;

/** Registers an end-to-end test (sanitizers off: sockets close asynchronously). */
export function relayTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** Starts an in-process relay on free ports with test-friendly options. */
export async function inProcessRelay(
  options: Partial<RelayOptions> = {},
): Promise<RelayHandle & { log: string[] }> {
  const log: string[] = [];
  const relay = await runRelay({
    port: 0,
    tcpPort: 0,
    onLog: (line) => log.push(line),
    ...options,
  });
  return Object.assign(relay, { log });
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A running `server.ts` process. */
export interface ServerProcess {
  ws: string;
  tcp: string;
  lines: string[];
  process: Deno.ChildProcess;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `server.ts --port 0 ...args` and waits for its URLs.
 *
 * @param args Extra flags.
 * @param permissions Deno permission flags (default only --allow-net).
 */
export async function startServer(
  args: string[] = [],
  permissions: string[] = ["--allow-net"],
): Promise<ServerProcess> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, SERVER, "--port", "0", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const deadline = Date.now() + 15_000;
  let first: string | undefined;
  while (first === undefined && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    lines.push(...parts);
    first = lines.find((l) => l.startsWith("hush relay listening on "));
  }
  // Keep draining stdout in the background.
  (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        lines.push(...parts);
      }
    } catch {
      // process gone
    }
  })();
  const stderrText = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const errLines: string[] = [];
  (async () => {
    try {
      while (true) {
        const { value, done } = await stderrText.read();
        if (done) break;
        errLines.push(value);
      }
    } catch {
      // gone
    }
  })();
  if (first === undefined) {
    try {
      process.kill("SIGKILL");
    } catch {
      // already gone
    }
    await process.status;
    throw new Error(`server.ts did not start: ${lines.join("\n")} ${errLines.join("")}`);
  }
  const m = /listening on (\S+)(?: and (\S+))?/.exec(first)!;
  let status: Promise<Deno.CommandStatus> | null = null;
  return {
    ws: m[1]!,
    tcp: m[2] ?? "",
    lines,
    process,
    stop(signal: Deno.Signal = "SIGTERM") {
      if (status === null) {
        try {
          process.kill(signal);
        } catch {
          // already gone
        }
        status = process.status;
      }
      return status;
    },
  };
}

/** Options of {@link TestClient.connect}. */
export interface ConnectOptions {
  /** PEM CA certificates for tls:// URLs. */
  caCerts?: string[];
}

/** A minimal protocol client that records every frame it receives. */
export class TestClient {
  readonly frames: RelayFrame[] = [];
  /** The bytes of each received frame, parallel to {@link frames}. */
  readonly rawFrames: Uint8Array[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;
  #writeRaw: (bytes: Uint8Array) => Promise<void>;
  #close: () => void;
  #wake: (() => void) | null = null;
  #resolveClosed!: () => void;
  #seen = 0;
  /** Whether the transport frames with a length prefix (tcp/tls). */
  readonly prefixed: boolean;
  identity: IdentityKeyPair = generateIdentityKeyPair();
  /** While set, a TCP client stops reading (a slow reader). */
  gate: Promise<void> | null = null;
  #openGate: (() => void) | null = null;
  nick = "";
  delivered = 0;

  private constructor(
    prefixed: boolean,
    write: (bytes: Uint8Array) => Promise<void>,
    close: () => void,
  ) {
    this.prefixed = prefixed;
    this.#writeRaw = write;
    this.#close = close;
    this.closedPromise = new Promise((r) => this.#resolveClosed = r);
  }

  /**
   * Connects to a `tcp://`, `tls://`, `ws://` or `wss://` URL.
   *
   * @param url Relay URL.
   * @param options TLS CA certificates.
   */
  static async connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const u = new URL(url);
    if (u.protocol === "ws:" || u.protocol === "wss:") {
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
      });
      const client = new TestClient(
        false,
        (b) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(b);
          return Promise.resolve();
        },
        () => ws.close(),
      );
      ws.onmessage = (e) => client.#onFrame(new Uint8Array(e.data as ArrayBuffer));
      ws.onclose = () => client.#onClosed();
      ws.onerror = () => {};
      return client;
    }
    const hostname = u.hostname;
    const port = Number(u.port);
    const conn = u.protocol === "tls:"
      ? await Deno.connectTls({ hostname, port, caCerts: options.caCerts ?? [] })
      : await Deno.connect({ hostname, port });
    const client = new TestClient(
      true,
      async (b) => {
        let off = 0;
        try {
          while (off < b.length) off += await conn.write(b.subarray(off));
        } catch {
          // closed by the relay
        }
      },
      () => {
        try {
          conn.close();
        } catch {
          // already closed
        }
      },
    );
    (async () => {
      const splitter = new FrameSplitter({ maxFrameBytes: 1 << 24 });
      const buf = new Uint8Array(65536);
      try {
        while (true) {
          if (client.gate) await client.gate;
          const n = await conn.read(buf);
          if (n === null) break;
          for (const f of splitter.push(buf.slice(0, n))) client.#onFrame(f);
        }
      } catch {
        // reset
      }
      client.#onClosed();
      try {
        conn.close();
      } catch {
        // already closed
      }
    })();
    return client;
  }

  #onFrame(bytes: Uint8Array): void {
    const frame = decodeFrame(bytes, { maxFrameBytes: 1 << 24, from: "relay" }) as RelayFrame;
    if (frame.type === "deliver" || frame.type === "undelivered") this.delivered++;
    this.frames.push(frame);
    this.rawFrames.push(bytes.slice());
    this.#wake?.();
  }

  #onClosed(): void {
    this.closed = true;
    this.#resolveClosed();
    this.#wake?.();
  }

  /** Sends one frame. */
  send(frame: Frame): Promise<void> {
    return this.sendBytes(encodeFrame(frame));
  }

  /** Sends one frame given as bytes (framed for the transport). */
  sendBytes(frame: Uint8Array): Promise<void> {
    return this.#writeRaw(this.prefixed ? withLengthPrefix(frame) : frame);
  }

  /** Writes raw bytes with no framing (TCP) or as one message (WebSocket). */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.#writeRaw(bytes);
  }

  /**
   * Waits for the next frame (after those already returned by `next`) matching `match`.
   *
   * @param match Predicate or frame type.
   * @param timeoutMs Give up after this long.
   */
  async next<T extends RelayFrame["type"]>(
    match: T | ((f: RelayFrame) => boolean),
    timeoutMs = 5000,
  ): Promise<FrameOf<T>> {
    const pred = typeof match === "string" ? (f: RelayFrame) => f.type === match : match;
    const deadline = Date.now() + timeoutMs;
    while (true) {
      while (this.#seen < this.frames.length) {
        const f = this.frames[this.#seen++]!;
        if (pred(f)) return f as FrameOf<T>;
      }
      if (this.closed) throw new Error(`connection closed while waiting (${this.describe()})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting (${this.describe()})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  /** Stops reading from a TCP connection until {@link resume}. */
  pause(): void {
    this.gate ??= new Promise((r) => this.#openGate = r);
  }

  /** Reads again after {@link pause}. */
  resume(): void {
    this.#openGate?.();
    this.gate = null;
  }

  /** Waits for the next frame of type `type` that satisfies `pred`. */
  nextWhere<T extends RelayFrame["type"]>(
    type: T,
    pred: (f: FrameOf<T>) => boolean,
    timeoutMs = 5000,
  ): Promise<FrameOf<T>> {
    return this.next(
      (f) => f.type === type && pred(f as FrameOf<T>),
      timeoutMs,
    ) as Promise<FrameOf<T>>;
  }

  /** Waits until `pred(this.frames)` holds. */
  async waitFor(pred: (frames: RelayFrame[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.frames)) {
      if (Date.now() > deadline) throw new Error(`condition not met (${this.describe()})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits until the relay closes the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("connection not closed")), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Waits for a fatal ERROR and the close; returns the code. */
  async expectFatal(timeoutMs = 5000): Promise<string> {
    const e = await this.next((f) => f.type === "error" && f.fatal, timeoutMs);
    await this.waitClosed(timeoutMs);
    return (e as FrameOf<"error">).code;
  }

  /** Short summary of received frames for failure messages. */
  describe(): string {
    return this.frames.map((f) =>
      f.type === "error" ? `error:${f.code}` : f.type === "rejected" ? `rejected:${f.code}` : f.type
    ).join(",");
  }

  /**
   * Runs HELLO / CHALLENGE / AUTH and waits for READY.
   *
   * @param nick Requested nick.
   * @param options Identity and token.
   */
  async login(
    nick: string,
    options: { identity?: IdentityKeyPair; token?: string } = {},
  ): Promise<ReadyFrame> {
    if (options.identity) this.identity = options.identity;
    await this.send({
      type: "hello",
      version: PROTOCOL_VERSION,
      nick,
      identityKey: this.identity.publicKey,
      token: new TextEncoder().encode(options.token ?? ""),
    });
    const challenge = await this.next("challenge");
    const transcript = authTranscript({
      version: PROTOCOL_VERSION,
      challenge: challenge.nonce,
      identityKey: this.identity.publicKey,
      nick,
    });
    await this.send({ type: "auth", signature: sign(this.identity.privateKey, transcript) });
    const ready = await this.next("ready");
    this.nick = ready.nick;
    return ready;
  }

  /** Sends an envelope from this client's nick. */
  sendEnvelope(
    to: string,
    body: Uint8Array,
    options: { toKind?: "nick" | "room"; id?: Uint8Array; cipher?: number } = {},
  ): Promise<void> {
    return this.send({
      type: "send",
      id: options.id ?? randomBytes(16),
      cipher: options.cipher ?? 1,
      from: this.nick,
      toKind: options.toKind ?? "nick",
      to,
      body,
    });
  }

  /** Acknowledges every DELIVER received so far. */
  ack(): Promise<void> {
    return this.send({ type: "ack", count: this.delivered });
  }

  close(): void {
    this.#close();
  }
}

/** Connects and logs in. */
export async function loggedIn(
  url: string,
  nick: string,
  options: { identity?: IdentityKeyPair; token?: string; caCerts?: string[] } = {},
): Promise<TestClient> {
  const c = await TestClient.connect(
    url,
    options.caCerts ? { caCerts: options.caCerts } : {},
  );
  await c.login(nick, options);
  return c;
}
