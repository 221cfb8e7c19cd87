/**
 * Web client benchmark, in real headless Chromium (Debian's `/usr/bin/chromium`, driven by
 * `playwright-core`), against a real `server.ts` child and real `client.ts --json` children, all
 * on 127.0.0.1:
 *
 * 1. `bundle`: the committed bundle (`web/dist/bundle.json`: html + js + css), raw and gzipped
 *    (aim: at most 250 KB gzipped, all of it).
 * 2. `load-to-connected`: a fresh browser context (new identity) opens `http://127.0.0.1:PORT/`
 *    (the relay serves the page), fills "Nick", clicks "Connect"; the time from navigation start
 *    to the status "Connection" saying `connected as NICK`, read in the page (`performance.now()`
 *    from a MutationObserver; aim: under 500 ms). Also click to connected.
 * 3. `latency`: one-way latency browser to terminal client, one message at a time, private and
 *    room: from the click on "Send" (a capturing click listener in the page, on the shared clock
 *    `performance.timeOrigin + performance.now()`) to the terminal client's stdout line with the
 *    `message` event parsed here (aim: p50 under 5 ms, as the terminal pair; the terminal pair's
 *    clock is stdin write to stdout line, bench/client/e2e_latency.ts). A third series sends the
 *    private messages with Enter in the "Message" box (clock: its capturing `keydown`): after a
 *    mouse click Chromium defers the page's tasks (IndexedDB completions included) until its next
 *    frame, after a key press it does not (README, "Where the browser's time goes").
 * 4. `first-message`: the first private message to a peer the browser never talked to (key
 *    bundle fetch, X3DH, first ratchet step), click to the peer's `message` line (aim: under
 *    100 ms); a fresh `client.ts` peer each time.
 * 5. `crypto`: per-primitive speed inside the page, the project's primitives (noble in a
 *    browser) next to WebCrypto (bench/web/crypto_page.ts).
 *
 * Run: `deno task bench:web` (= `deno run --allow-all bench/web/run.ts [--loads 10]
 * [--messages 200] [--firsts 10] [--no-crypto] [--out FILE]`). Prints a Markdown table and each
 * aim met or missed; writes JSON to `bench/web/results/<UTC date and time>.json` (or --out).
 * Every wait is bounded; a global timeout (600 s) kills everything.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { launchChromium, WebUser } from "../../tests/e2e/_web_harness.ts";
import { ChildClient } from "../../terminal/child_client.ts";
import { ChildRelay } from "../../terminal/child_relay.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { summarize, type Summary } from "../client/_stats.ts";
import { decodeFrame } from "../../protocol/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    loads: { type: "string", default: "10" },
    messages: { type: "string", default: "200" },
    firsts: { type: "string", default: "10" },
    "no-crypto": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const LOADS = Number(values.loads);
const MESSAGES = Number(values.messages);
const FIRSTS = Number(values.firsts);

const killer = setTimeout(() => {
  console.error("bench/web: global timeout (600 s)");
  Deno.exit(2);
}, 600_000);

/** Epoch milliseconds with sub-millisecond precision: the clock the page and this process share. */
const now = () => performance.timeOrigin + performance.now();

interface Aim {
  name: string;
  value: number;
  unit: string;
  aim: string;
  met: boolean;
}
const aims: Aim[] = [];
const results: Record<string, unknown> = {};

// 1. Bundle size.
{
  const bundle = JSON.parse(await Deno.readTextFile(`${ROOT}web/dist/bundle.json`)) as {
    html: string;
    js: string;
    css: string;
  };
  const sizes: Record<string, { raw: number; gzip: number }> = {};
  let raw = 0;
  let gz = 0;
  for (const part of ["html", "js", "css"] as const) {
    const bytes = new TextEncoder().encode(bundle[part]);
    const g = await gzip(bytes);
    sizes[part] = { raw: bytes.length, gzip: g };
    raw += bytes.length;
    gz += g;
  }
  results.bundle = { ...sizes, total: { raw, gzip: gz } };
  aims.push({
    name: "bundle, gzipped (html + js + css)",
    value: Math.round(gz / 100) / 10,
    unit: "KB",
    aim: "<= 250 KB",
    met: gz <= 250_000,
  });
}

const dir = await Deno.makeTempDir({ prefix: "hush-bench-web-" });
const relay = await ChildRelay.start();
const browser = await launchChromium();
const browserVersion = browser.version();
const children: ChildClient[] = [];
const users: WebUser[] = [];
const pageUrl = `http://127.0.0.1:${relay.port}/`;

/** Installs, in the page, the recorders of the connected time and of Send clicks. */
const RECORDERS = `(() => {
  window.__sendClicks = [];
  document.addEventListener("click", (e) => {
    const b = e.target instanceof Element ? e.target.closest("button") : null;
    if (b && (b.getAttribute("aria-label") || b.textContent || "").trim() === "Send") {
      window.__sendClicks.push(performance.timeOrigin + performance.now());
    }
  }, true);
  // Enter in the "Message" box sends too (the form's submit): the same clock.
  document.addEventListener("keydown", (e) => {
    const t = e.target instanceof Element ? e.target : null;
    if (e.key === "Enter" && t && t.getAttribute("aria-label") === "Message") {
      window.__sendClicks.push(performance.timeOrigin + performance.now());
    }
  }, true);
  document.addEventListener("click", (e) => {
    const b = e.target instanceof Element ? e.target.closest("button") : null;
    if (b && (b.getAttribute("aria-label") || b.textContent || "").trim() === "Connect") {
      window.__connectClick ??= performance.now();
    }
  }, true);
  const check = () => {
    if (window.__connectedAt !== undefined) return;
    for (const el of document.querySelectorAll('[role="status"]')) {
      if (/connected as /.test(el.textContent || "")) {
        window.__connectedAt = performance.now();
        return;
      }
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, characterData: true,
  });
})()`;

/**
 * A terminal peer with a fresh home, each `message` line time-stamped when parsed.
 *
 * @param nick Its nick.
 * @returns The client and its arrival times by text.
 */
async function terminalPeer(
  nick: string,
): Promise<{ client: ChildClient; arrivals: Map<string, number> }> {
  const arrivals = new Map<string, number>();
  const client = ChildClient.start(
    { nick, server: relay.tcpUrl, home: `${dir}/${nick}` },
    (e: ChatEvent) => {
      if (e.type === "message" && !e.own) arrivals.set(e.text, now());
    },
  );
  children.push(client);
  await client.waitForType("ready", () => true, { timeoutMs: 30_000 });
  return { client, arrivals };
}

/** Waits for `text` to arrive at a terminal peer; returns its arrival time. */
async function arrival(
  peer: { client: ChildClient; arrivals: Map<string, number> },
  text: string,
): Promise<number> {
  await peer.client.waitForType("message", (e) => e.text === text && !e.own, { timeoutMs: 30_000 });
  return peer.arrivals.get(text)!;
}

/**
 * When the first `send` frame at or after index `from` left the page, in epoch ms (the browser's
 * own time stamp of the frame, put on the wall clock with the WebSocket handshake's pair of times).
 */
function firstSendFrame(user: WebUser, from: number): number | undefined {
  for (const f of user.frames.slice(from)) {
    if (f.dir !== "sent") continue;
    try {
      if (decodeFrame(f.bytes, { maxFrameBytes: 1 << 24, from: "client" }).type === "send") {
        return user.wallClockOffsetMs === undefined
          ? performance.timeOrigin + f.at
          : f.browserTime + user.wallClockOffsetMs;
      }
    } catch {
      // Not one whole frame.
    }
  }
  return undefined;
}

/** The time of the last click on "Send" in the page, on the shared clock. */
async function lastSendClick(user: WebUser): Promise<number> {
  return await user.page.evaluate(`window.__sendClicks.at(-1)`) as number;
}

try {
  console.error("bench/web: load to connected...");
  // 2. Load to connected: a new user (a fresh context: new identity, keys made and published),
  // then the same user again (reload: the identity is in IndexedDB).
  const series = {
    fresh: {
      nav: [] as number[],
      load: [] as number[],
      click: [] as number[],
      sum: [] as number[],
    },
    returning: {
      nav: [] as number[],
      load: [] as number[],
      click: [] as number[],
      sum: [] as number[],
    },
  };
  const measure = async (user: WebUser, into: typeof series.fresh, nick: string, keep: boolean) => {
    await user.connect(nick);
    const t = await user.page.evaluate(
      `({ connected: window.__connectedAt, click: window.__connectClick,
          load: performance.getEntriesByType("navigation")[0].loadEventEnd })`,
    ) as { connected: number; click: number; load: number };
    if (!keep) return;
    into.nav.push(t.connected);
    into.load.push(t.load);
    into.click.push(t.connected - t.click);
    // Without the time the driver takes between the load event and its click on Connect.
    into.sum.push(t.load + (t.connected - t.click));
  };
  for (let i = 0; i < LOADS + 1; i++) {
    const user = await WebUser.create(browser);
    await user.context.addInitScript({ content: RECORDERS });
    await user.open(pageUrl);
    // The first load warms the relay and the browser process: not counted.
    await measure(user, series.fresh, `load${i}`, i > 0);
    await user.page.reload({ waitUntil: "load" });
    await user.page.getByRole("textbox", { name: "Nick" }).waitFor();
    await measure(user, series.returning, `load${i}`, i > 0);
    await user.close();
  }
  const loadResults: Record<string, Record<string, Summary>> = {};
  for (const [name, s] of Object.entries(series)) {
    loadResults[name] = {
      navigationToConnected: summarize(s.nav),
      navigationToLoadEvent: summarize(s.load),
      clickToConnected: summarize(s.click),
      loadEventPlusClickToConnected: summarize(s.sum),
    };
    const p50 = loadResults[name]!.loadEventPlusClickToConnected!.p50;
    aims.push({
      name: `page load to connected, ${
        name === "fresh" ? "new user (keys made)" : "returning user"
      }, p50 (load event + click Connect to \`connected as\`)`,
      value: p50,
      unit: "ms",
      aim: "< 500 ms",
      met: p50 < 500,
    });
  }
  results.loadToConnected = loadResults;

  console.error("bench/web: latency...");
  // 3. One-way latency, browser to terminal.
  const alice = await WebUser.create(browser);
  users.push(alice);
  await alice.context.addInitScript({ content: RECORDERS });
  await alice.open(pageUrl);
  await alice.connect("alice");
  const bob = await terminalPeer("bob");
  // "private" and "room": a mouse click on "Send"; "private-enter": Enter pressed in the box.
  for (const kind of ["private", "room", "private-enter"] as const) {
    const prefix = kind === "room" ? "" : "@bob ";
    const samples: number[] = [];
    const toWire: number[] = [];
    const fromWire: number[] = [];
    const warmup = 10;
    for (let i = 0; i < MESSAGES + warmup; i++) {
      const text = `${kind} ${i} ${crypto.randomUUID()}`;
      const seen = alice.frames.length;
      if (kind === "private-enter") {
        await alice.messageBox.fill(prefix + text);
        await alice.messageBox.press("Enter");
      } else {
        await alice.say(prefix + text);
      }
      const at = await arrival(bob, text);
      const click = await lastSendClick(alice);
      const wire = firstSendFrame(alice, seen);
      if (i >= warmup) {
        samples.push(at - click);
        if (wire !== undefined) {
          toWire.push(wire - click);
          fromWire.push(at - wire);
        }
      }
    }
    const s = summarize(samples);
    results[`latency-${kind}`] = s;
    results[`latency-${kind}-click-to-frame`] = summarize(toWire);
    results[`latency-${kind}-frame-to-terminal`] = summarize(fromWire);
    aims.push({
      name: `one-way latency browser -> terminal, ${
        kind === "private-enter" ? "private, Enter key" : `${kind}, click on Send`
      }, p50 (p99 ${s.p99} ms)`,
      value: s.p50,
      unit: "ms",
      aim: "p50 < 5 ms",
      met: s.p50 < 5,
    });
  }

  // The terminal pair under the same load, for comparison (bench/client/e2e_latency.ts's clock:
  // just before the line is written to the sender's stdin, to the receiver's line).
  {
    const carol = await terminalPeer("carol");
    const samples: number[] = [];
    for (let i = 0; i < Math.min(MESSAGES, 100) + 10; i++) {
      const text = `pair ${i} ${crypto.randomUUID()}`;
      const t0 = now();
      await bob.client.send(`@carol ${text}`);
      const at = await arrival(carol, text);
      if (i >= 10) samples.push(at - t0);
    }
    results["latency-terminal-pair-private"] = summarize(samples);
  }

  console.error("bench/web: first messages...");
  // 4. First message to a new peer (X3DH included).
  const firsts: number[] = [];
  for (let i = 0; i < FIRSTS; i++) {
    const peer = await terminalPeer(`new${i}`);
    const text = `first ${i} ${crypto.randomUUID()}`;
    await alice.say(`@new${i} ${text}`);
    const at = await arrival(peer, text);
    firsts.push(at - await lastSendClick(alice));
    await peer.client.stop();
  }
  const f = summarize(firsts);
  results.firstMessage = f;
  aims.push({
    name: "first message to a new peer (X3DH), p50",
    value: f.p50,
    unit: "ms",
    aim: "< 100 ms",
    met: f.p50 < 100,
  });

  // 5. Crypto in the page.
  if (!values["no-crypto"]) results.crypto = await cryptoInPage();
} finally {
  await Promise.all(users.map((u) => u.close()));
  await browser.close().catch(() => {});
  await Promise.all(children.map((c) => c.stop()));
  await relay.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

const load1 = Number((await Deno.readTextFile("/proc/loadavg").catch(() => "0")).split(" ")[0]);
const machine = {
  cpu: (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.*)/)
    ?.[1] ?? "unknown",
  cores: navigator.hardwareConcurrency,
  deno: Deno.version.deno,
  chromium: browserVersion,
  load1,
};
const report = { bench: "hush-web", date: new Date().toISOString(), machine, aims, results };

console.log(
  `\n## Web client (${machine.cpu}, ${machine.cores} cores, Chromium ${machine.chromium}, load ${load1})\n`,
);
console.log("| measurement | value | aim | |");
console.log("|---|---:|---|---|");
for (const a of aims) {
  console.log(`| ${a.name} | ${a.value} ${a.unit} | ${a.aim} | ${a.met ? "met" : "MISSED"} |`);
}
const detail = (name: string, s: Summary) =>
  console.log(`| ${name} | ${s.p50} | ${s.p99} | ${s.min} | ${s.max} | ${s.n} |`);
console.log("\n| timing (ms) | p50 | p99 | min | max | n |\n|---|---:|---:|---:|---:|---:|");
const ltc = results.loadToConnected as Record<string, Record<string, Summary>>;
for (const name of ["fresh", "returning"]) {
  detail(`${name}: navigation start to load event`, ltc[name]!.navigationToLoadEvent!);
  detail(`${name}: click Connect to connected`, ltc[name]!.clickToConnected!);
  detail(`${name}: load event + click to connected`, ltc[name]!.loadEventPlusClickToConnected!);
  detail(
    `${name}: navigation start to connected (with the driver's typing)`,
    ltc[name]!.navigationToConnected!,
  );
}
detail("browser -> terminal, private", results["latency-private"] as Summary);
detail("browser -> terminal, room", results["latency-room"] as Summary);
detail("browser -> terminal, private, Enter key", results["latency-private-enter"] as Summary);
detail(
  "terminal -> terminal, private (same run, for comparison)",
  results["latency-terminal-pair-private"] as Summary,
);
for (const kind of ["private", "room", "private-enter"]) {
  detail(
    `  ${kind}: ${kind === "private-enter" ? "Enter" : "click Send"} to the frame on the wire`,
    results[`latency-${kind}-click-to-frame`] as Summary,
  );
  detail(
    `  ${kind}: frame on the wire to the terminal's line`,
    results[`latency-${kind}-frame-to-terminal`] as Summary,
  );
}
detail("first message to a new peer (X3DH)", results.firstMessage as Summary);
if (results.crypto) {
  console.log("\n| primitive (in Chromium) | backend | µs/op |\n|---|---|---:|");
  for (const r of results.crypto as { primitive: string; backend: string; usPerOp: number }[]) {
    console.log(`| ${r.primitive} | ${r.backend} | ${r.usPerOp} |`);
  }
}
for (const a of aims) {
  console.log(`aim ${a.met ? "met" : "MISSED"}: ${a.name}: ${a.value} ${a.unit} (aim ${a.aim})`);
}

const out = values.out ??
  `${ROOT}bench/web/results/${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
await Deno.mkdir(out.replace(/\/[^/]*$/, ""), { recursive: true });
await Deno.writeTextFile(out, JSON.stringify(report, null, 2) + "\n");
console.log(`\nwritten: ${out}`);
clearTimeout(killer);

// --- helpers ---

async function gzip(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Bundles bench/web/crypto_page.ts for the browser and runs it in a page served from loopback. */
async function cryptoInPage(): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "iife",
      `${ROOT}bench/web/crypto_page.ts`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
  const js = new TextDecoder().decode(out.stdout);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/bench.js") {
      return new Response(js, { headers: { "content-type": "text/javascript" } });
    }
    return new Response(
      `<!doctype html><title>crypto bench</title><script src="/bench.js"></script>`,
      {
        headers: { "content-type": "text/html" },
      },
    );
  });
  const user = await WebUser.create(browser);
  try {
    await user.page.goto(`http://127.0.0.1:${server.addr.port}/`);
    return await user.page.evaluate(`globalThis.hushCryptoBench(300)`);
  } finally {
    await user.close();
    await server.shutdown();
  }
}
