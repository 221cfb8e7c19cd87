/**
 * Typed chat lines to commands. Pure functions: one line in, one command (or one readable error
 * with the usage) out.
 *
 * - Plain text goes to the current room; `//text` sends `/text` literally.
 * - `@NICK TEXT`, `/pm NICK TEXT` and `/msg NICK TEXT` are private messages.
 * - Everything else starting with `/` is a command from {@link COMMANDS}.
 *
 * @module
 */

import { SAFETY_WORD_COUNT } from "../crypto/fingerprint.ts";
import { CIPHER_CHOICES } from "./help.ts";
import { checkNick, checkRoom } from "./options.ts";

/** One parsed chat command. */
export type Command =
  | { kind: "say"; text: string }
  | { kind: "private"; nick: string; text: string }
  | { kind: "users"; room?: string; everyone?: boolean }
  | { kind: "join"; room: string }
  | { kind: "leave"; room?: string }
  | { kind: "rooms" }
  | { kind: "nick"; nick: string }
  | { kind: "whois"; nick: string }
  | { kind: "cipher"; suite?: string }
  | { kind: "trust"; nick: string }
  | { kind: "approve"; nick: string }
  | { kind: "verify"; nick: string; digits?: string; words?: string[] }
  | { kind: "wire"; on: boolean }
  | { kind: "clear" }
  | { kind: "split" }
  | { kind: "help"; topic?: string }
  | { kind: "quit" };

/** The result of parsing one line: a command, nothing (an empty line), or an error with usage. */
export type ParseResult =
  | { ok: true; command: Command }
  | { ok: true; command: null }
  | { ok: false; message: string; usage?: string };

/** One entry of the command table: name, argument synopsis and a one-line description. */
export interface CommandInfo {
  /** Command name without the slash. */
  name: string;
  /** Argument synopsis, e.g. `NICK TEXT`. */
  args: string;
  /** What it does, one line. */
  summary: string;
  /** Other names for the same command. */
  aliases?: readonly string[];
}

/** Every chat command, in the order `/help` lists them. */
export const COMMANDS: readonly CommandInfo[] = [
  {
    name: "pm",
    args: "NICK TEXT",
    summary: "send a PRIVATE message (also /msg, or @NICK TEXT: not a mention in the room)",
    aliases: ["msg"],
  },
  { name: "list", args: "", summary: "everyone on the relay, with verified marks (also /users *)" },
  {
    name: "users",
    args: "[ROOM|*]",
    summary: "who can read the current room (or ROOM; * for everyone online)",
  },
  { name: "join", args: "ROOM", summary: "join ROOM and talk there" },
  { name: "leave", args: "[ROOM]", summary: "leave the current room (or ROOM)" },
  { name: "rooms", args: "", summary: "the rooms you are in" },
  { name: "nick", args: "NEW", summary: "change your nick" },
  { name: "whois", args: "NICK", summary: "fingerprint, verified state and cipher of NICK" },
  { name: "cipher", args: "[SUITE]", summary: "show or change the cipher suite" },
  {
    name: "verify",
    args: "NICK [NUMBER|WORDS]",
    summary:
      `show the safety number; with the 60 digits or the ${SAFETY_WORD_COUNT} words NICK reads out, compare`,
  },
  { name: "trust", args: "NICK", summary: "accept NICK's changed identity key" },
  {
    name: "approve",
    args: "NICK",
    summary: "let NICK get your room key here (--room-keys approve)",
  },
  { name: "wire", args: "on|off", summary: "show what the relay sees of every message" },
  { name: "clear", args: "", summary: "clear the screen" },
  { name: "split", args: "", summary: "send the line that was too long as several messages" },
  { name: "help", args: "[COMMAND]", summary: "this list, or help on one command" },
  { name: "quit", args: "", summary: "leave the chat (also /exit)", aliases: ["exit"] },
];

/** Every command name and alias with its slash, for tab completion. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.flatMap((c) => [
  `/${c.name}`,
  ...(c.aliases ?? []).map((a) => `/${a}`),
]);

const SAFETY_NUMBER_DIGITS = 60;

/**
 * The usage line of one command, e.g. `/pm NICK TEXT`.
 *
 * @param name Command name or alias, with or without the slash.
 * @returns The usage line, or `undefined` for an unknown command.
 */
export function commandUsage(name: string): string | undefined {
  const info = findCommand(name);
  if (info === undefined) return undefined;
  const bare = name.replace(/^\//, "").toLowerCase();
  const shown = info.name === bare || (info.aliases ?? []).includes(bare) ? bare : info.name;
  return info.args === "" ? `/${shown}` : `/${shown} ${info.args}`;
}

/**
 * The `/help` text: every command with its usage and summary, or the help of one command.
 *
 * @param topic A command name (with or without the slash); absent for the full list.
 * @returns Lines of help text.
 */
export function helpLines(topic?: string): string[] {
  if (topic !== undefined) {
    const info = findCommand(topic);
    if (info === undefined) return [`No command ${JSON.stringify(topic)}: type /help for the list`];
    const aliases = (info.aliases ?? []).map((a) => `/${a}`).join(", ");
    return [
      `${commandUsage(info.name)}  ${info.summary}`,
      ...(aliases === "" ? [] : [`  also: ${aliases}`]),
    ];
  }
  const width = Math.max(...COMMANDS.map((c) => (commandUsage(c.name) ?? "").length));
  return [
    "Plain text goes to the current room, encrypted to every member.",
    "@NICK TEXT is a PRIVATE message to NICK only, not a public mention: to mention someone in",
    "the room, write their nick without the @ (they get a bell). //text sends a line starting with /.",
    ...COMMANDS.map((c) => `  ${(commandUsage(c.name) ?? "").padEnd(width)}  ${c.summary}`),
  ];
}

/**
 * Parses one typed line.
 *
 * @param line The line as typed (without the newline).
 * @returns The command, `null` for a blank line, or an error message with the usage line.
 */
export function parseCommand(line: string): ParseResult {
  const trimmed = line.trim();
  if (trimmed === "") return { ok: true, command: null };
  if (trimmed.startsWith("//")) return say(trimmed.slice(1));
  if (trimmed.startsWith("@")) return parsePrivate("@", trimmed.slice(1));
  if (!trimmed.startsWith("/")) return say(trimmed);

  const match = /^\/(\S*)\s*(.*)$/su.exec(trimmed);
  const name = (match?.[1] ?? "").toLowerCase();
  const rest = match?.[2] ?? "";
  const words = rest === "" ? [] : rest.split(/\s+/u);
  switch (name) {
    case "pm":
    case "msg":
      return parsePrivate(`/${name}`, rest);
    case "list":
      return noArgs(name, words, { kind: "users", everyone: true });
    case "users": {
      if (words.length === 0) return ok({ kind: "users" });
      if (words.length > 1) return usageError(name, "Too many arguments");
      if (words[0] === "*") return ok({ kind: "users", everyone: true });
      return withRoom(name, words[0] ?? "", (room) => ({ kind: "users", room }));
    }
    case "join": {
      if (words.length !== 1) {
        return usageError(name, words.length === 0 ? "Which room?" : "Too many arguments");
      }
      return withRoom(name, words[0] ?? "", (room) => ({ kind: "join", room }));
    }
    case "leave":
    case "part": {
      if (words.length === 0) return ok({ kind: "leave" });
      if (words.length > 1) return usageError("leave", "Too many arguments");
      return withRoom("leave", words[0] ?? "", (room) => ({ kind: "leave", room }));
    }
    case "rooms":
      return noArgs(name, words, { kind: "rooms" });
    case "nick":
      return oneNick(name, words, (nick) => ({ kind: "nick", nick }));
    case "whois":
      return oneNick(name, words, (nick) => ({ kind: "whois", nick }));
    case "trust":
      return oneNick(name, words, (nick) => ({ kind: "trust", nick }));
    case "approve":
      return oneNick(name, words, (nick) => ({ kind: "approve", nick }));
    case "cipher": {
      if (words.length === 0) return ok({ kind: "cipher" });
      const suite = (words[0] ?? "").toLowerCase();
      if (words.length > 1) return usageError(name, "Too many arguments");
      if (!CIPHER_CHOICES.includes(suite)) {
        return usageError(
          name,
          `Unknown cipher suite ${JSON.stringify(words[0])}: choose ${CIPHER_CHOICES.join(", ")}`,
        );
      }
      return ok({ kind: "cipher", suite });
    }
    case "verify":
      return parseVerify(words);
    case "wire": {
      const value = (words[0] ?? "").toLowerCase();
      if (words.length !== 1 || (value !== "on" && value !== "off")) {
        return usageError(
          name,
          words.length === 0 ? "On or off?" : `Expected on or off, got ${JSON.stringify(rest)}`,
        );
      }
      return ok({ kind: "wire", on: value === "on" });
    }
    case "clear":
      return noArgs(name, words, { kind: "clear" });
    case "split":
      return noArgs(name, words, { kind: "split" });
    case "help": {
      if (words.length === 0) return ok({ kind: "help" });
      if (words.length > 1) return usageError(name, "Too many arguments");
      return ok({ kind: "help", topic: (words[0] ?? "").replace(/^\//, "") });
    }
    case "quit":
    case "exit":
      return ok({ kind: "quit" });
    case "":
      return { ok: false, message: "A lone / is not a command: type /help for the list" };
    default: {
      const close = COMMAND_NAMES.filter((c) =>
        c.slice(1).startsWith(name) || editDistance(c.slice(1), name) <= 2
      );
      const suggestion = close.length > 0 ? `; did you mean ${close.join(" or ")}?` : "";
      return {
        ok: false,
        message: `Unknown command ${
          JSON.stringify(`/${name}`)
        }${suggestion} (type /help for the list, //text to send a line starting with /)`,
      };
    }
  }
}

function ok(command: Command): ParseResult {
  return { ok: true, command };
}

function say(text: string): ParseResult {
  return ok({ kind: "say", text });
}

function findCommand(name: string): CommandInfo | undefined {
  const bare = name.replace(/^\//, "").toLowerCase();
  return COMMANDS.find((c) => c.name === bare || (c.aliases ?? []).includes(bare));
}

function usageError(name: string, message: string): ParseResult {
  const usage = commandUsage(name);
  return usage === undefined ? { ok: false, message } : { ok: false, message, usage };
}

function noArgs(name: string, words: readonly string[], command: Command): ParseResult {
  if (words.length > 0) return usageError(name, `/${name} takes no arguments`);
  return ok(command);
}

function oneNick(
  name: string,
  words: readonly string[],
  make: (nick: string) => Command,
): ParseResult {
  if (words.length === 0) return usageError(name, "Which nick?");
  if (words.length > 1) return usageError(name, "Too many arguments");
  const nick = (words[0] ?? "").replace(/^@/, "");
  const problem = checkNick(nick);
  if (problem !== undefined) return usageError(name, problem);
  return ok(make(nick));
}

function withRoom(name: string, room: string, make: (room: string) => Command): ParseResult {
  const checked = checkRoom(room);
  if (checked.error !== undefined) return usageError(name, checked.error);
  return ok(make(checked.room));
}

function parsePrivate(prefix: string, rest: string): ParseResult {
  const match = /^(\S+)\s+(.+)$/su.exec(rest);
  const usageName = prefix === "@" ? "pm" : prefix.slice(1);
  const usage = prefix === "@" ? "@NICK TEXT" : commandUsage(usageName);
  if (match === null) {
    const message = rest.trim() === ""
      ? "Who to?"
      : "Nothing to send: type the text after the nick";
    return usage === undefined ? { ok: false, message } : { ok: false, message, usage };
  }
  const nick = (match[1] ?? "").replace(/^@/, "").replace(/[:,]$/, "");
  const problem = checkNick(nick);
  if (problem !== undefined) {
    return usage === undefined
      ? { ok: false, message: problem }
      : { ok: false, message: problem, usage };
  }
  return ok({ kind: "private", nick, text: (match[2] ?? "").trim() });
}

function parseVerify(words: readonly string[]): ParseResult {
  if (words.length === 0) return usageError("verify", "Which nick?");
  const nick = (words[0] ?? "").replace(/^@/, "");
  const problem = checkNick(nick);
  if (problem !== undefined) return usageError("verify", problem);
  if (words.length === 1) return ok({ kind: "verify", nick });
  if (words.slice(1).some((w) => /^\p{L}+[,;]?$/u.test(w))) {
    // The read-aloud form: the words (commas and dashes between them are fine).
    const spoken = words.slice(1).join(" ").toLowerCase().split(/[\s,;\-]+/u).filter((w) =>
      w !== ""
    );
    if (spoken.some((w) => !/^\p{L}+$/u.test(w))) {
      return usageError("verify", "Give either the 60 digits or the words, not both");
    }
    if (spoken.length !== SAFETY_WORD_COUNT) {
      return usageError(
        "verify",
        `The read-aloud form has ${SAFETY_WORD_COUNT} words, got ${spoken.length}`,
      );
    }
    return ok({ kind: "verify", nick, words: spoken });
  }
  const typed = words.slice(1).join("");
  const digits = typed.replace(/[\s\-]/gu, "");
  if (!/^[0-9]+$/.test(digits)) {
    return usageError("verify", "A safety number has only digits (spaces are fine)");
  }
  if (digits.length !== SAFETY_NUMBER_DIGITS) {
    return usageError(
      "verify",
      `A safety number has ${SAFETY_NUMBER_DIGITS} digits, got ${digits.length}`,
    );
  }
  return ok({ kind: "verify", nick, digits });
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
