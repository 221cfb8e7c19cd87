/**
 * Chat events to display lines, irssi style: `[HH:MM]` timestamps, a stable colour per nick,
 * notices for joins and leaves, private messages marked, warnings that cannot be missed.
 * Pure functions: the clock, colour and terminal width are passed in.
 *
 * Text that came over the network (messages, nicks, room names) is cleaned of control
 * characters first, so a peer cannot move the cursor or recolour the screen with escape codes.
 *
 * @module
 */

import type { ChatEvent, UserInfo, WireView } from "../chat/events.ts";

/** How to render: colour on or off, the clock, and what the user is looking at. */
export interface RenderOptions {
  /** ANSI colours; false for `NO_COLOR` or output that is not a terminal. */
  color: boolean;
  /** Ring the terminal bell (`\x07`) on a received private message or mention (default true). */
  bell?: boolean;
  /**
   * The time shown for events without their own timestamp, and for received messages (their
   * arrival; default: now).
   */
  now?: Date;
  /** The room the user is talking in; messages to other rooms show their room. */
  currentRoom?: string;
  /** Terminal width in columns, for wrapping messages and the wire view (default 80). */
  width?: number;
  /** Most body bytes the wire view shows (default 64). */
  wireBytes?: number;
  /** The user's own nick: rosters show `you` there instead of a verified state. */
  ownNick?: string;
  /**
   * Show `[unverified]` on a message from an unverified peer (default true). The interactive
   * screen shows it once per conversation and sender, not on every line.
   */
  markUnverified?: boolean;
}

/** The ANSI palette nicks are coloured from (red is kept for warnings). */
export const NICK_PALETTE: readonly number[] = [32, 33, 34, 35, 36, 92, 93, 94, 95, 96];

const RESET = "\x1b[0m";
const BELL = "\x07";
const WIRE_MAX_BYTES = 64;

/**
 * Wraps text in an ANSI style when colour is on.
 *
 * @param text The text.
 * @param codes SGR codes, e.g. `"1;31"` for bold red.
 * @param color Whether colour is on.
 * @returns The styled (or untouched) text.
 */
export function paint(text: string, codes: string, color: boolean): string {
  return color ? `\x1b[${codes}m${text}${RESET}` : text;
}

/**
 * The palette colour of a nick: the same nick always gets the same colour (FNV-1a hash).
 *
 * @param nick The nick.
 * @returns An SGR colour code from {@link NICK_PALETTE}.
 */
export function nickColor(nick: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(nick)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return NICK_PALETTE[hash % NICK_PALETTE.length] ?? 36;
}

/**
 * Decides whether to colour output, following https://no-color.org: any non-empty `NO_COLOR`
 * turns colour off, and so does output that is not a terminal.
 *
 * @param env Environment variables (`Deno.env.toObject()`).
 * @param isTerminal Whether stdout is a terminal.
 * @returns True when colours should be used.
 */
export function shouldColor(
  env: Readonly<Record<string, string | undefined>>,
  isTerminal: boolean,
): boolean {
  const noColor = env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  if (env.TERM === "dumb") return false;
  return isTerminal;
}

/**
 * Replaces control characters (C0, DEL, C1), invisible format characters (Unicode Cf: bidi
 * overrides and isolates, U+061C, zero-width U+200B-U+200F, U+FEFF, ...) and line and paragraph
 * separators (Zl, Zp: U+2028, U+2029) with visible placeholders, so that network text can neither
 * drive the terminal nor hide or reorder what it shows.
 *
 * @param text Text received from the network.
 * @returns The text with every such character shown as `^X` or `\u{...}`.
 */
export function sanitize(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    if (code === 0x09) return "    ";
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return "^?";
    return `\\u{${code.toString(16)}}`;
  });
}

// deno-lint-ignore no-control-regex
const ANSI_SGR = /^\x1b\[[0-9;]*m/;

/** Terminal cells of a code point: 2 for East Asian wide and emoji ranges, else 1. */
function cells(code: number): number {
  if (code === 0x07) return 0;
  const wide = (code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) || (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}

/**
 * Wraps one display line at `width` columns itself, each continuation indented by `indent`
 * spaces: the terminal never wraps a message, so no padding inside a message can make a row
 * start at column 0 and pass for another user's line. ANSI colour codes take no room.
 *
 * @param line A rendered line (may hold SGR colour codes).
 * @param width Terminal columns.
 * @param indent Spaces before each continuation row.
 * @returns One or more rows.
 */
export function wrapLine(line: string, width: number, indent: number): string[] {
  if (width < indent + 8) return [line];
  const rows: string[] = [];
  let row = "";
  let column = 0;
  let rest = line;
  while (rest.length > 0) {
    const sgr = ANSI_SGR.exec(rest);
    if (sgr !== null) {
      row += sgr[0];
      rest = rest.slice(sgr[0].length);
      continue;
    }
    const code = rest.codePointAt(0)!;
    const ch = String.fromCodePoint(code);
    rest = rest.slice(ch.length);
    const w = cells(code);
    if (column + w > width) {
      rows.push(row);
      row = " ".repeat(indent);
      column = indent;
    }
    row += ch;
    column += w;
  }
  rows.push(row);
  return rows;
}

/** A received message whose sender's clock differs from ours by more than this is flagged. */
const SKEW_MS = 5 * 60_000;
/** Indent of a wrapped message's continuation rows (past the `[HH:MM] ` column). */
const MESSAGE_INDENT = 10;

/**
 * The `[HH:MM]` timestamp of a moment, in local time.
 *
 * @param date The moment.
 * @returns e.g. `[09:05]`.
 */
export function timestamp(date: Date): string {
  const hh = String(date.getHours()).padStart(2, "0");
  const mm = String(date.getMinutes()).padStart(2, "0");
  return `[${hh}:${mm}]`;
}

/**
 * The timestamp of a message: `[HH:MM]` on the day of `today`, else with the date,
 * `[YYYY-MM-DD HH:MM]` (a message read days later says when it was written).
 *
 * @param date When the message was written.
 * @param today The current moment.
 * @returns e.g. `[09:05]` or `[2026-11-22 23:59]`.
 */
export function messageTimestamp(date: Date, today: Date): string {
  const sameDay = date.getFullYear() === today.getFullYear() &&
    date.getMonth() === today.getMonth() && date.getDate() === today.getDate();
  if (sameDay) return timestamp(date);
  const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${
    String(date.getDate()).padStart(2, "0")
  }`;
  return `[${day} ${timestamp(date).slice(1)}`;
}

/**
 * A nick in its colour.
 *
 * @param nick The nick (cleaned of control characters here).
 * @param color Whether colour is on.
 * @returns The coloured nick.
 */
export function colorNick(nick: string, color: boolean): string {
  return paint(sanitize(nick), String(nickColor(nick)), color);
}

/**
 * Formats bytes given as hex for the wire view, like `hexdump -C`: bytes in pairs, then the
 * printable ASCII characters (others as `.`), at most `maxBytes` shown and the rest counted.
 * The text column is what makes a Caesar "ciphertext" visibly readable.
 *
 * @param hex The bytes as hex.
 * @param options `maxBytes` (default 64), `bytesPerLine` (default 16), `ascii` (default true).
 * @returns Lines of hex.
 */
export function hexLines(
  hex: string,
  options: { maxBytes?: number; bytesPerLine?: number; ascii?: boolean } = {},
): string[] {
  const maxBytes = options.maxBytes ?? WIRE_MAX_BYTES;
  const perLine = Math.max(1, options.bytesPerLine ?? 16);
  const total = Math.floor(hex.length / 2);
  const shown = Math.min(total, maxBytes);
  const lines: string[] = [];
  for (let start = 0; start < shown; start += perLine) {
    const pairs: string[] = [];
    let text = "";
    for (let i = start; i < Math.min(start + perLine, shown); i++) {
      const pair = hex.slice(i * 2, i * 2 + 2);
      pairs.push(pair);
      const code = parseInt(pair, 16);
      text += code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : ".";
    }
    const column = pairs.join(" ");
    lines.push(
      options.ascii === false ? column : `${column.padEnd(perLine * 3 - 1)}  |${text}|`,
    );
  }
  if (total > shown) lines.push(`... ${total - shown} more bytes`);
  if (lines.length === 0) lines.push("(empty)");
  return lines;
}

/**
 * Renders one engine event as display lines (no trailing newlines).
 *
 * @param event The event.
 * @param options Colour, bell, clock, current room and width.
 * @returns Zero or more lines; events with nothing to show (e.g. `sent`) give none.
 */
export function renderEvent(event: ChatEvent, options: RenderOptions): string[] {
  const color = options.color;
  const time = paint(timestamp(options.now ?? new Date()), "2", color);
  const notice = (text: string) => [`${time} ${paint("--", "2", color)} ${text}`];
  const nick = (n: string) => colorNick(n, color);
  const room = (r: string) => paint(sanitize(r), "1", color);
  switch (event.type) {
    case "message":
      return renderMessage(event, options);
    case "ready":
      return [
        `${time} ${paint("***", "1", color)} Connected to ${sanitize(event.server)} as ${
          nick(event.nick)
        }, talking in ${room(event.room)}`,
        `${time} ${paint("***", "1", color)} Your fingerprint: ${
          sanitize(event.fingerprint)
        }  (/help lists the commands)`,
      ];
    case "connected":
      return notice(`connected to ${sanitize(event.server)}`);
    case "disconnected":
      return notice(paint(`disconnected: ${sanitize(event.reason)}`, "33", color));
    case "reconnecting":
      return notice(
        `reconnecting in ${
          (event.delayMs / 1000).toFixed(1)
        } s (attempt ${event.attempt}); unsent messages wait in the outbox`,
      );
    case "sent":
      return [];
    case "undelivered":
      return [renderUndelivered(event, time, color)];
    case "join":
      return notice(`${nick(event.nick)} joined ${room(event.room)}`);
    case "leave":
      return notice(`${nick(event.nick)} left ${room(event.room)}`);
    case "key-shared":
      return notice(
        paint(
          `${sanitize(event.nick)} gets your room key for ${sanitize(event.room)} (a member you ` +
            `were not shown joining; fingerprint ${sanitize(event.fingerprint || "unknown")}, ` +
            `${event.verified ? "verified" : "unverified"})`,
          "33",
          color,
        ),
      );
    case "key-withheld":
      return notice(
        `${nick(event.nick)} is in ${room(event.room)} but does not get your room key (${
          event.reason === "not-approved"
            ? `not approved: /approve ${sanitize(event.nick)}`
            : `not verified: /verify ${sanitize(event.nick)}`
        })`,
      );
    case "presence":
      return notice(`${nick(event.nick)} is ${event.online ? "online" : "offline"}`);
    case "nick":
      return notice(`${nick(event.old)} is now known as ${nick(event.new)}`);
    case "users":
      return renderUsers(event.room, event.users, { time, color, ownNick: options.ownNick });
    case "rooms": {
      const list = event.rooms.map((r) =>
        r === event.current ? `${room(r)} (current)` : sanitize(r)
      );
      return notice(
        list.length === 0 ? "You are in no room: /join ROOM" : `Your rooms: ${list.join(", ")}`,
      );
    }
    case "room":
      return notice(`Now talking in ${room(event.current)}`);
    case "safety-number":
      return renderSafetyNumber(event, time, color);
    case "verified":
      if (event.match) {
        return [
          ...notice(
            paint(`${sanitize(event.peer)} is verified: the safety numbers match`, "1;32", color),
          ),
          // Verification is one-way: each side checks the other on its own screen.
          `${time}    This marks ${sanitize(event.peer)} verified on your side only; ${
            sanitize(event.peer)
          } verifies you on theirs (/verify with your nick).`,
        ];
      }
      return [
        `${time} ${
          paint("!!! The safety number you typed does NOT match the one for ", "1;31", color)
        }${nick(event.peer)}`,
        `${time} ${
          paint(
            "!!! Check that you both read the same number; someone may be in the middle.",
            "1;31",
            color,
          )
        }`,
      ];
    case "whois":
      return [
        `${time} ${paint("--", "2", color)} ${nick(event.nick)} (${
          event.online ? "online" : "offline"
        })`,
        `${time}    fingerprint ${sanitize(event.fingerprint)}`,
        `${time}    ${
          event.verified ? paint("verified", "32", color) : paint("unverified", "33", color) +
            ` (compare safety numbers: /verify ${sanitize(event.nick)})`
        }`,
        `${time}    cipher ${sanitize(event.cipher)}`,
      ];
    case "identity-changed":
      return renderIdentityChanged(event, time, color);
    case "same-identity":
      return notice(paint(sanitize(event.message), "33", color));
    case "trusted":
      return notice(
        `${nick(event.peer)}'s new identity key is accepted (fingerprint ${
          sanitize(event.fingerprint)
        }); it is not verified until you compare safety numbers: /verify ${sanitize(event.peer)}`,
      );
    case "cipher":
      return event.insecure
        ? notice(
          paint(
            `Cipher is now ${sanitize(event.cipher)} [insecure: ${sanitize(event.cipher)}]`,
            "1;31",
            color,
          ),
        )
        : notice(`Cipher is now ${sanitize(event.cipher)}`);
    case "wire":
      return renderWire(event.wire, options);
    case "info":
      return event.message.split("\n").map((line) =>
        `${time} ${paint("--", "2", color)} ${sanitize(line)}`
      );
    case "error":
      return [`${time} ${paint("error:", "1;31", color)} ${sanitize(event.message)}`];
    default: {
      const unknown = event as { type?: unknown };
      return notice(`(event ${sanitize(String(unknown.type))})`);
    }
  }
}

/** Short words for the codes a message may be refused or dropped with. */
const UNDELIVERED_REASONS: Readonly<Record<string, string>> = {
  QUEUE_FULL: "queue full",
  STORE_FAILED: "the relay could not store it",
  NO_SUCH_USER: "no such user on the relay",
  NOT_IN_ROOM: "you are not in that room",
  EXPIRED: "it waited too long in the relay's queue",
  NICK_RELEASED: "that nick was released",
};

/** `! not delivered to bob: queue full; will retry` (yellow while retried, red when final). */
function renderUndelivered(
  event: Extract<ChatEvent, { type: "undelivered" }>,
  time: string,
  color: boolean,
): string {
  const reason = UNDELIVERED_REASONS[event.code] ?? sanitize(event.message);
  const text = `! message ${sanitize(event.id.slice(0, 8))} not delivered to ${
    sanitize(event.to)
  }: ${reason}; ${event.retrying ? "will retry" : "not retried"}`;
  return `${time} ${paint(text, event.retrying ? "33" : "1;31", color)}`;
}

function renderMessage(
  event: Extract<ChatEvent, { type: "message" }>,
  options: RenderOptions,
): string[] {
  const color = options.color;
  // A received message shows when it arrived (the sender's clock is theirs to set); a sender
  // time far from it is shown too.
  const sentAt = new Date(event.ts);
  const shownAt = event.own ? sentAt : (options.now ?? new Date());
  const time = paint(messageTimestamp(shownAt, options.now ?? new Date()), "2", color);
  const marks: string[] = [];
  if (event.late === true) {
    // Written before a message of the same conversation shown above: when, to the second.
    const written = `${messageTimestamp(sentAt, shownAt).slice(1, -1)}:${
      String(sentAt.getSeconds()).padStart(2, "0")
    }`;
    marks.push(paint(`[late: written ${written}]`, "33", color));
  } else if (!event.own && Math.abs(event.ts - shownAt.getTime()) > SKEW_MS) {
    // With its date when it was not written today (a message that waited in a queue).
    marks.push(paint(`[sent ${messageTimestamp(sentAt, shownAt).slice(1, -1)}]`, "2", color));
  }
  if (event.insecure) marks.push(paint(`[insecure: ${sanitize(event.cipher)}]`, "1;31", color));
  // Hush stopped while showing it before: it may be on the screen already, above.
  if (event.repeat === true) marks.push(paint("[again: may be shown above]", "2", color));
  if (!event.verified && (!event.own || event.private) && options.markUnverified !== false) {
    marks.push(paint("[unverified]", "33", color));
  }
  const mentioned = !event.own && options.ownNick !== undefined &&
    mentions(event.text, options.ownNick);
  // A message that names the user stands out, as in irssi.
  const text = mentioned ? paint(sanitize(event.text), "1;33", color) : sanitize(event.text);
  const prefix = marks.length > 0 ? `${marks.join(" ")} ` : "";
  const wrap = (line: string) => wrapLine(line, options.width ?? 80, MESSAGE_INDENT);
  if (event.private) {
    const label = event.own
      ? paint(`[pm to ${sanitize(event.to)}]`, "1;35", color)
      : paint(`[pm from ${sanitize(event.from)}]`, "1;35", color);
    const who = colorNick(event.from, color);
    const bell = !event.own && options.bell !== false ? BELL : "";
    return wrap(`${time} ${label} ${prefix}<${who}> ${text}${bell}`);
  }
  const roomTag = options.currentRoom !== undefined && event.to !== options.currentRoom
    ? `${paint(sanitize(event.to), "1", color)} `
    : "";
  // A mention rings the bell too, as a private message does.
  const ring = mentioned && options.bell !== false ? BELL : "";
  return wrap(`${time} ${roomTag}${prefix}<${colorNick(event.from, color)}> ${text}${ring}`);
}

/** Whether text names a nick as a whole word (case-insensitive). */
function mentions(text: string, nick: string): boolean {
  const escaped = nick.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_-])@?${escaped}($|[^A-Za-z0-9_-])`, "i").test(text);
}

function renderUsers(
  room: string | null,
  users: readonly UserInfo[],
  context: { time: string; color: boolean; ownNick: string | undefined },
): string[] {
  const { time, color, ownNick } = context;
  const online = users.filter((u) => u.online).length;
  const title = room === null
    ? `Users (${online} online, ${users.length} known):`
    : `Users in ${paint(sanitize(room), "1", color)} (${online} online, ${users.length} members):`;
  const width = Math.max(0, ...users.map((u) => [...sanitize(u.nick)].length));
  const lines = [`${time} ${paint("--", "2", color)} ${title}`];
  for (const user of users) {
    const name = colorNick(user.nick, color) + " ".repeat(width - [...sanitize(user.nick)].length);
    const state = user.online ? "online " : paint("offline", "2", color);
    const verified = user.nick === ownNick
      ? "(you)     "
      : user.verified
      ? paint("verified  ", "32", color)
      : paint("unverified", "33", color);
    const fp = user.fingerprint === undefined ? "" : `  ${sanitize(user.fingerprint)}`;
    lines.push(`${time}    ${name}  ${state}  ${verified}${fp}`.trimEnd());
  }
  return lines;
}

function renderSafetyNumber(
  event: Extract<ChatEvent, { type: "safety-number" }>,
  time: string,
  color: boolean,
): string[] {
  const peer = sanitize(event.peer);
  const lines = [
    `${time} ${paint("--", "2", color)} Safety number with ${colorNick(event.peer, color)} ${
      event.verified ? paint("(verified)", "32", color) : paint("(not verified yet)", "33", color)
    }:`,
    ...event.formatted.split("\n").map((line) =>
      `${time}      ${paint(sanitize(line), "1", color)}`
    ),
  ];
  if (event.verified) return lines;
  if (event.words.length > 0) {
    // One row per identity's words (13 each), so the row stays within a terminal.
    const rows: string[] = [];
    for (let i = 0; i < event.words.length; i += 13) {
      rows.push(event.words.slice(i, i + 13).map(sanitize).join(" "));
    }
    rows.forEach((row, i) =>
      lines.push(`${time}    ${i === 0 ? "to read aloud: " : "               "}${row}`)
    );
  }
  lines.push(
    `${time}    ${peer} sees the same number on their screen. Compare it in person or on a call;`,
    `${time}    when it matches, type /verify ${peer} followed by the number or the words ${peer} reads out.`,
    `${time}    Verification is one-way: it marks ${peer} verified for you; ${peer} verifies you the same way.`,
  );
  return lines;
}

function renderIdentityChanged(
  event: Extract<ChatEvent, { type: "identity-changed" }>,
  time: string,
  color: boolean,
): string[] {
  const peer = sanitize(event.peer);
  const loud = (text: string) => `${time} ${paint(`!!! ${text}`, "1;31", color)}`;
  const bar = "!".repeat(64);
  return [
    `${time} ${paint(bar, "1;31", color)}`,
    loud(`WARNING: ${peer}'s identity key has CHANGED`),
    loud(`old fingerprint: ${sanitize(event.oldFingerprint)}`),
    loud(`new fingerprint: ${sanitize(event.newFingerprint)}`),
    loud(`${peer} may have reinstalled Hush, or someone may be intercepting your messages.`),
    loud(`Sending to ${peer} is blocked until /trust ${peer}.`),
    loud(`Ask ${peer} in person or on a call, then /trust ${peer} and /verify ${peer}.`),
    `${time} ${paint(bar, "1;31", color)}`,
  ];
}

function renderWire(wire: WireView, options: RenderOptions): string[] {
  const color = options.color;
  const time = paint(timestamp(options.now ?? new Date()), "2", color);
  const width = options.width ?? 80;
  const arrow = wire.direction === "out" ? "out" : "in";
  const bodyBytes = Math.floor(wire.bodyHex.length / 2);
  const indent = " ".repeat(8);
  const label = `${indent}body: `;
  // Each byte takes 3 columns of hex and 1 of text, plus 3 for the gutter.
  const fit = Math.floor((width - label.length - 3) / 4);
  const perLine = Math.max(4, Math.min(16, fit - (fit % 4)));
  const hex = hexLines(wire.bodyHex, {
    bytesPerLine: perLine,
    maxBytes: options.wireBytes ?? WIRE_MAX_BYTES,
  });
  const header = paint(`[wire ${arrow}]`, "36", color);
  return [
    `${time} ${header} what the relay sees: ${wire.size} bytes on the wire, ${bodyBytes} of them sealed body`,
    `${indent}clear header: from ${sanitize(wire.from)}  to ${
      sanitize(wire.to)
    } (${wire.toKind})  cipher ${sanitize(wire.cipher)}  kind ${sanitize(wire.kind)}`,
    `${indent}message id: ${sanitize(wire.id)}`,
    ...hex.map((line, i) =>
      `${i === 0 ? label : " ".repeat(label.length)}${paint(line, "2", color)}`
    ),
  ];
}
