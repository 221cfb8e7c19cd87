/**
 * Runs a parsed command against the chat engine. Shared by the interactive terminal and the
 * JSON mode: both turn a typed line into a {@link Command} and hand it here.
 *
 * @module
 */

import type { ChatEvent } from "../chat/events.ts";
import { HushError } from "../crypto/errors.ts";
import { type Command, helpLines, parseCommand } from "./commands.ts";
import type { ChatEngine } from "./engine.ts";
import { fitsOneMessage, splitText, textBytes } from "./split.ts";
import { MAX_TEXT_BYTES } from "../chat/mod.ts";

/** What a command may do outside the engine. */
export interface CommandContext {
  /** The engine to drive. */
  engine: ChatEngine;
  /** Shows an event produced by the terminal itself (help, errors). */
  emit(event: ChatEvent): void;
  /** Clears the screen (`/clear`); absent in JSON mode. */
  clear?: () => void;
  /** The cipher suite in use now, for `/cipher` without an argument. */
  cipher(): string;
  /** A line over the limit of one message, kept until `/split` sends it in parts. */
  tooLong?: { to: { room: true } | { nick: string }; parts: string[] } | undefined;
}

/** What the caller should do after a line: go on, or end the session. */
export type LineOutcome = "continue" | "quit";

/**
 * Parses one typed line and runs it.
 *
 * @param line The line as typed.
 * @param context Engine, event sink and screen.
 * @returns `quit` after `/quit` or `/exit`, else `continue`.
 */
export async function runLine(line: string, context: CommandContext): Promise<LineOutcome> {
  const parsed = parseCommand(line);
  if (!parsed.ok) {
    const usage = parsed.usage === undefined ? "" : ` (usage: ${parsed.usage})`;
    context.emit({ type: "error", code: "BAD_COMMAND", message: `${parsed.message}${usage}` });
    return "continue";
  }
  if (parsed.command === null) return "continue";
  return await runCommand(parsed.command, context);
}

/**
 * Runs one command. Errors thrown by the engine become one `error` event (their code and
 * message), never a stack trace.
 *
 * @param command The command.
 * @param context Engine, event sink and screen.
 * @returns `quit` after `/quit`, else `continue`.
 */
export async function runCommand(command: Command, context: CommandContext): Promise<LineOutcome> {
  const { engine } = context;
  try {
    switch (command.kind) {
      case "say":
      case "private": {
        const to = command.kind === "say" ? { room: true as const } : { nick: command.nick };
        if (!fitsOneMessage(command.text)) {
          // Not refused flatly: offered in parts, sent on `/split`.
          const parts = splitText(command.text);
          context.tooLong = { to, parts };
          context.emit({
            type: "error",
            code: "MESSAGE_TOO_LONG",
            message: `This line is ${textBytes(command.text)} bytes; one message holds at most ` +
              `${MAX_TEXT_BYTES} bytes (16 KiB). Type /split to send it as ${parts.length} ` +
              "messages, or edit it",
          });
          break;
        }
        context.tooLong = undefined;
        await send(engine, to, command.text);
        break;
      }
      case "split": {
        const held = context.tooLong;
        context.tooLong = undefined;
        if (held === undefined) {
          context.emit({
            type: "error",
            code: "BAD_COMMAND",
            message: "Nothing to split: /split follows a line over the 16 KiB limit",
          });
          break;
        }
        for (const part of held.parts) await send(engine, held.to, part);
        break;
      }
      case "users": {
        // `/users` is exact about who can read the current room; `/list` or `/users *` is
        // everyone on the relay.
        const room = command.everyone ? undefined : command.room ?? engine.room;
        await (room === undefined ? engine.listUsers() : engine.listUsers(room));
        break;
      }
      case "join":
        await engine.join(command.room);
        break;
      case "leave":
        await (command.room === undefined ? engine.leave() : engine.leave(command.room));
        break;
      case "rooms":
        await engine.listRooms();
        break;
      case "nick":
        await engine.changeNick(command.nick);
        break;
      case "whois":
        await engine.whois(command.nick);
        break;
      case "cipher":
        if (command.suite === undefined) {
          context.emit({
            type: "info",
            message: `Cipher: ${context.cipher()} (change it with /cipher SUITE)`,
          });
        } else {
          await engine.setCipher(command.suite);
        }
        break;
      case "trust":
        await engine.trust(command.nick);
        break;
      case "approve":
        await engine.approve?.(command.nick);
        break;
      case "verify": {
        const given = command.digits ?? command.words?.join(" ");
        await (given === undefined
          ? engine.verify(command.nick)
          : engine.verify(command.nick, given));
        break;
      }
      case "wire":
        await engine.setWire(command.on);
        context.emit({
          type: "info",
          message: command.on
            ? "Wire view on: every message also shows what the relay sees"
            : "Wire view off",
        });
        break;
      case "clear":
        context.clear?.();
        break;
      case "help":
        context.emit({ type: "info", message: helpLines(command.topic).join("\n") });
        break;
      case "quit":
        return "quit";
    }
  } catch (error) {
    context.emit(errorEvent(error));
  }
  return "continue";
}

async function send(
  engine: ChatEngine,
  to: { room: true } | { nick: string },
  text: string,
): Promise<void> {
  if ("nick" in to) await engine.sendPrivate(to.nick, text);
  else await engine.sendRoom(text);
}

/**
 * Turns anything thrown into an `error` event: the code and message of a `HushError`, or
 * `INTERNAL` with the message of anything else.
 *
 * @param error What was thrown.
 * @returns The event.
 */
export function errorEvent(error: unknown): Extract<ChatEvent, { type: "error" }> {
  if (error instanceof HushError) {
    return { type: "error", code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { type: "error", code: "INTERNAL", message };
}

/**
 * Checks, after `close()`, that the relay acknowledged everything sent; otherwise reports how
 * many envelopes wait in the outbox (they are sent again on the next start).
 *
 * @param engine The closed engine.
 * @returns An `error` event with code `UNACKNOWLEDGED`, or undefined when all is acknowledged.
 */
export function unacknowledgedEvent(
  engine: ChatEngine,
): Extract<ChatEvent, { type: "error" }> | undefined {
  const count = engine.unacknowledged ?? 0;
  if (count === 0) return undefined;
  return {
    type: "error",
    code: "UNACKNOWLEDGED",
    message: `${count} message${
      count === 1 ? "" : "s"
    } not acknowledged by the relay: kept in the outbox, sent again on the next start`,
  };
}
