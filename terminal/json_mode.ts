/**
 * The `--json` mode for scripts and bots: the same typed lines and commands on stdin (or one JSON
 * command object per line, see {@link parseJsonCommand}), one JSON object per line on stdout. Each object is a `ChatEvent` from `chat/events.ts` (a `type` field
 * always), so the schema is the one documented in `docs/CLIENT.md`. When stdin ends, the
 * client closes the engine, which waits (bounded) until the relay acknowledged what was sent.
 *
 * @module
 */

import type { ChatEvent } from "../chat/events.ts";
import { parseCommand, type ParseResult } from "./commands.ts";
import { checkNick } from "./options.ts";
import {
  type CommandContext,
  errorEvent,
  runCommand,
  runLine,
  unacknowledgedEvent,
} from "./dispatch.ts";
import type { ChatEngine } from "./engine.ts";
import { readLines } from "./read_lines.ts";

/**
 * Encodes one event as one line of JSON (no newline inside: JSON escapes them).
 *
 * @param event The event.
 * @returns The JSON text without the trailing newline.
 */
export function encodeJsonEvent(event: ChatEvent): string {
  return JSON.stringify(event);
}

/**
 * Parses a structured command: one JSON object on one stdin line. Its text is never read as a
 * command, whatever it holds (a bot that relays received text cannot be made to run one):
 *
 * - `{"cmd":"send","text":T}`: T to the current room; `{"cmd":"send","to":NICK,"text":T}` (or
 *   `"cmd":"pm"`): T privately to NICK.
 * - `{"cmd":NAME,"args":[...]}`: the chat command `/NAME` with those arguments (each one word),
 *   e.g. `{"cmd":"verify","args":["bob"]}`.
 *
 * @param line A stdin line starting with `{`.
 * @returns The command, or an error.
 */
export function parseJsonCommand(line: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, message: "A line starting with { must be one JSON command object" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, message: 'A JSON command must be an object with a "cmd"' };
  }
  const o = value as Record<string, unknown>;
  const cmd = o.cmd;
  if (typeof cmd !== "string" || !/^[a-z]+$/.test(cmd)) {
    return { ok: false, message: 'A JSON command needs "cmd": a command name, e.g. "send"' };
  }
  if (cmd === "send" || cmd === "pm") {
    if (typeof o.text !== "string" || o.text === "") {
      return { ok: false, message: `"${cmd}" needs "text": a non-empty string` };
    }
    if (o.to === undefined && cmd === "send") {
      return { ok: true, command: { kind: "say", text: o.text } };
    }
    if (typeof o.to !== "string" || checkNick(o.to) !== undefined) {
      return { ok: false, message: `"${cmd}" needs "to": a nick` };
    }
    return { ok: true, command: { kind: "private", nick: o.to, text: o.text } };
  }
  const args = o.args ?? [];
  if (
    !Array.isArray(args) ||
    args.some((a) => typeof a !== "string" || a === "" || /[\s\p{Cc}]/u.test(a))
  ) {
    return { ok: false, message: '"args" must be a list of single words' };
  }
  const parsed = parseCommand(`/${cmd}${args.length > 0 ? " " : ""}${args.join(" ")}`);
  if (parsed.ok && parsed.command?.kind === "say") {
    return { ok: false, message: `Unknown command "${cmd}"` };
  }
  return parsed;
}

/** Options of {@link runJsonMode}. */
export interface JsonModeOptions {
  /** Typed lines: commands and messages. */
  input: ReadableStream<Uint8Array>;
  /** Receives each output line (JSON, no newline). */
  writeLine: (line: string) => void;
  /** The cipher suite in use now (for `/cipher` without an argument). */
  cipher: () => string;
  /**
   * Settles at the first `ready` (or when the start failed): lines read before it wait for it,
   * so a script may write its commands at once (`printf '/users\n' | client.ts --json ...`).
   */
  ready?: Promise<unknown>;
}

/**
 * Runs the JSON mode until stdin ends or `/quit`, then closes the engine.
 *
 * Subscribe the engine's events to {@link encodeJsonEvent} + `writeLine` before calling this;
 * this function writes only the events the terminal itself produces (`error` for a bad command,
 * `info` for `/help`).
 *
 * @param engine The connected engine.
 * @param options Input, output and the current cipher.
 * @returns When the engine is closed: true when the relay acknowledged everything sent, false
 *   when some messages are still in the outbox (an `UNACKNOWLEDGED` error line says how many).
 */
export async function runJsonMode(engine: ChatEngine, options: JsonModeOptions): Promise<boolean> {
  const context: CommandContext = {
    engine,
    emit: (event) => options.writeLine(encodeJsonEvent(event)),
    cipher: options.cipher,
  };
  try {
    for await (const line of readLines(options.input)) {
      // A command typed before the connection is up waits for it rather than failing (or,
      // at the end of input, closing the client before it ever connected).
      if (options.ready !== undefined) await options.ready.catch(() => {});
      if (line.trimStart().startsWith("{")) {
        const parsed = parseJsonCommand(line.trim());
        if (!parsed.ok) {
          const usage = parsed.usage === undefined ? "" : ` (usage: ${parsed.usage})`;
          context.emit({
            type: "error",
            code: "BAD_COMMAND",
            message: `${parsed.message}${usage}`,
          });
          continue;
        }
        if (parsed.command === null) continue;
        if (await runCommand(parsed.command, context) === "quit") break;
        continue;
      }
      if (await runLine(line, context) === "quit") break;
    }
  } finally {
    try {
      await engine.close();
    } catch (error) {
      context.emit(errorEvent(error));
    }
  }
  const pending = unacknowledgedEvent(engine);
  if (pending !== undefined) context.emit(pending);
  return pending === undefined;
}
