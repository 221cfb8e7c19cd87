/**
 * Issue 10's aim, measured: while one identity attacks a real relay (`server.ts`, default limits,
 * memory store), a benign pair's round trip p99 stays under 50 ms, its logins succeed, and the
 * relay's RSS stays under 512 MiB. 127.0.0.1 only; every attack is bounded in count and time.
 *
 * deno run --allow-all bench/abuse/run.ts [--seconds 6] [--only noack,slots,...]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { loggedIn, startServer, TestClient } from "../../tests/e2e/_relay_harness.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "6" },
    only: { type: "string" },
    // Internal: run one attack in this (separate) process.
    attack: { type: "string" },
    ws: { type: "string" },
    tcp: { type: "string" },
    until: { type: "string" },
    // Extra server.ts flags, e.g. --server-arg=--burst --server-arg=1000.
    "server-arg": { type: "string", multiple: true },
  },
});
const SECONDS = Math.min(60, Math.max(2, Number(args.values.seconds)));
const ONLY = args.values.only?.split(",");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m === null ? NaN : Number(m[1]) / 1024;
  } catch {
    return NaN;
  }
}

function p99(xs: number[]): number {
  if (xs.length === 0) return Infinity;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

/** Swallows the errors of attack traffic on a connection the relay closed. */
async function quietly(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch {
    // the relay cut the attacker: that is the point
  }
}

/** Raw WebSocket upgrade on a socket; returns the connection. */
async function wsSocket(url: string): Promise<Deno.TcpConn> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(u.port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(
    new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  await conn.read(new Uint8Array(1024)).catch(() => null);
  return conn;
}

type Attack = (ws: string, tcp: string, until: number) => Promise<void>;

const ATTACKS: Record<string, Attack> = {
  /** Item 1: two receivers read everything and never ACK; their senders flood 32 KiB envelopes. */
  async noack(_ws, tcp, until) {
    const id = generateIdentityKeyPair();
    const pairs = [];
    for (let i = 0; i < 2; i++) {
      const rx = await loggedIn(tcp, `hoard${i}`, { identity: id });
      const tx = await loggedIn(tcp, `flood${i}`, { identity: id });
      pairs.push([rx, tx] as const);
    }
    const body = new Uint8Array(32 * 1024);
    let n = 0;
    while (Date.now() < until && n < 200_000) {
      for (const [rx, tx] of pairs) {
        await quietly(() => tx.sendEnvelope(rx.nick, body));
        rx.frames.length = 0; // the bench keeps nothing either
        n++;
      }
      if (n % 32 === 0) await sleep(1);
    }
    for (const [rx, tx] of pairs) {
      rx.close();
      tx.close();
    }
  },
  /** Item 2: one identity opens as many connections as it can, plus slow HTTP sockets. */
  async slots(ws, tcp, until) {
    const id = generateIdentityKeyPair();
    const held: { close(): void }[] = [];
    for (let i = 0; i < 1500 && Date.now() < until; i++) {
      try {
        if (i % 2 === 0) {
          const c = await TestClient.connect(tcp);
          held.push(c);
          await quietly(() => c.login(`slot${i}`, { identity: id }));
        } else {
          const u = new URL(ws);
          const s = await Deno.connect({ hostname: "127.0.0.1", port: Number(u.port) });
          await s.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n"));
          held.push(s);
        }
      } catch {
        // refused: the relay is at its bound for this address
      }
    }
    while (Date.now() < until) await sleep(100);
    for (const h of held) quietlySync(() => h.close());
  },
  /** Item 3: 20 sockets announce 60 MiB WebSocket messages before authenticating. */
  async bigws(ws, _tcp, until) {
    const conns: Deno.TcpConn[] = [];
    for (let i = 0; i < 20; i++) conns.push(await wsSocket(ws));
    const header = new Uint8Array(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    new DataView(header.buffer).setUint32(6, 60 * 1024 * 1024);
    const chunk = new Uint8Array(1024 * 1024);
    await Promise.all(conns.map(async (c) => {
      await quietly(() => c.write(header));
      for (let i = 0; i < 60 && Date.now() < until; i++) {
        try {
          await c.write(chunk);
        } catch {
          return; // refused from the header
        }
      }
    }));
    while (Date.now() < until) await sleep(100);
    for (const c of conns) quietlySync(() => c.close());
  },
  /** Item 4: the identity's nicks in one room, sending 32 KiB envelopes to it. */
  async fanout(_ws, tcp, until) {
    const id = generateIdentityKeyPair();
    const nicks: TestClient[] = [];
    for (let i = 0; i < 60; i++) {
      try {
        const c = await loggedIn(tcp, `fan${i}`, { identity: id });
        await c.send({ type: "join", room: "noise" });
        nicks.push(c);
      } catch {
        break; // per-identity bound
      }
    }
    const body = new Uint8Array(32 * 1024);
    let n = 0;
    while (Date.now() < until && n < 100_000) {
      for (const c of nicks) {
        if (c.closed) continue;
        await quietly(() => c.sendEnvelope("noise", body, { toKind: "room" }));
        await quietly(() => c.ack());
        c.frames.length = 0;
        n++;
      }
      await sleep(1);
      if (nicks.every((c) => c.closed)) break;
    }
    for (const c of nicks) c.close();
  },
  /** Item 5: fills an offline user's queue, and grows the store with throw-away nicks. */
  async queues(_ws, tcp, until) {
    const victim = await loggedIn(tcp, "victim");
    victim.close();
    const id = generateIdentityKeyPair();
    const junk = await loggedIn(tcp, "junk", { identity: id });
    const body = new Uint8Array(16 * 1024);
    let n = 0;
    while (Date.now() < until && n < 50_000) {
      await quietly(() => junk.sendEnvelope(n % 3 === 0 ? "victim" : `tmp${n % 200}`, body));
      if (n < 200) {
        await quietly(async () => (await loggedIn(tcp, `tmp${n}`)).close());
      }
      junk.frames.length = 0;
      n++;
      if (n % 16 === 0) await sleep(1);
      if (junk.closed) break;
    }
    junk.close();
  },
  /** Item 6: drains one-time prekeys with FETCH_KEYS. */
  async prekeys(_ws, tcp, until) {
    const id = generateIdentityKeyPair();
    const c = await loggedIn(tcp, "drainer", { identity: id });
    let n = 0;
    while (Date.now() < until && n < 20_000 && !c.closed) {
      await quietly(() => c.send({ type: "fetch-keys", nick: "benign_b" }));
      c.frames.length = 0;
      if (++n % 16 === 0) await sleep(1);
    }
    c.close();
  },
};

function quietlySync(f: () => void): void {
  try {
    f();
  } catch {
    // already closed
  }
}

interface Row {
  attack: string;
  p99: number;
  rtts: number;
  logins: string;
  rss: number;
}

async function measure(name: string, attack: Attack | null): Promise<Row> {
  const server = await startServer(["--heartbeat", "60000", ...(args.values["server-arg"] ?? [])]);
  const pid = server.process.pid;
  let maxRss = rssMiB(pid);
  const a = await loggedIn(server.tcp, "benign_a");
  const b = await loggedIn(server.tcp, "benign_b");
  const until = Date.now() + SECONDS * 1000;
  const rtts: number[] = [];
  let logins = 0;
  let loginsOk = 0;
  const benign = (async () => {
    // A round trip every 20 ms: a -> b, b answers, a ACKs.
    let i = 0;
    while (Date.now() < until) {
      const t0 = performance.now();
      try {
        await a.sendEnvelope("benign_b", new Uint8Array([i & 255]));
        await b.next("deliver", 2000);
        await b.sendEnvelope("benign_a", new Uint8Array([i & 255]));
        await a.next("deliver", 2000);
        rtts.push(performance.now() - t0);
        await a.ack();
        await b.ack();
      } catch {
        rtts.push(2000); // lost or over 2 s
      }
      i++;
      await sleep(20);
    }
  })();
  const loginLoop = (async () => {
    let i = 0;
    while (Date.now() < until) {
      logins++;
      try {
        const c = await Promise.race([
          loggedIn(server.tcp, `newbie${i++}`),
          sleep(3000).then(() => {
            throw new Error("login over 3 s");
          }),
        ]);
        loginsOk++;
        c.close();
      } catch {
        // counted as failed
      }
      await sleep(500);
    }
  })();
  const rssLoop = (async () => {
    while (Date.now() < until + 500) {
      maxRss = Math.max(maxRss, rssMiB(pid));
      await sleep(100);
    }
  })();
  // The attacker runs in its own process, so that it does not slow the benign pair's event loop.
  const att = attack === null ? Promise.resolve() : (async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL(import.meta.url).pathname,
        "--attack",
        name,
        "--ws",
        server.ws,
        "--tcp",
        server.tcp,
        "--until",
        String(until),
      ],
      stdout: "null",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    const timer = setTimeout(
      () => quietlySync(() => child.kill("SIGKILL")),
      until - Date.now() + 10_000,
    );
    await child.status;
    clearTimeout(timer);
  })();
  await Promise.all([benign, loginLoop, rssLoop, att]);
  a.close();
  b.close();
  await server.stop();
  return {
    attack: name,
    p99: p99(rtts),
    rtts: rtts.length,
    logins: `${loginsOk}/${logins}`,
    rss: maxRss,
  };
}

if (args.values.attack !== undefined) {
  const attack = ATTACKS[args.values.attack]!;
  await attack(args.values.ws!, args.values.tcp!, Number(args.values.until));
  Deno.exit(0);
}

const rows: Row[] = [];
for (const [name, attack] of [["none", null], ...Object.entries(ATTACKS)] as const) {
  if (ONLY !== undefined && name !== "none" && !ONLY.includes(name)) continue;
  const row = await measure(name, attack);
  rows.push(row);
  console.error(`done ${name}`);
}
const mark = (ok: boolean) => ok ? "met" : "MISSED";
console.log(`bench/abuse: ${SECONDS} s per attack, relay = server.ts defaults (memory store)`);
console.log(
  "| attack | benign RTT p99 (ms) | round trips | logins ok | relay RSS max (MiB) | p99 < 50 ms | logins | RSS < 512 MiB |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  const [ok, all] = r.logins.split("/").map(Number);
  console.log(
    `| ${r.attack} | ${r.p99.toFixed(1)} | ${r.rtts} | ${r.logins} | ${r.rss.toFixed(0)} | ${
      mark(r.p99 < 50)
    } | ${mark(ok === all && all! > 0)} | ${mark(r.rss < 512)} |`,
  );
}
