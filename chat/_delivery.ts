/**
 * Incoming envelopes (DELIVER): dropping repeats by message id, opening them through the
 * end-to-end layer, holding room messages whose sender key has not arrived yet, saving state
 * before anything is shown, and acknowledging what was saved. Private to the engine.
 *
 * Exactly once: the session state, the seen ids and the opened-but-not-yet-shown messages (the
 * saved inbox) go into the one `sessions.json` snapshot, written atomically before anything is
 * shown. After a crash at any point either the message was not opened yet (the relay delivers it
 * again and it opens) or it was opened and saved with the state (shown from the saved inbox at
 * the next start; its redelivery is dropped by id).
 *
 * @module
 */

import { toHex } from "../crypto/mod.ts";
import type { EnvelopeFrame } from "../protocol/mod.ts";
import { type Received, SessionError, type SessionStore } from "../sessions/mod.ts";
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

/** Store entry (in `sessions.json`) of the seen message ids. */
export const SEEN_KEY = "chat/seen";
/** Store entry (in `sessions.json`) of opened messages not yet shown: `message` events. */
export const INBOX_KEY = "chat/inbox";

/** A DELIVER frame. */
export type DeliverFrame = EnvelopeFrame & { type: "deliver" };

/** What delivery needs from the engine. */
export interface DeliveryHost extends EngineCore {
  seen: SeenIds;
  /** Whether the teaching view is on. */
  wire(): boolean;
  connection(): Connection | undefined;
  /** The session store saved by `persist()`: seen ids and the saved inbox live in it too. */
  store: SessionStore;
  /** See `ChatClientOptions.senderKeyWaitMs`. */
  senderKeyWaitMs: number | undefined;
}

/** One received DELIVER: its connection generation and its number on that connection. */
interface Delivered {
  frame: EnvelopeFrame;
  generation: number;
  seq: number;
}

/** The inbox of one engine. */
export class Delivery {
  #host: DeliveryHost;
  #inbox: Delivered[] = [];
  #processing = false;
  /**
   * Room messages held for their sender key. An ACK never covers one of them (on the current
   * connection), so a crash while one waits loses nothing: the relay delivers it again.
   */
  #pendingRoom: (Delivered & { since: number })[] = [];
  #pendingTimer: ReturnType<typeof setInterval> | undefined;
  /** Opened messages saved with the state and not yet shown. */
  #unshown: MessageEvent[] = [];

  constructor(host: DeliveryHost) {
    this.#host = host;
    // Seen ids saved with the state (merged into those of a legacy `seen.json`).
    for (const id of readList<string>(host.store, SEEN_KEY)) {
      if (typeof id === "string") host.seen.add(id);
    }
    this.#unshown = readList<MessageEvent>(host.store, INBOX_KEY).filter((event) =>
      typeof event === "object" && event !== null && event.type === "message"
    );
  }

  /**
   * Shows the messages that were opened and saved but not shown before the last exit (a crash),
   * then forgets them. Call once listeners are registered (on connect).
   *
   * @returns When the emptied inbox is saved.
   */
  async showSaved(): Promise<void> {
    if (this.#unshown.length === 0) return;
    for (const event of this.#unshown) this.#host.emitter.emit(event);
    await this.#forgetShown();
  }

  /** Empties the saved inbox (after its messages were shown) and saves that. */
  async #forgetShown(): Promise<void> {
    if (this.#unshown.length === 0) return;
    this.#unshown = [];
    this.#host.store.set(INBOX_KEY, "[]");
    try {
      await this.#host.persist();
    } catch (error) {
      // Shown already; after a crash now they would be shown again (same ids).
      this.#host.emitter.reportError(error);
    }
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
          try {
            this.#openEnvelope(item, events);
          } catch (error) {
            this.#host.seen.add(toHex(item.frame.id));
            events.push(decryptErrorEvent(error, item.frame.from, ""));
          }
          handled.set(item.generation, (handled.get(item.generation) ?? 0) + 1);
        }
        // Durable before shown and before acknowledged: state, seen ids and the opened messages
        // in one atomic write.
        for (const event of events) if (event.type === "message") this.#unshown.push(event);
        this.#host.store.set(SEEN_KEY, this.#host.seen.toJSON());
        this.#host.store.set(INBOX_KEY, JSON.stringify(this.#unshown));
        let saved = true;
        try {
          await this.#host.persist();
          crashForTest("sessions-write", events);
        } catch (error) {
          // Shown anyway (the keys are used up in memory) but not acknowledged: the relay keeps
          // the envelopes, so after a crash they are delivered and opened again. Nothing lost.
          saved = false;
          this.#host.emitter.reportError(error);
        }
        for (const event of events) this.#host.emitter.emit(event);
        await this.#forgetShown();
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
        // Its id was never shown (shown ids are dropped above), yet its key is used up: a replay
        // under a new id, or a message whose state was lost. Never swallowed.
        seen.add(id);
        events.push({
          type: "error",
          code: "DUPLICATE_MESSAGE",
          message:
            `Cannot open a message from "${frame.from}"${
              frame.toKind === "room" ? ` in "${frame.to}"` : ""
            }: its key was already used, but this message (${id.slice(0, 8)}) was never shown ` +
            "(a replay, or a message whose state was lost)",
        });
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

function readList<T>(store: SessionStore, key: string): T[] {
  const text = store.get(key);
  if (typeof text !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed as T[] : [];
  } catch {
    return [];
  }
}

/**
 * Test-only crash hook: with `HUSH_TEST_CRASH_AFTER=<point>` in the environment, the process
 * exits (code 137, as if SIGKILLed) right after that point of the first batch that shows a
 * message. Points: `sessions-write` (the state write of a batch, before anything is shown).
 * Used by tests/e2e to kill a receiver at the most dangerous moment; never set it otherwise.
 */
function crashForTest(point: string, events: ChatEvent[]): void {
  if (!events.some((event) => event.type === "message")) return;
  let wanted: string | undefined;
  try {
    wanted = globalThis.Deno?.env.get("HUSH_TEST_CRASH_AFTER");
  } catch {
    return; // no env permission: no hook
  }
  if (wanted === point) Deno.exit(137);
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
