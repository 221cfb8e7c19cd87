/**
 * An in-memory relay double for permission-free engine tests: it speaks the real codec over
 * in-memory transports (the engine's `connectTransport` option), routes envelopes between the
 * engines connected to it, and lets a test hold back acknowledgements, drop connections and
 * deliver an envelope twice. It checks no signature: the real relay is covered by the e2e tests.
 *
 * @module
 */

import type { Transport, TransportHandlers } from "../../chat/transport.ts";
import {
  decodeFrame,
  encodeFrame,
  type EnvelopeFrame,
  type Frame,
  type PublishKeysFrame,
  type UndeliveredFrame,
} from "../../protocol/mod.ts";

interface FakePeer {
  handlers: TransportHandlers;
  transport: Transport;
  nick: string | undefined;
  identityKey: Uint8Array | undefined;
  open: boolean;
  sends: number;
  delivered: number;
  acked: number;
}

/** A relay double. */
export class FakeRelay {
  /** Every SEND received, in order, across connections. */
  readonly sends: (EnvelopeFrame & { type: "send" })[] = [];
  /** Every ACK count received, in order. */
  readonly acks: number[] = [];
  /** Every PUBLISH_KEYS received, in order. */
  readonly publishes: PublishKeysFrame[] = [];
  /** When false, SENDs are recorded and routed but not acknowledged. */
  autoAccept = true;
  /** Heartbeat interval announced in READY. */
  heartbeatMs = 30_000;
  /** The storage epoch announced in READY (change it to simulate a relay that lost its state). */
  epoch: Uint8Array = new Uint8Array(8).fill(1);
  /** Client PINGs received. */
  pings = 0;
  /** While true, HELLO gets no answer (not a Hush relay, or a stuck one). */
  mute = false;
  /** While true, new connections fail (the relay is down). */
  down = false;
  /** LEAVEs received, as `nick:room`. */
  readonly leaves: string[] = [];
  /** When true, every routed envelope is delivered twice. */
  duplicateDeliveries = false;
  /** Decides per routed envelope: deliver it, drop it, or hold it until {@linkcode releaseHeld}. */
  route: (to: string, envelope: EnvelopeFrame) => "deliver" | "drop" | "hold" = () => "deliver";
  /**
   * Decides per SEND and recipient (the nick, or each other member of a room): a code to refuse
   * it with (a REJECTED frame before the ACCEPTED covering it, as the real relay does), or
   * undefined to route it.
   */
  refuse: (to: string, envelope: EnvelopeFrame) => string | undefined = () => undefined;
  #held: [string, EnvelopeFrame][] = [];
  #lastDelivered = new Map<string, Uint8Array>();
  #peers: FakePeer[] = [];
  #bundles = new Map<string, { identityKey: Uint8Array; keys: PublishKeysFrame }>();
  #rooms = new Map<string, Set<string>>([["lobby", new Set()]]);
  #queues = new Map<string, Uint8Array[]>();

  /** The engine option: opens an in-memory connection to this relay. */
  readonly connect = (_url: string, handlers: TransportHandlers): Promise<Transport> => {
    if (this.down) return Promise.reject(new Error("connection refused"));
    const peer: FakePeer = {
      handlers,
      nick: undefined,
      identityKey: undefined,
      open: true,
      sends: 0,
      delivered: 0,
      acked: 0,
      transport: undefined as unknown as Transport,
    };
    peer.transport = {
      url: "tcp://fake:1",
      send: (frame) => {
        if (!peer.open) return;
        const copy = frame.slice();
        queueMicrotask(() => this.#receive(peer, copy));
      },
      close: () => this.#drop(peer, "closed by client"),
    };
    this.#peers.push(peer);
    return Promise.resolve(peer.transport);
  };

  /**
   * Hands out `count` of a nick's one-time prekeys (as fetches by others would) and tells the
   * nick how many are left.
   *
   * @returns How many the relay still holds.
   */
  takePrekeys(nick: string, count: number): number {
    const entry = this.#bundles.get(nick);
    if (entry === undefined) return 0;
    entry.keys.oneTimePrekeys.splice(0, count);
    const left = entry.keys.oneTimePrekeys.length;
    const owner = this.#peers.find((p) => p.open && p.nick === nick);
    if (owner !== undefined) this.#to(owner, { type: "prekey-count", count: left });
    return left;
  }

  /** How many one-time prekeys the relay holds for a nick. */
  prekeyCount(nick: string): number {
    return this.#bundles.get(nick)?.keys.oneTimePrekeys.length ?? 0;
  }

  /** FETCH_IDENTITY frames received. */
  identityFetches = 0;

  /** DELIVERs sent on a nick's open connection so far, and how many of them it acknowledged. */
  deliveries(nick: string): { delivered: number; acked: number } {
    const peer = this.#peers.find((p) => p.open && p.nick === nick);
    return { delivered: peer?.delivered ?? 0, acked: peer?.acked ?? 0 };
  }

  /** Delivers the last envelope routed to `nick` once more (a relay repeating an unacked one). */
  redeliverLast(nick: string): void {
    const bytes = this.#lastDelivered.get(nick);
    const peer = this.#peers.find((p) => p.open && p.nick === nick);
    if (bytes === undefined || peer === undefined) return;
    peer.delivered++;
    const copy = bytes.slice();
    queueMicrotask(() => {
      if (peer.open) peer.handlers.onFrame(copy);
    });
  }

  /** Sends an UNDELIVERED notice to `nick`'s open connection, numbered like a DELIVER. */
  notice(nick: string, frame: Omit<UndeliveredFrame, "type">): void {
    const peer = this.#peers.find((p) => p.open && p.nick === nick);
    if (peer === undefined) return;
    peer.delivered++;
    this.#to(peer, { type: "undelivered", ...frame });
  }

  /** Closes every connection, as a relay crash would. */
  dropAll(): void {
    for (const peer of [...this.#peers]) this.#drop(peer, "connection reset");
  }

  /** Acknowledges every SEND received so far on the open connections. */
  acceptAll(): void {
    for (const peer of this.#peers) {
      if (peer.open) this.#to(peer, { type: "accepted", count: peer.sends });
    }
  }

  #drop(peer: FakePeer, reason: string): void {
    if (!peer.open) return;
    peer.open = false;
    this.#peers = this.#peers.filter((p) => p !== peer);
    queueMicrotask(() => peer.handlers.onClose(reason));
  }

  #to(peer: FakePeer, frame: Frame): void {
    if (!peer.open) return;
    const bytes = encodeFrame(frame);
    queueMicrotask(() => {
      if (peer.open) peer.handlers.onFrame(bytes);
    });
  }

  /** Delivers the held envelopes, in order. */
  releaseHeld(): void {
    const held = this.#held;
    this.#held = [];
    for (const [nick, envelope] of held) this.#deliverTo(nick, envelope, true);
  }

  #deliverTo(nick: string, envelope: EnvelopeFrame, released = false): void {
    if (!released) {
      const decision = this.route(nick, envelope);
      if (decision === "drop") return;
      if (decision === "hold") {
        this.#held.push([nick, envelope]);
        return;
      }
    }
    const bytes = encodeFrame({ ...envelope, type: "deliver" });
    this.#lastDelivered.set(nick, bytes);
    const copies = this.duplicateDeliveries ? 2 : 1;
    const peer = this.#peers.find((p) => p.open && p.nick === nick);
    for (let i = 0; i < copies; i++) {
      if (peer === undefined) {
        const queue = this.#queues.get(nick) ?? [];
        queue.push(bytes);
        this.#queues.set(nick, queue);
      } else {
        peer.delivered++;
        const copy = bytes.slice();
        queueMicrotask(() => {
          if (peer.open) peer.handlers.onFrame(copy);
        });
      }
    }
  }

  #join(peer: FakePeer, room: string): void {
    const members = this.#rooms.get(room) ?? new Set<string>();
    this.#rooms.set(room, members);
    members.add(peer.nick!);
    for (const other of this.#peers) {
      if (other.open && other.nick !== undefined && members.has(other.nick)) {
        this.#to(other, { type: "joined", room, nick: peer.nick! });
      }
    }
  }

  #receive(peer: FakePeer, bytes: Uint8Array): void {
    if (!peer.open) return;
    const frame = decodeFrame(bytes, { from: "client" });
    switch (frame.type) {
      case "hello":
        if (this.mute) return;
        peer.nick = frame.nick;
        peer.identityKey = frame.identityKey;
        this.#to(peer, { type: "challenge", nonce: new Uint8Array(32) });
        return;
      case "auth": {
        const nick = peer.nick!;
        for (const other of this.#peers) {
          if (other !== peer && other.nick === nick) this.#drop(other, "replaced");
        }
        this.#join(peer, "lobby");
        this.#to(peer, {
          type: "ready",
          nick,
          maxFrameBytes: 65_536,
          heartbeatMs: this.heartbeatMs,
          queued: this.#queues.get(nick)?.length ?? 0,
          oneTimePrekeys: this.#bundles.get(nick)?.keys.oneTimePrekeys.length ?? 0,
          hasBundle: this.#bundles.has(nick),
          durable: false,
          epoch: this.epoch,
        });
        const queue = this.#queues.get(nick) ?? [];
        this.#queues.delete(nick);
        for (const envelope of queue) {
          peer.delivered++;
          queueMicrotask(() => {
            if (peer.open) peer.handlers.onFrame(envelope);
          });
        }
        return;
      }
      case "send": {
        peer.sends++;
        this.sends.push(frame);
        const seq = peer.sends;
        const to = (nick: string) => {
          const code = this.refuse(nick, frame);
          if (code === undefined) this.#deliverTo(nick, frame);
          else {
            this.#to(peer, {
              type: "rejected",
              seq,
              id: frame.id,
              recipientKind: "nick",
              recipient: nick,
              code,
              detail: `Refused by the test (${code})`,
            });
          }
        };
        if (frame.toKind === "nick") to(frame.to);
        else {
          for (const member of this.#rooms.get(frame.to) ?? []) {
            if (member !== frame.from) to(member);
          }
        }
        if (this.autoAccept) this.#to(peer, { type: "accepted", count: peer.sends });
        return;
      }
      case "ack":
        peer.acked = frame.count;
        this.acks.push(frame.count);
        return;
      case "publish-keys": {
        this.publishes.push(frame);
        const old = this.#bundles.get(peer.nick!);
        const keys = frame.replaceOneTimePrekeys || old === undefined
          ? { ...frame, oneTimePrekeys: [...frame.oneTimePrekeys] }
          : { ...frame, oneTimePrekeys: [...old.keys.oneTimePrekeys, ...frame.oneTimePrekeys] };
        this.#bundles.set(peer.nick!, { identityKey: peer.identityKey!, keys });
        this.#to(peer, { type: "prekey-count", count: keys.oneTimePrekeys.length });
        return;
      }
      case "fetch-keys":
      case "fetch-identity": {
        if (frame.type === "fetch-identity") this.identityFetches++;
        const entry = this.#bundles.get(frame.nick);
        if (entry === undefined) {
          this.#to(peer, { type: "keys", nick: frame.nick, status: "no-such-user" });
          return;
        }
        const oneTime = frame.type === "fetch-keys"
          ? entry.keys.oneTimePrekeys.shift() ?? null
          : null;
        this.#to(peer, {
          type: "keys",
          nick: frame.nick,
          status: "ok",
          identityKey: entry.identityKey,
          bundle: entry.keys,
          oneTimePrekey: oneTime,
        });
        return;
      }
      case "join":
        this.#join(peer, frame.room);
        return;
      case "list": {
        const members = frame.room === ""
          ? this.#peers.filter((p) => p.nick !== undefined).map((p) => p.nick!)
          : [...this.#rooms.get(frame.room) ?? []];
        this.#to(peer, {
          type: "roster",
          room: frame.room,
          members: members.sort().map((nick) => ({
            nick,
            online: this.#peers.some((p) => p.open && p.nick === nick),
          })),
        });
        return;
      }
      case "leave":
        this.leaves.push(`${peer.nick}:${frame.room}`);
        this.#rooms.get(frame.room)?.delete(peer.nick!);
        return;
      case "ping":
        this.pings++; // a silent relay: never answered
        return;
      default:
        return;
    }
  }
}
