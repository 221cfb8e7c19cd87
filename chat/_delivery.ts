/**
 * Incoming envelopes (DELIVER): dropping repeats by message id, opening them through the
 * end-to-end layer, holding room messages whose sender key has not arrived yet, saving state
 * before anything is shown, and acknowledging what was saved. Private to the engine.
 *
 * Exactly once: the session state, the seen ids and the opened-but-not-yet-shown messages (the
 * saved inbox) go into the session store in one atomic save (one SQLite transaction), before anything is
 * shown. After a crash at any point either the message was not opened yet (the relay delivers it
 * again and it opens) or it was opened and saved with the state (shown from the saved inbox at
 * the next start; its redelivery is dropped by id). The window left, a crash after a message
 * was shown and before the inbox without it was saved, is closed where the home can append
 * synchronously, by the `shown` journal: `?ID` is appended right before a message's event is
 * written and `ID` right after (no `await` in between). At the next start a saved-inbox message
 * with `ID` is not shown again; one with `?ID` alone (the crash came while it was being shown:
 * nobody can know whether the screen or the program reading `--json` got it) is shown again
 * with `repeat: true`, same id; one with neither is shown as usual. Exactly once by id: showing
 * to a stream another process reads cannot be made atomic with a file write, so the one
 * uncertain case is said, never silent, and never a loss.
 *
 * @module
 */

import { fromHex, randomBytes, toHex } from "../crypto/mod.ts";
import type { EnvelopeFrame, UndeliveredFrame } from "../protocol/mod.ts";
import { type Received, SessionError, type SessionStore } from "../sessions/mod.ts";
import type { EngineCore } from "./_core.ts";
import { crashForTest } from "./_crash_hook.ts";
import type { Connection } from "./_connection.ts";
import { decodeChatContent, decodeChatPayload } from "./content.ts";
import type { Recovery } from "./_recovery.ts";
import {
  decryptErrorEvent,
  identityChangedEvent,
  type MessageEvent,
  messageEvent,
  noSenderKeyEvent,
  sameIdentityEvent,
} from "./_emitter.ts";
import type { ChatEvent } from "./events.ts";
import type { SeenIds } from "./seen_ids.ts";

/** Most room messages kept while waiting for their sender key. */
const MAX_PENDING_ROOM = 256;
/** How long a room message waits for its sender key before an error is shown. */
const PENDING_SENDER_KEY_MS = 10_000;

/** Store entry (in the session store) of the seen message ids. */
export const SEEN_KEY = "chat/seen";
/** Store entry (in the session store) of opened messages not yet shown: `message` events. */
export const INBOX_KEY = "chat/inbox";
/** Store entry (in the session store) of room messages held until their sender's new key is trusted. */
export const HELD_KEY = "chat/held";
/** Most room messages held for a changed identity (beyond it the oldest go, with an error). */
const MAX_HELD_FOR_TRUST = 500;
/** Conversations whose newest shown `ts` is remembered, to flag a `late` message. */
const MAX_ORDER_KEYS = 1024;

/** A room envelope held until `/trust` (its sender's identity changed). */
interface HeldEnvelope {
  id: string;
  cipher: number;
  from: string;
  to: string;
  body: string;
}

/** A DELIVER frame. */
export type DeliverFrame = EnvelopeFrame & { type: "deliver" };

/**
 * Home file of saved-inbox messages being shown (`?ID`, written right before) and shown (`ID`,
 * right after), one a line.
 */
export const SHOWN_FILE = "shown";

/**
 * The `shown` journal: synchronous writes, so that nothing can run between showing a message
 * and noting that it was shown.
 */
export interface ShownJournal {
  /** Reads the journal (missing: empty). */
  read(): Promise<string | undefined>;
  /** Appends text now. */
  appendSync(text: string): void;
  /** Replaces the journal's contents now. */
  writeSync(text: string): void;
}

/** What delivery needs from the engine. */
export interface DeliveryHost extends EngineCore {
  seen: SeenIds;
  /** Whether the teaching view is on. */
  wire(): boolean;
  connection(): Connection | undefined;
  /** The session store saved by `persist()`: seen ids and the saved inbox live in it too. */
  store: SessionStore;
  /** Asks senders to send again what cannot be opened for want of a session. */
  recovery: Recovery;
  /** See `ChatClientOptions.senderKeyWaitMs`. */
  senderKeyWaitMs: number | undefined;
  /** Nicks this client was granted before the current one. */
  formerNicks(): readonly string[];
  /** Whether we are in `room` (absent: every room counts as joined). */
  inRoom?(room: string): boolean;
  /** The `shown` journal, when the home can write synchronously (else a crash right after a
   * message was shown may show it again). */
  shownJournal?: ShownJournal | undefined;
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
  /** Opened messages saved with the state and not yet shown. */
  #unshown: MessageEvent[] = [];
  /** Room messages from a peer whose identity changed, kept (in the store) until `/trust`. */
  #heldForTrust: HeldEnvelope[];
  /** Per sender and conversation, the newest `ts` shown (`late` messages). */
  readonly #newestShown = new Map<string, number>();
  /** Peers told about this run that their room messages are held. */
  #toldHeld = new Set<string>();
  /** Rooms left whose late messages were reported (once each). */
  #toldLeft = new Set<string>();
  /** Saved-inbox messages in the `shown` journal: being shown (`?ID` only) or shown (`ID`). */
  #journaled = new Map<string, "showing" | "shown">();
  /** Whether a journal write failed (reported once; the journal is not used any more). */
  #journalFailed = false;

  constructor(host: DeliveryHost) {
    this.#host = host;
    // Seen ids saved with the state (merged into those of a legacy `seen.json`).
    for (const id of readList<string>(host.store, SEEN_KEY)) {
      if (typeof id === "string") host.seen.add(id);
    }
    this.#unshown = readList<MessageEvent>(host.store, INBOX_KEY).filter((event) =>
      typeof event === "object" && event !== null && event.type === "message"
    );
    this.#heldForTrust = readList<HeldEnvelope>(host.store, HELD_KEY).filter((held) =>
      typeof held === "object" && held !== null && typeof held.body === "string"
    );
  }

  /**
   * Accepts `nick`'s changed identity key (`/trust`) and shows what was held for it: the private
   * messages the sessions layer held (with their original ids) and the room messages held here.
   * Everything is saved with the new state in one write before it is shown.
   *
   * @param nick The peer whose pending key change is accepted.
   * @returns When shown and saved.
   */
  async release(nick: string): Promise<void> {
    const hush = this.#host.hush();
    const events: ChatEvent[] = [];
    const released = hush.acceptIdentity(nick, (error, tag) => {
      events.push({
        type: "error",
        code: error.code,
        message: `Cannot open a held message from "${nick}"${
          tag === undefined ? "" : ` (${tag.slice(0, 8)})`
        }: ${error.message}`,
      });
    });
    const trust = hush.trust.get(nick);
    events.unshift({ type: "trusted", peer: nick, fingerprint: trust?.fingerprint ?? "" });
    const seen = this.#host.seen;
    for (const got of released) {
      if (got.type !== "text") continue; // a sender key: stored, opens the room messages below
      // Its id was marked seen when it was held (so a redelivery is not held twice).
      const id = got.tag ?? toHex(randomBytes(16));
      seen.add(id);
      const content = decodeChatContent(got.plaintext, this.#host.now());
      if (content.type !== "text") this.#host.recovery.onControl(got, content, events);
      else events.push(pairwiseEvent(got, { id, nick: this.#host.nick(), now: this.#host.now() }));
    }
    const mine = this.#heldForTrust.filter((held) => held.from === nick);
    this.#heldForTrust = this.#heldForTrust.filter((held) => held.from !== nick);
    this.#toldHeld.delete(nick);
    for (const held of mine) {
      const frame: DeliverFrame = {
        type: "deliver",
        id: fromHex(held.id),
        cipher: held.cipher,
        from: held.from,
        toKind: "room",
        to: held.to,
        body: fromHex(held.body),
      };
      try {
        this.#openEnvelope({ frame, generation: -1, seq: 0 }, events);
      } catch (error) {
        seen.add(held.id);
        events.push(decryptErrorEvent(error, held.from, held.to));
      }
    }
    this.#retryPendingRoom(events);
    await this.#commit(events);
  }

  /**
   * Shows the messages that were opened and saved but not shown before the last exit (a crash),
   * then forgets them. Call once listeners are registered (on connect).
   *
   * @returns When the emptied inbox is saved.
   */
  async showSaved(): Promise<void> {
    const journal = this.#host.shownJournal;
    let text: string | undefined;
    try {
      text = await journal?.read();
    } catch (error) {
      this.#host.emitter.reportError(error);
    }
    // Shown before the crash (`ID`): not shown again; being shown (`?ID` alone): shown again,
    // flagged as a possible repeat.
    for (const line of (text ?? "").split("\n")) {
      const entry = line.trim();
      if (entry.startsWith("?")) {
        if (entry.length > 1 && !this.#journaled.has(entry.slice(1))) {
          this.#journaled.set(entry.slice(1), "showing");
        }
      } else if (entry !== "") this.#journaled.set(entry, "shown");
    }
    if (this.#unshown.length === 0) {
      if (this.#journaled.size > 0) this.#trimJournal();
      return;
    }
    const saved = [...this.#unshown];
    for (const event of saved) {
      const before = this.#journaled.get(event.id);
      if (before === "shown") continue;
      this.#show(before === "showing" ? { ...event, repeat: true } : event);
    }
    await this.#forgetShown(saved);
  }

  /**
   * Shows a message, noting in the `shown` journal that it is being shown (before) and that it
   * was shown (after), with no `await` in between.
   */
  #show(event: MessageEvent): void {
    this.#note(event.id, "showing");
    this.#host.emitter.emit(this.#isLate(event) ? { ...event, late: true } : event);
    crashForTest("printed");
    this.#note(event.id, "shown");
  }

  /**
   * Whether a received message was written (sender's `ts`) before one already shown from the
   * same sender in the same conversation; otherwise it becomes that conversation's newest.
   * Remembered for the {@linkcode MAX_ORDER_KEYS} conversations shown last, in memory.
   */
  #isLate(event: MessageEvent): boolean {
    const key = event.private ? event.from : `${event.from} ${event.to}`;
    const newest = this.#newestShown.get(key);
    if (newest !== undefined && event.ts < newest) return true;
    this.#newestShown.delete(key); // re-inserted last: the map is kept in order of use
    this.#newestShown.set(key, event.ts);
    if (this.#newestShown.size > MAX_ORDER_KEYS) {
      this.#newestShown.delete(this.#newestShown.keys().next().value!);
    }
    return false;
  }

  #note(id: string, state: "showing" | "shown"): void {
    const journal = this.#host.shownJournal;
    if (journal === undefined || this.#journalFailed) return;
    try {
      journal.appendSync(state === "showing" ? `?${id}\n` : `${id}\n`);
      this.#journaled.set(id, state);
    } catch (error) {
      this.#journalFailed = true;
      this.#host.emitter.reportError(error);
    }
  }

  /** Keeps in the journal only the ids still in the saved inbox (usually none: emptied). */
  #trimJournal(): void {
    const journal = this.#host.shownJournal;
    if (journal === undefined || this.#journalFailed || this.#journaled.size === 0) return;
    const still = new Set(this.#unshown.map((event) => event.id));
    const keep = [...this.#journaled].filter(([id]) => still.has(id));
    try {
      journal.writeSync(
        keep.map(([id, state]) => state === "showing" ? `?${id}\n` : `${id}\n`).join(""),
      );
      this.#journaled = new Map(keep);
    } catch (error) {
      this.#journalFailed = true;
      this.#host.emitter.reportError(error);
    }
  }

  /** Takes shown messages out of the saved inbox and saves that; then trims the journal. */
  async #forgetShown(shown: MessageEvent[]): Promise<void> {
    if (shown.length === 0) return;
    this.#unshown = this.#unshown.filter((event) => !shown.includes(event));
    this.#host.store.set(INBOX_KEY, JSON.stringify(this.#unshown));
    try {
      await this.#host.persist();
    } catch (error) {
      // Shown already; the journal (if any) keeps them from being shown again after a crash.
      this.#host.emitter.reportError(error);
      return;
    }
    // Synchronous: no journal line can be appended between reading the inbox and the write.
    this.#trimJournal();
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
        const saved = await this.#commit(events);
        this.#acknowledge(saved, handled);
      }
    } finally {
      this.#processing = false;
    }
  }

  /**
   * Durable before shown (and before acknowledged): the state, the seen ids, the held room
   * messages and the opened messages in one atomic write; then the events; then the emptied
   * inbox is saved.
   *
   * @returns Whether the write succeeded (shown either way).
   */
  async #commit(events: ChatEvent[]): Promise<boolean> {
    const opened = events.filter((event): event is MessageEvent => event.type === "message");
    this.#unshown.push(...opened);
    const store = this.#host.store;
    store.set(SEEN_KEY, this.#host.seen.toJSON());
    store.set(INBOX_KEY, JSON.stringify(this.#unshown));
    store.set(HELD_KEY, JSON.stringify(this.#heldForTrust));
    let saved = true;
    try {
      await this.#host.persist();
      crashIfShowing("sessions-write", events);
    } catch (error) {
      // Shown anyway (the keys are used up in memory) but not acknowledged: the relay keeps
      // the envelopes, so after a crash they are delivered and opened again. Nothing lost.
      saved = false;
      this.#host.emitter.reportError(error);
    }
    for (const event of events) {
      if (event.type === "message") this.#show(event);
      else this.#host.emitter.emit(event);
    }
    crashIfShowing("shown", events);
    this.#host.recovery.flush();
    await this.#forgetShown(opened);
    return saved;
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

  /**
   * A first message binds both nicks (docs/E2E.md), so it did come from the identity that calls
   * itself `frame.from`, written to `frame.to`. Said when that identity is pinned to other nicks
   * too (a nick change, or someone posing under a second nick), and when it was written to a
   * nick that is not ours (the relay gave the sender our keys for someone else's nick).
   */
  #firstContactWarnings(
    frame: { from: string; to: string },
    got: { kind: string; sameKeyAs?: string[] },
    events: ChatEvent[],
  ): void {
    if (got.kind !== "initial") return;
    const key = this.#host.hush().trust.get(frame.from)?.identityKey;
    if (got.sameKeyAs !== undefined && got.sameKeyAs.length > 0 && key !== undefined) {
      events.push(sameIdentityEvent(frame.from, got.sameKeyAs, key));
    }
    const me = this.#host.nick();
    if (frame.to !== me && !this.#host.formerNicks().includes(frame.to)) {
      events.push({
        type: "error",
        code: "MISADDRESSED",
        message: `"${frame.from}" wrote their first message to "${frame.to}", not to you ` +
          `("${me}"): the relay handed them your keys under that nick`,
      });
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
    if (frame.toKind === "room" && this.#host.inRoom?.(frame.to) === false) {
      // Sent while we were a member, delivered after our /leave: not shown (we left, and our
      // copy of the room's keys with it); said once per room, never asked for again.
      seen.add(id);
      if (!this.#toldLeft.has(frame.to)) {
        this.#toldLeft.add(frame.to);
        events.push({
          type: "info",
          message: `Messages to "${frame.to}" that arrive after you left it are not shown ` +
            `(/join ${frame.to} to read what comes next)`,
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
      const got = hush.decryptFrom(frame.from, frame.body, { tag: id, to: frame.to });
      seen.add(id);
      this.#firstContactWarnings(frame, got, events);
      if (got.type === "sender-key") {
        this.#retryPendingRoom(events);
        return;
      }
      const content = decodeChatContent(got.plaintext, this.#host.now());
      if (content.type !== "text") {
        this.#host.recovery.onControl(got, content, events);
        return;
      }
      events.push(pairwiseEvent(got, { id, nick: this.#host.nick(), now: this.#host.now() }));
    } catch (error) {
      if (
        error instanceof SessionError && error.code === "NO_SENDER_KEY" &&
        this.#identityPending(frame.from)
      ) {
        this.#holdForTrust(frame, events);
        return;
      }
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
      if (error instanceof SessionError && error.code === "BEFORE_SENDER_KEY") {
        // Written before its sender shared the key we hold with us (we joined as it was sent):
        // no distribution will open it, so its sender is asked for it at once (not seen: the
        // `resend` shows it under its id).
        this.#giveUpWaiting(frame, events, error);
        return;
      }
      if (retry) throw error;
      // For want of a session: the sender is asked to send it again (it waits, not seen).
      if (frame.toKind === "nick" && this.#host.recovery.cannotOpen(frame, error, events)) return;
      seen.add(id);
      if (error instanceof SessionError && error.code === "IDENTITY_CHANGED") {
        events.push(identityChangedEvent(hush, frame.from));
      }
      events.push(decryptErrorEvent(error, frame.from, frame.toKind === "room" ? frame.to : ""));
    }
  }

  /** Whether `nick` showed a new identity key that was not accepted yet. */
  #identityPending(nick: string): boolean {
    return this.#host.hush().trust.get(nick)?.changed !== undefined;
  }

  /**
   * A room message from a peer whose identity changed: its key is held by the sessions layer
   * until `/trust`, so the message is kept (saved with the state, then acknowledged) and opened
   * by {@linkcode Delivery.release}.
   */
  #holdForTrust(frame: EnvelopeFrame, events: ChatEvent[]): void {
    const id = toHex(frame.id);
    if (this.#heldForTrust.some((held) => held.id === id)) return;
    this.#heldForTrust.push({
      id,
      cipher: frame.cipher,
      from: frame.from,
      to: frame.to,
      body: toHex(frame.body),
    });
    if (!this.#toldHeld.has(frame.from)) {
      this.#toldHeld.add(frame.from);
      events.push({
        type: "info",
        message: `Messages from "${frame.from}" in "${frame.to}" are held until you accept ` +
          `their new identity key (/trust ${frame.from})`,
      });
    }
    while (this.#heldForTrust.length > MAX_HELD_FOR_TRUST) {
      const dropped = this.#heldForTrust.shift()!;
      events.push({
        type: "error",
        code: "TOO_MANY_HELD",
        message: `Dropped a held message from "${dropped.from}" in "${dropped.to}": more than ` +
          `${MAX_HELD_FOR_TRUST} messages wait for /trust`,
      });
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
      if (dropped !== undefined) this.#giveUpWaiting(dropped.frame, events);
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
    if (expired.length === 0) return;
    // From a peer whose identity changed meanwhile: held until /trust, not given up.
    const events: ChatEvent[] = [];
    for (const item of expired) {
      if (this.#identityPending(item.frame.from)) this.#holdForTrust(item.frame, events);
      else this.#giveUpWaiting(item.frame, events);
    }
    this.#commit(events).then((saved) => {
      if (saved) this.#ackHandled();
    });
  }

  /**
   * A room message whose sender key did not come (or came starting after it): ask its sender
   * for it (else an error).
   */
  #giveUpWaiting(
    frame: EnvelopeFrame,
    events: ChatEvent[],
    error = new SessionError("NO_SENDER_KEY", "their room key never arrived"),
  ): void {
    if (this.#host.recovery.cannotOpen(frame, error, events)) return;
    if (error.code === "NO_SENDER_KEY") events.push(noSenderKeyEvent(frame));
    else events.push(decryptErrorEvent(error, frame.from, frame.to));
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

/** The test-only crash hook at `point` (`chat/_crash_hook.ts`), for a batch that shows a message. */
function crashIfShowing(point: string, events: ChatEvent[]): void {
  if (events.some((event) => event.type === "message")) crashForTest(point);
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
