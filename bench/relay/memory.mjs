#!/usr/bin/env node
// Memory per idle connection, after a full garbage collection in the relay: the retained cost.
// The harness's C figure (RSS growth while 1,000 connections open) also counts the garbage the
// connects leave behind (handshakes, notices), which a GC'd runtime keeps as heap until it
// collects; this measures what stays. Works for every Deno relay (Hush, raw-deno, ws-deno): each
// runs with --inspect on a loopback port, and a full GC is asked for over the DevTools protocol
// (HeapProfiler.collectGarbage) before each reading.
//   node bench/relay/memory.mjs [--conns 1000] [--relays hush-tcp,hush-ws,raw-deno,ws-deno]
// Prints one JSON line per relay (and a table on stderr).
import { resolve } from "node:path";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadHarness } from "./harness.mjs";
import { createHushAdapter } from "./hush_adapter.mjs";
import { createIdentityPool } from "./identities.mjs";
import { connRelaySpec, hushRelaySpecs } from "./relay_spec.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values: a } = parseArgs({
  options: {
    conns: { type: "string", default: "1000" },
    relays: { type: "string", default: "hush-tcp,hush-ws,raw-deno,ws-deno" },
    shared: { type: "string", default: process.env.HUSH_SHARED_BENCH ?? `${repo}/../shared/bench` },
    // Heap snapshots before and after: the retained growth per connection by constructor.
    snapshot: { type: "boolean", default: false },
  },
});
const N = Number(a.conns);
const names = a.relays.split(",");
const { WebSocket, conn, relaysLib } = await loadHarness(resolve(a.shared));
const deno = relaysLib.findDeno();
const pool = await createIdentityPool({ repo, deno, size: (N + 20) * names.length });
const inspectPorts = new Map();

// Every relay runs under --inspect=127.0.0.1:PORT (a free loopback port).
const specs = hushRelaySpecs({ repo, deno });
relaysLib.RELAYS["conn-deno"] = connRelaySpec({ repo, deno, relaysLib });
for (const name of names) {
  const base = specs[name] ?? relaysLib.RELAYS[name];
  if (!base) throw new Error(`unknown relay ${name}`);
  const adapter = specs[name]
    ? createHushAdapter({ transport: specs[name].transport, WebSocket, conn, identities: pool })
    : base.adapter;
  const inspect = await relaysLib.freePort();
  inspectPorts.set(name, inspect);
  relaysLib.RELAYS[`${name}+inspect`] = {
    adapter,
    describe: base.describe,
    start(port, dir) {
      const how = base.start(port, dir);
      if (!how || how.cmd !== deno || how.args[0] !== "run") return null; // Deno relays only
      return { ...how, args: ["run", `--inspect=127.0.0.1:${inspect}`, ...how.args.slice(1)] };
    },
  };
}

/** A DevTools protocol session with the relay's V8. */
async function devtools(port) {
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(list[0].webSocketDebuggerUrl);
  await new Promise((ok, ko) => (ws.once("open", ok), ws.once("error", ko)));
  let id = 0;
  const waiting = new Map();
  let chunks = [];
  ws.on("message", (d) => {
    const m = JSON.parse(d);
    if (m.method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(m.params.chunk);
    else waiting.get(m.id)?.(m.result);
  });
  const call = (method, params = {}) =>
    new Promise((ok) => {
      waiting.set(++id, ok);
      ws.send(JSON.stringify({ id, method, params }));
    });
  /** Self size per (node type, constructor name) in a fresh heap snapshot. */
  const snapshot = async () => {
    chunks = [];
    await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const snap = JSON.parse(chunks.join(""));
    chunks = [];
    const f = snap.snapshot.meta.node_fields, types = snap.snapshot.meta.node_types[0];
    const [iType, iName, iSize] = ["type", "name", "self_size"].map((k) => f.indexOf(k));
    const by = new Map();
    for (let i = 0; i < snap.nodes.length; i += f.length) {
      const key = `${types[snap.nodes[i + iType]]} ${snap.strings[snap.nodes[i + iName]]}`.slice(
        0,
        80,
      );
      const e = by.get(key) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += snap.nodes[i + iSize];
      by.set(key, e);
    }
    return by;
  };
  return { call, snapshot, close: () => ws.close() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rows = [];
let nextId = 9_000_000; // relay-visible ids, never reused
for (const name of names) {
  const relay = await relaysLib.startRelay(`${name}+inspect`);
  if (!relay) {
    console.error(`${name}: not a Deno relay, skipped`);
    continue;
  }
  const adapter = relaysLib.RELAYS[`${name}+inspect`].adapter;
  const target = { port: relay.port, host: "127.0.0.1" };
  try {
    const dt = await devtools(inspectPorts.get(name));
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        await dt.call("HeapProfiler.collectGarbage");
        await sleep(200);
      }
      const heap = await dt.call("Runtime.getHeapUsage");
      return {
        rssKiB: relaysLib.procUsage(relay.pid).rssKiB,
        heapKiB: heap.usedSize / 1024,
        // Committed to the heap (used or not): pages a burst of garbage grew and a GC kept mapped.
        heapTotalKiB: heap.totalSize / 1024,
      };
    };
    // Warm up the code paths with a few connections, then measure N idle ones.
    const warm = [];
    for (let i = 0; i < 16; i++) warm.push(await adapter.connect(nextId++, target));
    for (const c of warm) c.close();
    await sleep(500);
    const before = await settle();
    const snapBefore = a.snapshot ? await dt.snapshot() : null;
    const clients = [];
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < N) {
        next++;
        clients.push(await adapter.connect(nextId++, target));
      }
    }));
    const connectS = (performance.now() - t0) / 1000;
    await sleep(500);
    const after = await settle();
    if (snapBefore) {
      const snapAfter = await dt.snapshot();
      const diff = [...snapAfter].map(([k, e]) => {
        const b = snapBefore.get(k) ?? { count: 0, bytes: 0 };
        return [k, (e.count - b.count) / clients.length, (e.bytes - b.bytes) / clients.length];
      }).filter((d) => Math.abs(d[2]) >= 8).sort((x, y) => y[2] - x[2]);
      console.error(`${name}: retained heap growth per connection by constructor (bytes, count):`);
      for (const [k, n, b] of diff.slice(0, 30)) {
        console.error(`  ${b.toFixed(0).padStart(6)} B  x${n.toFixed(2).padStart(5)}  ${k}`);
      }
    }
    const row = {
      kind: "memory",
      relay: name,
      conns: clients.length,
      conns_per_s: Math.round(clients.length / connectS),
      rss_kib_per_conn_after_gc: +((after.rssKiB - before.rssKiB) / clients.length).toFixed(2),
      heap_kib_per_conn_after_gc: +((after.heapKiB - before.heapKiB) / clients.length).toFixed(2),
      heap_total_kib_per_conn_after_gc:
        +((after.heapTotalKiB - before.heapTotalKiB) / clients.length)
          .toFixed(2),
      rss_mib: +(after.rssKiB / 1024).toFixed(1),
      heap_mib: +(after.heapKiB / 1024).toFixed(1),
    };
    console.log(JSON.stringify(row));
    rows.push(row);
    for (const c of clients) c.close();
    dt.close();
    await sleep(300);
  } finally {
    await relay.stop();
  }
}
console.error(
  "\nrelay      | conns | RSS KiB/conn after GC | V8 heap KiB/conn after GC (used / committed) | conns/s",
);
for (const r of rows) {
  const heap = `${r.heap_kib_per_conn_after_gc} / ${r.heap_total_kib_per_conn_after_gc}`;
  console.error(
    `${r.relay.padEnd(10)} | ${String(r.conns).padEnd(5)} | ${
      String(r.rss_kib_per_conn_after_gc).padEnd(21)
    } | ${heap.padEnd(44)} | ${r.conns_per_s}`,
  );
}
// Issue 13's aims: at most 4 KiB (TCP) and 12 KiB (WebSocket) of RSS per idle connection,
// measured after a full GC.
const AIMS = { "hush-tcp": 4, "hush-tcp-store": 4, "hush-ws": 12, "hush-ws-store": 12 };
for (const r of rows) {
  const limit = AIMS[r.relay];
  if (limit === undefined) continue;
  const ok = r.rss_kib_per_conn_after_gc <= limit;
  console.error(
    `${
      ok ? "met   " : "MISSED"
    }  ${r.relay}: RSS ${r.rss_kib_per_conn_after_gc} KiB per idle connection after GC (aim <= ${limit} KiB; V8 heap ${r.heap_kib_per_conn_after_gc} KiB)`,
  );
}
process.exit(0);
