#!/usr/bin/env node
// Hush relay load generator: the shared relay harness (../shared/bench: workloads C and W0-W3,
// scheduling, /proc CPU and RSS sampling, JSON lines, the table) with two more relays in it,
// `hush-tcp` and `hush-ws`: this repository's `server.ts`, driven by real Hush clients
// (hush_adapter.mjs) over each transport. Everything stays on 127.0.0.1.
//
//   node bench/relay/run.mjs [--shared DIR] [--server-arg=--flag ...] [bench.mjs flags...]
//
// Runs on Node 20 like the harness. See bench/relay/README.md.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHushAdapter } from "./hush_adapter.mjs";
import { createIdentityPool } from "./identities.mjs";
import { connRelaySpec, hushRelaySpecs } from "./relay_spec.mjs";
import { checkAims } from "./aims.mjs";
import { fail, loadHarness, waitQuiet } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");

const USAGE = `usage: node bench/relay/run.mjs [options] [bench.mjs flags...]
  --shared DIR        the shared harness (default: $HUSH_SHARED_BENCH or ${
  join(repo, "../shared/bench")
})
  --server-arg=FLAG   one more flag for server.ts (repeatable), e.g. --server-arg=--max-connections=5000
  --deno-arg=FLAG     one more flag for \`deno run\` (repeatable), e.g. --deno-arg=--cpu-prof
  --variant=NAME:PATH also run another checkout's server.ts as NAME-tcp and NAME-ws (A/B a patch
                      in the same invocation; add them to --relays)
  --wait-quiet=S      first wait (at most S s) until the CPUs are >= 85% idle over 2 s: other
                      processes on the machine skew every figure
  --lazy-ack          also run hush-tcp-lazyack / hush-ws-lazyack: the same relay, clients that ACK
                      as the Hush client does (chat/_ack_sender.ts): at 64 unacked DELIVERs or 50 ms
                      after the first, not once per tick
  --no-aims           do not print the issue 3 aims check after the table
  --help              this text, then the harness's own flags
Every other flag goes to the harness's bench.mjs. Defaults added here:
  --relays hush-tcp,hush-ws,raw-deno,ws-deno,mosquitto,ngircd,ngircd-nodelay
  --baseline ws-deno   --out bench/results/<time>.jsonl (git-ignored)
Relays added: hush-tcp (server.ts, raw TCP transport), hush-ws (server.ts, WebSocket transport),
conn-deno (bench/relay/conn_relay.ts: the raw forwarder on Deno.Conn, the relay's I/O layer).`;

// Split our own flags from the harness's.
const own = { shared: process.env.HUSH_SHARED_BENCH ?? join(repo, "../shared/bench") };
const serverArgs = [], denoArgs = [];
const variants = []; // "NAME:PATH": another checkout's server.ts as NAME-tcp and NAME-ws
let help = false, aims = true, waitQuietS = 0, lazyAck = false;
const pass = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === "--shared") own.shared = argv[++i];
  else if (arg.startsWith("--shared=")) own.shared = arg.slice("--shared=".length);
  else if (arg.startsWith("--server-arg=")) serverArgs.push(arg.slice("--server-arg=".length));
  else if (arg.startsWith("--deno-arg=")) denoArgs.push(arg.slice("--deno-arg=".length));
  else if (arg.startsWith("--variant=")) variants.push(arg.slice("--variant=".length));
  else if (arg.startsWith("--wait-quiet=")) waitQuietS = Number(arg.slice("--wait-quiet=".length));
  else if (arg === "--lazy-ack") lazyAck = true;
  else if (arg === "--no-aims") aims = false;
  else if (arg === "--help" || arg === "-h") {
    help = true;
    pass.push("--help"); // the harness prints its flags and exits
  } else pass.push(arg);
}
const has = (flag) => pass.some((a) => a === flag || a.startsWith(`${flag}=`));
const valueOf = (flag) => {
  const i = pass.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  return pass[i].includes("=") ? pass[i].slice(flag.length + 1) : pass[i + 1];
};

if (help) console.log(USAGE);

const { dir: harness, WebSocket, conn, relaysLib } = await loadHarness(resolve(own.shared));

const deno = relaysLib.findDeno();
if (!deno) fail("deno was not found (set DENO=/path/to/deno)");

const specs = hushRelaySpecs({ repo, deno, serverArgs, denoArgs });
relaysLib.RELAYS["conn-deno"] = connRelaySpec({ repo, deno, relaysLib });
for (const v of variants) {
  const [name, path] = [v.slice(0, v.indexOf(":")), v.slice(v.indexOf(":") + 1)];
  if (!name || !existsSync(join(path, "server.ts"))) {
    fail(`--variant ${v}: no server.ts in ${path}`);
  }
  Object.assign(
    specs,
    hushRelaySpecs({ repo: resolve(path), deno, serverArgs, denoArgs, prefix: name }),
  );
}
// Clients sign with this repository's crypto/ed25519.ts, bundled for Node.
const hushNames = Object.keys(specs).flatMap((n) => [n, `${n}-lazyack`]);
const pool = await createIdentityPool({ repo, deno, size: identitiesNeeded(hushNames) });
for (const [name, spec] of Object.entries(specs)) {
  const make = (lazy) =>
    createHushAdapter({
      transport: spec.transport,
      WebSocket,
      conn,
      identities: pool,
      lazyAck: lazy,
    });
  relaysLib.RELAYS[name] = { ...spec, adapter: make(null) };
  if (lazyAck) {
    relaysLib.RELAYS[`${name}-lazyack`] = { ...spec, adapter: make({ every: 64, delayMs: 50 }) };
  }
}

if (!help) {
  if (!has("--relays")) {
    pass.push("--relays", "hush-tcp,hush-ws,raw-deno,ws-deno,mosquitto,ngircd,ngircd-nodelay");
  }
  if (!has("--baseline")) pass.push("--baseline", "ws-deno");
  if (!has("--out")) {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    pass.push("--out", join(repo, "bench/results", `hush-${stamp}.jsonl`));
  }
}

if (waitQuietS > 0 && !help) await waitQuiet(waitQuietS);

// Hand over to the harness: same process, same module instances (RELAYS now has Hush in it).
process.argv = [process.argv[0], join(harness, "bench.mjs"), ...pass];
await import(pathToFileURL(join(harness, "bench.mjs")).href);

if (!help && aims) {
  const out = valueOf("--out");
  const lines = readFileSync(out, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  console.error(checkAims(lines));
}
if (!help) {
  console.error(`Hush clients: ${pool.stats()}`);
}

/** How many identities the whole invocation will use (ids are never reused), with margin. */
function identitiesNeeded(hushRelays) {
  const quick = has("--quick");
  const n = (flag, full, fast) => Number(valueOf(flag) ?? (quick ? fast : full));
  const runs = n("--runs", 5, 1);
  const perRun = n("--conns", 1000, 200) + 2 + 4 * n("--pairs", 50, 20) + n("--members", 50, 20);
  const warmup = 2 * 16 + 2 * 2 * 8;
  const relays = (valueOf("--relays") ?? "hush-tcp,hush-ws").split(",")
    .filter((r) => hushRelays.includes(r)).length;
  return relays * (runs * perRun + warmup) + 16;
}
