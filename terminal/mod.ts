/**
 * The Hush terminal client: command-line options, typed commands, rendering, the line editor,
 * the JSON mode and `runClient`. `client.ts` is a thin entry point over {@link main}.
 *
 * @module
 */

export { type Command, COMMANDS, commandUsage, helpLines, parseCommand } from "./commands.ts";
export { type CommandContext, errorEvent, runCommand, runLine } from "./dispatch.ts";
export type { ChatEngine } from "./engine.ts";
export { ClientError, UsageError } from "./errors.ts";
export { fingerprintLines, ownFingerprint } from "./fingerprint_command.ts";
export { createEngine } from "./chat_engine.ts";
export { CIPHER_CHOICES, DEFAULT_ROOM, DEFAULT_SERVER, HELP_TEXT } from "./help.ts";
export { InteractiveUi } from "./interactive.ts";
export { encodeJsonEvent, readLines, runJsonMode } from "./json_mode.ts";
export { decodeKeys, type Key } from "./keys.ts";
export { LineEditor } from "./line_editor.ts";
export { applyKey, emptyLine, type LineState } from "./line_state.ts";
export { errorLines, EXIT_FAILURE, EXIT_USAGE, main } from "./main.ts";
export {
  checkNick,
  checkRoom,
  checkServer,
  type ClientOptions,
  parseClientArgs,
} from "./options.ts";
export { renderEvent, type RenderOptions, shouldColor } from "./render.ts";
export {
  type ClientIo,
  type EngineFactory,
  type EngineHandle,
  type EngineOptions,
  processIo,
  runClient,
} from "./run_client.ts";
