/**
 * The Hush terminal client: command-line options, typed commands, rendering, the line editor,
 * the JSON mode and `runClient`. `client.ts` is a thin entry point over {@link main}.
 *
 * @module
 */

export type { ChatEvent, ChatEventListener, UserInfo, WireView } from "../chat/events.ts";
export { HushError } from "../crypto/errors.ts";
export { createEngine } from "./chat_engine.ts";
export {
  ChildClient,
  type ChildClientOptions,
  CLIENT_PERMISSIONS,
  type Predicate,
} from "./child_client.ts";
export { ChildRelay, type ChildRelayOptions, RELAY_PERMISSIONS } from "./child_relay.ts";
export {
  type Command,
  COMMAND_NAMES,
  type CommandInfo,
  COMMANDS,
  commandUsage,
  helpLines,
  parseCommand,
  type ParseResult,
} from "./commands.ts";
export {
  type CommandContext,
  errorEvent,
  type LineOutcome,
  runCommand,
  runLine,
  unacknowledgedEvent,
} from "./dispatch.ts";
export { type DemoOptions, runDemo } from "./demo.ts";
export type { ChatEngine } from "./engine.ts";
export { ClientError, UsageError } from "./errors.ts";
export { fingerprintLines, type OwnFingerprint, ownFingerprint } from "./fingerprint_command.ts";
export { CIPHER_CHOICES, DEFAULT_ROOM, DEFAULT_SERVER, HELP_TEXT } from "./help.ts";
export { type InteractiveOptions, InteractiveUi } from "./interactive.ts";
export { encodeJsonEvent, type JsonModeOptions, runJsonMode } from "./json_mode.ts";
export { readLines } from "./read_lines.ts";
export { decodeKeys, type Key, type KeyKind } from "./keys.ts";
export {
  type EditorInput,
  type EditorOutput,
  LineEditor,
  type LineEditorOptions,
  printSequence,
  redrawSequence,
} from "./line_editor.ts";
export {
  applyKey,
  completionCandidates,
  type CompletionSource,
  type CompletionState,
  emptyLine,
  type KeyResult,
  type LineState,
  lineText,
  visibleLine,
} from "./line_state.ts";
export { errorLines, EXIT_FAILURE, EXIT_USAGE, main } from "./main.ts";
export {
  checkNick,
  checkRoom,
  checkServer,
  type ClientCommand,
  type ClientOptions,
  parseClientArgs,
} from "./options.ts";
export {
  hexLines,
  nickColor,
  renderEvent,
  type RenderOptions,
  sanitize,
  shouldColor,
} from "./render.ts";
export {
  type ClientIo,
  type EngineFactory,
  type EngineHandle,
  type EngineOptions,
  processIo,
  runClient,
} from "./run_client.ts";
