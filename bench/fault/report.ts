/**
 * The ledger of one fault scenario: what each message became, from the events the real
 * `client.ts --json` processes printed, and the summary row (table and JSON line).
 *
 * A message is *sent* when its sender's client printed `sent` for its id, *refused* when the
 * sender was told it failed (an `undelivered` event that is not retrying, an `error` that names
 * the message, or an `error` instead of the echo when the line was typed), *unconfirmed* when
 * neither happened. Each sent message has one expected delivery per recipient (the peer for a
 * private message, the other room members for a room message): *delivered* when that recipient's
 * client (any of its incarnations) printed it as a `message` event, *lost* when it never did,
 * *doubled* when it printed it more than once, except *repeated*: a display flagged `repeat` (the
 * client stopped while showing it, so it shows it again at its next start, same id) of a message
 * that recipient had shown under that id. *Out of order*: a first display of a message older
 * than one already shown from the same sender to the same conversation (*late* when the client
 * flagged it so: said, not silent). *Not taken*: a line whose
 * sender was killed before it printed the line's echo (the echo is the client's receipt: the line
 * is saved in the outbox by then) and that nobody ever showed: it died with the process, as text
 * typed into any program that crashes. A line taken without an echo (killed between the save and
 * the echo) is sent by the next incarnation: its `sent` and its deliveries are matched through
 * the id the recipients show it under.
 *
 * @module
 */

import type { ChatEvent } from "../../chat/events.ts";

/** One message of the plan. */
export interface Planned {
  seq: number;
  from: string;
  /** A nick (private) or a room. */
  to: string;
  kind: "private" | "room";
  /** Who should show it. */
  recipients: readonly string[];
}

interface Track {
  planned: Planned;
  typed: boolean;
  id?: string;
  sent: boolean;
  /** Final refusal code. */
  refused?: string;
  /** An `error` printed instead of the echo when the line was typed. */
  lineError?: string;
  /** The sender's process ended before it printed the echo. */
  senderDied: boolean;
  /** How often each recipient showed it (flagged repeats of a shown id not counted). */
  shown: Map<string, number>;
  /** The ids each recipient showed it under. */
  ids: Map<string, Set<string>>;
}

/** The summary of one scenario (one JSON line). */
export interface Summary {
  messages: number;
  sent: number;
  refused: number;
  unconfirmed: number;
  /** Lines whose sender was killed before echoing them, never shown by anybody. */
  notTaken: number;
  /** Deliveries the sent messages owe (message x recipient). */
  expected: number;
  delivered: number;
  lost: number;
  doubled: number;
  /** Displays flagged `repeat` of an id the recipient had shown (said, not silent). */
  repeated: number;
  outOfOrder: number;
  /** Of those, the displays the client flagged `late` (said, not silent). */
  outOfOrderLate: number;
  /** Deliveries of messages whose sender was told they failed (or never told anything). */
  deliveredUnsent: number;
  /** Refusals by code. */
  refusedCodes: Record<string, number>;
  /**
   * Every `error` event the clients printed, as `nick:CODE` (a key used twice would show here
   * as the receiver's `DUPLICATE_MESSAGE` or `DECRYPT_FAILED`, even with nothing lost).
   */
  clientErrors: Record<string, number>;
  /** Numbers of the messages with a lost delivery, as ranges (`20-27,31`). */
  lostMessages: string;
  /** The first lost deliveries (message number, sender, conversation, recipient). */
  lostSample: string[];
  /** Up to 6 doubled displays: `fb-N from>to shown K times by nick`. */
  doubledSample: string[];
}

/** The text of message `seq` (the tag is how a receiver's line is matched to the plan). */
export function messageText(seq: number, planned: Planned): string {
  return `fb-${seq} ${planned.from} to ${planned.to}`;
}

const TAG = /\bfb-(\d+)\b/;
const REFUSED_ID = /\bMessage ([0-9a-f]{8})\b/;

/** Collects every client event of one scenario and turns it into a {@link Summary}. */
export class Ledger {
  readonly #tracks = new Map<number, Track>();
  readonly #byId = new Map<string, number>();
  readonly #sentEarly = new Set<string>();
  /** Ids of own messages outside the plan (the warm-up): their `sent` is not waited for. */
  readonly #unplanned = new Set<string>();
  #repeated = 0;
  /** Per receiver and conversation: the newest message number shown. */
  readonly #newest = new Map<string, number>();
  #outOfOrder = 0;
  #outOfOrderLate = 0;
  /** `error` events of every client, as `nick:CODE`. */
  readonly #clientErrors: Record<string, number> = {};

  /** Registers a planned message. */
  plan(planned: Planned): void {
    this.#tracks.set(planned.seq, {
      planned,
      typed: false,
      sent: false,
      senderDied: false,
      shown: new Map(),
      ids: new Map(),
    });
  }

  /** Notes that the line of message `seq` was written to its sender's stdin. */
  typed(seq: number): void {
    const track = this.#tracks.get(seq);
    if (track !== undefined) track.typed = true;
  }

  /** Notes an `error` the sender printed instead of the echo of message `seq`. */
  lineError(seq: number, code: string): void {
    const track = this.#tracks.get(seq);
    if (track !== undefined) track.lineError = code;
  }

  /** Notes that the sender of message `seq` ended before printing its echo. */
  senderDied(seq: number): void {
    const track = this.#tracks.get(seq);
    if (track !== undefined) track.senderDied = true;
  }

  /** Whether the sender printed the echo (own `message`) of message `seq`. */
  echoed(seq: number): boolean {
    return this.#tracks.get(seq)?.id !== undefined;
  }

  /**
   * Takes one event printed by `nick`'s client.
   *
   * @param nick The client.
   * @param event Its event.
   */
  onEvent(nick: string, event: ChatEvent): void {
    switch (event.type) {
      case "message": {
        const seq = Number(TAG.exec(event.text)?.[1] ?? NaN);
        const track = this.#tracks.get(seq);
        if (track === undefined) {
          if (event.own) this.#unplanned.add(event.id);
          return;
        }
        if (event.own) {
          if (event.from !== track.planned.from) return;
          track.id = event.id;
          this.#byId.set(event.id, seq);
          if (this.#sentEarly.delete(event.id)) track.sent = true;
          return;
        }
        // A message taken without an echo (its sender killed in between) is known by the id
        // its recipients show, so that the next incarnation's `sent` counts.
        if (!this.#byId.has(event.id)) {
          this.#byId.set(event.id, seq);
          if (this.#sentEarly.delete(event.id)) track.sent = true;
        }
        const ids = track.ids.get(nick) ?? new Set<string>();
        track.ids.set(nick, ids);
        if (event.repeat === true && ids.has(event.id)) {
          this.#repeated++;
          return;
        }
        ids.add(event.id);
        const times = (track.shown.get(nick) ?? 0) + 1;
        track.shown.set(nick, times);
        if (times === 1) {
          const key = `${nick}<${track.planned.from}>${track.planned.to}`;
          const newest = this.#newest.get(key) ?? -1;
          if (seq < newest) {
            this.#outOfOrder++;
            if (event.late === true) this.#outOfOrderLate++;
          } else this.#newest.set(key, seq);
        }
        return;
      }
      case "sent": {
        const track = this.#tracks.get(this.#byId.get(event.id) ?? NaN);
        if (track !== undefined) track.sent = true;
        else if (!this.#unplanned.has(event.id)) this.#sentEarly.add(event.id);
        return;
      }
      case "error": {
        const key = `${nick}:${event.code}`;
        this.#clientErrors[key] = (this.#clientErrors[key] ?? 0) + 1;
        const prefix = REFUSED_ID.exec(event.message)?.[1];
        if (prefix === undefined) return;
        for (const [id, seq] of this.#byId) {
          const track = this.#tracks.get(seq);
          if (id.startsWith(prefix) && track?.planned.from === nick) track.refused ??= event.code;
        }
        return;
      }
      default: {
        // `undelivered` {id, code, retrying} (protocol version 2): final unless retrying.
        const e = event as { type: string; id?: unknown; code?: unknown; retrying?: unknown };
        if (e.type !== "undelivered" || typeof e.id !== "string" || e.retrying === true) return;
        const track = this.#tracks.get(this.#byId.get(e.id) ?? NaN);
        if (track !== undefined) track.refused ??= String(e.code ?? "UNDELIVERED");
      }
    }
  }

  #outcome(track: Track): "sent" | "refused" | "unconfirmed" | "notTaken" {
    if (track.refused !== undefined) return "refused";
    if (track.sent) return "sent";
    if (track.id === undefined && track.lineError !== undefined) return "refused";
    if (track.id === undefined && track.senderDied && track.shown.size === 0) return "notTaken";
    return "unconfirmed";
  }

  /**
   * Whether nothing more is expected: every message typed and settled (sent or refused) and
   * every sent message shown by each of its recipients.
   */
  complete(): boolean {
    for (const track of this.#tracks.values()) {
      if (!track.typed) return false;
      const outcome = this.#outcome(track);
      if (outcome === "unconfirmed") return false;
      // A line taken without an echo is sent by the sender's next incarnation: wait for it.
      if (outcome === "notTaken" && this.#sentEarly.size > 0) return false;
      if (outcome === "sent" && track.planned.recipients.some((r) => !track.shown.has(r))) {
        return false;
      }
    }
    return true;
  }

  /** The summary so far. */
  summary(): Summary {
    const s: Summary = {
      messages: this.#tracks.size,
      sent: 0,
      refused: 0,
      unconfirmed: 0,
      notTaken: 0,
      expected: 0,
      delivered: 0,
      lost: 0,
      doubled: 0,
      repeated: this.#repeated,
      outOfOrder: this.#outOfOrder,
      outOfOrderLate: this.#outOfOrderLate,
      deliveredUnsent: 0,
      refusedCodes: {},
      clientErrors: { ...this.#clientErrors },
      lostMessages: "",
      lostSample: [],
      doubledSample: [],
    };
    const lostSeqs: number[] = [];
    for (const track of this.#tracks.values()) {
      const outcome = this.#outcome(track);
      s[outcome]++;
      if (outcome === "refused") {
        const code = track.refused ?? track.lineError ?? "?";
        s.refusedCodes[code] = (s.refusedCodes[code] ?? 0) + 1;
      }
      for (const [recipient, times] of track.shown) {
        if (times <= 1) continue;
        s.doubled++;
        if (s.doubledSample.length < 6) {
          const p = track.planned;
          s.doubledSample.push(
            `fb-${p.seq} ${p.from}>${p.to} shown ${times} times by ${recipient}`,
          );
        }
      }
      for (const recipient of track.planned.recipients) {
        const shown = track.shown.get(recipient) ?? 0;
        if (outcome !== "sent") {
          if (shown > 0) s.deliveredUnsent++;
          continue;
        }
        s.expected++;
        if (shown > 0) {
          s.delivered++;
        } else {
          s.lost++;
          if (lostSeqs[lostSeqs.length - 1] !== track.planned.seq) lostSeqs.push(track.planned.seq);
          if (s.lostSample.length < 6) {
            const p = track.planned;
            s.lostSample.push(`fb-${p.seq} ${p.from}>${p.to} not shown by ${recipient}`);
          }
        }
      }
    }
    s.lostMessages = ranges(lostSeqs);
    return s;
  }
}

/** `[1, 2, 3, 7]` as `1-3,7`. */
function ranges(sorted: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** One row of the results: the scenario, its faults and its summary. */
export interface Row extends Summary {
  bench: "hush-fault";
  scenario: string;
  store: boolean;
  seed: number;
  /** Faults injected, by kind. */
  faults: Record<string, number>;
  seconds: number;
  /** False when lost or doubled is non-zero for a `--store` scenario, or the run failed. */
  ok: boolean;
  /** `error` lines of the relay's event log (`--log-file`), by code. */
  relayErrors: Record<string, number>;
  /** Why the run itself failed (a process did not start, a timeout). */
  failure?: string;
}

/**
 * Renders the rows as a Markdown table.
 *
 * @param rows The results.
 * @returns The table, one line per scenario.
 */
export function table(rows: readonly Row[]): string {
  const head = [
    "scenario",
    "store",
    "faults",
    "messages",
    "sent",
    "refused",
    "unconfirmed",
    "not taken",
    "deliveries owed",
    "delivered",
    "lost",
    "doubled",
    "repeated (flagged)",
    "out of order",
    "seconds",
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.store ? "sqlite" : "memory",
    Object.entries(r.faults).map(([k, v]) => `${v} ${k}`).join(", ") || "-",
    String(r.messages),
    String(r.sent),
    String(r.refused),
    String(r.unconfirmed),
    String(r.notTaken),
    String(r.expected),
    String(r.delivered),
    String(r.lost),
    String(r.doubled),
    String(r.repeated),
    r.outOfOrderLate > 0 ? `${r.outOfOrder} (${r.outOfOrderLate} late)` : String(r.outOfOrder),
    r.seconds.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")
    } |`;
  const rule = `| ${
    widths.map((w, i) => (i < 3 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")
  } |`;
  return [line(head), rule, ...body.map(line)].join("\n");
}
