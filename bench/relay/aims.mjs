// The performance aims of issues 3 and 13, checked against one invocation's summary (medians over
// runs, all relays measured side by side in the same invocation). Issue 13's WebSocket aims: W0,
// W1, W2 and W3 each at least 0.9x the trivial Deno WebSocket forwarder (ws-deno), and W1's RTT
// p99 no worse than mosquitto's on both transports.

const fmt = (x) => {
  if (!Number.isFinite(x)) return "-";
  if (Math.abs(x) >= 10000) return `${(x / 1000).toFixed(0)}k`;
  if (Math.abs(x) >= 1000) return `${(x / 1000).toFixed(1)}k`;
  return String(Math.round(x * 10) / 10);
};

/**
 * @param lines the invocation's JSON lines (objects); its `summary` line is read
 * @returns the aims as a text table: aim, Hush's figure, the target, met / MISSED / n/a
 */
export function checkAims(lines) {
  const summary = lines.findLast((l) => l.kind === "summary");
  if (!summary) return "aims: no summary line";
  const row = (relay, workload) =>
    summary.rows.find((r) => r.relay === relay && r.workload === workload && !r.note);
  const checks = [];
  const add = (aim, value, target, ok) =>
    checks.push([aim, value, target, ok === undefined ? "n/a" : ok ? "met" : "MISSED"]);

  for (const w of ["W2", "W3"]) {
    const hush = row("hush-tcp", w)?.rate;
    const ngircd = row("ngircd", w)?.rate;
    const mosquitto = row("mosquitto", w)?.rate;
    const target = Math.max(ngircd ?? NaN, 2 * (mosquitto ?? NaN));
    add(
      `${w} TCP rate >= ngircd and >= 2x mosquitto`,
      fmt(hush),
      `>= ${fmt(target)} (ngircd ${fmt(ngircd)}, mosquitto ${fmt(mosquitto)})`,
      Number.isFinite(hush) && Number.isFinite(target) ? hush >= target : undefined,
    );
  }
  for (const w of ["W0", "W1", "W2", "W3"]) {
    const hush = row("hush-ws", w)?.rate;
    const ceiling = row("ws-deno", w)?.rate;
    // Relay CPU per message too: steadier than rates when the machine is shared.
    const cpu = row("hush-ws", w)?.relay_us_per_msg / row("ws-deno", w)?.relay_us_per_msg;
    add(
      `${w} WS rate >= 0.9x ws-deno (issue 13)`,
      Number.isFinite(hush / ceiling)
        ? `${fmt(hush)} (x${(hush / ceiling).toFixed(2)}; CPU/msg x${cpu.toFixed(2)})`
        : "-",
      `>= ${fmt(0.9 * ceiling)} (ws-deno ${fmt(ceiling)})`,
      Number.isFinite(hush / ceiling) ? hush >= 0.9 * ceiling : undefined,
    );
  }
  const mosquittoP99 = row("mosquitto", "W1")?.p99_us;
  for (const relay of ["hush-tcp", "hush-ws"]) {
    const p99 = row(relay, "W1")?.p99_us;
    add(
      `W1 p99 ${relay} <= mosquitto's (issue 13)`,
      `${fmt(p99)} us`,
      `<= ${fmt(mosquittoP99)} us`,
      Number.isFinite(p99) && Number.isFinite(mosquittoP99) ? p99 <= mosquittoP99 : undefined,
    );
  }
  // Issue 3 asked 4 KiB (TCP) and 20 KiB (WebSocket); issue 13 asks 12 KiB over WebSocket.
  for (const [relay, limit] of [["hush-tcp", 4], ["hush-ws", 12]]) {
    const kib = row(relay, "C")?.rss_kib_per_conn;
    add(
      `idle connection memory ${relay}`,
      `${fmt(kib)} KiB`,
      `<= ${limit} KiB`,
      Number.isFinite(kib) ? kib <= limit : undefined,
    );
  }
  // Nagle's signature: a p99 pinned near 40 ms (delayed ACK) while the relay is mostly idle.
  for (const relay of ["hush-tcp", "hush-ws"]) {
    for (const w of ["W0", "W1", "W3"]) {
      const r = row(relay, w);
      if (!r) continue;
      const pinned = r.p99_us >= 36_000 && r.p99_us <= 48_000 && r.relay_cpu_pct < 60;
      add(
        `${w} ${relay} p99 not pinned near 40 ms`,
        `${fmt(r.p99_us)} us at ${fmt(r.relay_cpu_pct)}% CPU`,
        "not 36-48 ms with an idle relay",
        !pinned,
      );
    }
  }
  // Issue 13: the SQLite store against the in-memory relay, RSS under load against the forwarder.
  const results = lines.filter((l) => l.kind === "result");
  const median = (xs) => {
    const s = xs.filter(Number.isFinite).sort((x, y) => x - y);
    return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
  };
  const rssUnderLoad = (relay, w) =>
    median(
      results.filter((r) => r.relay === relay && r.workload === w).map((r) => r.relay_rss_mib),
    );
  for (const [store, memory] of [["hush-tcp-store", "hush-tcp"], ["hush-ws-store", "hush-ws"]]) {
    for (const w of ["W2", "W3"]) {
      const s = row(store, w), m = row(memory, w);
      if (!s || !m) continue;
      const cpu = m.relay_us_per_msg / s.relay_us_per_msg;
      add(
        `${w} ${store} >= 0.5x ${memory} (issue 13)`,
        `${fmt(s.rate)} (x${(s.rate / m.rate).toFixed(2)}; CPU/msg x${cpu.toFixed(2)})`,
        `>= ${fmt(0.5 * m.rate)} (${memory} ${fmt(m.rate)})`,
        s.rate >= 0.5 * m.rate,
      );
    }
  }
  for (const [relay, forwarder] of [["hush-tcp", "raw-deno"], ["hush-ws", "ws-deno"]]) {
    for (const w of ["W2", "W3"]) {
      const mine = rssUnderLoad(relay, w), theirs = rssUnderLoad(forwarder, w);
      if (!Number.isFinite(mine) || !Number.isFinite(theirs)) continue;
      add(
        `${w} RSS under load ${relay} <= 1.5x ${forwarder} (issue 13)`,
        `${fmt(mine)} MiB (x${(mine / theirs).toFixed(2)})`,
        `<= ${fmt(1.5 * theirs)} MiB (${forwarder} ${fmt(theirs)})`,
        mine <= 1.5 * theirs,
      );
    }
  }
  const head = ["aim (issue 3, 13)", "Hush", "target (same invocation)", "status"];
  const widths = head.map((h, i) => Math.max(h.length, ...checks.map((c) => c[i].length)));
  const line = (c) => c.map((x, i) => x.padEnd(widths[i])).join(" | ");
  return `\n${line(head)}\n${widths.map((w) => "-".repeat(w)).join("-|-")}\n` +
    checks.map(line).join("\n") + "\n";
}

// As a command: node bench/relay/aims.mjs FILE.jsonl... prints the check of each invocation.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import("node:fs");
  for (const file of process.argv.slice(2)) {
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const config = lines.find((l) => l.kind === "config");
    console.log(`${file} (load ${config?.machine?.loadavg_1m}):${checkAims(lines)}`);
  }
}
