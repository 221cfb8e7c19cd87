/**
 * The blind relay: authenticates nicks, tracks presence and rooms, routes envelopes it never
 * parses past their routing header, queues for offline nicks and serves the key directory.
 *
 * @module
 */

import { x25519PublicKeyProblem } from "../crypto/dh_public_key.ts";
import { verify } from "../crypto/ed25519.ts";
import { createHmac, timingSafeEqual } from "node:crypto";
import { toHex } from "../crypto/bytes.ts";
import { randomBytes } from "../crypto/random.ts";
import {
  CHALLENGE_BYTES,
  decodeFrame,
  DEFAULT_ROOM,
  encodeFrame,
  envelopeRecipient,
  type EnvelopeRoute,
  envelopeSender,
  type Frame,
  FrameType,
  identityDhSignedMessage,
  MAX_LIST_ITEMS,
  MESSAGE_ID_BYTES,
  peekEnvelopeRoute,
  PROTOCOL_VERSION,
  ProtocolError,
  type RecipientKind,
  signedPrekeySignedMessage,
} from "../protocol/mod.ts";
import { grantNick, verifyAuth } from "./auth.ts";
import { Connection, type Peer, State } from "./connection.ts";
import { RelayError } from "./errors.ts";
import { FANOUT_UNIT_BYTES, fanoutCost, TokenBucket } from "./limits.ts";
import { EventLog } from "./log.ts";
import { MemoryStore } from "./memory_store.ts";
import { Metrics } from "./metrics.ts";
import { type RelayOptions, resolveRelayOptions } from "./options.ts";
import { Directory, MAX_ROOMS_PER_NICK } from "./presence.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { HeldEnvelope, QueueStats, Store } from "./store.ts";
import { type PeerHost, TcpPeer } from "./transport_tcp.ts";
import { type HttpAnswer, type WebSocketHost, WebSocketPeer } from "./transport_websocket.ts";
import { webAnswer } from "./web.ts";

/** Most one-time prekeys held per nick. */
export const MAX_ONE_TIME_PREKEYS_HELD = 200;

const PUMP_BATCH = 256;
const ACCEPTED_DELAY_MS = 10;
/** How long a conversation refused with STORE_FAILED waits for the refused SEND to come again. */
const STORE_REFUSED_HOLD_MS = 60_000;
const NOTICE_DELAY_MS = 20;
const PURGE_BATCH = 512;
const ASCII = new TextEncoder();

/** A running relay, as returned by {@link runRelay}. */
export interface RelayHandle {
  /** `ws://host:port/` or `wss://...`. */
  readonly wsUrl: string;
  /** `tcp://host:port` or `tls://...`, or null without a TCP listener. */
  readonly tcpUrl: string | null;
  /** The store description (`memory` or `sqlite PATH`). */
  readonly storeDescription: string;
  /** Whether the store survives a restart. */
  readonly persistent: boolean;
  /** The Prometheus text `GET /metrics` serves. */
  metricsText(): string;
  /** Graceful shutdown: ERROR SHUTTING_DOWN to every client, unacked deliveries re-queued. */
  close(): Promise<void>;
  /** Resolves when the relay has shut down. */
  readonly finished: Promise<void>;
}

/**
 * Starts a relay: WebSocket + HTTP on `port`, raw TCP on `tcpPort` (TLS on both with
 * `cert`/`key`).
 *
 * @param options Relay options (defaults in `DEFAULT_RELAY_OPTIONS`).
 * @returns A handle with the real URLs (useful with port 0).
 * @throws {RelayError} `BAD_OPTION`, `STORE_FAILED` or `LISTEN_FAILED`.
 */
export function runRelay(options: Partial<RelayOptions> = {}): Promise<RelayHandle> {
  try {
    const relay = new Relay(resolveRelayOptions(options));
    relay.listen();
    return Promise.resolve(relay);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** The relay; use {@link runRelay}. */
export class Relay implements PeerHost, WebSocketHost, RelayHandle {
  readonly maxFrameBytes: number;
  wsUrl = "";
  tcpUrl: string | null = null;
  readonly finished: Promise<void>;
  #o: RelayOptions;
  #store: Store;
  #dir: Directory;
  #log: EventLog;
  #metrics = new Metrics();
  #connections = new Set<Connection>();
  #online = new Map<string, Connection>();
  /** The connection that receives each nick's envelopes (its own, or one of the same identity). */
  #holders = new Map<string, Connection>();
  #queues = new Map<string, QueueStats>();
  #queuedTotal = 0;
  #queuedBytes = 0;
  #dirty: Connection[] = [];
  /** SENDs whose writes wait for the turn's commit (persistent store). */
  #group: GroupSend[] = [];
  /** Live deliveries that wait for the turn's commit (persistent store). */
  #liveAfterCommit: [Connection, Uint8Array, number, string][] = [];
  /** Bytes of every unacknowledged delivery on every connection. */
  #unackedTotal = 0;
  /** Connections whose pump stopped at the relay-wide unacknowledged bound. */
  #pausedPumps = new Set<Connection>();
  /** Connections whose pump waits for the turn's commit. */
  #pumpAfterCommit = new Set<Connection>();
  /** One-time prekeys handed out in the open turn, and those whose removal a failed commit lost. */
  #takenPrekeys: [string, number][] = [];
  #lostPrekeys: [string, number][] = [];
  /** When the connected nicks were last marked as used. */
  #touchedOnlineAt = 0;
  /** Whether a failed commit left the store behind the in-memory directory. */
  #resync = false;
  #storeFailureLogged = false;
  #microtaskQueued = false;
  #timerDirty: Connection[] = [];
  #acceptDirty: Connection[] = [];
  #noticeDirty: Connection[] = [];
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  #acceptTimer: ReturnType<typeof setTimeout> | undefined;
  #timerQueued = false;
  #ws: Deno.Listener | null = null;
  /** WebSocket-port sockets not upgraded yet (reading their HTTP request head). */
  #httpPending = new Set<WebSocketPeer>();
  /** Sockets (HTTP and connections) per client address. */
  #perAddress = new Map<string, number>();
  /** When each fetcher identity last took one of a nick's one-time prekeys (`fetcher/nick`). */
  #prekeyTakenAt = new Map<string, number>();
  /** What each nick's queue holds from each sender (since the relay started). */
  #fromSenders = new Map<string, Map<string, QueueStats>>();
  /** `recipient\0sender` pairs where the recipient wrote to the sender (bounded, oldest dropped). */
  #wroteTo = new Set<string>();
  /** Room fan-out budget (bytes delivered) per identity key (hex), shared by its connections. */
  #fanout = new Map<string, TokenBucket>();
  /** Authenticated connections per identity key (hex). */
  #identityConns = new Map<string, number>();
  #tcp: Deno.Listener | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];
  #closing = false;
  #resolveFinished!: () => void;
  /** HMAC-SHA256 of the token under {@link #macKey} (fixed length: no length leaks). */
  #tokenBytes: Uint8Array | null;
  /** A random key per process for comparing tokens. */
  #macKey = randomBytes(32);
  /** Wrong tokens per address: how many, and until when the address is refused. */
  #tokenBackoff = new Map<string, { fails: number; until: number }>();

  constructor(options: RelayOptions) {
    this.#o = options;
    this.maxFrameBytes = options.maxFrameBytes;
    this.#tokenBytes = options.token === null
      ? null
      : hmacSha256(this.#macKey, ASCII.encode(options.token));
    this.#store = options.store ??
      (options.storePath === null ? new MemoryStore() : new SqliteStore(options.storePath, {
        busyTimeoutMs: options.storeBusyTimeoutMs,
        synchronous: options.storeSync,
      }));
    // The relay owns the commit: it decides what a failed one means for the SENDs of the turn.
    this.#store.onPending = () => queueMicrotask(() => this.#commit());
    this.#dir = new Directory(this.#store);
    this.#log = new EventLog({
      path: options.logFile,
      ...(options.onLog === undefined ? {} : { sink: options.onLog }),
    });
    this.#reloadQueueStats();
    // A store written before nicks were compared by skeleton may hold look-alikes of two
    // identities: both bindings stay (each identity keeps its spelling); newcomers get suffixes.
    for (const nicks of this.#dir.collisions()) {
      this.#log.write("look_alike_bindings", { nicks: nicks.join(" ") });
    }
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
  }

  get storeDescription(): string {
    return this.#store.description;
  }

  get persistent(): boolean {
    return this.#store.persistent;
  }

  /** Opens the listeners. */
  listen(): void {
    const o = this.#o;
    const tls = o.cert !== null && o.key !== null;
    const host = o.host.includes(":") ? `[${o.host}]` : o.host;
    try {
      this.#ws = tls
        ? Deno.listenTls({ hostname: o.host, port: o.port, cert: o.cert!, key: o.key! })
        : Deno.listen({ hostname: o.host, port: o.port });
      this.wsUrl = `${tls ? "wss" : "ws"}://${host}:${(this.#ws.addr as Deno.NetAddr).port}/`;
      this.#acceptLoop(this.#ws, (conn) => this.#takeWebSocket(conn, tls ? "wss" : "ws"));
      if (o.tcpPort >= 0) {
        this.#tcp = tls
          ? Deno.listenTls({ hostname: o.host, port: o.tcpPort, cert: o.cert!, key: o.key! })
          : Deno.listen({ hostname: o.host, port: o.tcpPort });
        this.tcpUrl = `${tls ? "tls" : "tcp"}://${host}:${(this.#tcp.addr as Deno.NetAddr).port}`;
        this.#acceptLoop(this.#tcp, (conn) => this.#takeTcp(conn, tls ? "tls" : "tcp"));
      }
    } catch (cause) {
      try {
        this.#ws?.close();
      } catch {
        // not open
      }
      this.#store.close();
      throw new RelayError(
        "LISTEN_FAILED",
        `Cannot listen on ${o.host} (port ${o.port}, TCP port ${o.tcpPort}): ${
          cause instanceof Error ? cause.message : cause
        }`,
        { cause },
      );
    }
    const sweep = Math.max(10, Math.floor(o.heartbeatMs / 4));
    this.#timers.push(setInterval(() => this.sweepHeartbeats(), sweep));
    const purgeEvery = o.purgeIntervalMs ??
      Math.min(60_000, Math.max(250, Math.floor(o.queueMaxAgeSeconds * 250)));
    this.#timers.push(setInterval(() => this.#purgeExpired(), purgeEvery));
    const releaseEvery = Math.min(60_000, Math.max(250, Math.floor(o.nickTtlSeconds * 250)));
    this.#timers.push(setInterval(() => this.#releaseUnused(), releaseEvery));
    this.#purgeExpired();
    this.#log.write("listen", {
      ws: this.wsUrl,
      tcp: this.tcpUrl ?? "none",
      store: this.#store.description,
    });
  }

  metricsText(): string {
    const connections: Record<string, number> = { tcp: 0, tls: 0, ws: 0, wss: 0 };
    for (const c of this.#connections) {
      connections[c.peer.transport] = (connections[c.peer.transport] ?? 0) + 1;
    }
    return this.#metrics.render({
      connections,
      usersOnline: this.#online.size,
      queued: this.#queuedTotal,
      queueBytes: this.#queuedBytes,
    });
  }

  // ---- accepting ---------------------------------------------------------------------------

  /** Accepts connections until the relay closes; `take` handles each one. */
  async #acceptLoop(listener: Deno.Listener, take: (conn: Deno.Conn) => void): Promise<void> {
    while (!this.#closing) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        if (this.#closing) return;
        continue;
      }
      take(conn);
    }
  }

  #takeTcp(conn: Deno.Conn, transport: string): void {
    const peer = new TcpPeer(conn, this, transport);
    const c = this.#accept(peer);
    if (c.state !== State.CLOSED) peer.run();
    else peer.flush();
  }

  #takeWebSocket(conn: Deno.Conn, transport: string): void {
    const peer = new WebSocketPeer(conn, this, transport);
    if (this.#closing) return peer.abort();
    const refused = this.#admits(peer.remote);
    if (refused !== null) {
      peer.refuse(503, `TOO_MANY_CONNECTIONS: ${refused}\n`); // the request is not read
      return;
    }
    this.#httpPending.add(peer);
    this.#countAddress(peer.remote, 1);
    peer.run(this.#o.headerTimeoutMs);
  }

  onHttp(method: string, path: string, headers: Map<string, string>, _remote: string): HttpAnswer {
    if (method === "GET" && path === "/healthz") return { status: 200, body: "ok\n" };
    if (method === "GET" && path === "/metrics") {
      if (this.#tokenBytes !== null) {
        // A private relay's metrics (activity, timing) need its token.
        const auth = headers.get("authorization") ?? "";
        const presented = auth.startsWith("Bearer ") ? auth.slice(7) : "";
        if (!this.#tokenMatches(ASCII.encode(presented))) {
          return {
            status: 401,
            body: "the relay's token is needed (Authorization: Bearer TOKEN)\n",
            headers: { "www-authenticate": "Bearer" },
          };
        }
      }
      return {
        status: 200,
        body: this.metricsText(),
        contentType: "text/plain; version=0.0.4",
      };
    }
    const web = this.#o.web
      ? webAnswer(method, path, {
        host: headers.get("host"),
        secure: this.wsUrl.startsWith("wss:"),
      })
      : null;
    return web ?? { status: 404, body: "not found\n" };
  }

  onUpgraded(peer: WebSocketPeer): Connection {
    // Its slot moves from the HTTP sockets to the connections.
    if (this.#httpPending.delete(peer)) this.#countAddress(peer.remote, -1);
    return this.#accept(peer);
  }

  onSocketEnded(peer: WebSocketPeer): void {
    if (this.#httpPending.delete(peer)) this.#countAddress(peer.remote, -1);
  }

  /** Adds `delta` to the sockets an address holds (HTTP sockets and connections). */
  #countAddress(remote: string, delta: number): void {
    const a = addressOf(remote);
    const n = (this.#perAddress.get(a) ?? 0) + delta;
    if (n <= 0) this.#perAddress.delete(a);
    else this.#perAddress.set(a, n);
  }

  /**
   * Whether one more socket from `remote` fits: under the per-address bound, and under
   * --max-connections (HTTP sockets on the WebSocket port count) once the oldest socket that has
   * not authenticated is evicted to make room. Returns why not, or null.
   */
  #admits(remote: string): string | null {
    const held = this.#perAddress.get(addressOf(remote)) ?? 0;
    if (held >= this.#o.maxConnectionsPerAddress) {
      return `This address holds ${held} connections (the most is ${this.#o.maxConnectionsPerAddress})`;
    }
    if (this.#connections.size + this.#httpPending.size < this.#o.maxConnections) return null;
    // Full: make room by evicting the oldest socket that has not authenticated.
    const oldestHttp = this.#httpPending.values().next().value;
    if (oldestHttp !== undefined) {
      this.#httpPending.delete(oldestHttp);
      this.#countAddress(oldestHttp.remote, -1);
      oldestHttp.abort();
      this.#metrics.rejectFrame("EVICTED");
      return null;
    }
    for (const c of this.#connections) {
      if (c.state === State.AWAIT_HELLO || c.state === State.AWAIT_AUTH) {
        this.#fail(
          c,
          "TOO_MANY_CONNECTIONS",
          "The relay is full: unauthenticated connection evicted",
        );
        return null;
      }
    }
    return `The relay holds ${this.#o.maxConnections} connections`;
  }

  /**
   * Attaches a connection from any transport (the listeners use it; so can tests and future
   * transports). The peer gets its `connection` set before anything is sent on it.
   *
   * @param peer The transport endpoint.
   * @returns The relay's record of the connection.
   */
  acceptPeer(peer: Peer): Connection {
    return this.#accept(peer);
  }

  #accept(peer: Peer): Connection {
    const now = performance.now();
    const c = new Connection(peer, new TokenBucket(this.#o.rate, this.#o.burst, now), now);
    c.fetchBucket = new TokenBucket(this.#o.fetchRate, this.#o.fetchBurst, now);
    peer.connection = c;
    this.#metrics.connectionsTotal++;
    this.#log.write("connect", { id: c.id, transport: peer.transport, remote: peer.remote });
    if (this.#closing) {
      this.#fail(c, "SHUTTING_DOWN", "The relay is shutting down");
      return c;
    }
    const wait = this.#tokenBackoff.size === 0 ? 0 : this.#tokenWait(addressOf(peer.remote));
    if (wait > 0) {
      this.#fail(
        c,
        "RATE_LIMITED",
        `Too many wrong tokens from this address: retry in ${Math.ceil(wait / 1000)} s`,
      );
      return c;
    }
    const refused = this.#admits(peer.remote);
    if (refused !== null) {
      this.#fail(c, "TOO_MANY_CONNECTIONS", refused);
      return c;
    }
    this.#connections.add(c);
    this.#countAddress(peer.remote, 1);
    c.authTimer = setTimeout(() => {
      if (c.state === State.AWAIT_HELLO || c.state === State.AWAIT_AUTH) {
        this.#fail(c, "AUTH_TIMEOUT", `No authentication within ${this.#o.authTimeoutMs} ms`);
      }
    }, this.#o.authTimeoutMs);
    return c;
  }

  /** Compares fixed-length MACs of the token presented and the relay's token. */
  #tokenMatches(token: Uint8Array): boolean {
    return timingSafeEqual(hmacSha256(this.#macKey, token), this.#tokenBytes!);
  }

  /** Backs off an address after a wrong token: 2^(fails-3) s from the 3rd, at most 60 s. */
  #badTokenFrom(address: string): void {
    const b = this.#tokenBackoff.get(address) ?? { fails: 0, until: 0 };
    b.fails++;
    if (b.fails >= 3) b.until = Date.now() + Math.min(60_000, 1000 * 2 ** (b.fails - 3));
    this.#tokenBackoff.delete(address); // most recent last
    this.#tokenBackoff.set(address, b);
    if (this.#tokenBackoff.size > 10_000) {
      this.#tokenBackoff.delete(this.#tokenBackoff.keys().next().value!);
    }
  }

  /** Milliseconds an address must still wait after wrong tokens (0: none). */
  #tokenWait(address: string): number {
    const b = this.#tokenBackoff.get(address);
    if (b === undefined) return 0;
    const wait = b.until - Date.now();
    if (wait <= 0 && b.until !== 0 && Date.now() - b.until > 600_000) {
      this.#tokenBackoff.delete(address); // forgotten after 10 quiet minutes
    }
    return Math.max(0, wait);
  }

  // ---- frames ------------------------------------------------------------------------------

  onFrame(c: Connection, frame: Uint8Array, now: number): boolean {
    if (c.state === State.CLOSED) return false;
    if (!c.bucket.take(now)) {
      this.#fail(c, "RATE_LIMITED", `Over ${this.#o.rate} frames per second`);
      return false;
    }
    try {
      if (c.state === State.READY) {
        if (frame[0] === FrameType.SEND) return this.#onSend(c, frame, now);
        // ACK, the other frame of every delivery: read here, not through the general decoder.
        if (frame[0] === FrameType.ACK && frame.length === 5) {
          this.#onAck(
            c,
            ((frame[1]! << 24) >>> 0) + (frame[2]! << 16) + (frame[3]! << 8) + frame[4]!,
          );
          return false;
        }
      }
      this.#onControlFrame(c, frame);
      return false;
    } catch (e) {
      if (e instanceof ProtocolError) this.#fail(c, e.code, e.message);
      else if (isStoreFailure(e)) {
        this.#storeFailure(e);
        this.#fail(c, "STORE_FAILED", `The relay could not write its store: ${e.message}`);
      } else this.#internalError(c, e);
      return false;
    }
  }

  #internalError(c: Connection, e: unknown): void {
    this.#log.write("error", {
      id: c.id,
      code: "INTERNAL_ERROR",
      detail: e instanceof Error ? e.message : String(e),
    });
    this.#fail(c, "INTERNAL_ERROR", "The relay failed to handle a frame");
  }

  onFramingError(c: Connection, code: string, detail: string): void {
    this.#fail(c, code, detail);
  }

  onEnded(c: Connection): void {
    if (c.state !== State.CLOSED) this.#close(c, "peer closed");
  }

  /**
   * The hot path: checks the routing header, flips SEND to DELIVER in place, routes it.
   *
   * A SEND is all or nothing in the store: its writes for every recipient run in one savepoint.
   * When that fails (or, later, the turn's commit), the SEND gets REJECTED `STORE_FAILED` and none
   * of it is delivered: with a persistent store, live deliveries wait for the commit.
   */
  #onSend(c: Connection, frame: Uint8Array, now: number): boolean {
    const route = peekEnvelopeRoute(frame);
    if (!senderIs(frame, route, c.nick)) {
      this.#fail(c, "SENDER_MISMATCH", `The sender field is not "${c.nick}"`);
      return false;
    }
    const seq = ++c.sendSeq;
    frame[0] = FrameType.DELIVER;
    const to = envelopeRecipient(frame, route);
    // Order per conversation: after a STORE_FAILED, nothing overtakes the refused SENDs.
    const conversation = `${route.toKind}:${to}`;
    const refused = c.storeRefused?.get(conversation);
    if (refused !== undefined) {
      const id = messageId(frame);
      const hex = idHex(id);
      let oldest: string | undefined;
      for (const p of refused.pending) {
        if (oldest === undefined || refused.firstSeq.get(p)! < refused.firstSeq.get(oldest)!) {
          oldest = p;
        }
      }
      if (performance.now() - refused.at > STORE_REFUSED_HOLD_MS) {
        c.storeRefused!.delete(conversation);
      } else if (hex === oldest) {
        refused.pending.delete(hex); // the oldest refused one, sent again: it goes
        if (refused.pending.size === 0) c.storeRefused!.delete(conversation);
      } else {
        this.#reject(
          c,
          seq,
          id,
          route.toKind,
          to,
          "STORE_FAILED",
          "An earlier message of this connection to the same conversation was refused " +
            "(STORE_FAILED) and not sent again yet: this one waits behind it, to keep the order",
        );
        this.#scheduleAccepted(c, now);
        return true;
      }
    }
    let recipients: string[];
    if (route.toKind === "nick") {
      if (this.#dir.ownerOf(to) === undefined) {
        this.#reject(c, seq, messageId(frame), "nick", to, "NO_SUCH_USER", this.#noSuchUser(to));
        this.#scheduleAccepted(c, now);
        return true;
      }
      recipients = [to];
      this.#noteWrote(c.nick, to);
    } else {
      const members = this.#dir.members(to);
      if (!members.has(c.nick)) {
        this.#reject(
          c,
          seq,
          messageId(frame),
          "room",
          to,
          "NOT_IN_ROOM",
          `Not a member of "${to}"`,
        );
        this.#scheduleAccepted(c, now);
        return true;
      }
      // Not back to the sender, nor to a former nick of its identity whose queue it receives.
      recipients = [];
      for (const m of members) if (m !== c.nick && this.#holders.get(m) !== c) recipients.push(m);
    }
    // The fan-out (deliveries x bytes) is charged to the sender's budget, not only the frame.
    const extra = this.#o.rate === 0 ? 0 : fanoutCost(recipients.length, frame.length);
    const fanBytes = recipients.length * frame.length;
    if (
      this.#o.fanoutRate > 0 && recipients.length > 1 &&
      !this.#fanoutBucket(c.identity).take(performance.now(), fanBytes)
    ) {
      this.#fail(
        c,
        "RATE_LIMITED",
        `Over ${this.#o.fanoutRate} bytes per second of room deliveries for this identity`,
      );
      return false;
    }
    if (extra > 0 && !c.bucket.take(performance.now(), extra)) {
      this.#fail(
        c,
        "RATE_LIMITED",
        `Over ${this.#o.rate} tokens per second: this SEND fans out to ${recipients.length} ` +
          `deliveries of ${frame.length} bytes (one token per ${FANOUT_UNIT_BYTES} bytes each)`,
      );
      return false;
    }
    let plan: Routed[];
    try {
      // One write is atomic by itself; a room's writes share a savepoint.
      plan = recipients.length <= 1
        ? this.#route(recipients, frame, c.nick)
        : this.#store.atomically(() => this.#route(recipients, frame, c.nick));
    } catch (e) {
      if (!isStoreFailure(e)) throw e;
      this.#storeFailure(e);
      this.#reject(
        c,
        seq,
        messageId(frame),
        route.toKind,
        to,
        "STORE_FAILED",
        storeFailedDetail(e),
      );
      this.#scheduleAccepted(c, now);
      return true;
    }
    let relayed = 0;
    for (const r of plan) {
      if (r.refused !== null) {
        this.#reject(c, seq, messageId(frame), "nick", r.nick, "QUEUE_FULL", r.refused);
        continue;
      }
      relayed++;
      this.#metrics.envelopesRelayed++;
      this.#metrics.bytesRelayed += frame.length;
      if (r.storeId !== 0) this.#countQueued(r.nick, frame.length);
      // Per-sender shares bound what waits for an offline recipient: live ones are not counted.
      if (!r.live) this.#countFromSender(r.nick, frame, 1);
      const target = r.target;
      if (target === undefined) continue;
      if (r.live) {
        if (this.#store.pending) {
          this.#liveAfterCommit.push([target, frame, r.storeId, r.nick]);
        } else {
          this.#deliver(target, frame, r.storeId, r.nick);
          this.#checkTarget(target);
        }
      } else this.#pump(target);
    }
    if (this.#store.pending && relayed > 0) {
      this.#group.push({
        c,
        seq,
        id: messageId(frame),
        kind: route.toKind,
        to,
        relayed,
        bytes: frame.length,
      });
    }
    this.#scheduleAccepted(c, now);
    return true;
  }

  /**
   * Decides, for each recipient, whether its queue refuses the envelope, and writes it to the
   * store where it must be (queued, or live with a persistent store). Runs in a savepoint: it
   * changes nothing in memory, so a store failure leaves nothing to undo.
   */
  #route(recipients: string[], frame: Uint8Array, from: string): Routed[] {
    const out: Routed[] = [];
    const now = Date.now();
    for (const nick of recipients) {
      const online = this.#holders.get(nick);
      const target = online !== undefined && online.state === State.READY ? online : undefined;
      const live = target !== undefined && !target.draining;
      // The memory store delivers live without writing, but the delivery counts against the
      // recipient's queue until it is acknowledged (as a stored one does).
      // One sender's share applies to what waits for an offline (or draining) recipient.
      const refused = this.#queueRefuses(nick, frame.length, live ? null : from);
      if (refused === null && live && !this.#store.persistent) {
        out.push({ nick, refused: null, storeId: 0, target, live });
        continue;
      }
      if (refused !== null) {
        out.push({ nick, refused, storeId: 0, target, live });
        continue;
      }
      const storeId = this.#store.enqueue(nick, frame, now);
      out.push({ nick, refused: null, storeId, target, live });
    }
    return out;
  }

  /**
   * Why a nick's queue refuses `length` more bytes from `from` (null: any sender), or null.
   * One sender may hold only a share of a queue: --queue-max-per-sender envelopes and half its
   * bytes, or --queue-max-stranger envelopes and a quarter of its bytes for a stranger, a nick
   * that shares no room but the lobby with the recipient and that the recipient never wrote to
   * since the relay started.
   */
  #queueRefuses(nick: string, length: number, from: string | null): string | null {
    if (from !== null) {
      const mine = this.#fromSenders.get(nick)?.get(from);
      if (mine !== undefined) {
        const stranger = this.#isStranger(from, nick);
        const count = stranger ? this.#o.queueMaxStranger : this.#o.queueMaxPerSender;
        const bytes = Math.floor(this.#o.queueMaxBytes / (stranger ? 4 : 2));
        if (mine.count >= count || mine.bytes + length > bytes) {
          return `Queue of "${nick}" holds ${mine.count} envelopes (${mine.bytes} bytes) from you: ` +
            `the most one ${
              stranger ? "stranger" : "sender"
            } may leave there is ${count} (${bytes} bytes)`;
        }
      }
    }
    const q = this.#queues.get(nick);
    if (q !== undefined) {
      if (q.count >= this.#o.queueMaxCount) {
        return `Queue of "${nick}" is full: ${q.count} envelopes`;
      }
      if (q.bytes + length > this.#o.queueMaxBytes) {
        return `Queue of "${nick}" is full: ${q.bytes} bytes`;
      }
    } else if (this.#o.queueMaxCount === 0 || length > this.#o.queueMaxBytes) {
      return `Queue of "${nick}" is full: 0 envelopes`;
    }
    const total = this.#store.persistent ? this.#o.storeMaxBytes : this.#o.maxQueueMemory;
    if (this.#queuedBytes + length > total) {
      return `The relay's queues are full: ${this.#queuedBytes} bytes held`;
    }
    return null;
  }

  /** The identity's room fan-out bucket (dropped with its last connection). */
  #fanoutBucket(identity: string): TokenBucket {
    let b = this.#fanout.get(identity);
    if (b === undefined) {
      b = new TokenBucket(this.#o.fanoutRate, this.#o.fanoutBurst);
      this.#fanout.set(identity, b);
    }
    return b;
  }

  /** Remembers that `from` wrote to `to` (so `to` is no stranger to `from`). */
  #noteWrote(from: string, to: string): void {
    const key = `${from}\u0000${to}`;
    if (this.#wroteTo.has(key)) return;
    this.#wroteTo.add(key);
    if (this.#wroteTo.size > 200_000) this.#wroteTo.delete(this.#wroteTo.values().next().value!);
  }

  /** Whether `from` is a stranger to `to`: no room shared but the lobby, never written to by `to`. */
  #isStranger(from: string, to: string): boolean {
    if (this.#wroteTo.has(`${to}\u0000${from}`)) return false;
    const theirs = this.#dir.roomsOf(to);
    for (const room of this.#dir.roomsOf(from)) {
      if (room !== DEFAULT_ROOM && theirs.has(room)) return false;
    }
    return true;
  }

  /** Counts a DELIVER in or out of `nick`'s queue under its sender. */
  #countFromSender(nick: string, frame: Uint8Array, delta: 1 | -1): void {
    if (frame[0] !== FrameType.DELIVER) return;
    // Nothing counted for this nick (the hot path: live deliveries acked): nothing to parse.
    if (delta < 0 && !this.#fromSenders.has(nick)) return;
    let from: string;
    try {
      from = envelopeSender(frame, peekEnvelopeRoute(frame));
    } catch {
      return;
    }
    let senders = this.#fromSenders.get(nick);
    if (senders === undefined) {
      if (delta < 0) return;
      senders = new Map();
      this.#fromSenders.set(nick, senders);
    }
    const s = senders.get(from);
    if (s === undefined) {
      if (delta > 0) senders.set(from, { count: 1, bytes: frame.length });
      return;
    }
    s.count += delta;
    s.bytes += delta * frame.length;
    if (s.count <= 0) {
      senders.delete(from);
      if (senders.size === 0) this.#fromSenders.delete(nick);
    }
  }

  /** Adds one envelope to a nick's queue counters. */
  #countQueued(nick: string, length: number): void {
    const q = this.#queues.get(nick);
    if (q === undefined) this.#queues.set(nick, { count: 1, bytes: length });
    else {
      q.count++;
      q.bytes += length;
    }
    this.#queuedTotal++;
    this.#queuedBytes += length;
  }

  /**
   * ACCEPTED rides along with the next frames written to the sender, or leaves when its oldest
   * SEND is ACCEPTED_DELAY_MS old: in a conversation it costs no write of its own (a reply
   * usually comes sooner), and a quiet sender gets it in time.
   */
  #scheduleAccepted(c: Connection, now: number): void {
    // The SEND just counted is the only one not covered yet: its deadline is the connection's.
    if (c.acceptedSent === c.sendSeq - 1) c.acceptDue = now + ACCEPTED_DELAY_MS;
    if (c.acceptTimerQueued) return;
    c.acceptTimerQueued = true;
    this.#acceptDirty.push(c);
    this.#armAcceptTimer(c.acceptDue, now);
  }

  #armAcceptTimer(due: number, now: number): void {
    if (this.#acceptTimer !== undefined) return;
    this.#acceptTimer = setTimeout(() => this.#acceptTimerFired(), Math.max(0, due - now));
  }

  /** Sends ACCEPTED to every connection whose oldest uncovered SEND is due; waits for the rest. */
  #acceptTimerFired(): void {
    this.#acceptTimer = undefined;
    const now = performance.now();
    const dirty = this.#acceptDirty;
    this.#acceptDirty = [];
    let next = Infinity;
    for (const d of dirty) {
      if (d.state !== State.READY || d.acceptedSent === d.sendSeq) {
        d.acceptTimerQueued = false; // covered meanwhile (rode along) or gone
      } else if (d.acceptDue <= now + 1) {
        d.acceptTimerQueued = false;
        this.scheduleFlush(d);
      } else {
        this.#acceptDirty.push(d);
        if (d.acceptDue < next) next = d.acceptDue;
      }
    }
    if (next !== Infinity) this.#armAcceptTimer(next, now);
  }

  /** Appends to a nick's queue in the store and the queue counters; returns the store id. */
  #enqueue(nick: string, frame: Uint8Array): number {
    const id = this.#store.enqueue(nick, frame, Date.now());
    this.#countQueued(nick, frame.length);
    return id;
  }

  #checkTarget(target: Connection): void {
    if (target.peer.bufferedBytes > this.#o.maxBufferedBytes) {
      this.#log.write("error", { id: target.id, code: "SLOW_READER" });
      this.#metrics.rejectFrame("SLOW_READER");
      this.#close(target, "SLOW_READER", true);
    } else if (target.unacked > this.#o.maxUnacked) {
      this.#fail(target, "UNACKED_LIMIT", `Over ${this.#o.maxUnacked} unacknowledged deliveries`);
    } else if (target.unackedBytes > this.#o.maxUnackedBytes) {
      this.#fail(
        target,
        "UNACKED_LIMIT",
        `Over ${this.#o.maxUnackedBytes} bytes of unacknowledged deliveries`,
      );
    }
  }

  /** Hands one delivery to a connection; a live one (memory store) counts against its queue. */
  #deliver(target: Connection, frame: Uint8Array, storeId: number, nick: string): void {
    if (storeId === 0) this.#countQueued(nick, frame.length);
    this.#unackedTotal += frame.length;
    target.deliver(frame, storeId, nick);
  }

  /**
   * Sends queued envelopes to a draining connection, within its buffer and ack limits. Never
   * while the turn's writes are uncommitted: it runs again after the commit (what it would read
   * might be rolled back).
   */
  #pump(c: Connection): void {
    if (this.#store.pending) {
      this.#pumpAfterCommit.add(c);
      return;
    }
    const cutoff = Date.now() - this.#o.queueMaxAgeSeconds * 1000;
    const expired: HeldEnvelope[] = [];
    while (
      c.draining && c.state === State.READY &&
      c.peer.bufferedBytes < this.#o.maxBufferedBytes / 2 &&
      c.unacked < this.#o.maxUnacked / 2 &&
      c.unackedBytes < this.#o.maxUnackedBytes / 2
    ) {
      if (this.#unackedTotal >= this.#o.maxQueueMemory) {
        this.#pausedPumps.add(c); // resumed by the next ACK that makes room
        break;
      }
      const batch = c.nicks.length === 1
        ? this.#store.queued(c.nick, c.storeCursor, PUMP_BATCH).map((e) => ({ ...e, nick: c.nick }))
        : this.#store.queuedFor(c.nicks, c.storeCursor, PUMP_BATCH);
      for (const e of batch) {
        c.storeCursor = e.id;
        if (e.enqueuedAt < cutoff) expired.push(e);
        else this.#deliver(c, e.frame, e.id, e.nick);
      }
      if (batch.length < PUMP_BATCH) c.draining = false;
    }
    this.scheduleFlush(c);
    if (expired.length > 0) this.#expire(expired, "pump");
  }

  #reject(
    c: Connection,
    seq: number,
    id: Uint8Array,
    recipientKind: RecipientKind,
    recipient: string,
    code: string,
    detail: string,
  ): void {
    this.#metrics.rejectEnvelope(code);
    if (code === "STORE_FAILED") {
      const key = `${recipientKind}:${recipient}`;
      c.storeRefused ??= new Map();
      let refused = c.storeRefused.get(key);
      if (refused === undefined) {
        refused = { pending: new Set(), firstSeq: new Map(), at: 0 };
        c.storeRefused.set(key, refused);
      }
      const hex = idHex(id);
      refused.pending.add(hex);
      if (!refused.firstSeq.has(hex)) refused.firstSeq.set(hex, seq);
      refused.at = performance.now();
    }
    this.#send(c, {
      type: "rejected",
      seq,
      id,
      recipientKind,
      recipient,
      code,
      detail,
    });
  }

  #onControlFrame(c: Connection, bytes: Uint8Array): void {
    if (
      bytes[0] === FrameType.HELLO && bytes.length >= 3 && c.state === State.AWAIT_HELLO &&
      ((bytes[1]! << 8) | bytes[2]!) !== PROTOCOL_VERSION
    ) {
      const v = (bytes[1]! << 8) | bytes[2]!;
      const update = v < PROTOCOL_VERSION ? "update the client" : "this relay is older";
      this.#fail(
        c,
        "UNSUPPORTED_VERSION",
        `Protocol version ${v} is not supported: this relay speaks version ${PROTOCOL_VERSION} (${update})`,
      );
      return;
    }
    const frame = decodeFrame(bytes, { maxFrameBytes: this.maxFrameBytes, from: "client" });
    if (c.state === State.AWAIT_HELLO) {
      if (frame.type !== "hello") return this.#unexpected(c, frame);
      if (this.#tokenBytes !== null) {
        if (!this.#tokenMatches(frame.token)) {
          this.#metrics.authFailuresTotal++;
          this.#badTokenFrom(addressOf(c.peer.remote));
          return this.#fail(c, "BAD_TOKEN", "The access token is wrong or missing");
        }
      }
      c.hello = frame;
      c.challenge = randomBytes(CHALLENGE_BYTES);
      c.state = State.AWAIT_AUTH;
      this.#send(c, { type: "challenge", nonce: c.challenge });
      return;
    }
    if (c.state === State.AWAIT_AUTH) {
      if (frame.type !== "auth") return this.#unexpected(c, frame);
      return this.#onAuth(c, frame.signature);
    }
    switch (frame.type) {
      case "ping":
        return this.#send(c, { type: "relay-pong", nonce: frame.nonce });
      case "pong":
        return;
      case "ack":
        return this.#onAck(c, frame.count);
      case "join":
        return this.#onJoin(c, frame.room);
      case "leave":
        return this.#onLeave(c, frame.room);
      case "list":
        return this.#onList(c, frame.room);
      case "list-rooms": {
        const rooms = [...this.#dir.roomsOf(c.nick)].sort().slice(0, MAX_LIST_ITEMS);
        return this.#send(c, {
          type: "rooms",
          rooms: rooms.map((room) => ({
            room,
            members: Math.min(0xffff, this.#dir.members(room).size),
          })),
        });
      }
      case "publish-keys":
        return this.#onPublishKeys(c, frame);
      case "fetch-keys":
        return this.#onFetchKeys(c, frame.nick, true);
      case "fetch-identity":
        return this.#onFetchKeys(c, frame.nick, false);
      default:
        return this.#unexpected(c, frame);
    }
  }

  #unexpected(c: Connection, frame: Frame): void {
    const state = ["AWAIT_HELLO", "AWAIT_AUTH", "READY", "CLOSED"][c.state];
    this.#fail(c, "UNEXPECTED_FRAME", `Frame "${frame.type}" is not allowed in state ${state}`);
  }

  #onAuth(c: Connection, signature: Uint8Array): void {
    // crypto/ed25519.ts verifies through node:crypto (about 45 µs) with noble's strict rules.
    this.#authenticated(c, verifyAuth(c.hello!, c.challenge!, signature));
  }

  #authenticated(c: Connection, ok: boolean): void {
    const hello = c.hello!;
    if (!ok) {
      this.#metrics.authFailuresTotal++;
      this.#log.write("auth_failed", { id: c.id, nick: hello.nick });
      return this.#fail(c, "AUTH_FAILED", "The signature does not verify");
    }
    const identity = toHex(hello.identityKey);
    const held = this.#identityConns.get(identity) ?? 0;
    if (held >= this.#o.maxConnectionsPerIdentity) {
      // Only a reconnection that replaces one of the identity's own connections gets in.
      const owner = this.#dir.ownerOf(hello.nick);
      if (!this.#online.has(hello.nick) || owner === undefined || toHex(owner) !== identity) {
        return this.#fail(
          c,
          "TOO_MANY_CONNECTIONS",
          `This identity holds ${held} connections (the most is ${this.#o.maxConnectionsPerIdentity})`,
        );
      }
    }
    const granted = grantNick(
      hello.nick,
      hello.identityKey,
      (n) => this.#dir.ownerOf(n),
      (n) => this.#dir.lookAlikes(n),
    );
    if (granted === null) {
      return this.#fail(c, "NICK_UNAVAILABLE", `Nick "${hello.nick}" and its suffixes are taken`);
    }
    if (granted.isNew && !this.#makeRoomForNick(hello.identityKey)) {
      const max = this.#o.maxNicksPerIdentity;
      return this.#fail(
        c,
        "NICK_UNAVAILABLE",
        `This identity already holds ${max} nicks (the most), each in use by a connection: ` +
          `connect under one of them (${this.#dir.nicksOf(hello.identityKey).join(", ")})`,
      );
    }
    if (granted.isNew) this.#dir.bind(granted.nick, hello.identityKey); // a copy made by decode
    const nick = granted.nick;
    const old = this.#online.get(nick);
    let replaced = false;
    if (old !== undefined) {
      old.replaced = true;
      replaced = true;
      this.#fail(old, "REPLACED", "The same identity connected again");
    }
    clearTimeout(c.authTimer);
    c.authTimer = undefined;
    c.challenge = null;
    c.hello = null;
    c.nick = nick;
    c.identity = identity;
    this.#identityConns.set(identity, (this.#identityConns.get(identity) ?? 0) + 1);
    c.state = State.READY;
    this.#online.set(nick, c);
    if (!granted.isNew) this.#touch(nick);
    // This connection also receives what is queued for the identity's other nicks that have no
    // connection of their own (a former nick after a rename); a nick's own connection takes its
    // queue back.
    c.nicks = [nick];
    for (const other of this.#dir.nicksOf(hello.identityKey)) {
      if (other !== nick && !this.#online.has(other)) c.nicks.push(other);
    }
    let queued = 0;
    for (const n of c.nicks) {
      const prev = this.#holders.get(n);
      if (prev !== undefined && prev !== c) prev.nicks = prev.nicks.filter((x) => x !== n);
      this.#holders.set(n, c);
      queued += this.#queues.get(n)?.count ?? 0;
    }
    c.draining = queued > 0;
    this.#send(c, {
      type: "ready",
      nick,
      maxFrameBytes: this.maxFrameBytes,
      heartbeatMs: this.#o.heartbeatMs,
      queued,
      oneTimePrekeys: Math.min(0xffff, this.#store.countOneTimePrekeys(nick)),
      hasBundle: this.#store.getBundle(nick) !== undefined,
      durable: this.#store.persistent,
      epoch: this.#store.epoch,
    });
    this.#log.write("auth", {
      id: c.id,
      nick,
      requested: hello.nick,
      new_binding: granted.isNew,
      replaced,
    });
    this.#onJoin(c, DEFAULT_ROOM);
    if (!replaced) this.#announcePresence(c.nick, true);
    this.#pump(c);
  }

  /**
   * Before a new binding: when the identity holds --max-nicks-per-identity nicks, releases the
   * least recently used one that no connection uses or holds (as a former nick).
   *
   * @returns False when every one is in use (the new binding is refused).
   */
  #makeRoomForNick(identityKey: Uint8Array): boolean {
    const held = this.#dir.nicksOf(identityKey);
    if (held.length < this.#o.maxNicksPerIdentity) return true;
    const free = held.filter((n) => !this.#online.has(n) && !this.#holders.has(n));
    const order = new Map(free.map((n) => [n, this.#store.nickLastUsed(n)]));
    free.sort((a, b) => order.get(a)! - order.get(b)! || (a < b ? -1 : 1));
    for (let i = 0; i <= held.length - this.#o.maxNicksPerIdentity && i < free.length; i++) {
      this.#release(free[i]!, "nick_limit");
    }
    return this.#dir.nicksOf(identityKey).length < this.#o.maxNicksPerIdentity;
  }

  /** NO_SUCH_USER's detail: names a look-alike that is bound (nicks route by exact spelling). */
  #noSuchUser(to: string): string {
    for (const bound of this.#dir.lookAlikes(to)) {
      return `No user "${to}"; "${bound}" is bound: write the nick as the relay spells it`;
    }
    return `No user "${to}"`;
  }

  #announcePresence(nick: string, online: boolean): void {
    const frame = encodeFrame({ type: "presence", nick, online });
    const told = new Set<string>();
    for (const room of this.#dir.roomsOf(nick)) {
      const members = this.#dir.members(room);
      if (members.size > this.#o.roomNoticeLimit) continue;
      for (const m of members) {
        if (m === nick || told.has(m)) continue;
        told.add(m);
        const target = this.#online.get(m);
        if (target !== undefined) this.#notify(target, frame);
      }
    }
  }

  /**
   * Sends a notice (JOINED, LEFT, PRESENCE) to someone other than the nick that caused it. On
   * TCP it waits up to NOTICE_DELAY_MS for other output or other notices, so that a burst of
   * connects (a relay restart, a load test) costs one write per member, not one per notice.
   */
  #notify(target: Connection, frame: Uint8Array): void {
    if (target.state === State.CLOSED) return;
    if (target.peer.batchWithTimer) return target.peer.send(frame);
    target.peer.queue(frame);
    if (target.noticeQueued) return;
    target.noticeQueued = true;
    this.#noticeDirty.push(target);
    if (this.#noticeTimer === undefined) {
      this.#noticeTimer = setTimeout(() => {
        this.#noticeTimer = undefined;
        const dirty = this.#noticeDirty;
        this.#noticeDirty = [];
        for (const d of dirty) {
          d.noticeQueued = false;
          if (d.state !== State.CLOSED) this.scheduleFlush(d);
        }
      }, NOTICE_DELAY_MS);
    }
  }

  #onAck(c: Connection, count: number): void {
    if (count < c.acked || count > c.delivered) {
      return this.#fail(
        c,
        "BAD_ACK",
        `Ack ${count} is outside ${c.acked}..${c.delivered} (acked..delivered)`,
      );
    }
    const before = c.unackedBytes;
    const maxId = c.ack(
      count - c.acked,
      (nick, frame, id) => {
        this.#countFromSender(nick, frame, -1);
        if (id === 0) this.#forgetQueued(nick, { count: 1, bytes: frame.length });
      },
    );
    this.#unackedTotal -= before - c.unackedBytes;
    if (maxId > 0) {
      try {
        for (const nick of c.nicks) {
          this.#forgetQueued(nick, this.#store.deleteQueuedThrough(nick, maxId));
        }
      } catch (e) {
        // The rows stay: a later ACK deletes through a higher id, or they are delivered again.
        if (!isStoreFailure(e)) throw e;
        this.#storeFailure(e);
      }
    }
    if (c.draining) this.#pump(c);
    this.#resumePumps();
  }

  /** Resumes pumps stopped at the relay-wide bound while there is room again. */
  #resumePumps(): void {
    if (this.#pausedPumps.size === 0 || this.#unackedTotal >= this.#o.maxQueueMemory) return;
    const paused = [...this.#pausedPumps];
    this.#pausedPumps.clear();
    for (const p of paused) if (p.state === State.READY && p.draining) this.#pump(p);
  }

  #forgetQueued(nick: string, gone: QueueStats): void {
    if (gone.count === 0) return;
    const q = this.#queues.get(nick);
    if (q !== undefined) {
      q.count -= gone.count;
      q.bytes -= gone.bytes;
      if (q.count <= 0) this.#queues.delete(nick);
    }
    this.#queuedTotal -= gone.count;
    this.#queuedBytes -= gone.bytes;
  }

  #onJoin(c: Connection, room: string): void {
    const members = this.#dir.members(room);
    if (members.has(c.nick)) {
      return this.#send(c, { type: "joined", room, nick: c.nick });
    }
    if (this.#dir.roomsOf(c.nick).size >= MAX_ROOMS_PER_NICK) {
      return this.#error(c, "TOO_MANY_ROOMS", `Already in ${MAX_ROOMS_PER_NICK} rooms`);
    }
    const key = this.#dir.ownerOf(c.nick);
    if (key !== undefined) {
      let held = 0;
      for (const n of this.#dir.nicksOf(key)) held += this.#dir.roomsOf(n).size;
      if (held >= this.#o.maxRoomsPerIdentity) {
        return this.#error(
          c,
          "TOO_MANY_ROOMS",
          `This identity's nicks are in ${held} rooms (the most is ${this.#o.maxRoomsPerIdentity})`,
        );
      }
    }
    this.#dir.join(room, c.nick);
    this.#log.write("join", { id: c.id, nick: c.nick, room });
    const frame = encodeFrame({ type: "joined", room, nick: c.nick });
    if (this.#dir.members(room).size > this.#o.roomNoticeLimit) return this.#sendBytes(c, frame);
    for (const m of this.#dir.members(room)) {
      const target = this.#online.get(m);
      if (target === c) this.#sendBytes(c, frame);
      else if (target !== undefined) this.#notify(target, frame);
    }
  }

  #onLeave(c: Connection, room: string): void {
    if (!this.#dir.members(room).has(c.nick)) {
      return this.#error(c, "NOT_IN_ROOM", `Not a member of "${room}"`);
    }
    const frame = encodeFrame({ type: "left", room, nick: c.nick });
    if (this.#dir.members(room).size > this.#o.roomNoticeLimit) this.#sendBytes(c, frame);
    else {
      for (const m of this.#dir.members(room)) {
        const target = this.#online.get(m);
        if (target === c) this.#sendBytes(c, frame);
        else if (target !== undefined) this.#notify(target, frame);
      }
    }
    this.#dir.leave(room, c.nick);
    this.#log.write("leave", { id: c.id, nick: c.nick, room });
  }

  #onList(c: Connection, room: string): void {
    if (room === "") {
      const nicks = [...this.#online.keys()].sort().slice(0, MAX_LIST_ITEMS);
      return this.#send(c, {
        type: "roster",
        room,
        members: nicks.map((nick) => ({ nick, online: true })),
      });
    }
    const members = this.#dir.members(room);
    if (!members.has(c.nick)) return this.#error(c, "NOT_IN_ROOM", `Not a member of "${room}"`);
    const nicks = [...members].sort().slice(0, MAX_LIST_ITEMS);
    this.#send(c, {
      type: "roster",
      room,
      members: nicks.map((nick) => ({ nick, online: this.#online.has(nick) })),
    });
  }

  #onPublishKeys(c: Connection, f: Frame & { type: "publish-keys" }): void {
    const key = this.#dir.ownerOf(c.nick)!;
    const ok = verify(key, identityDhSignedMessage(f.identityDhKey), f.identityDhSignature) &&
      verify(
        key,
        signedPrekeySignedMessage(f.signedPrekeyId, f.signedPrekey),
        f.signedPrekeySignature,
      );
    if (!ok) return this.#error(c, "BAD_SIGNATURE", "A bundle signature does not verify");
    // A key no honest client makes (every receiver refuses it): refused here, nothing stored.
    const keys: [string, Uint8Array][] = [
      ["identity DH key", f.identityDhKey],
      [`signed prekey ${f.signedPrekeyId}`, f.signedPrekey],
      ...f.oneTimePrekeys.map((k): [string, Uint8Array] => [`one-time prekey ${k.id}`, k.key]),
    ];
    for (const [name, key] of keys) {
      const problem = x25519PublicKeyProblem(key);
      if (problem !== null) {
        return this.#error(c, "BAD_BUNDLE", `Unusable X25519 ${name}: ${problem}`);
      }
    }
    const held = f.replaceOneTimePrekeys ? 0 : this.#store.countOneTimePrekeys(c.nick);
    if (held + f.oneTimePrekeys.length > MAX_ONE_TIME_PREKEYS_HELD) {
      return this.#error(
        c,
        "TOO_MANY_PREKEYS",
        `At most ${MAX_ONE_TIME_PREKEYS_HELD} one-time prekeys are held: ${held} already`,
      );
    }
    this.#store.putBundle(c.nick, {
      identityDhKey: f.identityDhKey,
      identityDhSignature: f.identityDhSignature,
      signedPrekeyId: f.signedPrekeyId,
      signedPrekey: f.signedPrekey,
      signedPrekeySignature: f.signedPrekeySignature,
    });
    this.#store.addOneTimePrekeys(c.nick, f.oneTimePrekeys, f.replaceOneTimePrekeys);
    this.#send(c, {
      type: "prekey-count",
      count: Math.min(0xffff, this.#store.countOneTimePrekeys(c.nick)),
    });
  }

  /** FETCH_KEYS (`takePrekey`) or FETCH_IDENTITY (the same KEYS, never a one-time prekey). */
  #onFetchKeys(c: Connection, nick: string, takePrekey: boolean): void {
    if (!c.fetchBucket.take(performance.now())) {
      return this.#fail(
        c,
        "RATE_LIMITED",
        `Over ${this.#o.fetchRate} key fetches per second (burst ${this.#o.fetchBurst})`,
      );
    }
    if (takePrekey) takePrekey = this.#mayTakePrekey(c.identity, nick);
    const identityKey = this.#dir.ownerOf(nick);
    if (identityKey === undefined) {
      return this.#send(c, { type: "keys", nick, status: "no-such-user" });
    }
    const bundle = this.#store.getBundle(nick);
    if (bundle === undefined) {
      return this.#send(c, { type: "keys", nick, status: "no-bundle", identityKey });
    }
    let oneTimePrekey = takePrekey ? this.#store.takeOneTimePrekey(nick) ?? null : null;
    // One handed out in a turn whose commit failed is back in the store: never hand it out again.
    for (
      let i = 0;
      i < 256 && oneTimePrekey !== null && this.#isLostPrekey(nick, oneTimePrekey.id);
      i++
    ) {
      oneTimePrekey = this.#store.takeOneTimePrekey(nick) ?? null;
    }
    if (oneTimePrekey !== null && this.#store.pending) {
      this.#takenPrekeys.push([nick, oneTimePrekey.id]);
    }
    if (oneTimePrekey !== null) this.#notePrekeyTaken(c.identity, nick);
    this.#send(c, { type: "keys", nick, status: "ok", identityKey, bundle, oneTimePrekey });
    const owner = this.#online.get(nick);
    if (oneTimePrekey !== null && owner !== undefined) {
      this.#send(owner, {
        type: "prekey-count",
        count: Math.min(0xffff, this.#store.countOneTimePrekeys(nick)),
      });
    }
  }

  /** Whether `fetcher` (identity hex) may take one of `nick`'s one-time prekeys now. */
  #mayTakePrekey(fetcher: string, nick: string): boolean {
    const at = this.#prekeyTakenAt.get(`${fetcher}/${nick}`);
    return at === undefined || Date.now() - at >= this.#o.prekeyPeriodSeconds * 1000;
  }

  /** Records that `fetcher` took one of `nick`'s one-time prekeys (bounded: oldest forgotten). */
  #notePrekeyTaken(fetcher: string, nick: string): void {
    const key = `${fetcher}/${nick}`;
    this.#prekeyTakenAt.delete(key);
    this.#prekeyTakenAt.set(key, Date.now());
    const cutoff = Date.now() - this.#o.prekeyPeriodSeconds * 1000;
    for (const [k, at] of this.#prekeyTakenAt) {
      if (at >= cutoff && this.#prekeyTakenAt.size <= 100_000) break;
      this.#prekeyTakenAt.delete(k);
    }
  }

  // ---- output ------------------------------------------------------------------------------

  #send(c: Connection, frame: Frame): void {
    this.#sendBytes(c, encodeFrame(frame));
  }

  #sendBytes(c: Connection, bytes: Uint8Array): void {
    if (c.state === State.CLOSED) return;
    c.peer.send(bytes);
  }

  /** Sends a non-fatal ERROR. */
  #error(c: Connection, code: string, detail: string): void {
    this.#send(c, { type: "error", fatal: false, code, detail });
  }

  scheduleFlush(c: Connection): void {
    if (c.flushQueued) return;
    c.flushQueued = true;
    if (c.peer.batchWithTimer) {
      this.#timerDirty.push(c);
      if (!this.#timerQueued) {
        this.#timerQueued = true;
        setTimeout(() => this.#flushTimer(), 0);
      }
    } else {
      this.#dirty.push(c);
      if (!this.#microtaskQueued) {
        this.#microtaskQueued = true;
        queueMicrotask(() => this.#flushMicrotask());
      }
    }
  }

  #flushMicrotask(): void {
    this.#microtaskQueued = false;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const c of dirty) this.#flushOne(c);
  }

  #flushTimer(): void {
    this.#timerQueued = false;
    const dirty = this.#timerDirty;
    this.#timerDirty = [];
    for (const c of dirty) this.#flushOne(c);
  }

  /**
   * Commits the turn's writes. Then the deliveries that waited for it go out; if it fails, every
   * SEND of the turn gets REJECTED STORE_FAILED instead (before any ACCEPTED covers it), its
   * deliveries are dropped and the queue counters are read back from the store.
   */
  #commit(): void {
    if (!this.#store.pending) return;
    if (this.#resync) this.#resyncStore();
    let failure: RelayError | null = null;
    try {
      this.#store.commit();
    } catch (e) {
      if (!isStoreFailure(e)) throw e;
      failure = e;
    }
    const group = this.#group;
    const live = this.#liveAfterCommit;
    const taken = this.#takenPrekeys;
    this.#group = [];
    this.#liveAfterCommit = [];
    this.#takenPrekeys = [];
    if (failure === null) {
      this.#resync = false;
      for (const [target, frame, id, nick] of live) {
        if (target.state !== State.READY) continue; // stored: the next connection gets it
        this.#deliver(target, frame, id, nick);
        this.#checkTarget(target);
      }
    } else {
      this.#storeFailure(failure);
      this.#lostPrekeys.push(...taken);
      for (const g of group) {
        this.#metrics.envelopesRelayed -= g.relayed;
        this.#metrics.bytesRelayed -= g.relayed * g.bytes;
        if (g.c.state === State.READY) {
          this.#reject(g.c, g.seq, g.id, g.kind, g.to, "STORE_FAILED", storeFailedDetail(failure));
          this.scheduleFlush(g.c);
        }
      }
      this.#reloadQueueStats();
    }
    const pumps = [...this.#pumpAfterCommit];
    this.#pumpAfterCommit.clear();
    for (const c of pumps) if (c.state === State.READY) this.#pump(c);
  }

  /** Logs a store failure (once per failing turn) and remembers to re-write the directory. */
  #storeFailure(e: RelayError): void {
    this.#resync = true;
    if (this.#storeFailureLogged) return;
    this.#storeFailureLogged = true;
    setTimeout(() => this.#storeFailureLogged = false, 0);
    this.#metrics.storeFailures++;
    this.#log.write("error", { code: "STORE_FAILED", detail: e.message });
  }

  /**
   * After a failed turn the in-memory directory (bindings, rooms) may hold changes the store lost,
   * and one-time prekeys handed out may be back in the store: write them again with the next
   * commit, so that no prekey is handed out twice and a restart finds what clients were told.
   */
  #resyncStore(): void {
    try {
      this.#store.atomically(() => {
        this.#dir.writeTo(this.#store);
        for (const [nick, id] of this.#lostPrekeys) this.#store.dropOneTimePrekey(nick, id);
      });
      this.#lostPrekeys = [];
    } catch {
      // Still failing: the commit fails too and this runs again next time.
    }
  }

  #isLostPrekey(nick: string, id: number): boolean {
    return this.#lostPrekeys.some(([n, i]) => n === nick && i === id);
  }

  #flushOne(c: Connection): void {
    c.flushQueued = false;
    this.#commit(); // what an ACCEPTED covers is stored before it leaves
    if (c.state === State.READY && c.acceptedSent !== c.sendSeq) {
      c.acceptedSent = c.sendSeq;
      const n = c.sendSeq;
      const accepted = new Uint8Array(5);
      accepted[0] = FrameType.ACCEPTED;
      accepted[1] = n >>> 24;
      accepted[2] = (n >>> 16) & 255;
      accepted[3] = (n >>> 8) & 255;
      accepted[4] = n & 255;
      c.peer.send(accepted);
    }
    c.peer.flush();
  }

  // ---- closing -----------------------------------------------------------------------------

  /** Sends a fatal ERROR and closes the connection. */
  #fail(c: Connection, code: string, detail: string): void {
    if (c.state === State.CLOSED) return;
    this.#metrics.rejectFrame(code);
    if (code !== "REPLACED" && code !== "SHUTTING_DOWN") {
      this.#log.write("error", { id: c.id, code, nick: c.nick || "-" });
    }
    this.#flushOne(c); // ACCEPTED for what was handled goes before the ERROR
    c.peer.send(encodeFrame({ type: "error", fatal: true, code, detail }));
    this.#close(c, code);
  }

  #close(c: Connection, reason: string, immediate = false): void {
    if (c.state === State.CLOSED) return;
    const wasReady = c.state === State.READY;
    c.state = State.CLOSED;
    clearTimeout(c.authTimer);
    if (this.#connections.delete(c)) this.#countAddress(c.peer.remote, -1);
    if (wasReady) {
      const left = (this.#identityConns.get(c.identity) ?? 1) - 1;
      if (left <= 0) {
        this.#identityConns.delete(c.identity);
        this.#fanout.delete(c.identity);
      } else this.#identityConns.set(c.identity, left);
      if (this.#online.get(c.nick) === c) this.#online.delete(c.nick);
      for (const n of c.nicks) if (this.#holders.get(n) === c) this.#holders.delete(n);
      this.#requeue(c);
      if (!c.replaced) this.#touch(c.nick);
      if (!c.replaced && !this.#closing && !this.#online.has(c.nick)) {
        this.#announcePresence(c.nick, false);
      }
    }
    this.#log.write("disconnect", { id: c.id, nick: c.nick || "-", reason });
    c.peer.flush();
    c.peer.close(immediate);
  }

  /**
   * Puts a closed connection's unacked live deliveries back at the end of their queues, within
   * the queue bounds: one that does not fit is dropped and its sender told (UNDELIVERED
   * QUEUE_FULL). Stored deliveries simply stay in the store.
   */
  #requeue(c: Connection): void {
    this.#unackedTotal -= c.unackedBytes;
    this.#pausedPumps.delete(c);
    const { frames, ids, nicks } = c.takeUnacked();
    const refused: HeldEnvelope[] = [];
    const now = Date.now();
    for (let i = 0; i < frames.length; i++) {
      if (ids[i] !== 0) continue;
      const frame = frames[i]!;
      const nick = nicks[i]!;
      this.#forgetQueued(nick, { count: 1, bytes: frame.length });
      this.#countFromSender(nick, frame, -1);
      if (frame[0] !== FrameType.DELIVER || this.#queueRefuses(nick, frame.length, null) === null) {
        this.#enqueue(nick, frame);
        this.#countFromSender(nick, frame, 1);
      } else refused.push({ id: 0, nick, frame, enqueuedAt: now });
    }
    if (refused.length > 0) this.#refuseRequeue(refused);
    this.#resumePumps();
  }

  /** Tells the senders of deliveries that could not go back to a full queue (QUEUE_FULL). */
  #refuseRequeue(rows: HeldEnvelope[]): void {
    const now = Date.now();
    const plan: Notice[] = [];
    for (const r of rows) {
      const notice = this.#noticeFor(r, "QUEUE_FULL");
      if (notice === null || this.#dir.ownerOf(notice.from) === undefined) continue;
      plan.push(this.#planNotice(notice.from, notice.bytes, now));
    }
    this.#metrics.rejectEnvelope("QUEUE_FULL");
    this.#log.write("requeue-refused", { envelopes: rows.length });
    this.#applyNotices(plan);
  }

  /**
   * Heartbeats (PROTOCOL.md 8): a PING after `hb` of silence; HEARTBEAT_TIMEOUT after `2 hb` of
   * silence, but only once the PING has been out (written) for `hb`, or when a write to the
   * connection has waited `2 hb` (the client does not read). A relay slow to write (its own load:
   * thousands of logins at once) does not drop clients that had no PING to answer. Times come
   * from this sweep (every `hb / 4` once the relay listens), not from the writer: the writes only
   * count. Public for tests that drive the relay without sockets.
   */
  sweepHeartbeats(): void {
    const now = performance.now();
    const hb = this.#o.heartbeatMs;
    for (const c of this.#connections) {
      if (c.state !== State.READY) continue;
      const silent = now - c.lastSeen;
      if (silent <= hb) continue;
      const peer = c.peer;
      if (c.pingedAt < c.lastSeen) {
        c.pingedAt = now;
        c.pingOutAt = 0;
        c.pingWrite = peer.writesStarted + 1;
        this.#send(c, { type: "relay-ping", nonce: randomBytes(8) });
        continue;
      }
      if (c.pingOutAt === 0 && peer.writesDone >= c.pingWrite) c.pingOutAt = now;
      if (peer.writesDone === peer.writesStarted) c.stalledSince = 0;
      else if (c.stalledSince === 0 || c.stalledAt !== peer.writesDone) {
        c.stalledSince = now;
        c.stalledAt = peer.writesDone;
      }
      if (silent <= 2 * hb) continue;
      const unanswered = c.pingOutAt !== 0 && now - c.pingOutAt > hb;
      const unread = c.stalledSince !== 0 && now - c.stalledSince > 2 * hb;
      if (unanswered || unread) {
        this.#fail(
          c,
          "HEARTBEAT_TIMEOUT",
          `Nothing received for ${Math.round(silent)} ms` +
            (unanswered ? "" : `; our writes have waited ${Math.round(now - c.stalledSince)} ms`),
        );
      }
    }
  }

  /** Records that a nick is in use (for --nick-ttl); a store failure only delays that. */
  #touch(nick: string): void {
    try {
      this.#store.touchNick(nick, Date.now());
    } catch (e) {
      if (!isStoreFailure(e)) throw e;
      this.#storeFailure(e);
    }
  }

  /** Releases every nick nobody connected under for --nick-ttl (and that no connection holds). */
  #releaseUnused(): void {
    if (this.#closing) return;
    const now = Date.now();
    // Connected nicks are in use: refresh them now and then, so that a relay killed outright does
    // not find them stale after a restart.
    if (now - this.#touchedOnlineAt > this.#o.nickTtlSeconds * 250) {
      this.#touchedOnlineAt = now;
      for (const nick of this.#online.keys()) this.#touch(nick);
    }
    let nicks: string[];
    try {
      nicks = this.#store.nicksUnusedSince(now - this.#o.nickTtlSeconds * 1000);
    } catch {
      return;
    }
    for (const nick of nicks) {
      if (this.#online.has(nick) || this.#holders.has(nick)) continue;
      this.#release(nick);
    }
  }

  /**
   * Releases one nick: binding, rooms (LEFT to the members online), bundle, prekeys and queue.
   * Each queued envelope's sender gets UNDELIVERED NICK_RELEASED, and so does another nick of the
   * same identity (the holder's notice), if it has one.
   */
  #release(nick: string, why: "ttl" | "nick_limit" = "ttl"): void {
    const key = this.#dir.ownerOf(nick);
    if (key === undefined) return;
    const heir = this.#dir.nicksOf(key).find((n) => n !== nick);
    const now = Date.now();
    let rows: HeldEnvelope[];
    let plan: Notice[];
    try {
      [rows, plan] = this.#store.atomically(() => {
        const held = this.#store.releaseNick(nick);
        const out: Notice[] = [];
        for (const r of held) {
          if (r.frame[0] !== FrameType.DELIVER) continue;
          const notice = this.#noticeFor(r, "NICK_RELEASED");
          if (notice === null) continue;
          if (notice.from !== nick && this.#dir.ownerOf(notice.from) !== undefined) {
            out.push(this.#planNotice(notice.from, notice.bytes, now));
          }
          if (heir !== undefined && heir !== notice.from) {
            out.push(this.#planNotice(heir, notice.bytes, now));
          }
        }
        return [held, out] as const;
      });
    } catch (e) {
      if (!isStoreFailure(e)) throw e;
      this.#storeFailure(e);
      return;
    }
    const rooms = [...this.#dir.roomsOf(nick)];
    for (const room of rooms) {
      const members = this.#dir.members(room);
      if (members.size > this.#o.roomNoticeLimit) continue;
      const frame = encodeFrame({ type: "left", room, nick });
      for (const m of members) {
        const target = this.#online.get(m);
        if (m !== nick && target !== undefined) this.#notify(target, frame);
      }
    }
    this.#dir.forget(nick);
    let bytes = 0;
    for (const r of rows) bytes += r.frame.length;
    this.#forgetQueued(nick, { count: rows.length, bytes });
    this.#queues.delete(nick);
    this.#fromSenders.delete(nick);
    this.#metrics.nicksReleased++;
    this.#log.write("released", { nick, envelopes: rows.length, rooms: rooms.length, why });
    this.#applyNotices(plan);
  }

  /** Finds envelopes past the age bound in the queues of offline nicks and expires them. */
  #purgeExpired(): void {
    if (this.#closing) return;
    const cutoff = Date.now() - this.#o.queueMaxAgeSeconds * 1000;
    const found: HeldEnvelope[] = [];
    let after = 0;
    for (let round = 0; round < 1000; round++) {
      const rows = this.#store.queuedBefore(cutoff, after, PURGE_BATCH);
      // An online nick's queue is being delivered: its pump expires what it reaches.
      for (const r of rows) if (!this.#holders.has(r.nick)) found.push(r);
      if (rows.length < PURGE_BATCH) break;
      after = rows[rows.length - 1]!.id;
    }
    if (found.length > 0) this.#expire(found, "purge");
  }

  /**
   * Drops expired queued envelopes and tells both ends: an UNDELIVERED EXPIRED to the holder and
   * to the sender (if its nick is still bound), delivered or queued like a DELIVER. An expired
   * notice is only dropped. Counted in `hush_envelopes_expired_total` and logged (no metadata of
   * single envelopes: counts only). A store failure leaves everything for the next try.
   */
  #expire(rows: HeldEnvelope[], path: "purge" | "pump"): void {
    const now = Date.now();
    let plan: Notice[];
    try {
      plan = this.#store.atomically(() => {
        const out: Notice[] = [];
        for (const r of rows) this.#store.deleteQueuedId(r.id, r.nick);
        for (const r of rows) {
          if (r.frame[0] !== FrameType.DELIVER) continue; // a notice: no notice about it
          const notice = this.#noticeFor(r, "EXPIRED");
          if (notice === null) continue;
          const from = notice.from;
          const to = [r.nick];
          if (from !== r.nick && this.#dir.ownerOf(from) !== undefined) to.push(from);
          for (const nick of to) out.push(this.#planNotice(nick, notice.bytes, now));
        }
        return out;
      });
    } catch (e) {
      if (!isStoreFailure(e)) throw e;
      this.#storeFailure(e);
      return;
    }
    let envelopes = 0;
    for (const r of rows) {
      this.#forgetQueued(r.nick, { count: 1, bytes: r.frame.length });
      this.#countFromSender(r.nick, r.frame, -1);
      if (r.frame[0] === FrameType.DELIVER) envelopes++;
    }
    this.#metrics.envelopesExpired += rows.length;
    this.#log.write("expired", { envelopes, notices: rows.length - envelopes, path });
    this.#applyNotices(plan);
  }

  /** The UNDELIVERED frame about a queued DELIVER (null if its header cannot be read). */
  #noticeFor(r: HeldEnvelope, reason: string): { from: string; bytes: Uint8Array } | null {
    let route: EnvelopeRoute;
    try {
      route = peekEnvelopeRoute(r.frame);
    } catch {
      return null;
    }
    const from = envelopeSender(r.frame, route);
    const bytes = encodeFrame({
      type: "undelivered",
      id: r.frame.slice(1, 1 + MESSAGE_ID_BYTES),
      from,
      toKind: route.toKind,
      to: envelopeRecipient(r.frame, route),
      holder: r.nick,
      reason,
      enqueuedAt: Math.min(0xffff_ffff, Math.max(0, Math.floor(r.enqueuedAt / 1000))),
    });
    return { from, bytes };
  }

  /**
   * Writes a notice for `nick` where a DELIVER would go (its queue, unless it is delivered live
   * by the memory store); no queue bound refuses it. Call inside `atomically`.
   */
  #planNotice(nick: string, frame: Uint8Array, now: number): Notice {
    const online = this.#holders.get(nick);
    const target = online !== undefined && online.state === State.READY ? online : undefined;
    const live = target !== undefined && !target.draining;
    const storeId = live && !this.#store.persistent ? 0 : this.#store.enqueue(nick, frame, now);
    return { nick, frame, storeId, target, live };
  }

  /** Counts and sends (or schedules) notices whose writes succeeded. */
  #applyNotices(plan: Notice[]): void {
    for (const n of plan) {
      if (n.storeId !== 0) this.#countQueued(n.nick, n.frame.length);
      const target = n.target;
      if (target === undefined || target.state !== State.READY) continue;
      if (n.live) {
        if (this.#store.pending) {
          this.#liveAfterCommit.push([target, n.frame, n.storeId, n.nick]);
        } else {
          this.#deliver(target, n.frame, n.storeId, n.nick);
          this.#checkTarget(target);
        }
      } else this.#pump(target);
    }
  }

  #reloadQueueStats(): void {
    this.#queues = this.#store.queueStats();
    this.#fromSenders.clear(); // counted again from what arrives (lenient after a resync)
    this.#queuedTotal = 0;
    this.#queuedBytes = 0;
    for (const q of this.#queues.values()) {
      this.#queuedTotal += q.count;
      this.#queuedBytes += q.bytes;
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return this.finished;
    this.#closing = true;
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#acceptTimer);
    clearTimeout(this.#noticeTimer);
    try {
      this.#tcp?.close();
    } catch {
      // already closed
    }
    const open = [...this.#connections];
    for (const c of open) this.#fail(c, "SHUTTING_DOWN", "The relay is shutting down");
    // Give the transports a moment to write the last frames.
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline && open.some((c) => c.peer.bufferedBytes > 0)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    try {
      this.#ws?.close();
    } catch {
      // already closed
    }
    for (const p of this.#httpPending) p.abort();
    this.#log.write("shutdown", { queued: this.#queuedTotal });
    try {
      this.#commit();
      this.#store.close();
    } catch (e) {
      this.#log.write("error", {
        code: "STORE_FAILED",
        detail: e instanceof Error ? e.message : String(e),
      });
    }
    this.#log.close();
    this.#resolveFinished();
  }
}

/** One recipient of a SEND, as routed. */
interface Routed {
  nick: string;
  /** Why its queue refused the envelope (QUEUE_FULL), or null. */
  refused: string | null;
  /** Store id (0: not stored, a live delivery of the memory store). */
  storeId: number;
  /** Its connection, when online. */
  target: Connection | undefined;
  /** Whether it gets the envelope now rather than through its queue. */
  live: boolean;
}

/** An UNDELIVERED notice for one nick, as written. */
type Notice = Omit<Routed, "refused"> & { frame: Uint8Array };

/** A SEND written in the open turn: what to reject if the commit fails. */
interface GroupSend {
  c: Connection;
  seq: number;
  id: Uint8Array;
  kind: RecipientKind;
  to: string;
  /** Recipients it was written for, and the frame's size. */
  relayed: number;
  bytes: number;
}

/** Whether `e` is the store's failure (`RelayError` `STORE_FAILED`). */
/** HMAC-SHA256 (node:crypto: the relay keeps away from the sessions' key schedule). */
function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

/** The address of `address:port` (IPv6 too). */
function addressOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  return colon < 0 ? remote : remote.slice(0, colon);
}

function isStoreFailure(e: unknown): e is RelayError {
  return e instanceof RelayError && e.code === "STORE_FAILED";
}

/** The REJECTED detail for a SEND the store could not keep. */
function storeFailedDetail(e: RelayError): string {
  const text = `The relay could not store the message (nothing of it was kept): ${e.message}`;
  return text.length > 900 ? text.slice(0, 900) : text;
}

/** Whether an envelope's sender field is exactly `nick` (ASCII), compared byte by byte. */
function senderIs(frame: Uint8Array, route: EnvelopeRoute, nick: string): boolean {
  if (route.fromEnd - route.fromStart !== nick.length) return false;
  for (let i = 0; i < nick.length; i++) {
    if (frame[route.fromStart + i] !== nick.charCodeAt(i)) return false;
  }
  return true;
}

/** A copy of an envelope's message id. */
function messageId(frame: Uint8Array): Uint8Array {
  return frame.slice(1, 1 + MESSAGE_ID_BYTES);
}

/** A message id as hex (the key of a connection's refused SENDs). */
function idHex(id: Uint8Array): string {
  return toHex(id);
}
