/**
 * Recovery of messages that cannot be opened for want of a session: never a silent drop.
 *
 * Receiver: a pairwise message from a nick we hold no (matching) session with (`NO_SESSION`,
 * `UNKNOWN_PREKEY`, `DECRYPT_FAILED`: then our sessions with them are dropped first), or a room message whose sender key never arrived (`NO_SENDER_KEY` after the
 * wait) or was shared with us only after it was sent (`BEFORE_SENDER_KEY`: we joined as it was
 * sent, at once), makes us send its sender a pairwise `retry` payload naming the message ids (a new X3DH
 * session when we have none) and tell the user (`info`). The ids wait in `chat/awaiting`.
 *
 * Sender: a `retry` from a nick looks each id up in our sent log (`sent_log.ts`); each message
 * that nick could read is sent again pairwise as a `resend` payload (its original id, room and
 * timestamp) on the current session, and the user is told (`info`); the others are answered with
 * `retry-failed` and the user is told too. For a room message, our sender keys are sent to that
 * nick again with the next room message.
 *
 * Receiver again: a `resend` we asked that sender for is shown once, as the original (`message`
 * with the original id; a room message as a room message; one nobody asked for is ignored); a `retry-failed` is an `error` event naming the sender.
 *
 * Recovery payloads are not in the sent log, yet they can meet the same fate (a `resend` that
 * arrives on a session the receiver has just dropped): the ids of the ones we sent, with their
 * content, are kept a day (at most 200, entry `chat/control-sent`), and a `retry` naming one
 * sends its content again, to the same identity only, silently.
 * Payload layouts: `docs/E2E.md`, "Recovery payloads". Private to the engine.
 *
 * @module
 */

import { toHex } from "../crypto/mod.ts";
import type { EnvelopeFrame } from "../protocol/mod.ts";
import type { ReceivedText, SessionStore } from "../sessions/mod.ts";
import { SessionError } from "../sessions/mod.ts";
import type { EngineCore } from "./_core.ts";
import { errorMessage, messageEvent } from "./_emitter.ts";
import { type ControlContent, encodeControlPayload, MAX_RETRY_IDS } from "./content.ts";
import type { ChatEvent } from "./events.ts";
import type { SeenIds } from "./seen_ids.ts";
import type { SentEntry, SentLog } from "./sent_log.ts";

/** Store entry of the ids we asked to have sent again: `{id: {from, room}}`. */
export const AWAITING_KEY = "chat/awaiting";
/** Most ids waiting for a resend (the oldest are forgotten). */
const MAX_AWAITING = 1_000;
/** Most ids asked of one peer per window (a loop or a flood is cut off, with an error). */
const MAX_ASKED_PER_WINDOW = 200;
const ASK_WINDOW_MS = 10 * 60_000;

/**
 * Errors that mean "no (matching) session for this", which a resend on a fresh session cures.
 * `DECRYPT_FAILED` only reaches here for pairwise bodies: a session that no longer matches the
 * sender's (our state restored from an old copy, or an initial message built on a former
 * identity's prekeys).
 */
const RECOVERABLE = new Set([
  "NO_SESSION",
  "UNKNOWN_PREKEY",
  "NO_SENDER_KEY",
  "BEFORE_SENDER_KEY",
  "DECRYPT_FAILED",
]);
/** The errors of a room message that its sender can cure by sending it again pairwise. */
const ROOM_RECOVERABLE = new Set(["NO_SENDER_KEY", "BEFORE_SENDER_KEY"]);
/** Of those, the ones after which our sessions with the sender are dropped (they do not match). */
const STALE_SESSION = new Set(["UNKNOWN_PREKEY", "DECRYPT_FAILED"]);

/** What recovery needs from the engine. */
export interface RecoveryHost extends EngineCore {
  store: SessionStore;
  seen: SeenIds;
  sentLog: SentLog;
  /** Encrypts and queues a pairwise payload to `nick` (no `message` event). */
  sendPayload(nick: string, payload: Uint8Array): Promise<string | undefined>;
  /** The current members of a room we are in (from the roster). */
  roomMembers(room: string): Promise<string[]>;
}

/** Store entry of the recovery payloads we sent: `{id: {to, key, content, ts}}`. */
export const CONTROL_SENT_KEY = "chat/control-sent";
const MAX_CONTROL_SENT = 200;
const CONTROL_SENT_MAX_AGE_MS = 24 * 3_600_000;

interface ControlSent {
  to: string;
  /** The identity key (hex) `to` had when it was sent. */
  key: string | undefined;
  content: ControlContent;
  ts: number;
}

/** How recent a room message must be to go again to a member it was not addressed to. */
const LATE_MEMBER_MS = 2 * 60_000;

interface Awaiting {
  from: string;
  room: string | null;
}

/** The recovery state of one engine. */
export class Recovery {
  #host: RecoveryHost;
  #awaiting: Map<string, Awaiting>;
  /** Payloads to send, and retry requests to answer, once the current batch is saved. */
  #queue: ({ to: string; content: ControlContent } | { answer: string; ids: string[] })[] = [];
  #asked = new Map<string, { since: number; count: number }>();
  #sending: Promise<void> = Promise.resolve();
  #controlSent = new Map<string, ControlSent>();

  constructor(host: RecoveryHost) {
    this.#host = host;
    this.#awaiting = new Map();
    const sent = host.store.get(CONTROL_SENT_KEY);
    if (typeof sent === "string") {
      try {
        for (const [id, value] of Object.entries(JSON.parse(sent) as Record<string, ControlSent>)) {
          if (typeof value?.to === "string" && typeof value.content === "object") {
            this.#controlSent.set(id, value);
          }
        }
      } catch {
        // unreadable: nothing to send again
      }
    }
    const text = host.store.get(AWAITING_KEY);
    if (typeof text === "string") {
      try {
        for (const [id, value] of Object.entries(JSON.parse(text) as Record<string, Awaiting>)) {
          this.#awaiting.set(id, value);
        }
      } catch {
        // unreadable: nothing awaited
      }
    }
  }

  /**
   * A message that cannot be opened: asks its sender to send it again when the error is one a
   * fresh session cures. Synchronous (inside a batch): the request goes out with
   * {@linkcode Recovery.flush}, after the batch is saved.
   *
   * @param frame The envelope.
   * @param error Why it did not open.
   * @param events Where the `info` event goes.
   * @returns True when recovery took it over (no `error` event needed).
   */
  cannotOpen(frame: EnvelopeFrame, error: unknown, events: ChatEvent[]): boolean {
    if (!(error instanceof SessionError) || !RECOVERABLE.has(error.code)) return false;
    const id = toHex(frame.id);
    const room = frame.toKind === "room" ? frame.to : null;
    if (room !== null && !ROOM_RECOVERABLE.has(error.code)) return false;
    if (this.#awaiting.has(id)) return true; // asked already (a redelivery)
    if (!this.#allowAsk(frame.from)) {
      events.push({
        type: "error",
        code: "RETRY_LIMIT",
        message: `Cannot open a message from "${frame.from}"${where(room)}: ${
          errorMessage(error)
        }; not asking them again (too many requests to them in ten minutes)`,
      });
      return true;
    }
    this.#awaiting.set(id, { from: frame.from, room });
    // Our sessions with them do not match theirs: the request must start a new one (X3DH), or
    // they could not open it either.
    if (room === null && STALE_SESSION.has(error.code)) this.#host.hush().resetSession(frame.from);
    while (this.#awaiting.size > MAX_AWAITING) {
      this.#awaiting.delete(this.#awaiting.keys().next().value as string);
    }
    this.#saveAwaiting();
    const pending = this.#queue.find((q) =>
      "to" in q && q.to === frame.from && q.content.type === "retry" &&
      q.content.ids.length < MAX_RETRY_IDS
    );
    if (pending !== undefined && "to" in pending && pending.content.type === "retry") {
      pending.content.ids.push(id);
    } else {
      this.#queue.push({ to: frame.from, content: { type: "retry", ids: [id] } });
    }
    events.push({
      type: "info",
      message: `Cannot open a message from "${frame.from}"${where(room)} (${
        errorMessage(error)
      }): asked "${frame.from}" to send it again`,
    });
    return true;
  }

  /**
   * A recovery payload arrived (pairwise, authenticated as `got.from`).
   *
   * @param got The opened pairwise message.
   * @param content Its decoded recovery payload.
   * @param events Where the resulting events go.
   */
  onControl(got: ReceivedText, content: ControlContent, events: ChatEvent[]): void {
    const from = got.from;
    switch (content.type) {
      case "retry":
        this.#queue.push({ answer: from, ids: content.ids });
        return;
      case "resend": {
        const host = this.#host;
        // Shown once: a resend of a message already shown (or sent twice) is dropped.
        if (host.seen.has(content.id)) return;
        // Only what we asked this sender for, where it was: a peer cannot slip a "room
        // message" into a room through a pairwise resend nobody asked for.
        const awaited = this.#awaiting.get(content.id);
        if (awaited === undefined || awaited.from !== from || awaited.room !== content.room) {
          events.push({
            type: "info",
            message: `Ignored a message "${from}" sent again unasked (${content.id.slice(0, 8)})`,
          });
          return;
        }
        this.#awaiting.delete(content.id);
        this.#saveAwaiting();
        host.seen.add(content.id);
        events.push(messageEvent(
          {
            id: content.id,
            from,
            to: content.room ?? host.nick(),
            private: content.room === null,
            text: content.text,
            ts: content.ts,
          },
          { cipher: got.suite, insecure: got.insecure, verified: got.verified, own: false },
        ));
        return;
      }
      case "retry-failed": {
        let rooms = 0;
        for (const id of content.ids) {
          const awaited = this.#awaiting.get(id);
          if (awaited?.from === from) {
            this.#awaiting.delete(id);
            if (awaited.room !== null) rooms++;
          }
        }
        this.#saveAwaiting();
        events.push({
          type: "error",
          code: "RESEND_FAILED",
          message: `"${from}" cannot send ${content.ids.length} message(s) again${
            rooms > 0 ? ` (${rooms} in rooms)` : ""
          } that could not be opened here (${
            content.ids.map((id) => id.slice(0, 8)).join(", ")
          }): ${content.reason || "no reason given"}`,
        });
        return;
      }
    }
  }

  /** Sends what the last batch queued (after it was saved); errors become `error` events. */
  flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    if (queue.length === 0) return;
    this.#sending = this.#sending.then(async () => {
      for (const item of queue) {
        if ("answer" in item) {
          await this.#answerRetry(item.answer, item.ids);
        } else {
          await this.#sendControl(item.to, item.content);
        }
      }
    }).catch((error) => this.#host.emitter.reportError(error));
  }

  /** A retry request from `from`: sends again what we still have and `from` could read. */
  async #answerRetry(from: string, ids: string[]): Promise<void> {
    const host = this.#host;
    const log = host.sentLog;
    const events: ChatEvent[] = [];
    const resent: string[] = [];
    const missing: string[] = [];
    let lostKey = false;
    for (const id of ids) {
      const keyOf = log.keyEntry(id);
      if (keyOf !== undefined && this.#isReader(from, keyOf)) {
        lostKey = true; // a sender-key distribution: they get our key again, nothing to show
        continue;
      }
      const entry = log.get(id);
      if (entry === undefined) {
        // One of our recovery payloads they could not open: its content goes again.
        const control = this.#controlSent.get(id);
        if (control !== undefined && this.#sameIdentity(from, control)) {
          await this.#sendControl(from, control.content);
          continue;
        }
      }
      if (entry === undefined || !(await this.#mayRead(from, entry))) {
        missing.push(id);
        continue;
      }
      const room = entry.toKind === "room" ? entry.to : null;
      if (room !== null) lostKey = true;
      resent.push(id);
      await this.#sendControl(from, { type: "resend", id, room, text: entry.text, ts: entry.ts });
    }
    // They lost our room key too, most likely: give it to them again with our next room message.
    if (lostKey) {
      host.hush().redistributeTo(from);
      await host.persist();
    }
    if (resent.length > 0) {
      events.push({
        type: "info",
        message: `"${from}" could not open ${resent.length} message(s) of yours (their session ` +
          `was lost): sent again, same ids (${resent.map((id) => id.slice(0, 8)).join(", ")})`,
      });
    }
    if (missing.length > 0) {
      await this.#sendControl(
        from,
        {
          type: "retry-failed",
          ids: missing,
          reason: "not in the sender's sent log (older than 7 days, beyond the last 500, " +
            "or not addressed to you, or to another identity key)",
        },
      );
      events.push({
        type: "info",
        message: `"${from}" could not open ${missing.length} message(s) that are not in your ` +
          "sent log: they cannot be sent again (told them so)",
      });
    }
    for (const event of events) host.emitter.emit(event);
  }

  /**
   * Whether `nick` may have a logged message again: it was addressed to them, or it is a recent
   * room message and they are in that room now (they joined as it was sent, before our roster
   * showed them).
   */
  async #mayRead(nick: string, entry: SentEntry): Promise<boolean> {
    if (this.#isReader(nick, entry)) return true;
    if (entry.recipients.includes(nick)) return false; // the nick, but another identity now
    if (entry.toKind !== "room" || this.#host.now() - entry.ts > LATE_MEMBER_MS) return false;
    try {
      return (await this.#host.roomMembers(entry.to)).includes(nick);
    } catch {
      return false;
    }
  }

  /**
   * Whether `nick` is one the message was written for: a recipient under that nick with the
   * identity key it had then, or the same identity under a nick it took since. Whoever holds a
   * recipient's nick now may be someone else (a reinstall, a released nick): never them.
   */
  #isReader(nick: string, entry: SentEntry): boolean {
    const pinned = this.#host.hush().trust.get(nick)?.identityKey;
    const key = pinned === undefined ? undefined : toHex(pinned);
    if (entry.recipients.includes(nick)) {
      const wrote = entry.identities?.[nick];
      if (wrote === undefined || wrote === key) return true;
    }
    return key !== undefined &&
      entry.recipients.some((r) => r !== nick && entry.identities?.[r] === key);
  }

  /** Sends a recovery payload and keeps it, so that it can go again if it cannot be opened. */
  async #sendControl(to: string, content: ControlContent): Promise<void> {
    const host = this.#host;
    const id = await host.sendPayload(to, encodeControlPayload(content));
    if (id === undefined) return;
    const pinned = host.hush().trust.get(to)?.identityKey;
    const now = host.now();
    this.#controlSent.set(id, {
      to,
      key: pinned === undefined ? undefined : toHex(pinned),
      content,
      ts: now,
    });
    for (const [old, sent] of this.#controlSent) {
      if (this.#controlSent.size > MAX_CONTROL_SENT || now - sent.ts > CONTROL_SENT_MAX_AGE_MS) {
        this.#controlSent.delete(old);
      } else break;
    }
    host.store.set(CONTROL_SENT_KEY, JSON.stringify(Object.fromEntries(this.#controlSent)));
  }

  /** Whether `nick` is the identity a recovery payload was sent to. */
  #sameIdentity(nick: string, sent: ControlSent): boolean {
    const pinned = this.#host.hush().trust.get(nick)?.identityKey;
    if (pinned === undefined) return false;
    return sent.key !== undefined && sent.key === toHex(pinned);
  }

  #allowAsk(nick: string): boolean {
    const now = this.#host.now();
    const window = this.#asked.get(nick);
    if (window === undefined || now - window.since > ASK_WINDOW_MS) {
      this.#asked.set(nick, { since: now, count: 1 });
      return true;
    }
    window.count++;
    return window.count <= MAX_ASKED_PER_WINDOW;
  }

  #saveAwaiting(): void {
    this.#host.store.set(AWAITING_KEY, JSON.stringify(Object.fromEntries(this.#awaiting)));
  }
}

function where(room: string | null): string {
  return room === null ? "" : ` in "${room}"`;
}
