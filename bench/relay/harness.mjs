// Finding and preparing the shared relay harness (../shared/bench), shared by run.mjs and
// memory.mjs: its folder, its npm dependencies, and a quiet machine before measuring.
import { execFileSync, spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Loads the harness: its folder (a private copy with node_modules when the shared one is
 * read-only and has none), the \`ws\` class, lib/conn.mjs and lib/relays.mjs.
 */
export async function loadHarness(shared) {
  const dir = prepareHarness(shared);
  const require = createRequire(join(dir, "package.json"));
  return {
    dir,
    WebSocket: require("ws"),
    conn: await import(pathToFileURL(join(dir, "lib/conn.mjs")).href),
    relaysLib: await import(pathToFileURL(join(dir, "lib/relays.mjs")).href),
  };
}

/** Exit with a clear message. */
export function fail(message) {
  console.error(`bench/relay: error: ${message}`);
  process.exit(2);
}

/**
 * The harness needs its npm dependencies (ws, deno). When the shared folder has none and is
 * read-only, use a private copy under the temp dir (made once, reused), with `npm install` run
 * there. Returns the folder to import from.
 */
function prepareHarness(shared) {
  if (!existsSync(join(shared, "bench.mjs")) || !existsSync(join(shared, "lib/workloads.mjs"))) {
    fail(
      `the shared relay harness was not found at ${shared}\n` +
        "  This generator reuses its workloads, scheduling and measurements instead of copying\n" +
        "  them. Point --shared (or HUSH_SHARED_BENCH) at a checkout of it; the baselines and\n" +
        "  their figures are described in its README.md.",
    );
  }
  if (existsSync(join(shared, "node_modules/ws"))) return shared;
  let writable = true;
  try {
    accessSync(shared, constants.W_OK);
  } catch {
    writable = false;
  }
  let dir = shared;
  if (!writable) {
    const stamp = Math.round(statSync(join(shared, "package-lock.json")).mtimeMs);
    dir = join(tmpdir(), `hush-relay-bench-harness-${stamp}`);
    if (!existsSync(join(dir, "node_modules/ws"))) {
      console.error(`bench/relay: ${shared} is read-only; using a copy in ${dir}`);
      mkdirSync(dir, { recursive: true });
      cpSync(shared, dir, {
        recursive: true,
        filter: (src) => !/\/(node_modules|results|build)(\/|$)/.test(src.slice(shared.length)),
      });
      execFileSync("chmod", ["-R", "u+w", dir]);
    }
  }
  if (!existsSync(join(dir, "node_modules/ws"))) {
    console.error(`bench/relay: npm install in ${dir}`);
    const r = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
      cwd: dir,
      stdio: "inherit",
    });
    if (r.status !== 0) fail(`npm install failed in ${dir}`);
  }
  return dir;
}

/** Waits (at most maxS seconds) until both CPUs were >= 85% idle over 2 s; reports how idle. */
export async function waitQuiet(maxS) {
  const idle = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(
      Number,
    );
    return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
  };
  const end = Date.now() + maxS * 1000;
  let pct = 0;
  do {
    const a = idle();
    await new Promise((r) => setTimeout(r, 2000));
    const b = idle();
    pct = (100 * (b.idle - a.idle)) / (b.total - a.total);
    if (pct >= 85) break;
    console.error(`bench/relay: CPUs only ${pct.toFixed(0)}% idle, waiting for a quiet machine`);
  } while (Date.now() < end);
  console.error(`bench/relay: CPUs ${pct.toFixed(0)}% idle before the run`);
}
