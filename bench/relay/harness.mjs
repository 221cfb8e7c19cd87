// Finding and preparing the shared relay harness (../shared/bench), shared by run.mjs and
// memory.mjs: its folder, its npm dependencies, and a quiet machine before measuring.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
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
 * The harness is never written to: it runs from a private copy under the temp dir (made once
 * per harness version, reused), because running it writes files beside it (the ngircd-nodelay
 * shim in build/, npm dependencies). The copy links the harness's node_modules when it has
 * them, else runs `npm install` (ws, deno) in the copy. Returns the copy's folder.
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
  const version = ["bench.mjs", "lib/workloads.mjs", "lib/relays.mjs", "package.json"]
    .map((f) => Math.round(statSync(join(shared, f)).mtimeMs)).join("-");
  const dir = join(tmpdir(), `hush-relay-bench-harness-${version}`);
  if (!existsSync(join(dir, "bench.mjs"))) {
    mkdirSync(dir, { recursive: true });
    cpSync(shared, dir, {
      recursive: true,
      filter: (src) => !/\/(node_modules|results|build)(\/|$)/.test(src.slice(shared.length)),
    });
    execFileSync("chmod", ["-R", "u+w", dir]);
  }
  if (!existsSync(join(dir, "node_modules/ws"))) {
    if (existsSync(join(shared, "node_modules/ws"))) {
      symlinkSync(join(shared, "node_modules"), join(dir, "node_modules"));
    } else {
      console.error(`bench/relay: npm install in ${dir}`);
      const r = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
        cwd: dir,
        stdio: "inherit",
      });
      if (r.status !== 0) fail(`npm install failed in ${dir}`);
    }
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
