/**
 * `server.ts`: the Hush relay's entry point. Parses flags and calls `runRelay()`.
 *
 * `deno run --allow-net server.ts` runs it with an in-memory store; `--store PATH` keeps nick
 * bindings, rooms, key bundles and offline envelopes in SQLite (needs --allow-read
 * --allow-write).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  DEFAULT_RELAY_OPTIONS,
  DEFAULT_STORE_PATH,
  DEFAULT_TCP_PORT,
  DEFAULT_WS_PORT,
  RelayError,
  type RelayOptions,
  runRelay,
} from "./relay/mod.ts";
import { WEB_BUNDLE } from "./relay/web.ts";

const d = DEFAULT_RELAY_OPTIONS;

/** The `--help` text. */
export const HELP = `hush relay: the blind relay of Hush (end-to-end encrypted chat)

Usage: deno run --allow-net [--allow-read --allow-write] server.ts [options]

Listens for WebSocket clients (and GET /healthz, GET /metrics, and the web client at GET /)
on --port and for raw TCP clients on --tcp-port; prints the URLs first, then the web client's
SHA-256. Without --store everything is kept in memory:
queues and accepted messages are lost when the relay restarts or crashes.

Options:
  --host HOST              interface to bind (default ${d.host})
  --port PORT              WebSocket + HTTP port, 0 for any free port (default ${DEFAULT_WS_PORT})
  --tcp-port PORT          raw TCP port, 0 for any free port, off (or -1) for none
                           (default ${DEFAULT_TCP_PORT}; 0 when --port is 0)
  --store PATH             SQLite store for nicks, rooms, keys and every envelope until
                           acknowledged: a restart or crash loses nothing accepted
                           (deno task server uses ${DEFAULT_STORE_PATH})
  --nick-ttl SECONDS       release a nick nobody connected under for this long: it leaves its
                           rooms, its queue is dropped and the senders are told
                           (default ${d.nickTtlSeconds}, 30 days)
  --max-nicks-per-identity N  nicks one identity key may hold; a new one beyond this
                           releases its least recently used nick that no connection
                           uses (default ${d.maxNicksPerIdentity})
  --store-busy-timeout MS  how long a write waits for a store file locked by another process
                           (a sqlite3 shell, a backup) before the SEND gets REJECTED
                           STORE_FAILED; the relay waits without serving meanwhile
                           (default ${d.storeBusyTimeoutMs})
  --store-sync normal|full how hard a commit reaches the disk (default ${d.storeSync}): normal
                           loses nothing accepted when the relay process dies (SIGKILL, a
                           crash), but a power loss or kernel crash may lose the last
                           commits; full syncs the WAL at every commit (power-loss safe,
                           slower)
  --cert PATH --key PATH   TLS certificate and key (PEM): wss:// and tls:// instead
  --log-file PATH          append a timestamped event log (never message bodies);
                           - writes it to the console (stdout)
  --token TOKEN            private relay: clients must present this token (compared as
                           HMACs; an address is refused for a while after 3 wrong ones);
                           GET /metrics then needs "Authorization: Bearer TOKEN".
                           Without --cert/--key a warning says the token travels in clear
  --no-web                 do not serve the web client (GET / answers 404); without it,
                           http://HOST:PORT/ is the browser client (docs/WEB.md)
  --max-frame BYTES        largest frame (default ${d.maxFrameBytes})
  --rate N                 tokens per second per connection, 0 for no limit (default ${d.rate}):
                           a frame costs one; a SEND also costs one per 256 bytes per delivery beyond
                           its first (a room's fan-out is charged to its sender)
  --burst N                token bucket size (default ${d.burst})
  --fanout-rate BYTES      bytes of room deliveries (members x size) per second per identity,
                           0 for no limit (default ${d.fanoutRate}; burst --fanout-burst ${d.fanoutBurst})
  --fanout-burst BYTES     room delivery bucket size per identity
  --max-rooms-per-identity N  room memberships of all of one identity's nicks
                           (default ${d.maxRoomsPerIdentity})
  --fetch-rate N           key fetches (FETCH_KEYS, FETCH_IDENTITY) per second per connection,
                           0 for no limit (default ${d.fetchRate}, burst --fetch-burst ${d.fetchBurst})
  --fetch-burst N          key fetch bucket size
  --prekey-period SECONDS  one fetcher identity gets at most one one-time prekey of a nick per
                           period; later fetches get KEYS without one (default ${d.prekeyPeriodSeconds})
  --max-connections N      simultaneous connections, HTTP sockets on --port included; when
                           full the oldest unauthenticated one is evicted (default ${d.maxConnections})
  --max-per-address N      simultaneous sockets from one address (default ${d.maxConnectionsPerAddress})
  --max-per-identity N     simultaneous authenticated connections of one identity key
                           (default ${d.maxConnectionsPerIdentity})
  --auth-timeout MS        time from connect to authenticated (default ${d.authTimeoutMs})
  --header-timeout MS      time for the HTTP request head on the WebSocket port (default ${d.headerTimeoutMs})
  --heartbeat MS           ping after this much silence, drop after twice (once the ping was
                           written for MS) (default ${d.heartbeatMs})
  --max-buffered BYTES     unsent bytes per connection before it is dropped (default ${d.maxBufferedBytes})
  --max-unacked N          unacknowledged deliveries per connection (default ${d.maxUnacked})
  --max-unacked-bytes BYTES  bytes of unacknowledged deliveries per connection
                           (default ${d.maxUnackedBytes})
  --max-queue-memory BYTES relay-wide bytes held in memory for delivery: queues and unacked
                           deliveries (memory store), unacked deliveries (--store)
                           (default ${d.maxQueueMemory})
  --room-notice-limit N    no join/leave/presence broadcasts in rooms larger than this
                           (default ${d.roomNoticeLimit})
  --queue-max N            offline envelopes per nick (default ${d.queueMaxCount})
  --queue-max-bytes BYTES  offline bytes per nick (default ${d.queueMaxBytes})
  --queue-max-stranger N   envelopes one stranger (no room shared but the lobby, never written to)
                           may leave in a nick's queue, and a quarter of --queue-max-bytes
                           (default ${d.queueMaxStranger})
  --queue-max-per-sender N envelopes one known sender may leave in a nick's queue, and half of
                           --queue-max-bytes (default ${d.queueMaxPerSender})
  --store-max-bytes BYTES  bytes queued in the --store file, relay-wide (default ${d.storeMaxBytes})
  --queue-max-age SECONDS  offline envelope lifetime (default ${d.queueMaxAgeSeconds})
  -h, --help               show this help

Stop it with Ctrl-C (SIGINT) or SIGTERM: clients are told, unacknowledged deliveries go back
to the store. The wire protocol is docs/PROTOCOL.md.
`;

const NUMERIC: [flag: string, option: keyof RelayOptions][] = [
  ["port", "port"],
  ["tcp-port", "tcpPort"],
  ["max-frame", "maxFrameBytes"],
  ["rate", "rate"],
  ["burst", "burst"],
  ["max-connections", "maxConnections"],
  ["fetch-rate", "fetchRate"],
  ["max-rooms-per-identity", "maxRoomsPerIdentity"],
  ["fanout-rate", "fanoutRate"],
  ["fanout-burst", "fanoutBurst"],
  ["fetch-burst", "fetchBurst"],
  ["prekey-period", "prekeyPeriodSeconds"],
  ["max-per-address", "maxConnectionsPerAddress"],
  ["max-per-identity", "maxConnectionsPerIdentity"],
  ["auth-timeout", "authTimeoutMs"],
  ["header-timeout", "headerTimeoutMs"],
  ["heartbeat", "heartbeatMs"],
  ["max-buffered", "maxBufferedBytes"],
  ["max-unacked", "maxUnacked"],
  ["max-unacked-bytes", "maxUnackedBytes"],
  ["max-queue-memory", "maxQueueMemory"],
  ["room-notice-limit", "roomNoticeLimit"],
  ["queue-max", "queueMaxCount"],
  ["queue-max-bytes", "queueMaxBytes"],
  ["queue-max-age", "queueMaxAgeSeconds"],
  ["queue-max-stranger", "queueMaxStranger"],
  ["queue-max-per-sender", "queueMaxPerSender"],
  ["store-max-bytes", "storeMaxBytes"],
  ["store-busy-timeout", "storeBusyTimeoutMs"],
  ["nick-ttl", "nickTtlSeconds"],
  ["max-nicks-per-identity", "maxNicksPerIdentity"],
];

/**
 * Turns command-line arguments into relay options.
 *
 * @param args Arguments after `server.ts`.
 * @returns Options (help: null).
 * @throws {RelayError} `BAD_OPTION` for an unknown flag or a bad number.
 */
export function parseServerArgs(args: string[]): Partial<RelayOptions> | null {
  // node:util parseArgs takes "-1" after a flag for another flag: join a negative number to its
  // numeric flag ("--tcp-port -1" is "--tcp-port=-1").
  const numericFlags = new Set(NUMERIC.map(([flag]) => `--${flag}`));
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (numericFlags.has(arg) && next !== undefined && /^-\d+$/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joined,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        host: { type: "string" },
        store: { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        "log-file": { type: "string" },
        "store-sync": { type: "string" },
        token: { type: "string" },
        "no-web": { type: "boolean" },
        ...Object.fromEntries(NUMERIC.map(([flag]) => [flag, { type: "string" as const }])),
      },
    });
  } catch (cause) {
    throw new RelayError("BAD_OPTION", cause instanceof Error ? cause.message : String(cause));
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return null;
  const out: Record<string, unknown> = {};
  for (const [flag, option] of NUMERIC) {
    let raw = v[flag];
    if (typeof raw !== "string") continue;
    if (flag === "tcp-port" && raw === "off") raw = "-1";
    if (!/^-?\d+$/.test(raw)) {
      throw new RelayError("BAD_OPTION", `Invalid --${flag} "${raw}": expected an integer`);
    }
    out[option] = Number(raw);
  }
  if (out.port === 0 && out.tcpPort === undefined) out.tcpPort = 0;
  if (typeof v.host === "string") out.host = v.host;
  if (typeof v.store === "string") out.storePath = v.store;
  if (typeof v["log-file"] === "string") out.logFile = v["log-file"];
  if (typeof v["store-sync"] === "string") out.storeSync = v["store-sync"] as "normal" | "full";
  if (typeof v.token === "string") out.token = v.token;
  if (v["no-web"] === true) out.web = false;
  if ((typeof v.cert === "string") !== (typeof v.key === "string")) {
    throw new RelayError("BAD_OPTION", "Invalid TLS options: give both --cert and --key");
  }
  if (typeof v.cert === "string" && typeof v.key === "string") {
    out.cert = Deno.readTextFileSync(v.cert);
    out.key = Deno.readTextFileSync(v.key);
  }
  return out as Partial<RelayOptions>;
}

async function main(): Promise<number> {
  let options: Partial<RelayOptions> | null;
  try {
    options = parseServerArgs(Deno.args);
  } catch (e) {
    console.error(`hush: error: ${e instanceof Error ? e.message : e}`);
    console.error("hush: hint: run with --help for the list of options");
    return 2;
  }
  if (options === null) {
    console.log(HELP);
    return 0;
  }
  let relay;
  try {
    relay = await runRelay(options);
  } catch (e) {
    if (!(e instanceof RelayError) || e.code !== "BAD_OPTION") throw e;
    console.error(`hush: error: ${e.message}`);
    console.error("hush: hint: run with --help for the list of options");
    return 2;
  }
  console.log(
    `hush relay listening on ${relay.wsUrl}` + (relay.tcpUrl ? ` and ${relay.tcpUrl}` : ""),
  );
  if (options.token !== undefined && options.token !== null && options.cert === undefined) {
    console.error(
      "hush: warning: --token without --cert/--key: the token travels in clear text " +
        "(anyone on the path can read and reuse it); use TLS beyond 127.0.0.1",
    );
  }
  console.log(
    relay.persistent
      ? `hush relay store: ${relay.storeDescription}`
      : "hush relay store: memory (queues and accepted messages are lost on restart, with nicks, " +
        "rooms and keys; use --store PATH to keep them)",
  );
  if (options.web !== false) {
    // What the page shows at its foot: a user compares it (docs/SECURITY.md, "The web client").
    console.log(
      `hush relay web client: ${relay.wsUrl.replace(/^ws/, "http")} ` +
        `(app.js SHA-256 ${WEB_BUNDLE.sha256})`,
    );
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return; // a second signal (e.g. forwarded by `deno task`) changes nothing
    stopping = true;
    console.log("hush relay shutting down");
    relay.close();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await relay.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  return 0;
}

if (import.meta.main) {
  // A failure outside a request (e.g. the store cannot commit) ends the relay with one clear line;
  // what was not committed was never acknowledged to a client.
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    const error = event.error;
    console.error(`hush: error: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  });
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`hush: error: ${e instanceof Error ? e.message : e}`);
    // The hint comes with the error: a missing permission and a damaged file need different ones.
    if (e instanceof RelayError && e.hint !== undefined) console.error(`hush: hint: ${e.hint}`);
    Deno.exit(1);
  }
}
