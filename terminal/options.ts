/**
 * Command-line options of `client.ts`: flags in, a checked options object out. Pure: the
 * environment is passed in, so the tests need no permissions.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isValidNick, isValidRoom } from "../protocol/names.ts";
import { UsageError } from "./errors.ts";
import { CIPHER_CHOICES, DEFAULT_ROOM, DEFAULT_SERVER } from "./help.ts";

/** What the user asked `client.ts` to do. */
export type ClientCommand = "chat" | "fingerprint" | "help";

/** Checked options of one `client.ts` run. */
export interface ClientOptions {
  /** What to do: chat (default), print the fingerprint, or print the help. */
  command: ClientCommand;
  /** Nickname; absent when the user did not give one (the client then asks for it). */
  nick?: string;
  /** Relay URL, `ws://`, `wss://`, `tcp://` or `tls://` (also spelled `tcp+tls://`). */
  server: string;
  /** Home directory given with `--home`; absent means the default for the nick. */
  home?: string;
  /** Room to join on start. */
  room: string;
  /** Cipher-suite id. */
  cipher: string;
  /** Access token for the relay. */
  token?: string;
  /** Path of a PEM certificate to trust for `wss://` and `tls://`. */
  ca?: string;
  /** JSON mode: commands on stdin, one JSON event per line on stdout. */
  json: boolean;
  /** Refuse messages under an insecure cipher suite (Caesar) instead of showing them flagged. */
  refuseInsecure: boolean;
  /** Who gets our room keys: `all` (default), `approve` (after /approve) or `verified`. */
  roomKeys?: "all" | "approve" | "verified";
  /** `fingerprint --create`: make a new identity when the home has none (else refuse). */
  create: boolean;
}

const SERVER_SCHEMES = ["ws:", "wss:", "tcp:", "tls:", "tcp+tls:"];
const MAX_NAME_LENGTH = 32;

/**
 * Checks a nickname typed by the user.
 *
 * Rules (the protocol's): 1 to 32 of `A-Z a-z 0-9 _ -`; the relay grants a suffixed nick
 * (`bob_1`) when another identity owns it.
 *
 * @param nick The nickname.
 * @returns An error message, or `undefined` when the nick is acceptable.
 */
export function checkNick(nick: string): string | undefined {
  if (nick.length === 0) return "A nick cannot be empty";
  if (isValidNick(nick)) return undefined;
  if (nick.length > MAX_NAME_LENGTH) {
    return `Nick ${JSON.stringify(nick)} is too long: at most ${MAX_NAME_LENGTH} characters`;
  }
  return `Nick ${JSON.stringify(nick)} is not allowed: use letters A-Z, digits, "_" or "-"`;
}

/**
 * Checks a room name typed by the user (a leading `#` is allowed and removed).
 *
 * @param room The room name.
 * @returns The room without a leading `#`, or an error message in `error`.
 */
export function checkRoom(room: string): { room: string; error?: undefined } | {
  room?: undefined;
  error: string;
} {
  const name = room.startsWith("#") ? room.slice(1) : room;
  if (name.length === 0) return { error: "A room name cannot be empty" };
  if (isValidRoom(name)) return { room: name };
  if (name.length > MAX_NAME_LENGTH) {
    return {
      error: `Room ${JSON.stringify(room)} is too long: at most ${MAX_NAME_LENGTH} characters`,
    };
  }
  return {
    error: `Room ${JSON.stringify(room)} is not allowed: use letters A-Z, digits, "_" or "-"`,
  };
}

/**
 * Checks a relay URL.
 *
 * @param url The URL given with `--server`.
 * @returns An error message, or `undefined` when the URL is acceptable.
 */
export function checkServer(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `Server ${JSON.stringify(url)} is not a URL: expected e.g. ${DEFAULT_SERVER}`;
  }
  if (!SERVER_SCHEMES.includes(parsed.protocol)) {
    return `Server ${
      JSON.stringify(url)
    } has an unsupported scheme: use ws://, wss://, tcp:// or tls://`;
  }
  if (parsed.hostname === "") return `Server ${JSON.stringify(url)} has no host`;
  if (["tcp:", "tls:", "tcp+tls:"].includes(parsed.protocol) && parsed.port === "") {
    return `Server ${JSON.stringify(url)} has no port: e.g. tcp://127.0.0.1:4875`;
  }
  return undefined;
}

/**
 * Parses the command line of `client.ts`.
 *
 * @param args The arguments after `client.ts` (`Deno.args`).
 * @returns The checked options.
 * @throws {UsageError} On an unknown flag, a missing or bad value, or an unknown subcommand.
 */
export function parseClientArgs(args: readonly string[]): ClientOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        nick: { type: "string" },
        server: { type: "string" },
        home: { type: "string" },
        room: { type: "string" },
        cipher: { type: "string" },
        token: { type: "string" },
        ca: { type: "string" },
        json: { type: "boolean" },
        "refuse-insecure": { type: "boolean" },
        "room-keys": { type: "string" },
        create: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw usageFromParseArgs(error);
  }
  const { values, positionals } = parsed;
  let command: ClientCommand = "chat";
  if (positionals.length > 0) {
    const [first, ...rest] = positionals;
    if (first === "fingerprint") command = "fingerprint";
    else if (first === "help") command = "help";
    else {
      throw new UsageError(`Unknown command ${JSON.stringify(first)}`, {
        hint: "the only subcommand is fingerprint; run with --help for usage",
      });
    }
    if (rest.length > 0) {
      throw new UsageError(`Unexpected argument ${JSON.stringify(rest[0])}`, {
        hint: "run with --help for usage",
      });
    }
  }
  if (values.help) command = "help";

  const options: ClientOptions = {
    command,
    server: values.server ?? DEFAULT_SERVER,
    room: DEFAULT_ROOM,
    cipher: values.cipher ?? "aes-256-gcm",
    json: values.json ?? false,
    refuseInsecure: values["refuse-insecure"] ?? false,
    create: values.create ?? false,
  };
  if (command === "help") return options;
  const roomKeys = values["room-keys"];
  if (roomKeys !== undefined) {
    if (roomKeys !== "all" && roomKeys !== "approve" && roomKeys !== "verified") {
      throw new UsageError(`Unknown --room-keys ${JSON.stringify(roomKeys)}`, {
        hint: "use all, approve or verified",
      });
    }
    options.roomKeys = roomKeys;
  }
  if (options.create && command !== "fingerprint") {
    throw new UsageError("--create goes with the fingerprint command", {
      hint: "a chat session creates the identity by itself on first use",
    });
  }

  if (values.nick !== undefined) {
    const problem = checkNick(values.nick);
    if (problem !== undefined) throw new UsageError(problem, { hint: "e.g. --nick alice" });
    options.nick = values.nick;
  }
  const serverProblem = checkServer(options.server);
  if (serverProblem !== undefined) {
    throw new UsageError(serverProblem, { hint: `the local relay is ${DEFAULT_SERVER}` });
  }
  if (values.room !== undefined) {
    const checked = checkRoom(values.room);
    if (checked.error !== undefined) {
      throw new UsageError(checked.error, { hint: "e.g. --room lobby" });
    }
    options.room = checked.room;
  }
  if (!CIPHER_CHOICES.includes(options.cipher)) {
    throw new UsageError(`Unknown cipher suite ${JSON.stringify(options.cipher)}`, {
      hint: `choose one of ${CIPHER_CHOICES.join(", ")}`,
    });
  }
  if (values.home !== undefined) {
    if (values.home === "") throw new UsageError("--home cannot be empty");
    options.home = values.home;
  }
  if (values.token !== undefined) options.token = values.token;
  if (values.ca !== undefined) {
    if (values.ca === "") throw new UsageError("--ca cannot be empty");
    options.ca = values.ca;
  }
  return options;
}

function usageFromParseArgs(error: unknown): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = /'([^']+)'/.exec(message)?.[1] ?? "";
    return new UsageError(`Unknown flag ${JSON.stringify(flag)}`, {
      hint: "run with --help to see every flag",
    });
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const flag = /--([a-z]+)/.exec(message)?.[0] ?? "a flag";
    if (/argument missing|ambiguous/.test(message)) {
      return new UsageError(`Flag ${flag} needs a value`, { hint: `e.g. ${flag} VALUE` });
    }
    return new UsageError(`Flag ${flag} does not take a value`, {
      hint: "run with --help to see every flag",
    });
  }
  return new UsageError(message.replace(/\.$/, ""), { hint: "run with --help for usage" });
}
