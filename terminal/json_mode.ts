/**
 * The `--json` mode for scripts and bots: the same typed lines and commands on stdin, one JSON
 * object per line on stdout. Each object is a `ChatEvent` from `chat/events.ts` (a `type` field
 * always), so the schema is the one documented in `docs/CLIENT.md`. When stdin ends, the
 * client closes the engine, which waits (bounded) until the relay acknowledged what was sent.
 *
 * @module
 */

import type { ChatEvent } from "../chat/events.ts";
import { type CommandContext, errorEvent, runLine, unacknowledgedEvent } from "./dispatch.ts";
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
