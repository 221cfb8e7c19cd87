#!/usr/bin/env node
// Reads a V8 .cpuprofile (from `deno run --cpu-prof`, e.g. via
// `node bench/relay/run.mjs --deno-arg=--cpu-prof --deno-arg=--cpu-prof-dir=/tmp/prof ...`)
// and prints where the relay's CPU went: functions by self time, and files by self time.
//   node bench/relay/profile_top.mjs FILE.cpuprofile [--top 30]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "30" } },
});
if (!positionals.length) {
  console.error("usage: node bench/relay/profile_top.mjs FILE.cpuprofile [--top N]");
  process.exit(2);
}
const top = Number(values.top);

for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, "utf8"));
  // Self time per node: the sampling interval after each sample belongs to that sample's node.
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map(), byFile = new Map();
  let total = 0;
  for (const node of p.nodes) {
    const t = self.get(node.id) ?? 0;
    total += t;
    const f = node.callFrame;
    const url = f.url.replace(/^file:\/\/.*?\/(main|work)\//, "").replace(/^.*\/npm\//, "npm:");
    const key = `${f.functionName || "(anonymous)"} ${url}:${f.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + t);
    const fileKey = url || f.functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + t);
  }
  const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  const ms = (t) => `${(t / 1000).toFixed(0).padStart(7)} ms`;
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  console.log("self time by function:");
  for (const [k, t] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(t)} ${ms(t)}  ${k}`);
  }
  console.log("self time by file:");
  for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, Math.min(top, 20))) {
    console.log(`  ${pct(t)} ${ms(t)}  ${k}`);
  }
}
