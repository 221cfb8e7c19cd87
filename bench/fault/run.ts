/**
 * The fault bench: real `server.ts` and `client.ts --json` processes on 127.0.0.1, faults
 * injected while messages flow, and per scenario how many messages were sent, refused, delivered,
 * lost, doubled and shown out of order (definitions in `report.ts`, scenarios in `scenarios.ts`).
 *
 * Run: `deno task bench:fault` or
 * `deno run -A bench/fault/run.ts [--scenario NAME[,NAME]] [--messages N] [--seed S]
 * [--settle SECONDS] [--no-write]`.
 *
 * Prints one JSON line per scenario, then a Markdown table, and writes the JSON lines to
 * `bench/fault/results/<UTC date and time>.jsonl`. Exits 1 when a `--store` scenario lost or
 * doubled a message (or a scenario could not run), so that it can gate a change.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FaultyProxy } from "./proxy.ts";
import { Ledger, messageText, type Planned, type Row, table } from "./report.ts";
import { ROOM, type Scenario, SCENARIOS } from "./scenarios.ts";
import { Peer, Random, Relay, sleep } from "./world.ts";

/** The clients of every scenario. */
const NICKS = ["alice", "bob", "carol"] as const;

/** Longest wait for a typed line's echo (or error) before the sender types its next line. */
const LINE_WAIT_MS = 20_000;

/** Hard bound of one scenario's sending phase beyond its plan. */
const SEND_SLACK_MS = 60_000;

const USAGE = `Usage: deno run -A bench/fault/run.ts [options]

Options:
  --scenario NAMES  comma-separated, default all: ${SCENARIOS.map((s) => s.name).join(", ")}
  --messages N      messages typed per scenario (default 200)
  --seed S          seed of every schedule (default 1)
  --settle SECONDS  longest wait, everything back up, for the last deliveries (default 40)
  --no-write        do not write bench/fault/results/<date>.jsonl
  --trace DIR       write every event each client printed to DIR/<scenario>-<nick>.jsonl
                    (field "i": which incarnation of the client), to look into a lost or
                    doubled message
  -h, --help        show this help

Scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(15)} ${s.description}`).join("\n")}`;

interface Options {
  messages: number;
  seed: number;
  settleMs: number;
  trace?: string;
}

function fail(message: string): never {
  console.error(`bench/fault: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`${flag} needs a positive integer, got "${text}"`);
  return n;
}

function log(message: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function recipientsOf(stream: { from: string; to: string }): string[] {
  return stream.to === ROOM ? NICKS.filter((n) => n !== stream.from) : [stream.to];
}

function lineOf(planned: Planned, text: string): string {
  return planned.kind === "room" ? text : `@${planned.to} ${text}`;
}

/**
 * Sends one message in every conversation and waits until it is shown, so that sessions and
 * room keys exist before the faults start (not counted). Up to three rounds.
 */
async function warmUp(scenario: Scenario, peers: ReadonlyMap<string, Peer>): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const waits: Promise<boolean>[] = [];
    for (const [i, stream] of scenario.streams.entries()) {
      const text = `warm-${round}-${i}`;
      for (const recipient of recipientsOf(stream)) {
        waits.push(
          peers.get(recipient)!.client.waitFor(
            (e) => e.type === "message" && !e.own && e.text === text,
            { timeoutMs: 15_000 },
          ).then(() => true, () => false),
        );
      }
      await peers.get(stream.from)!.type(stream.to === ROOM ? text : `@${stream.to} ${text}`);
    }
    if ((await Promise.all(waits)).every(Boolean)) return;
  }
  throw new Error("the warm-up messages were not delivered in three rounds");
}

/**
 * Types the plan: each message after its delay, each sender's lines in order, each line after
 * the previous one's echo (or error) or {@link LINE_WAIT_MS}; nothing after `deadline`.
 */
async function typeAll(
  plan: readonly (Planned & { delayMs: number })[],
  peers: ReadonlyMap<string, Peer>,
  ledger: Ledger,
  deadline: number,
  onTyped: (planned: Planned) => void,
): Promise<void> {
  const chains = new Map<string, Promise<void>>();
  const typeOne = async (planned: Planned) => {
    const peer = peers.get(planned.from)!;
    // A sender the scenario killed is restarted within a second or so: type into the next one.
    while (!peer.alive && Date.now() < deadline) await sleep(20);
    if (Date.now() > deadline) return;
    const client = peer.client;
    const since = client.events.length;
    const text = messageText(planned.seq, planned);
    ledger.typed(planned.seq);
    await peer.type(lineOf(planned, text));
    onTyped(planned);
    const answer = client.waitFor(
      (e) =>
        (e.type === "message" && e.own && e.text === text) ||
        (e.type === "error" && !/\bMessage [0-9a-f]{8}\b/.test(e.message)),
      { since, timeoutMs: Math.max(1, Math.min(LINE_WAIT_MS, deadline - Date.now())) },
    ).catch(() => undefined); // no echo in time: unconfirmed, unless the echo comes later
    const event = await Promise.race([answer, client.exited().then(() => "exited" as const)]);
    if (event === "exited") {
      // Killed before its answer: the echo may still be in the pipe (then it counts).
      await client.stop();
      if (!ledger.echoed(planned.seq)) ledger.senderDied(planned.seq);
    } else if (event?.type === "error" && !ledger.echoed(planned.seq)) {
      ledger.lineError(planned.seq, event.code);
    }
  };
  for (const planned of plan) {
    await sleep(planned.delayMs);
    if (Date.now() > deadline) break;
    const chain = (chains.get(planned.from) ?? Promise.resolve()).then(() => typeOne(planned));
    chains.set(planned.from, chain);
  }
  await Promise.all(chains.values());
}

async function runScenario(scenario: Scenario, options: Options): Promise<Row> {
  const started = performance.now();
  const random = new Random(options.seed).fork(scenario.name);
  const planRandom = random.fork("plan");
  const faultRandom = random.fork("faults");
  const dir = await Deno.makeTempDir({ prefix: "hush-fault-" });
  const storePath = scenario.store ? `${dir}/relay.sqlite` : undefined;
  const relayLog = `${dir}/relay.log`;
  const relay = new Relay(storePath, [...(scenario.relayArgs ?? []), "--log-file", relayLog]);
  const relayErrors: Record<string, number> = {};
  const ledger = new Ledger();
  const peers = new Map<string, Peer>();
  const faults: Record<string, number> = {};
  let proxy: FaultyProxy | undefined;
  let failure: string | undefined;
  try {
    await relay.start();
    if (scenario.proxy === true) proxy = new FaultyProxy(() => relay.tcpPort);
    const server = proxy?.url ?? relay.url;
    for (const nick of NICKS) {
      const peer = new Peer(nick, `${dir}/${nick}`, server, (n, e) => ledger.onEvent(n, e));
      peers.set(nick, peer);
      await peer.start();
    }
    await sleep(300);
    await warmUp(scenario, peers);

    const plan = Array.from({ length: options.messages }, (_, seq) => {
      const stream = planRandom.pick(scenario.streams);
      const planned: Planned & { delayMs: number } = {
        seq,
        from: stream.from,
        to: stream.to,
        kind: stream.to === ROOM ? "room" : "private",
        recipients: recipientsOf(stream),
        delayMs: planRandom.int(40, 160),
      };
      ledger.plan(planned);
      return planned;
    });
    const planMs = plan.reduce((sum, p) => sum + p.delayMs, 0);
    log(`${scenario.name}: typing ${plan.length} messages over ~${(planMs / 1000).toFixed(0)} s`);
    let running = true;
    const typedWaiters = new Set<
      { matches: (planned: Planned) => boolean; resolve: () => void }
    >();
    const onTyped = (planned: Planned) => {
      for (const waiter of typedWaiters) if (waiter.matches(planned)) waiter.resolve();
    };
    const nextTyped = (matches: (planned: Planned) => boolean, timeoutMs: number) =>
      new Promise<void>((resolve) => {
        const waiter = {
          matches,
          resolve: () => {
            clearTimeout(timer);
            typedWaiters.delete(waiter);
            resolve();
          },
        };
        const timer = setTimeout(waiter.resolve, timeoutMs);
        typedWaiters.add(waiter);
      });
    // Caught at once (an unhandled rejection would end the bench), rethrown after typing.
    let faultError: unknown;
    const faulting = scenario.faults({
      random: faultRandom,
      relay,
      peers,
      ...(storePath === undefined ? {} : { storePath }),
      ...(proxy === undefined ? {} : { proxy }),
      planMs,
      running: () => running,
      count: (kind) => (faults[kind] = (faults[kind] ?? 0) + 1),
      nextTyped,
    }).catch((error) => {
      running = false;
      faultError = error;
    });
    try {
      await typeAll(plan, peers, ledger, Date.now() + planMs + SEND_SLACK_MS, onTyped);
    } finally {
      running = false;
      await faulting;
    }
    if (faultError !== undefined) throw faultError;

    // Everything back up, then wait (bounded) for the last acknowledgements and deliveries.
    if (!relay.running) await relay.start();
    for (const peer of peers.values()) if (!peer.alive) await peer.start();
    log(`${scenario.name}: faults done (${JSON.stringify(faults)}), settling`);
    const settleEnd = Date.now() + options.settleMs;
    while (!ledger.complete() && Date.now() < settleEnd) await sleep(250);
    await sleep(1000); // a late duplicate would show now
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    log(`${scenario.name}: FAILED: ${failure}`);
  } finally {
    await Promise.all([...peers.values()].map((p) => p.end().catch(() => {})));
    await proxy?.close();
    await relay.stop("SIGTERM");
    const log = await Deno.readTextFile(relayLog).catch(() => "");
    for (const match of log.matchAll(/^\S+ error .*?\bcode=(\S+)/gm)) {
      relayErrors[match[1]!] = (relayErrors[match[1]!] ?? 0) + 1;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const summary = ledger.summary();
  if (options.trace !== undefined) {
    await Deno.mkdir(options.trace, { recursive: true });
    for (const peer of peers.values()) {
      const lines = peer.incarnations.flatMap((c, i) =>
        c.events.map((e) => JSON.stringify({ i, ...e }) + "\n")
      );
      await Deno.writeTextFile(
        `${options.trace}/${scenario.name}-${peer.nick}.jsonl`,
        lines.join(""),
      );
    }
  }
  return {
    bench: "hush-fault",
    scenario: scenario.name,
    store: scenario.store,
    seed: options.seed,
    faults,
    ...summary,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    ok: failure === undefined && (!scenario.store || (summary.lost === 0 && summary.doubled === 0)),
    relayErrors,
    ...(failure === undefined ? {} : { failure }),
  };
}

function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        scenario: { type: "string" },
        messages: { type: "string", default: "200" },
        seed: { type: "string", default: "1" },
        settle: { type: "string", default: "40" },
        "no-write": { type: "boolean", default: false },
        trace: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names = values.scenario?.split(",").map((s) => s.trim()) ?? SCENARIOS.map((s) => s.name);
  const scenarios = names.map((name) =>
    SCENARIOS.find((s) => s.name === name) ?? fail(`unknown scenario "${name}"`)
  );
  const options: Options = {
    messages: positive(values.messages, "--messages"),
    seed: positive(values.seed, "--seed"),
    settleMs: positive(values.settle, "--settle") * 1000,
    ...(values.trace === undefined ? {} : { trace: values.trace }),
  };
  const meta = {
    bench: "hush-fault",
    type: "meta",
    date: new Date().toISOString(),
    nproc: navigator.hardwareConcurrency,
    cpu: cpuModel(),
    deno: Deno.version.deno,
    ...options,
    load: Deno.loadavg(),
  };
  console.log(JSON.stringify(meta));
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    log(`${scenario.name}: ${scenario.description}`);
    const row = await runScenario(scenario, options);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(`\n${table(rows)}\n`);
  for (const row of rows.filter((r) => Object.keys(r.clientErrors).length > 0)) {
    console.log(`${row.scenario}: client errors: ${JSON.stringify(row.clientErrors)}`);
  }
  for (const row of rows.filter((r) => r.lostSample.length > 0)) {
    console.log(
      `${row.scenario}: messages with a lost delivery: ${row.lostMessages} (${
        row.lostSample.join("; ")
      }...)`,
    );
  }
  if (!values["no-write"]) {
    const dir = new URL("./results/", import.meta.url);
    await Deno.mkdir(dir, { recursive: true });
    const file = new URL(`${meta.date.slice(0, 16).replace(":", "-")}Z.jsonl`, dir);
    const lines = [meta, ...rows].map((r) => JSON.stringify(r)).join("\n") + "\n";
    await Deno.writeTextFile(file, lines);
    log(`wrote ${file.pathname}`);
  }
  const bad = rows.filter((r) => !r.ok);
  if (bad.length > 0) {
    log(
      `NOT OK: ${
        bad.map((r) => r.failure ?? `${r.scenario} lost ${r.lost}, doubled ${r.doubled}`).join("; ")
      }`,
    );
  }
  return bad.length === 0 ? 0 : 1;
}

Deno.exit(await main());
