/**
 * One client connection as the relay sees it: its state, its transport and the deliveries it
 * has not acknowledged yet.
 *
 * @module
 */

import type { HelloFrame } from "../protocol/mod.ts";
import type { TokenBucket } from "./limits.ts";

/** Connection states (`docs/PROTOCOL.md`, section 3). */
export const State = Object.freeze(
  {
    AWAIT_HELLO: 0,
    AWAIT_AUTH: 1,
    READY: 2,
    CLOSED: 3,
  } as const,
);

/** A transport endpoint: TCP, TLS or WebSocket. */
export interface Peer {
  /** `tcp`, `tls`, `ws` or `wss`. */
  readonly transport: string;
  /** `address:port` of the client. */
  readonly remote: string;
  /** Bytes accepted by {@link send} and not yet written. */
  readonly bufferedBytes: number;
  /** Writes started so far: each takes everything queued before it started. */
  readonly writesStarted: number;
  /** Writes completed so far (all their bytes handed to the kernel), in order. */
  readonly writesDone: number;
  /** Queues one frame (no length prefix) to be written this tick. */
  send(frame: Uint8Array): void;
  /** Queues one frame to go out with the next write, without asking for one. */
  queue(frame: Uint8Array): void;
  /** Writes what {@link send} queued (called once per tick by the relay). */
  flush(): void;
  /** Closes: after writing what is queued, or at once when `immediate`. */
  close(immediate?: boolean): void;
  /** Whether the relay should batch ACCEPTED frames with a timer (WebSocket) or per microtask. */
  readonly batchWithTimer: boolean;
  /** The relay's record of this connection (set once, right after accept). */
  connection: Connection;
}

let nextId = 1;

/** Shared by every connection with nothing in flight (most of them): replaced before a push. */
const NO_FRAMES: Uint8Array[] = [];
const NO_IDS: number[] = [];
const NO_NICKS: string[] = [];

/** The relay's record of one connection. */
export class Connection {
  /** Small integer id for the log. */
  readonly id: number = nextId++;
  readonly peer: Peer;
  state: number = State.AWAIT_HELLO;
  /** Granted nick (READY only). */
  nick = "";
  /** Identity key in hex (READY only). */
  identity = "";
  /**
   * Nicks whose queues this connection receives: its own first, then other nicks bound to the
   * same identity key that have no connection of their own.
   */
  nicks: string[] = [];
  hello: HelloFrame | null = null;
  challenge: Uint8Array | null = null;
  bucket: TokenBucket;
  /** FETCH_KEYS / FETCH_IDENTITY budget (set by the relay at accept). */
  fetchBucket!: TokenBucket;
  /** Last time (performance.now()) a frame arrived, and when the relay last pinged. */
  lastSeen: number;
  pingedAt = 0;
  /**
   * The write (its `Peer.writesStarted` number) that carries the last PING, and when the heartbeat
   * sweep first saw it written (0: not yet).
   */
  pingWrite = 0;
  pingOutAt = 0;
  /** Since when the sweep has seen write number `stalledAt + 1` waiting (0: none waits). */
  stalledSince = 0;
  stalledAt = 0;
  authTimer: ReturnType<typeof setTimeout> | undefined;
  /** SEND frames handled so far (ACCEPTED count) and whether an ACCEPTED is due. */
  sendSeq = 0;
  /**
   * Conversations (`nick:NAME`, `room:NAME`) with SENDs of this connection refused with
   * `STORE_FAILED` and not sent again yet: their ids (hex) with the sequence number of their first
   * refusal, and when (performance.now()) the last refusal was. Until every one came again, oldest
   * first, later SENDs to the conversation are refused too, so that nothing overtakes them.
   */
  storeRefused:
    | Map<
      string,
      { pending: Set<string>; firstSeq: Map<string, number>; at: number }
    >
    | null = null; // made on the first refusal: most connections never have one
  acceptedSent = 0;
  flushQueued = false;
  /** DELIVERs sent and acked so far. */
  delivered = 0;
  acked = 0;
  /** Unacked DELIVER frames from index `head` on, with their store ids (0: never stored). */
  inflight: Uint8Array[] = NO_FRAMES;
  inflightIds: number[] = NO_IDS;
  /** The nick each unacked delivery was for (its queue is charged until the ACK). */
  inflightNicks: string[] = NO_NICKS;
  head = 0;
  /** Bytes of the unacked deliveries. */
  unackedBytes = 0;
  /** Whether queued envelopes are still being sent; highest store id sent. */
  draining = false;
  storeCursor = 0;
  /** Whether a notice timer is pending for this connection. */
  noticeQueued = false;
  /** Whether an ACCEPTED timer is pending for this connection. */
  acceptTimerQueued = false;
  /** When (performance.now()) the ACCEPTED for the oldest SEND not covered yet is due. */
  acceptDue = 0;
  /** Set when a newer connection of the same identity took over. */
  replaced = false;

  constructor(peer: Peer, bucket: TokenBucket, now: number) {
    this.peer = peer;
    this.bucket = bucket;
    this.lastSeen = now;
  }

  /** Number of DELIVERs not yet acknowledged. */
  get unacked(): number {
    return this.delivered - this.acked;
  }

  /** Records a DELIVER (for `nick`'s queue) and hands it to the transport. */
  deliver(frame: Uint8Array, storeId: number, nick: string): void {
    if (this.inflight === NO_FRAMES) {
      this.inflight = [];
      this.inflightIds = [];
      this.inflightNicks = [];
    }
    this.inflight.push(frame);
    this.inflightIds.push(storeId);
    this.inflightNicks.push(nick);
    this.unackedBytes += frame.length;
    this.delivered++;
    this.peer.send(frame);
  }

  /**
   * Drops the first `n` unacked deliveries.
   *
   * @param n How many.
   * @param onAcked Called for each, with its nick, frame and store id (0: never stored).
   * @returns The highest store id among them (0 if none was stored).
   */
  ack(n: number, onAcked: (nick: string, frame: Uint8Array, id: number) => void): number {
    let maxId = 0;
    const end = this.head + n;
    for (let i = this.head; i < end; i++) {
      const id = this.inflightIds[i]!;
      const frame = this.inflight[i]!;
      this.unackedBytes -= frame.length;
      if (id > maxId) maxId = id;
      onAcked(this.inflightNicks[i]!, frame, id);
    }
    this.head = end;
    this.acked += n;
    if (this.head === this.inflight.length) {
      this.inflight = NO_FRAMES;
      this.inflightIds = NO_IDS;
      this.inflightNicks = NO_NICKS;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.head);
      this.inflightIds = this.inflightIds.slice(this.head);
      this.inflightNicks = this.inflightNicks.slice(this.head);
      this.head = 0;
    }
    return maxId;
  }

  /** Takes every unacked delivery out (for re-queueing), in order. */
  takeUnacked(): { frames: Uint8Array[]; ids: number[]; nicks: string[] } {
    const out = {
      frames: this.inflight.slice(this.head),
      ids: this.inflightIds.slice(this.head),
      nicks: this.inflightNicks.slice(this.head),
    };
    this.inflight = NO_FRAMES;
    this.inflightIds = NO_IDS;
    this.inflightNicks = NO_NICKS;
    this.unackedBytes = 0;
    this.head = 0;
    return out;
  }
}
