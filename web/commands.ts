/**
 * Lines typed in the page's Message box, parsed as the terminal parses them
 * (`terminal/commands.ts`; that file is not reused because it pulls the terminal's option
 * parser, which needs `node:util`). Pure functions, unit-tested in `tests/web/`.
 *
 * - Plain text goes to the open conversation (a room, or a private one); `//text` sends
 *   `/text` literally.
 * - `@NICK TEXT`, `/pm NICK TEXT`, `/msg NICK TEXT`: a private message.
 * - `/join ROOM`, `/leave [ROOM]`, `/verify NICK [NUMBER]`, `/trust NICK`, `/cipher [SUITE]`,
 *   `/nick NEW`, `/users`, `/list`, `/rooms`, `/whois NICK`, `/wire on|off`, `/clear`, `/help`.
 *   A room may be written `#name`.
 *
 * @module
 */

import { isValidNick, isValidRoom } from "../protocol/names.ts";

/** The suites the page offers (the terminal's `/cipher` choices). */
export const CIPHER_CHOICES: readonly string[] = [
  "aes-256-gcm",
  "chacha20-poly1305",
  "xchacha20-poly1305",
  "caesar",
];

/** One parsed line. */
export type WebCommand =
  | { kind: "say"; text: string }
  | { kind: "private"; nick: string; text: string }
  | { kind: "open"; nick: string }
  | { kind: "users"; everyone: boolean }
  | { kind: "join"; room: string }
  | { kind: "leave"; room?: string }
  | { kind: "rooms" }
  | { kind: "nick"; nick: string }
  | { kind: "whois"; nick: string }
  | { kind: "cipher"; suite?: string }
  | { kind: "trust"; nick: string }
  | { kind: "verify"; nick: string; digits?: string }
  | { kind: "wire"; on: boolean }
  | { kind: "clear" }
  | { kind: "help" };

/** A command, nothing (a blank line), or a readable error. */
export type WebParse =
  | { ok: true; command: WebCommand | null }
  | { ok: false; message: string };

/** Usage lines, shown by `/help` and after a mistake. */
export const USAGE: Readonly<Record<string, string>> = {
  pm: "/pm NICK TEXT (or @NICK TEXT): a private message; /pm NICK alone opens the conversation",
  join: "/join ROOM: join ROOM (created when new) and talk there",
  leave: "/leave [ROOM]: leave the open room (or ROOM)",
  users: "/users: who is in the open room; /list: everyone online",
  rooms: "/rooms: the rooms you are in",
  nick: "/nick NEW: change your nick",
  whois: "/whois NICK: fingerprint, verified state and cipher of NICK",
  verify: "/verify NICK [NUMBER]: show the safety number; with the 60 digits, compare",
  trust: "/trust NICK: accept NICK's new identity key",
  cipher: "/cipher [SUITE]: show or change the cipher (aes-256-gcm, chacha20-poly1305, " +
    "xchacha20-poly1305, caesar: insecure, for teaching)",
  wire: "/wire on|off: show what the relay saw of each message",
  clear: "/clear: empty the open conversation's view",
  help: "/help: this list",
};

/**
 * Parses one typed line.
 *
 * @param line The line as typed.
 * @returns The command, null for a blank line, or an error with the usage.
 */
export function parseLine(line: string): WebParse {
  const trimmed = line.trim();
  if (trimmed === "") return { ok: true, command: null };
  if (trimmed.startsWith("//")) return ok({ kind: "say", text: trimmed.slice(1) });
  if (trimmed.startsWith("@")) return parsePrivate(trimmed.slice(1));
  if (!trimmed.startsWith("/")) return ok({ kind: "say", text: trimmed });
  const match = /^\/(\S*)\s*(.*)$/su.exec(trimmed);
  const name = (match?.[1] ?? "").toLowerCase();
  const rest = match?.[2] ?? "";
  const words = rest === "" ? [] : rest.split(/\s+/u);
  switch (name) {
    case "pm":
    case "msg":
    case "query":
      return parsePrivate(rest, true);
    case "join":
    case "j":
      if (words.length !== 1) {
        return fail("join", words.length === 0 ? "Which room?" : "Too many arguments");
      }
      return room("join", words[0]!, (r) => ({ kind: "join", room: r }));
    case "leave":
    case "part":
      if (words.length === 0) return ok({ kind: "leave" });
      if (words.length > 1) return fail("leave", "Too many arguments");
      return room("leave", words[0]!, (r) => ({ kind: "leave", room: r }));
    case "users":
      return ok({ kind: "users", everyone: words[0] === "*" });
    case "list":
      return ok({ kind: "users", everyone: true });
    case "rooms":
      return ok({ kind: "rooms" });
    case "nick":
      return nick("nick", words, (n) => ({ kind: "nick", nick: n }));
    case "whois":
      return nick("whois", words, (n) => ({ kind: "whois", nick: n }));
    case "trust":
      return nick("trust", words, (n) => ({ kind: "trust", nick: n }));
    case "verify": {
      if (words.length === 0) return fail("verify", "Whose safety number?");
      const peer = words[0]!.replace(/^@/, "");
      if (!isValidNick(peer)) return fail("verify", `"${peer}" is not a valid nick`);
      const digits = words.slice(1).join("").replace(/\s+/g, "");
      if (digits === "") return ok({ kind: "verify", nick: peer });
      if (!/^[0-9]{60}$/.test(digits)) {
        return fail("verify", "The safety number is 60 digits (spaces do not matter)");
      }
      return ok({ kind: "verify", nick: peer, digits });
    }
    case "cipher": {
      if (words.length === 0) return ok({ kind: "cipher" });
      const suite = words[0]!.toLowerCase();
      if (words.length > 1) return fail("cipher", "Too many arguments");
      if (!CIPHER_CHOICES.includes(suite)) {
        return fail("cipher", `Unknown cipher suite "${words[0]}"`);
      }
      return ok({ kind: "cipher", suite });
    }
    case "wire":
      if (words.length === 1 && (words[0] === "on" || words[0] === "off")) {
        return ok({ kind: "wire", on: words[0] === "on" });
      }
      return fail("wire", "Say on or off");
    case "clear":
      return ok({ kind: "clear" });
    case "help":
    case "?":
      return ok({ kind: "help" });
    default:
      return {
        ok: false,
        message: `Unknown command "/${name}": type /help (or //${name} to send it as text)`,
      };
  }
}

function parsePrivate(rest: string, openAlone = false): WebParse {
  const match = /^(\S+)\s*(.*)$/su.exec(rest.trim());
  const peer = (match?.[1] ?? "").replace(/^@/, "");
  const text = (match?.[2] ?? "").trim();
  if (peer === "") return fail("pm", "To whom?");
  if (!isValidNick(peer)) return fail("pm", `"${peer}" is not a valid nick`);
  if (text === "") return openAlone ? ok({ kind: "open", nick: peer }) : fail("pm", "Say what?");
  return ok({ kind: "private", nick: peer, text });
}

function room(usage: string, word: string, make: (room: string) => WebCommand): WebParse {
  const name = word.replace(/^#/, "");
  if (!isValidRoom(name)) return fail(usage, `"${word}" is not a valid room name`);
  return ok(make(name));
}

function nick(usage: string, words: string[], make: (nick: string) => WebCommand): WebParse {
  if (words.length !== 1) {
    return fail(usage, words.length === 0 ? "Which nick?" : "Too many arguments");
  }
  const peer = words[0]!.replace(/^@/, "");
  if (!isValidNick(peer)) return fail(usage, `"${peer}" is not a valid nick`);
  return ok(make(peer));
}

function ok(command: WebCommand): WebParse {
  return { ok: true, command };
}

function fail(usage: string, message: string): WebParse {
  return { ok: false, message: `${message} (usage: ${USAGE[usage] ?? usage})` };
}
