/**
 * The fault scenarios: who talks to whom, how the relay runs, and the faults injected while the
 * messages flow. Every fault loop is drawn from the scenario's seeded {@link Random}, bounded in
 * count and stopped by `running()`; when it returns, everything is back up (relay running, every
 * client alive, no lock held).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import type { FaultyProxy } from "./proxy.ts";
import type { Planned } from "./report.ts";
import { type Peer, type Random, type Relay, sleep } from "./world.ts";

/** The room every client is in (the relay's default). */
export const ROOM = "lobby";

/** What a fault loop can reach. */
export interface FaultContext {
  random: Random;
  relay: Relay;
  peers: ReadonlyMap<string, Peer>;
  /** The relay's SQLite file (scenarios with a store). */
  storePath?: string;
  /** The proxy (the `proxy` scenario). */
  proxy?: FaultyProxy;
  /** Planned length of the sending phase. */
  planMs: number;
  /** True while messages are still being typed. */
  running(): boolean;
  /** Counts one fault of a kind. */
  count(kind: string): void;
  /** Resolves when the next line that `matches` is typed, or after `timeoutMs`. */
  nextTyped(matches: (planned: Planned) => boolean, timeoutMs: number): Promise<void>;
}

/** One scenario. */
export interface Scenario {
  name: string;
  /** Relay with `--store` (lost and doubled must then be 0). */
  store: boolean;
  /** What it does, for the README and `--help`. */
  description: string;
  /** Conversations: sender and a nick (private) or {@link ROOM}. */
  streams: ReadonlyArray<{ from: string; to: string }>;
  /** More `server.ts` flags. */
  relayArgs?: readonly string[];
  /** Clients connect through a {@link FaultyProxy}. */
  proxy?: boolean;
  /** Injects faults until `running()` is false; leaves everything up. */
  faults(context: FaultContext): Promise<void>;
}

/** Alice and Bob write to each other; all three write to the room. */
const CHATTY = [
  { from: "alice", to: "bob" },
  { from: "bob", to: "alice" },
  { from: "alice", to: ROOM },
  { from: "bob", to: ROOM },
  { from: "carol", to: ROOM },
] as const;

/** Alice writes privately to Bob and to Carol, and to the room. */
const FROM_ALICE = [
  { from: "alice", to: "bob" },
  { from: "alice", to: "carol" },
  { from: "alice", to: ROOM },
] as const;

/** At most this many faults per scenario, whatever the timing. */
const MAX_FAULTS = 60;

/** Sleeps up to `ms`, waking early when the sending phase ended. */
async function pause(context: FaultContext, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (context.running() && Date.now() < end) await sleep(Math.min(100, end - Date.now()));
}

/**
 * Every 0.3-1.2 s: draws a victim, waits (at most 2 s) for the next line it `typed` matches, and
 * SIGKILLs that client `delayMs` (a drawn range) later; it is down 0.1-0.8 s, then restarted on
 * the same home.
 */
async function killClients(
  context: FaultContext,
  kind: string,
  delayMs: readonly [number, number],
  draw: () => { nick: string; typed: (planned: Planned) => boolean },
): Promise<void> {
  for (let i = 0; i < MAX_FAULTS && context.running(); i++) {
    await pause(context, context.random.int(300, 1200));
    if (!context.running()) break;
    const { nick, typed } = draw();
    const victim = context.peers.get(nick)!;
    await context.nextTyped(typed, 2000);
    await sleep(context.random.int(...delayMs));
    await victim.kill();
    context.count(kind);
    await sleep(context.random.int(100, 800));
    await victim.start();
  }
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "relay-kill",
    store: true,
    description:
      "relay with --store SIGKILLed every 0.5-2 s, down 0-0.5 s, restarted on the same " +
      "ports and file, while alice and bob write privately and all three write to the room",
    streams: CHATTY,
    async faults(context) {
      for (let i = 0; i < MAX_FAULTS && context.running(); i++) {
        await pause(context, context.random.int(500, 2000));
        if (!context.running()) break;
        await context.relay.stop("SIGKILL");
        context.count("relay SIGKILL");
        await sleep(context.random.int(0, 500));
        await context.relay.start();
      }
    },
  },
  {
    name: "client-kill",
    store: true,
    description: "alice writes privately to bob and carol and to the room; every 0.3-1.2 s bob " +
      "or carol is SIGKILLed 5-25 ms after a line to it was typed (a message in flight), down " +
      "0.1-0.8 s, and restarted on the same --home",
    streams: FROM_ALICE,
    faults: (context) =>
      killClients(context, "client SIGKILL", [5, 25], () => {
        const nick = context.random.pick(["bob", "carol"]);
        return { nick, typed: (p) => p.recipients.includes(nick) };
      }),
  },
  {
    name: "sender-kill",
    store: true,
    description: "alice writes privately to bob and carol and to the room; every 0.3-1.2 s alice " +
      "is SIGKILLed 0-8 ms after typing a line (while it is encrypted, saved, sent or " +
      "acknowledged), down 0.1-0.8 s, and restarted on the same --home",
    streams: FROM_ALICE,
    faults: (context) =>
      killClients(context, "sender SIGKILL", [0, 8], () => ({
        nick: "alice",
        typed: (p) => p.from === "alice",
      })),
  },
  {
    name: "locked-store",
    store: true,
    description: "another process holds the relay's SQLite write lock (BEGIN EXCLUSIVE) for 3 s, " +
      "again every 0.5-2.5 s, while alice and bob write privately and all three to the room",
    streams: CHATTY,
    async faults(context) {
      const db = new DatabaseSync(context.storePath!);
      let locked = false;
      try {
        for (let i = 0; i < MAX_FAULTS && context.running(); i++) {
          await pause(context, context.random.int(500, 2500));
          if (!context.running()) break;
          // The relay may be writing right now: retry (bounded) until the lock is ours.
          for (let tries = 0; tries < 100 && !locked; tries++) {
            try {
              db.exec("BEGIN EXCLUSIVE");
              locked = true;
            } catch {
              await sleep(20);
            }
          }
          if (!locked) continue;
          context.count("3 s lock");
          await sleep(3000);
          db.exec("COMMIT");
          locked = false;
        }
      } finally {
        if (locked) db.exec("ROLLBACK");
        db.close();
      }
    },
  },
  {
    name: "proxy",
    store: true,
    description: "clients reach the relay (--store, --heartbeat 2000) through a TCP proxy that, " +
      "every 0.3-1.5 s, stalls a connection for 0.5-6 s, cuts one, or truncates its next chunk",
    streams: CHATTY,
    relayArgs: ["--heartbeat", "2000"],
    proxy: true,
    async faults(context) {
      const proxy = context.proxy!;
      for (let i = 0; i < MAX_FAULTS && context.running(); i++) {
        await pause(context, context.random.int(300, 1500));
        if (!context.running()) break;
        const kind = context.random.pick(["stall", "cut", "truncate"] as const);
        const applied = kind === "stall"
          ? proxy.stall(context.random, context.random.int(500, 6000))
          : kind === "cut"
          ? proxy.cut(context.random)
          : proxy.truncate(context.random);
        if (applied) context.count(kind);
      }
    },
  },
  {
    name: "memory-restart",
    store: false,
    description: "relay WITHOUT --store stopped (SIGTERM) and restarted twice, at a third and " +
      "two thirds of the run: it forgets queues, rooms and nicks, so losses are expected",
    streams: CHATTY,
    async faults(context) {
      const start = Date.now();
      for (const at of [1 / 3, 2 / 3]) {
        await pause(context, start + context.planMs * at - Date.now());
        if (!context.running()) break;
        await context.relay.stop("SIGTERM");
        context.count("relay restart");
        await context.relay.start();
      }
    },
  },
];
