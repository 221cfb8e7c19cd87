/**
 * Relay options: every flag of `server.ts`, with its default.
 *
 * @module
 */

import { DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_LIMIT } from "../protocol/mod.ts";
import { RelayError } from "./errors.ts";
import type { Store } from "./store.ts";

/** Default WebSocket + HTTP port (`ws://127.0.0.1:4874/`). */
export const DEFAULT_WS_PORT = 4874;

/** Default raw TCP port (`tcp://127.0.0.1:4875`). */
export const DEFAULT_TCP_PORT = 4875;

/** Default SQLite path used by `deno task server`. */
export const DEFAULT_STORE_PATH = ".hush/relay.sqlite";

/** Everything a relay can be told. */
export interface RelayOptions {
  /** Interface to bind (default `127.0.0.1`). */
  host: string;
  /** WebSocket + HTTP port (0: any free port; default 4874). */
  port: number;
  /** Raw TCP port (0: any free port; default 4875; -1: no TCP listener, `--tcp-port off`). */
  tcpPort: number;
  /** SQLite file, or null for the in-memory store. */
  storePath: string | null;
  /** How long a store write waits for a file locked by another process, in ms. */
  storeBusyTimeoutMs: number;
  /**
   * SQLite `synchronous` of the store: `normal` (default; a killed relay loses nothing it
   * accepted, a power loss may lose the last commits) or `full` (power-loss safe, slower).
   */
  storeSync: "normal" | "full";
  /** A ready-made store (tests); wins over `storePath`. */
  store?: Store;
  /** TLS certificate (PEM text); with `key`, or neither. */
  cert: string | null;
  /** TLS private key (PEM text). */
  key: string | null;
  /** Event log file, `-` for stdout, or null for none. */
  logFile: string | null;
  /** Extra sink for log lines (tests, `--log-stderr`). */
  onLog?: (line: string) => void;
  /** Serve the web client at `GET /`, `/app.js`, `/app.css` (`--no-web`: false). */
  web: boolean;
  /** Access token clients must present (null: open relay). */
  token: string | null;
  /** Largest frame in bytes. */
  maxFrameBytes: number;
  /** Token bucket: frames per second per connection (0: unlimited). */
  rate: number;
  /** Token bucket capacity (frames). */
  burst: number;
  /** Bytes of room deliveries (members x size) per second per identity (0: unlimited), burst. */
  fanoutRate: number;
  fanoutBurst: number;
  /** Most room memberships of all the nicks of one identity key. */
  maxRoomsPerIdentity: number;
  /** FETCH_KEYS and FETCH_IDENTITY per second per connection (0: unlimited), and the burst. */
  fetchRate: number;
  fetchBurst: number;
  /** One fetcher identity gets at most one of a nick's one-time prekeys per this many seconds. */
  prekeyPeriodSeconds: number;
  /** Most simultaneous connections (HTTP sockets on the WebSocket port included). */
  maxConnections: number;
  /** Most simultaneous sockets from one client address. */
  maxConnectionsPerAddress: number;
  /** Most simultaneous authenticated connections of one identity key. */
  maxConnectionsPerIdentity: number;
  /** Milliseconds from connect to READY. */
  authTimeoutMs: number;
  /** Milliseconds for a WebSocket-port client to send its whole HTTP request head. */
  headerTimeoutMs: number;
  /** Heartbeat interval in milliseconds (dead after twice this). */
  heartbeatMs: number;
  /** Most bytes waiting to be written to one connection before it is dropped. */
  maxBufferedBytes: number;
  /** Most DELIVERs outstanding (not acked) on one connection. */
  maxUnacked: number;
  /** Most bytes of DELIVERs outstanding (not acked) on one connection. */
  maxUnackedBytes: number;
  /**
   * Most bytes held for delivery in memory, relay-wide: queues and unacknowledged deliveries of
   * the memory store (a SEND over it is QUEUE_FULL), and unacknowledged deliveries with --store
   * (queued envelopes wait in the file meanwhile).
   */
  maxQueueMemory: number;
  /** Rooms with more members than this get no JOINED/LEFT/PRESENCE broadcasts (LIST still works). */
  roomNoticeLimit: number;
  /** Most queued envelopes per nick. */
  queueMaxCount: number;
  /** Most queued bytes per nick. */
  queueMaxBytes: number;
  /** Most envelopes one stranger may leave in a nick's queue. */
  queueMaxStranger: number;
  /** Most envelopes one known sender may leave in a nick's queue. */
  queueMaxPerSender: number;
  /** Most bytes the --store file's queues may hold, relay-wide. */
  storeMaxBytes: number;
  /** Queued envelopes older than this are dropped (and both ends told: UNDELIVERED EXPIRED). */
  queueMaxAgeSeconds: number;
  /** A nick binding unused (no connection under it) for this long is released. */
  nickTtlSeconds: number;
  /**
   * Most nicks bound to one identity key; a new binding beyond it first releases the identity's
   * least recently used nick that no connection uses (refused with NICK_UNAVAILABLE when all are).
   */
  maxNicksPerIdentity: number;
  /**
   * How often offline queues are searched for expired envelopes, in ms; null: a quarter of the
   * age bound, between 250 ms and 60 s.
   */
  purgeIntervalMs: number | null;
}

/** The defaults (documented in `docs/PROTOCOL.md`, section 8). */
export const DEFAULT_RELAY_OPTIONS: Readonly<RelayOptions> = Object.freeze({
  host: "127.0.0.1",
  port: DEFAULT_WS_PORT,
  tcpPort: DEFAULT_TCP_PORT,
  storePath: null,
  storeBusyTimeoutMs: 2000,
  storeSync: "normal",
  cert: null,
  key: null,
  logFile: null,
  token: null,
  web: true,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  rate: 1000,
  burst: 10_000,
  maxConnections: 10_000,
  fetchRate: 20,
  maxRoomsPerIdentity: 128,
  fanoutRate: 2 * 1024 * 1024,
  fanoutBurst: 4 * 1024 * 1024,
  fetchBurst: 200,
  prekeyPeriodSeconds: 3600,
  maxConnectionsPerAddress: 1024,
  maxConnectionsPerIdentity: 16,
  authTimeoutMs: 10_000,
  headerTimeoutMs: 5_000,
  heartbeatMs: 30_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxUnacked: 10_000,
  maxUnackedBytes: 8 * 1024 * 1024,
  maxQueueMemory: 256 * 1024 * 1024,
  roomNoticeLimit: 256,
  queueMaxCount: 1000,
  queueMaxBytes: 16 * 1024 * 1024,
  queueMaxAgeSeconds: 7 * 24 * 3600,
  queueMaxStranger: 50,
  queueMaxPerSender: 500,
  storeMaxBytes: 4 * 1024 * 1024 * 1024,
  purgeIntervalMs: null,
  nickTtlSeconds: 30 * 24 * 3600,
  maxNicksPerIdentity: 8,
});

/**
 * Fills in defaults and checks every option.
 *
 * @param options Partial options.
 * @returns Complete options.
 * @throws {RelayError} `BAD_OPTION` naming the first invalid option.
 */
export function resolveRelayOptions(options: Partial<RelayOptions> = {}): RelayOptions {
  const o: RelayOptions = { ...DEFAULT_RELAY_OPTIONS, ...options };
  const int = (name: keyof RelayOptions, min: number, max: number) => {
    const v = o[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new RelayError("BAD_OPTION", `Invalid ${name} "${String(v)}": expected ${min}..${max}`);
    }
  };
  int("port", 0, 65535);
  int("tcpPort", -1, 65535);
  int("maxFrameBytes", 256, MAX_FRAME_BYTES_LIMIT);
  int("rate", 0, 1e9);
  int("burst", 1, 1e9);
  int("maxConnections", 1, 1e7);
  int("fetchRate", 0, 1e9);
  int("maxRoomsPerIdentity", 1, 1e9);
  int("fanoutRate", 0, 2 ** 40);
  int("fanoutBurst", 1, 2 ** 40);
  int("fetchBurst", 1, 1e9);
  int("prekeyPeriodSeconds", 0, 1e10);
  int("maxConnectionsPerAddress", 1, 1e7);
  int("maxConnectionsPerIdentity", 1, 1e7);
  int("authTimeoutMs", 1, 3_600_000);
  int("headerTimeoutMs", 1, 3_600_000);
  int("heartbeatMs", 10, 3_600_000);
  int("maxBufferedBytes", 1024, 2 ** 40);
  int("maxUnacked", 1, 1e9);
  int("maxUnackedBytes", 1024, 2 ** 40);
  int("maxQueueMemory", 1024, 2 ** 40);
  int("roomNoticeLimit", 0, 1e9);
  int("queueMaxCount", 0, 1e9);
  int("queueMaxBytes", 0, 2 ** 40);
  int("queueMaxAgeSeconds", 1, 1e10);
  int("queueMaxStranger", 0, 1e9);
  int("queueMaxPerSender", 0, 1e9);
  int("storeMaxBytes", 0, 2 ** 50);
  int("storeBusyTimeoutMs", 0, 600_000);
  if (o.storeSync !== "normal" && o.storeSync !== "full") {
    throw new RelayError(
      "BAD_OPTION",
      `Invalid storeSync "${String(o.storeSync)}": expected normal or full`,
    );
  }
  int("nickTtlSeconds", 1, 1e10);
  int("maxNicksPerIdentity", 1, 1e6);
  if (o.purgeIntervalMs !== null) int("purgeIntervalMs", 10, 1e10);
  if ((o.cert === null) !== (o.key === null)) {
    throw new RelayError("BAD_OPTION", "Invalid TLS options: give both --cert and --key");
  }
  if (typeof o.host !== "string" || o.host === "") {
    throw new RelayError("BAD_OPTION", `Invalid host "${String(o.host)}"`);
  }
  return o;
}
