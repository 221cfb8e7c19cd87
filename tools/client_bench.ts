/**
 * Client benchmark: how long from starting `client.ts` to its first message delivered end to
 * end, and the end-to-end latency of messages between two clients through a relay (p50, p99).
 *
 * Everything is real: `server.ts` and `client.ts --json` child processes on loopback, timed by
 * this driver from writing a line to one client's stdin until the other client's stdout reports
 * the decrypted message. Run: `deno run -A tools/client_bench.ts [--messages 200] [--starts 5]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ChildClient } from "../terminal/child_client.ts";
import { ChildRelay } from "../terminal/child_relay.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    messages: { type: "string", default: "200" },
    starts: { type: "string", default: "5" },
    transport: { type: "string", default: "tcp" },
  },
});
const MESSAGES = Number(values.messages);
const STARTS = Number(values.starts);
const WAIT = { timeoutMs: 30_000 };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

function summary(
  samples: number[],
): { n: number; p50: number; p99: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0] ?? NaN),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

const dir = await Deno.makeTempDir({ prefix: "hush-bench-" });
const relay = await ChildRelay.start();
const server = values.transport === "ws" ? relay.wsUrl : relay.tcpUrl;
const clients: ChildClient[] = [];
try {
  const bob = ChildClient.start({ nick: "bob", server, home: `${dir}/bob` });
  clients.push(bob);
  await bob.waitForType("ready", () => true, WAIT);

  // 1. From starting client.ts to its first message delivered (fresh and existing homes).
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    for (const [samples, home] of [[cold, `${dir}/a${i}`], [warm, `${dir}/a${i}`]] as const) {
      const text = `first message ${samples === cold ? "cold" : "warm"} ${i}`;
      const started = performance.now();
      const alice = ChildClient.start({ nick: `a${i}`, server, home });
      clients.push(alice);
      await alice.send(`@bob ${text}`);
      await bob.waitForType("message", (e) => e.text === text, WAIT);
      samples.push(performance.now() - started);
      await alice.end();
      clients.pop();
    }
  }

  // 2. Latency between two connected clients, private (Double Ratchet) and room (sender keys).
  const alice = ChildClient.start({ nick: "alice", server, home: `${dir}/alice` });
  clients.push(alice);
  await alice.waitForType("ready", () => true, WAIT);
  const measure = async (prefix: string, line: (text: string) => string) => {
    const samples: number[] = [];
    for (let i = -10; i < MESSAGES; i++) {
      const text = `${prefix} ${i}`;
      const since = bob.events.length;
      const started = performance.now();
      await alice.send(line(text));
      await bob.waitForType("message", (e) => e.text === text, { since, ...WAIT });
      if (i >= 0) samples.push(performance.now() - started); // the first 10 warm up
    }
    return samples;
  };
  const privateSamples = await measure("private", (t) => `@bob ${t}`);
  const roomSamples = await measure("room", (t) => t);

  const results = {
    transport: values.transport,
    startToFirstDeliveredMs: { freshHome: summary(cold), existingHome: summary(warm) },
    privateLatencyMs: summary(privateSamples),
    roomLatencyMs: summary(roomSamples),
  };
  console.log(JSON.stringify(results));
  const row = (name: string, s: ReturnType<typeof summary>) =>
    `| ${name} | ${s.n} | ${s.p50} | ${s.p99} | ${s.min} | ${s.max} |`;
  console.log(`\nclient.ts benchmark (${values.transport}, loopback, ms)\n`);
  console.log("| measure | n | p50 | p99 | min | max |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  console.log(
    row(
      "start to first message delivered, new identity",
      results.startToFirstDeliveredMs.freshHome,
    ),
  );
  console.log(
    row(
      "start to first message delivered, existing home",
      results.startToFirstDeliveredMs.existingHome,
    ),
  );
  console.log(row("private message, end to end", results.privateLatencyMs));
  console.log(row("room message (2 members), end to end", results.roomLatencyMs));
} finally {
  await Promise.all(clients.map((c) => c.stop()));
  await relay.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
