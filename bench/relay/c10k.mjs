#!/usr/bin/env node
// 10,000 connections: one relay holding --conns authenticated idle connections (default 10,000)
// in --rooms rooms (default 100 rooms of 100), with heartbeats running (--heartbeat, default
// 30,000 ms as the relay's own default; with --hold 40 s every connection, silent for longer than
// that, is pinged and answers while held), and measures,
// against the same relay before the crowd came:
//   - the relay's RSS (after start, with the crowd, and per connection),
//   - GET /healthz (a fresh HTTP connection each time): must answer in under 10 ms (p90),
//   - one pair exchanging messages (ping-pong RTT): p50 within 1.5x and p99 within 2x of the
//     same pair's on the empty relay.
// Each aim is printed as met or missed. Everything stays on 127.0.0.1; every loop is bounded.
//
//   node bench/relay/c10k.mjs [--conns 10000] [--rooms 100] [--transport tcp|ws]
//        [--heartbeat 30000] [--hold 40] [--store] [--shared DIR] [--out FILE]
//        [--relay-log FILE]   (the relay's event log: disconnects and their reasons)
//
// File descriptors: the relay and this generator each hold one socket per connection. The relay
// is started through `sh -c 'ulimit -n N; exec deno ...'` with N the hard limit (the relay's
// code sets nothing); Node raises its own soft limit to the hard one at start. The run stops
// with a message when the hard limit is below what --conns needs.
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import http from "node:http";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { fail, loadHarness } from "./harness.mjs";
import { createHushAdapter } from "./hush_adapter.mjs";
import { createIdentityPool } from "./identities.mjs";
import { hushRelaySpecs } from "./relay_spec.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values: a } = parseArgs({
  options: {
    conns: { type: "string", default: "10000" },
    rooms: { type: "string", default: "100" },
    transport: { type: "string", default: "tcp" },
    heartbeat: { type: "string", default: "30000" },
    hold: { type: "string", default: "40" },
    store: { type: "boolean", default: false },
    shared: { type: "string", default: process.env.HUSH_SHARED_BENCH ?? `${repo}/../shared/bench` },
    out: { type: "string" },
    // The relay's event log (connects, disconnects with their reason) to this file.
    "relay-log": { type: "string" },
  },
});
const N = Number(a.conns), ROOMS = Number(a.rooms), HOLD_S = Number(a.hold);
if (!["tcp", "ws"].includes(a.transport)) fail("--transport is tcp or ws");

// --- file descriptors --------------------------------------------------------------------------
const limits = readFileSync("/proc/self/limits", "utf8").match(/Max open files\s+(\d+)\s+(\d+)/);
const [softFds, hardFds] = limits ? [Number(limits[1]), Number(limits[2])] : [NaN, NaN];
const needFds = N + 512;
if (hardFds < needFds) {
  fail(
    `--conns ${N} needs ${needFds} file descriptors per process; the hard limit is ${hardFds}` +
      " (raise it with `ulimit -Hn` as root, or lower --conns)",
  );
}
if (softFds < needFds) {
  fail(
    `this process may open ${softFds} files (hard ${hardFds}): run it as \`ulimit -n ${hardFds}; node ...\``,
  );
}

const { WebSocket, conn, relaysLib } = await loadHarness(resolve(a.shared));
const deno = relaysLib.findDeno();
if (!deno) fail("deno was not found (set DENO=/path/to/deno)");
const t0 = performance.now();
const pool = await createIdentityPool({ repo, deno, size: N + 8 });
console.error(`identities: ${N + 8} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const adapter = createHushAdapter({ transport: a.transport, WebSocket, conn, identities: pool });

// --- the relay ---------------------------------------------------------------------------------
const serverArgs = [
  `--max-connections=${N + 256}`,
  `--max-per-address=${N + 256}`,
  `--heartbeat=${a.heartbeat}`,
];
const denoArgs = [];
if (a["relay-log"]) {
  serverArgs.push(`--log-file=${resolve(a["relay-log"])}`);
  denoArgs.push(`--allow-write=${resolve(a["relay-log"])}`);
}
const specs = hushRelaySpecs({ repo, deno, serverArgs, denoArgs });
const spec = specs[`hush-${a.transport}${a.store ? "-store" : ""}`];
const name = `c10k-${a.transport}${a.store ? "-store" : ""}`;
relaysLib.RELAYS[name] = {
  adapter,
  describe: spec.describe,
  start(port, dir) {
    const how = spec.start(port, dir);
    // The fd limit is raised for the relay's process here, in the bench; `exec` keeps its PID.
    return {
      cmd: "sh",
      args: ["-c", `ulimit -n ${hardFds} && exec "$0" "$@"`, how.cmd, ...how.args],
    };
  },
};
const relay = await relaysLib.startRelay(name);
const rss = () => relaysLib.procUsage(relay.pid).rssKiB;
const relayFds = Number(
  readFileSync(`/proc/${relay.pid}/limits`, "utf8").match(/Max open files\s+(\d+)/)?.[1],
);
// /healthz lives on the WebSocket (HTTP) port; over TCP that port is the relay's other one.
let httpPort = relay.port;
if (a.transport === "tcp") {
  const ss = spawnSync("ss", ["-ltnpH"], { encoding: "utf8" }).stdout ?? "";
  const mine = ss.split("\n").filter((l) => l.includes(`pid=${relay.pid},`));
  const ports = mine.map((l) => Number(l.trim().split(/\s+/)[3]?.split(":").pop()));
  httpPort = ports.find((p) => p !== relay.port) ?? NaN;
  if (!Number.isFinite(httpPort)) fail("could not find the relay's HTTP port (ss -ltnp)");
}
const target = { port: relay.port, host: "127.0.0.1" };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** One GET /healthz on a fresh connection: ms until the whole answer arrived. */
function healthz() {
  return new Promise((ok, ko) => {
    const start = performance.now();
    const req = http.get(
      { host: "127.0.0.1", port: httpPort, path: "/healthz", agent: false, timeout: 5000 },
      (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) ko(new Error(`/healthz answered ${res.statusCode}`));
          else ok(performance.now() - start);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("/healthz timed out")));
    req.on("error", ko);
  });
}

// --- the pair ----------------------------------------------------------------------------------
let nextId = 1;
const pairA = await adapter.connect(nextId++, target);
const pairB = await adapter.connect(nextId++, target);
const idA = 1, idB = 2;
/** `count` round trips A -> B -> A, one at a time; RTTs in ms. */
async function pingPong(count) {
  const rtts = [];
  const payload = Buffer.alloc(256);
  pairB.onmessage = (body) => pairB.send(idA, Buffer.from(body));
  for (let i = 0; i < count; i++) {
    const back = new Promise((ok, ko) => {
      const timer = setTimeout(() => ko(new Error("pair: no answer in 5 s")), 5000);
      pairA.onmessage = () => {
        clearTimeout(timer);
        ok();
      };
    });
    payload.writeUInt32BE(i, 0);
    const start = performance.now();
    pairA.send(idB, payload);
    await back;
    rtts.push(performance.now() - start);
  }
  return rtts;
}
/** A phase's measurements: pair RTTs and /healthz times, interleaved for `seconds`. */
async function measure(seconds) {
  const rtts = [], health = [], rssKiB = [];
  const end = Date.now() + seconds * 1000;
  for (let round = 0; round < 10_000 && Date.now() < end; round++) {
    rtts.push(...await pingPong(50));
    health.push(await healthz());
    rssKiB.push(rss());
    await sleep(200);
  }
  return { rtts, health, rssKiB };
}

await sleep(300);
const rssStart = rss();
await pingPong(100); // warm-up
const idle = await measure(Math.min(5, HOLD_S));
console.error(
  `empty relay: pair RTT p50 ${pct(idle.rtts, 50).toFixed(3)} ms, p99 ${
    pct(idle.rtts, 99).toFixed(3)
  } ms; /healthz p50 ${pct(idle.health, 50).toFixed(2)} ms`,
);

// --- the crowd ---------------------------------------------------------------------------------
const crowd = [];
let closed = 0, closedConnecting = 0;
// The generator's own event-loop delay: a late PONG may be the generator's, not the relay's.
const lag = monitorEventLoopDelay({ resolution: 20 });
lag.enable();
const tc = performance.now();
let next = 0, failed = null;
await Promise.all(Array.from({ length: 32 }, async () => {
  while (next < N && failed === null) {
    const i = next++;
    try {
      const c = await adapter.connect(nextId++, target);
      c.onclose = () => closed++;
      await c.join(i % ROOMS);
      crowd.push(c);
    } catch (e) {
      failed = e;
    }
    if (crowd.length % 1000 === 0 && crowd.length > 0) {
      console.error(
        `  ${crowd.length} connected and joined (relay RSS ${(rss() / 1024).toFixed(0)} MiB)`,
      );
    }
  }
}));
if (failed !== null) {
  console.error(`connecting stopped after ${crowd.length}: ${failed.message}`);
}
const connectS = (performance.now() - tc) / 1000;
closedConnecting = closed;
const lagConnectingMs = lag.max / 1e6;
lag.reset();
await sleep(1000);
const pingsBefore = adapter.stats().pings;
const held = await measure(HOLD_S);
const pings = adapter.stats().pings - pingsBefore;
const rssHeld = pct(held.rssKiB, 50);

const row = {
  kind: "c10k",
  transport: a.transport,
  store: a.store,
  conns: crowd.length,
  rooms: ROOMS,
  heartbeat_ms: Number(a.heartbeat),
  connect_s: +connectS.toFixed(1),
  conns_per_s: Math.round(crowd.length / connectS),
  closed_while_connecting: closedConnecting,
  closed_while_held: closed - closedConnecting,
  generator_loop_delay_ms_max_connecting: +lagConnectingMs.toFixed(1),
  generator_loop_delay_ms_max_held: +(lag.max / 1e6).toFixed(1),
  errors: adapter.stats().errors,
  pings_answered_while_held: pings,
  relay_fd_limit: relayFds,
  relay_rss_mib_start: +(rssStart / 1024).toFixed(1),
  relay_rss_mib_held: +(rssHeld / 1024).toFixed(1),
  relay_rss_kib_per_conn: +((rssHeld - rssStart) / Math.max(1, crowd.length)).toFixed(2),
  healthz_ms_idle_p50: +pct(idle.health, 50).toFixed(2),
  healthz_ms_p50: +pct(held.health, 50).toFixed(2),
  healthz_ms_p90: +pct(held.health, 90).toFixed(2),
  healthz_ms_max: +Math.max(...held.health).toFixed(2),
  healthz_samples: held.health.length,
  pair_rtt_ms_idle_p50: +pct(idle.rtts, 50).toFixed(3),
  pair_rtt_ms_idle_p99: +pct(idle.rtts, 99).toFixed(3),
  pair_rtt_ms_p50: +pct(held.rtts, 50).toFixed(3),
  pair_rtt_ms_p99: +pct(held.rtts, 99).toFixed(3),
  pair_round_trips: held.rtts.length,
  loadavg_1m: +(readFileSync("/proc/loadavg", "utf8").split(" ")[0]),
};
console.log(JSON.stringify(row));
if (a.out) appendFileSync(a.out, JSON.stringify(row) + "\n");

const aims = [
  [
    `${N} authenticated connections held, ${ROOMS} rooms, heartbeats answered, none dropped`,
    `${row.conns} held, ${row.pings_answered_while_held} pings answered, ${closed} closed (${closedConnecting} while connecting; ${
      JSON.stringify(row.errors)
    }; generator loop delay max ${row.generator_loop_delay_ms_max_connecting} / ${row.generator_loop_delay_ms_max_held} ms)`,
    row.conns === N && closed === 0 && pings > 0,
  ],
  [
    "relay RSS reported",
    `${row.relay_rss_mib_start} MiB after start, ${row.relay_rss_mib_held} MiB held (${row.relay_rss_kib_per_conn} KiB/conn)`,
    true,
  ],
  [
    "/healthz under 10 ms (p90)",
    `p50 ${row.healthz_ms_p50} ms, p90 ${row.healthz_ms_p90} ms, max ${row.healthz_ms_max} ms (${row.healthz_samples} GETs)`,
    row.healthz_ms_p90 < 10,
  ],
  [
    "pair at its usual latency (p50 <= 1.5x, p99 <= 2x the empty relay's)",
    `p50 ${row.pair_rtt_ms_p50} vs ${row.pair_rtt_ms_idle_p50} ms, p99 ${row.pair_rtt_ms_p99} vs ${row.pair_rtt_ms_idle_p99} ms`,
    row.pair_rtt_ms_p50 <= 1.5 * row.pair_rtt_ms_idle_p50 &&
    row.pair_rtt_ms_p99 <= 2 * row.pair_rtt_ms_idle_p99,
  ],
];
console.error(`\nc10k, ${a.transport}${a.store ? " --store" : ""}, load ${row.loadavg_1m}:`);
for (const [aim, got, ok] of aims) console.error(`  ${ok ? "met   " : "MISSED"}  ${aim}: ${got}`);

for (const c of crowd) c.close();
pairA.close();
pairB.close();
await sleep(200);
await relay.stop();
process.exit(0);
