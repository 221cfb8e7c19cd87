// Ed25519 identities for the load generator's clients, from this repository's crypto/ed25519.ts
// (bundled for Node with `deno bundle`, so the clients sign exactly as Hush clients do).
// Identities are made before the workloads start: a real client has its identity already, and
// the harness never reuses a client id within an invocation, so each connection needs its own.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

/**
 * Bundle crypto/ed25519.ts for Node and import it.
 * @returns the module: generateIdentityKeyPair(), sign(privateKey, message), verify(...)
 */
export async function loadEd25519({ repo, deno }) {
  const dir = mkdtempSync(join(tmpdir(), "hush-relay-bench-ed25519-"));
  const out = join(dir, "ed25519.mjs");
  try {
    const r = spawnSync(deno, [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--config",
      join(repo, "deno.json"),
      "-o",
      out,
      join(repo, "crypto/ed25519.ts"),
    ], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`deno bundle crypto/ed25519.ts failed:\n${r.stderr}`);
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A pool of `size` identities made up front; take() hands out a fresh one (made on demand,
 * and counted, when the pool runs out).
 */
export async function createIdentityPool({ repo, deno, size }) {
  const ed = await loadEd25519({ repo, deno });
  const t0 = performance.now();
  const pool = Array.from({ length: size }, () => ed.generateIdentityKeyPair());
  const madeS = (performance.now() - t0) / 1000;
  let next = 0, onDemand = 0;
  return {
    sign: (privateKey, message) => ed.sign(privateKey, message),
    take() {
      if (next < pool.length) {
        const pair = pool[next];
        pool[next++] = undefined; // let it go once used
        return pair;
      }
      onDemand++;
      return ed.generateIdentityKeyPair();
    },
    stats: () =>
      `${size} Ed25519 identities made before the run (${madeS.toFixed(1)} s), ${next} used, ` +
      `${onDemand} made during the run`,
  };
}
