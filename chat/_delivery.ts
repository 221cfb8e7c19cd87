/**
 * Incoming envelopes (DELIVER): dropping repeats by message id, opening them through the
 * end-to-end layer, holding room messages whose sender key has not arrived yet, saving state
 * before anything is shown, and acknowledging what was saved. Private to the engine.
 *
 * @module
 */

import { toHex } from "../crypto/mod.ts";
import type { EnvelopeFrame, UndeliveredFrame } from "../protocol/mod.ts";
import { type Received, SessionError } from "../sessions/mod.ts";
import type { EngineCore } from "./_core.ts";
import type { Connection } from "./_connection.ts";
import { decodeChatPayload } from "./content.ts";
import {
  decryptErrorEvent,
  identityChangedEvent,
  type MessageEvent,
  messageEvent,
  noSenderKeyEvent,
} from "./_emitter.ts";
import type { ChatEvent } from "./events.ts";
import type { SeenIds } from "./seen_ids.ts";

/** Most room messages kept while waiting for their sender key. */
const MAX_PENDING_ROOM = 256;
/** How long a room message waits for its sender key before an error is shown. */
const PENDING_SENDER_KEY_MS = 10_000;

/** A DELIVER frame. */
export type DeliverFrame = EnvelopeFrame & { type: "deliver" };

/** What delivery needs from the engine. */
export interface DeliveryHost extends EngineCore {
  seen: SeenIds;
  /** Whether the teaching view is on. */
  wire(): boolean;
  connection(): Connection | undefined;
  /** Saves the seen ids. */
  saveSeen(): Promise<void>;
  /** See `ChatClientOptions.senderKeyWaitMs`. */
  senderKeyWaitMs: number | undefined;
  /** Nicks this client was granted before the current one. */
  formerNicks(): readonly string[];
}

/** One received DELIVER: its connection generation and its number on that connection. */
interface Delivered {
  frame: EnvelopeFrame;
  generation: number;
  seq: number;
}

/** One received UNDELIVERED notice: numbered among the deliveries like a DELIVER. */
interface Notice {
  notice: UndeliveredFrame;
  generation: number;
  seq: number;
}

/** The inbox of one engine. */
export class Delivery {
  #host: DeliveryHost;
  #inbox: (Delivered | Notice)[] = [];
  #processing = false;
  /**
   * Room messages held for their sender key. An ACK never covers one of them (on the current
   * connection), so a crash while one waits loses nothing: the relay delivers it again.
   */
  #pendingRoom: (Delivered & { since: number })[] = [];
  #pendingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(host: DeliveryHost) {
    this.#host = host;
  }

  /** True while a batch is being handled. */
  get busy(): boolean {
    return this.#processing;
  }

  /** Takes a DELIVER from `connection` and handles it (in order, in batches). */
  receive(connection: Connection, frame: DeliverFrame, size: number): void {
    connection.delivered++;
    this.#inbox.push({ frame, generation: connection.generation, seq: connection.delivered });
    if (this.#host.wire()) this.#host.emitter.wire("in", frame, size);
    this.#processInbox();
  }

  /**
   * Takes an UNDELIVERED notice: it counts as a delivery (ACKs count DELIVER and UNDELIVERED
   * frames), handled in order with the DELIVERs around it.
   */
  receiveNotice(connection: Connection, notice: UndeliveredFrame): void {
    connection.delivered++;
    this.#inbox.push({ notice, generation: connection.generation, seq: connection.delivered });
    this.#processInbox();
  }

  /** Stops the timer of held room messages (on close). */
  stop(): void {
    clearInterval(this.#pendingTimer);
    this.#pendingTimer = undefined;
  }

  async #processInbox(): Promise<void> {
    if (this.#processing) return;
    this.#processing = true;
    try {
      while (this.#inbox.length > 0) {
        const batch = this.#inbox.splice(0, 64);
        const events: ChatEvent[] = [];
        const handled = new Map<number, number>();
        for (const item of batch) {
          if ("notice" in item) {
            events.push(this.#noticeEvent(item.notice));
            handled.set(item.generation, (handled.get(item.generation) ?? 0) + 1);
            continue;
          }
          try {
            this.#openEnvelope(item, events);
          } catch (error) {
            this.#host.seen.add(toHex(item.frame.id));
            events.push(decryptErrorEvent(error, item.frame.from, ""));
          }
          handled.set(item.generation, (handled.get(item.generation) ?? 0) + 1);
        }
        // Durable before shown and before acknowledged.
        let saved = true;
        try {
          await this.#host.persist();
          await this.#host.saveSeen();
        } catch (error) {
          // Shown anyway (the keys are used up in memory) but not acknowledged: the relay keeps
          // the envelopes, so after a crash they are delivered and opened again. Nothing lost.
          saved = false;
          this.#host.emitter.reportError(error);
        }
        for (const event of events) this.#host.emitter.emit(event);
        this.#acknowledge(saved, handled);
      }
    } finally {
      this.#processing = false;
    }
  }

  /**
   * Acks are cumulative: after an unsaved batch nothing more is acknowledged on this
   * connection, so the relay delivers all of it again on the next one.
   */
  #acknowledge(saved: boolean, handled: Map<number, number>): void {
    const connection = this.#host.connection();
    if (!saved && connection !== undefined) connection.ackBlocked = true;
    if (connection !== undefined) connection.handled += handled.get(connection.generation) ?? 0;
    this.#ackHandled();
  }

  /** ACKs what is handled on the current connection, up to the first held room message. */
  #ackHandled(): void {
    const connection = this.#host.connection();
    if (connection === undefined || connection.ackBlocked || !connection.ready) return;
    let upTo = connection.handled;
    for (const held of this.#pendingRoom) {
      if (held.generation === connection.generation) upTo = Math.min(upTo, held.seq - 1);
    }
    if (upTo > connection.acked) {
      connection.acked = upTo;
      connection.transport.ack(upTo);
    }
  }

  /**
   * The event of an UNDELIVERED notice: `undelivered` for a message this client sent, an `info`
   * line for a message that was waiting for us.
   */
  #noticeEvent(notice: UndeliveredFrame): ChatEvent {
    const id = toHex(notice.id);
    const me = this.#host.nick();
    const mine = (nick: string) => nick === me || this.#host.formerNicks().includes(nick);
    const why = noticeReason(notice.reason);
    const to = notice.toKind === "room" ? `room ${notice.to}` : notice.to;
    if (mine(notice.from)) {
      return {
        type: "undelivered",
        id,
        // Who did not get it: for a room, the member whose queue held it.
        to: notice.toKind === "room" ? notice.holder : notice.to,
        code: notice.reason,
        message: `Message ${id.slice(0, 8)} to ${to} was not delivered${
          notice.toKind === "room" ? ` to ${notice.holder}` : ""
        }: ${why}`,
        retrying: false,
      };
    }
    return {
      type: "info",
      message: `A message from ${notice.from}${
        notice.toKind === "room" ? ` in room ${notice.to}` : ""
      } was lost before you could receive it: ${why}`,
    };
  }

  #openEnvelope(item: Delivered, events: ChatEvent[], retry = false): void {
    const frame = item.frame;
    const id = toHex(frame.id);
    const seen = this.#host.seen;
    if (seen.has(id)) {
      if (this.#host.wire() && !retry) {
        events.push({
          type: "info",
          message: `Envelope ${id} was delivered again: already shown, dropped by message id`,
        });
      }
      return;
    }
    const hush = this.#host.hush();
    try {
      if (frame.toKind === "room") {
        const got = hush.decryptRoom(frame.to, frame.from, frame.body);
        const payload = decodeChatPayload(got.plaintext, this.#host.now());
        seen.add(id);
        events.push(messageEvent(
          {
            id,
            from: frame.from,
            to: frame.to,
            private: false,
            text: payload.text,
            ts: payload.ts,
          },
          { cipher: got.suite, insecure: got.insecure, verified: got.verified, own: false },
        ));
        return;
      }
      const got = hush.decryptFrom(frame.from, frame.body);
      seen.add(id);
      if (got.type === "sender-key") {
        this.#retryPendingRoom(events);
        return;
      }
      events.push(pairwiseEvent(got, { id, nick: this.#host.nick(), now: this.#host.now() }));
    } catch (error) {
      if (error instanceof SessionError && error.code === "NO_SENDER_KEY" && !retry) {
        this.#hold(item, events);
        return;
      }
      if (error instanceof SessionError && error.code === "DUPLICATE_MESSAGE") {
        seen.add(id);
        return;
      }
      if (retry) throw error;
      seen.add(id);
      if (error instanceof SessionError && error.code === "IDENTITY_CHANGED") {
        events.push(identityChangedEvent(hush, frame.from));
      }
      events.push(decryptErrorEvent(error, frame.from, frame.toKind === "room" ? frame.to : ""));
    }
  }

  /**
   * The distribution may still be on its way: keep the body, retry when a key arrives. Not acked
   * meanwhile (an ACK stops before the first held message); a copy delivered again replaces the
   * old one.
   */
  #hold(item: Delivered, events: ChatEvent[]): void {
    const id = toHex(item.frame.id);
    // A copy delivered again (after a reconnect) keeps the first copy's clock, so that repeated
    // reconnects cannot keep a message waiting for ever.
    const earlier = this.#pendingRoom.find((p) => toHex(p.frame.id) === id);
    this.#pendingRoom = this.#pendingRoom.filter((p) => p !== earlier);
    this.#pendingRoom.push({ ...item, since: earlier?.since ?? this.#host.now() });
    if (this.#pendingRoom.length > MAX_PENDING_ROOM) {
      const dropped = this.#pendingRoom.shift();
      if (dropped !== undefined) events.push(noSenderKeyEvent(dropped.frame));
    }
    this.#pendingTimer ??= setInterval(
      () => this.#expirePending(),
      Math.min(1_000, this.#host.senderKeyWaitMs ?? 1_000),
    );
  }

  /** Gives up on room messages whose sender key did not arrive in time: one error each. */
  #expirePending(): void {
    const limit = this.#host.now() - (this.#host.senderKeyWaitMs ?? PENDING_SENDER_KEY_MS);
    const expired = this.#pendingRoom.filter((item) => item.since <= limit);
    this.#pendingRoom = this.#pendingRoom.filter((item) => item.since > limit);
    if (this.#pendingRoom.length === 0) this.stop();
    for (const item of expired) this.#host.emitter.emit(noSenderKeyEvent(item.frame));
    if (expired.length > 0) this.#ackHandled();
  }

  #retryPendingRoom(events: ChatEvent[]): void {
    const pending = this.#pendingRoom;
    this.#pendingRoom = [];
    for (const item of pending) {
      try {
        this.#openEnvelope(item, events, true);
      } catch (error) {
        if (error instanceof SessionError && error.code === "NO_SENDER_KEY") {
          this.#pendingRoom.push(item);
        } else {
          this.#host.seen.add(toHex(item.frame.id));
          events.push(decryptErrorEvent(error, item.frame.from, item.frame.to));
        }
      }
    }
  }
}

/** Readable text of an UNDELIVERED reason code. */
function noticeReason(reason: string): string {
  switch (reason) {
    case "EXPIRED":
      return "it waited in the relay's queue longer than the relay keeps messages (EXPIRED)";
    case "NICK_RELEASED":
      return "the relay released the recipient's unused nick (NICK_RELEASED)";
    default:
      return `the relay dropped it (${reason})`;
  }
}

/**
 * The `message` event of an opened private message.
 *
 * @param got What the end-to-end layer opened.
 * @param context The message id, our nick (the recipient) and the clock.
 */
export function pairwiseEvent(
  got: Received & { type: "text" },
  context: { id: string; nick: string; now: number },
): MessageEvent {
  const payload = decodeChatPayload(got.plaintext, context.now);
  return messageEvent(
    {
      id: context.id,
      from: got.from,
      to: context.nick,
      private: true,
      text: payload.text,
      ts: payload.ts,
    },
    { cipher: got.suite, insecure: got.insecure, verified: got.verified, own: false },
  );
}
