/**
 * Client benchmark: how long from starting `client.ts` to its first message delivered end to
 * end, and the one-way latency of messages between two running clients through a relay.
 *
 * Run: `deno run --allow-all bench/client/e2e_latency.ts [--starts 10] [--messages 500]
 * [--warmup 20] [--transports tcp,ws] [--no-engine] [--no-write] [--timeout 900]`.
 *
 * Everything is real and on 127.0.0.1: one `server.ts` child (in-memory store) and
 * `client.ts --json` children, driven through `terminal/child_client.ts`. All times are taken in
 * this process with `performance.now()`: the clock starts just before a line is written to the
 * sender's stdin (or, for a start, just before `client.ts` is spawned) and stops when the
 * receiver's stdout line with the `message` event is parsed here. Measurements:
 *
 * 1. `process-start`: spawning `deno run client.ts --help` until it exits (Deno start-up and
 *    loading the client's whole module graph; no home, no network).
 * 2. `cold-start` (new identity, fresh home) and `warm-start` (the same home again), private and
 *    room: spawn `client.ts`, write one line at once, stop at the peer's `message` event. Also
 *    the phases seen on the new client's stdout (connected, ready, own echo).
 * 3. `latency` between two running clients, ping-pong one message at a time (A to B, B to A...),
 *    private and room, over `tcp://` and `ws://`.
 * 4. `engine-latency`: the same ping-pong between two in-process engines (`createChatClient`),
 *    with a `MemoryHome` and with a directory home, to separate the engine's cost from the
 *    process pipes and JSON lines.
 *
 * Prints one JSON line per measurement, then a Markdown table, and writes all of it to
 * `bench/client/results/<UTC date and time>.json`. Every wait is bounded; a global timeout kills
 * everything; children and temporary homes are removed at the end.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type ChatClient,
  type ChatEvent,
  type ChatHome,
  createChatClient,
  MemoryHome,
  openFileHome,
} from "../../chat/mod.ts";
import { ChildClient } from "../../terminal/child_client.ts";
import { ChildRelay } from "../../terminal/child_relay.ts";
import { markdownTable, roundMs, summarize, type Summary } from "./_stats.ts";

type Transport = "tcp" | "ws";
type Kind = "private" | "room";

/** One measurement as printed and saved. */
interface Result {
  bench: "hush-client";
  name: string;
  transport: Transport | "none";
  kind: Kind | "none";
  home: "fresh" | "existing" | "memory" | "directory" | "none";
  unit: "ms";
  ms: Summary;
  /** Medians of when the new client printed `connected`, `ready`, its own message (echo), and when the peer printed it (delivered), from the spawn; starts only. */
  phasesP50?: Record<string, number>;
  /** What the time includes. */
  includes: string;
  /** 1-minute load average when the measurement ended. */
  load1: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    starts: { type: "string", default: "10" },
    messages: { type: "string", default: "500" },
    warmup: { type: "string", default: "20" },
    transports: { type: "string", default: "tcp,ws" },
    "no-engine": { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    timeout: { type: "string", default: "900" },
  },
});
const STARTS = positiveInt(values.starts, "--starts");
const MESSAGES = positiveInt(values.messages, "--messages");
const WARMUP = positiveInt(values.warmup, "--warmup", 0);
const TIMEOUT_S = positiveInt(values.timeout, "--timeout");
const TRANSPORTS = values.transports.split(",").map((t) => t.trim()).filter((t) => t !== "");
for (const t of TRANSPORTS) {
  if (t !== "tcp" && t !== "ws") throw new RangeError(`Unknown transport "${t}": tcp or ws`);
}
/** One wait for one event (a start, a message). */
const WAIT_MS = 30_000;
const ROOT = new URL("../../", import.meta.url).pathname;

const children = new Set<ChildClient>();
const engines = new Set<ChatClient>();
let relay: ChildRelay | undefined;
const tmp = await Deno.makeTempDir({ prefix: "hush-client-bench-" });
const results: Result[] = [];
const loadAtStart = Deno.loadavg();
const startedAt = new Date();

let aborting = false;
const watchdog = setTimeout(() => abort(`timed out after ${TIMEOUT_S} s`), TIMEOUT_S * 1000);
const onSigint = () => abort("interrupted");
Deno.addSignalListener("SIGINT", onSigint);

// ---------------------------------------------------------------------------------------------
// 1. Process start.

async function processStart(): Promise<void> {
  const run = async () => {
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "client.ts", "--help"],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(WAIT_MS),
    }).output();
    if (!out.success) throw new Error(`client.ts --help exited with ${out.code}`);
    return performance.now() - t0;
  };
  await run(); // fills Deno's module cache, untimed
  const samples: number[] = [];
  for (let i = 0; i < STARTS; i++) samples.push(await run());
  record({
    name: "process start: deno run client.ts --help",
    transport: "none",
    kind: "none",
    home: "none",
    samples,
    includes: "spawn, Deno start-up, loading client.ts and its module graph, exit",
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Start to first message delivered.

async function starts(transport: Transport, server: string): Promise<void> {
  const arrivals = new Arrivals();
  const peer = spawn(
    { nick: `peer-${transport}`, server, home: `${tmp}/peer-${transport}` },
    arrivals,
  );
  await peer.waitForType("ready", () => true, { timeoutMs: WAIT_MS });
  const samples = {
    "private/fresh": [] as StartSample[],
    "private/existing": [] as StartSample[],
    "room/fresh": [] as StartSample[],
    "room/existing": [] as StartSample[],
  };
  for (let i = 0; i < STARTS; i++) {
    for (const kind of ["private", "room"] as const) {
      const nick = `${kind === "private" ? "p" : "r"}${transport}${i}`;
      const home = `${tmp}/${nick}`;
      let room: string | undefined;
      if (kind === "room") {
        // A room of two: the peer joins first, so the newcomer's roster holds it.
        room = `start-${transport}-${i}`;
        const since = peer.events.length;
        await peer.send(`/join ${room}`);
        await peer.waitForType("join", (e) => e.nick === peer.nick && e.room === room, {
          since,
          timeoutMs: WAIT_MS,
        });
      }
      for (const state of ["fresh", "existing"] as const) {
        const sample = await startToFirstMessage({
          nick,
          server,
          home,
          room,
          kind,
          peer,
          arrivals,
          text: `first ${kind} ${state} ${nick}`,
        });
        samples[`${kind}/${state}`].push(sample);
      }
    }
  }
  await endChild(peer);
  for (const [key, list] of Object.entries(samples)) {
    const [kind, state] = key.split("/") as [Kind, "fresh" | "existing"];
    // Each mark from the spawn (not as differences: a warm client may encrypt and queue the
    // message before it is even connected).
    const phasesP50: Record<string, number> = {};
    for (const mark of ["connected", "ready", "echo", "delivered"] as const) {
      phasesP50[mark] = summarize(list.map((s) => s[mark])).p50;
    }
    record({
      name: `${state === "fresh" ? "cold" : "warm"} start to first ${kind} message delivered`,
      transport,
      kind,
      home: state,
      samples: list.map((s) => s.delivered),
      phasesP50,
      includes: state === "fresh"
        ? `Deno start-up + module load, new Ed25519 identity and home files, connect, relay auth ` +
          `(HELLO/CHALLENGE/AUTH/READY), publishing the prekey bundle, JOIN + roster, bundle ` +
          `fetch + X3DH + first ratchet step${
            kind === "room" ? " (sender-key envelope to the peer, then the room message)" : ""
          }, relay forwarding, the peer's decrypt and stdout line`
        : `Deno start-up + module load, identity and sessions read from the home, connect, relay ` +
          `auth, JOIN + roster${
            kind === "private"
              ? ", the once-per-connection key check of the peer (a key-directory fetch), a ratchet step"
              : ", the room message under the existing sender key"
          }, relay forwarding, the peer's decrypt and stdout line`,
    });
  }
}

interface StartSample {
  connected: number;
  ready: number;
  echo: number;
  delivered: number;
}

async function startToFirstMessage(options: {
  nick: string;
  server: string;
  home: string;
  room: string | undefined;
  kind: Kind;
  peer: ChildClient;
  arrivals: Arrivals;
  text: string;
}): Promise<StartSample> {
  const { peer, text } = options;
  const marks: Partial<StartSample> = {};
  const since = peer.events.length;
  const t0 = performance.now();
  const client = spawn(
    {
      nick: options.nick,
      server: options.server,
      home: options.home,
      ...(options.room === undefined ? {} : { room: options.room }),
    },
    undefined,
    (event, at) => {
      if (event.type === "connected") marks.connected ??= at - t0;
      if (event.type === "ready") marks.ready ??= at - t0;
      if (event.type === "message" && event.own && event.text === text) marks.echo ??= at - t0;
    },
  );
  try {
    await client.send(options.kind === "private" ? `@${peer.nick} ${text}` : text);
    await peer.waitForType("message", (e) => !e.own && e.text === text, {
      since,
      timeoutMs: WAIT_MS,
    });
    const delivered = options.arrivals.take(peer.nick, text) - t0;
    // The own echo may be read after the peer's line (two pipes race).
    await client.waitForType("message", (e) => e.own && e.text === text, { timeoutMs: WAIT_MS });
    if (marks.connected === undefined || marks.ready === undefined || marks.echo === undefined) {
      throw new Error(`${options.nick}: missing start events: ${JSON.stringify(marks)}`);
    }
    return { connected: marks.connected, ready: marks.ready, echo: marks.echo, delivered };
  } finally {
    await endChild(client);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Steady state between two client processes.

async function steadyState(transport: Transport, server: string): Promise<void> {
  const arrivals = new Arrivals();
  const room = `steady-${transport}`;
  const a = spawn(
    { nick: `a-${transport}`, server, home: `${tmp}/a-${transport}`, room },
    arrivals,
  );
  await a.waitForType("ready", () => true, { timeoutMs: WAIT_MS });
  const b = spawn(
    { nick: `b-${transport}`, server, home: `${tmp}/b-${transport}`, room },
    arrivals,
  );
  await b.waitForType("ready", () => true, { timeoutMs: WAIT_MS });
  await a.waitForType("join", (e) => e.nick === b.nick && e.room === room, { timeoutMs: WAIT_MS });
  for (const kind of ["private", "room"] as const) {
    const samples = await pingPong({
      a: childEnd(a, arrivals),
      b: childEnd(b, arrivals),
      kind,
      label: `${kind} ${transport}`,
    });
    record({
      name: `one-way latency, ${kind} message, two client processes`,
      transport,
      kind,
      home: "existing",
      samples,
      includes: `sender: stdin line read, parse, ${
        kind === "private" ? "Double Ratchet encrypt" : "sender-key encrypt + signature"
      }, home writes (sessions, outbox), JSON echo, SEND; relay forwarding; receiver: ${
        kind === "private" ? "ratchet decrypt" : "signature check + sender-key decrypt"
      }, home writes (sessions, seen ids), JSON line on stdout; both pipes`,
    });
  }
  await Promise.all([endChild(a), endChild(b)]);
}

// ---------------------------------------------------------------------------------------------
// 4. Steady state between two in-process engines.

async function engineLatency(
  transport: Transport,
  server: string,
  homeKind: "memory" | "directory",
): Promise<void> {
  const room = `engine-${transport}-${homeKind}`;
  const arrivals = new Arrivals();
  const open = async (nick: string): Promise<ChatHome> =>
    homeKind === "memory" ? new MemoryHome() : await openFileHome(`${tmp}/${nick}`);
  const make = async (nick: string) => {
    const client = await createChatClient({
      server,
      nick,
      home: await open(nick),
      room,
      reconnect: false,
      closeTimeoutMs: 5_000,
    });
    engines.add(client);
    client.on((event) => {
      if (event.type === "message" && !event.own) arrivals.arrived(nick, event.text);
      if (event.type === "error") log(`${nick}: error event ${event.code}: ${event.message}`);
    });
    await withTimeout(client.connect(), WAIT_MS, `${nick} connect`);
    return client;
  };
  const suffix = `${transport}-${homeKind === "memory" ? "m" : "d"}`;
  const a = await make(`ea-${suffix}`);
  const joined = new Promise<void>((resolve) => {
    const off = a.on((e) => {
      if (e.type === "join" && e.nick === `eb-${suffix}` && e.room === room) {
        off();
        resolve();
      }
    });
  });
  const b = await make(`eb-${suffix}`);
  await withTimeout(joined, WAIT_MS, "engine join notice");
  for (const kind of ["private", "room"] as const) {
    const end = (client: ChatClient): End => ({
      nick: client.nick,
      send: async (to, text) => {
        if (kind === "private") await client.sendPrivate(to, text);
        else await client.sendRoom(text);
      },
      wait: (text) => arrivals.wait(client.nick, text, WAIT_MS),
    });
    const samples = await pingPong({
      a: end(a),
      b: end(b),
      kind,
      label: `engine ${kind} ${transport} ${homeKind}`,
    });
    record({
      name: `one-way latency, ${kind} message, two in-process engines`,
      transport,
      kind,
      home: homeKind,
      samples,
      includes: `sendPrivate/sendRoom call: encrypt, ${
        homeKind === "memory" ? "in-memory home" : "home directory commits (SQLite, fsync)"
      }, SEND; relay process; receiver engine decrypt, home writes, message event (no child process, no pipes, no JSON)`,
    });
  }
  for (const client of [a, b]) {
    await withTimeout(client.close(), 10_000, "engine close").catch((e) => log(String(e)));
    engines.delete(client);
  }
}

// ---------------------------------------------------------------------------------------------
// Ping-pong.

/** One side of a ping-pong. */
interface End {
  nick: string;
  /** Sends `text` (privately to `to`, or to the shared room). */
  send(to: string, text: string): Promise<void>;
  /** Resolves with the arrival time (performance.now) of `text` at this side. */
  wait(text: string): Promise<number>;
}

function childEnd(child: ChildClient, arrivals: Arrivals): End {
  return {
    nick: child.nick,
    send: (to, text) => child.send(to === "" ? text : `@${to} ${text}`),
    wait: (text) => arrivals.wait(child.nick, text, WAIT_MS),
  };
}

/**
 * Sends WARMUP + MESSAGES messages one at a time, alternating direction, each after the
 * previous one arrived; returns the one-way latencies after the warm-up.
 */
async function pingPong(options: { a: End; b: End; kind: Kind; label: string }): Promise<number[]> {
  const samples: number[] = [];
  for (let i = -WARMUP; i < MESSAGES; i++) {
    const [from, to] = (i + WARMUP) % 2 === 0 ? [options.a, options.b] : [options.b, options.a];
    const text = `${options.kind} ${i} from ${from.nick}`;
    const arrived = to.wait(text);
    const t0 = performance.now();
    await from.send(options.kind === "private" ? to.nick : "", text);
    const t1 = await arrived;
    if (i >= 0) samples.push(t1 - t0);
  }
  log(`${options.label}: ${samples.length} messages`);
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Arrival times.

/** Arrival times of received messages, by receiver nick and text, with bounded waits. */
class Arrivals {
  #times = new Map<string, number>();
  #waiters = new Map<string, (at: number) => void>();

  /** Records that `nick` received `text` now. */
  arrived(nick: string, text: string, at = performance.now()): void {
    const key = `${nick}\u0000${text}`;
    const waiter = this.#waiters.get(key);
    if (waiter !== undefined) {
      this.#waiters.delete(key);
      waiter(at);
    } else {
      this.#times.set(key, at);
    }
  }

  /** The arrival time of a message already received (and forgets it). */
  take(nick: string, text: string): number {
    const key = `${nick}\u0000${text}`;
    const at = this.#times.get(key);
    if (at === undefined) throw new Error(`No arrival recorded for ${nick}: "${text}"`);
    this.#times.delete(key);
    return at;
  }

  /** Waits (at most `timeoutMs`) until `nick` receives `text`; resolves with the time. */
  wait(nick: string, text: string, timeoutMs: number): Promise<number> {
    const key = `${nick}\u0000${text}`;
    const known = this.#times.get(key);
    if (known !== undefined) {
      this.#times.delete(key);
      return Promise.resolve(known);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(new Error(`${nick}: no message "${text}" after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(key, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Children, cleanup, output.

function spawn(
  options: { nick: string; server: string; home: string; room?: string },
  arrivals?: Arrivals,
  onEvent?: (event: ChatEvent, at: number) => void,
): ChildClient {
  const child = ChildClient.start(options, (event) => {
    const at = performance.now();
    if (event.type === "message" && !event.own) arrivals?.arrived(options.nick, event.text, at);
    if (event.type === "error") log(`${options.nick}: error event ${event.code}: ${event.message}`);
    onEvent?.(event, at);
  });
  children.add(child);
  return child;
}

async function endChild(child: ChildClient): Promise<void> {
  const code = await child.end(10_000);
  children.delete(child);
  if (code !== 0) log(`${child.nick} exited with ${code}: ${child.stderr.slice(-3).join(" / ")}`);
}

async function cleanup(): Promise<void> {
  for (const child of children) child.kill();
  await Promise.all([...children].map((c) => c.stop().catch(() => {})));
  children.clear();
  await Promise.all(
    [...engines].map((e) => withTimeout(e.close(), 3_000, "engine close").catch(() => {})),
  );
  engines.clear();
  await relay?.stop(3_000).catch(() => {});
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

function abort(why: string): void {
  if (aborting) return;
  aborting = true;
  console.error(`bench aborted: ${why}; cleaning up`);
  cleanup().finally(() => Deno.exit(1));
}

function record(
  options: {
    name: string;
    transport: Result["transport"];
    kind: Result["kind"];
    home: Result["home"];
    samples: number[];
    phasesP50?: Record<string, number>;
    includes: string;
  },
): void {
  const result: Result = {
    bench: "hush-client",
    name: options.name,
    transport: options.transport,
    kind: options.kind,
    home: options.home,
    unit: "ms",
    ms: summarize(options.samples),
    ...(options.phasesP50 === undefined ? {} : { phasesP50: options.phasesP50 }),
    includes: options.includes,
    load1: roundMs(Deno.loadavg()[0] ?? NaN),
  };
  results.push(result);
  console.log(JSON.stringify(result));
}

function report(): void {
  const rows = results.map((r) => [
    r.name,
    r.transport,
    r.home,
    String(r.ms.n),
    String(r.ms.p50),
    String(r.ms.p90),
    String(r.ms.p99),
    String(r.ms.max),
    String(r.load1),
  ]);
  const header = ["measurement (ms)", "transport", "home", "n", "p50", "p90", "p99", "max", "load"];
  const loadAtEnd = Deno.loadavg();
  console.log("");
  console.log(
    `Hush client benchmark, ${startedAt.toISOString()}, ${navigator.hardwareConcurrency} CPUs, ` +
      `load ${fmtLoad(loadAtStart)} at start, ${fmtLoad(loadAtEnd)} at end`,
  );
  console.log("");
  console.log(markdownTable(header, rows, 3));
  const phases = results.filter((r) => r.phasesP50 !== undefined);
  if (phases.length > 0) {
    console.log("");
    const spans = Object.keys(phases[0]?.phasesP50 ?? {});
    console.log(markdownTable(
      ["start: p50 ms from spawn to", "transport", ...spans],
      phases.map((r) => [
        `${r.home === "fresh" ? "cold" : "warm"} ${r.kind}`,
        r.transport,
        ...spans.map((s) => String(r.phasesP50?.[s])),
      ]),
      2,
    ));
  }
  if (values["no-write"]) return;
  const document = {
    bench: "hush-client",
    date: startedAt.toISOString(),
    command: `deno run --allow-all bench/client/e2e_latency.ts ${Deno.args.join(" ")}`.trim(),
    machine: {
      cpus: navigator.hardwareConcurrency,
      cpuModel: cpuModel(),
      os: `${Deno.build.os} ${Deno.build.arch}`,
      deno: Deno.version.deno,
      loadAtStart: loadAtStart.map(roundMs),
      loadAtEnd: loadAtEnd.map(roundMs),
    },
    parameters: { starts: STARTS, messages: MESSAGES, warmup: WARMUP, transports: TRANSPORTS },
    results,
  };
  const dir = new URL("./results/", import.meta.url);
  Deno.mkdirSync(dir, { recursive: true });
  const name = `${startedAt.toISOString().slice(0, 16).replace(":", "-")}Z.json`;
  const file = new URL(name, dir);
  Deno.writeTextFileSync(file, JSON.stringify(document, null, 2) + "\n");
  console.log(`\nwrote ${file.pathname.slice(ROOT.length)}`);
}

function cpuModel(): string {
  try {
    return /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

function fmtLoad(load: number[]): string {
  return load.map((x) => x.toFixed(2)).join(" ");
}

function log(line: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function positiveInt(text: string, flag: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${flag} needs an integer >= ${min}: "${text}"`);
  }
  return value;
}

/** Runs every measurement, then reports and cleans up. */
async function main(): Promise<void> {
  try {
    relay = await ChildRelay.start();
    const urls: Record<Transport, string> = { tcp: relay.tcpUrl, ws: relay.wsUrl };
    log(`relay ${relay.tcpUrl} ${relay.wsUrl}; load ${fmtLoad(Deno.loadavg())}`);

    await processStart();
    for (const t of TRANSPORTS as Transport[]) await starts(t, urls[t]);
    for (const t of TRANSPORTS as Transport[]) await steadyState(t, urls[t]);
    if (!values["no-engine"]) {
      for (const t of TRANSPORTS as Transport[]) {
        for (const home of ["memory", "directory"] as const) await engineLatency(t, urls[t], home);
      }
    }
    report();
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? error.stack ?? error.message : error}`);
    Deno.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    Deno.removeSignalListener("SIGINT", onSigint);
    if (!aborting) await cleanup();
  }
}

// Last, so that every class and function above is initialized.
await main();
