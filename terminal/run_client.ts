/**
 * `runClient(options)`: options in, a chat session out. Asks for a nick when none was given,
 * opens the home, starts the engine and wires its events to the interactive screen or to the
 * JSON mode.
 *
 * @module
 */

import type { ChatEvent, ChatEventListener } from "../chat/events.ts";
import { findHomeDir, type FoundHome } from "../chat/file_home.ts";
import { HushError } from "../crypto/errors.ts";
import type { ChatEngine } from "./engine.ts";
import { ClientError, UsageError } from "./errors.ts";
import { fingerprintLines, ownFingerprint } from "./fingerprint_command.ts";
import { HELP_TEXT } from "./help.ts";
import { InteractiveUi } from "./interactive.ts";
import { encodeJsonEvent, runJsonMode } from "./json_mode.ts";
import { checkNick, type ClientOptions } from "./options.ts";
import { grantedEnv, requestEnv, WS_ENV_VARS } from "./env.ts";
import { shouldColor } from "./render.ts";

/** What the engine is started with. */
export interface EngineOptions {
  /** Relay URL. */
  server: string;
  /** Nick to ask for. */
  nick: string;
  /** Home directory. */
  home: string;
  /** Cipher-suite id. */
  cipher: string;
  /** Room to join on start. */
  room: string;
  /** Access token. */
  token?: string;
  /** PEM certificates to trust for `wss://` and `tls://`. */
  caCerts?: string[];
  /** Refuse messages under an insecure cipher suite. */
  refuseInsecure?: boolean;
  /** Who gets our room keys (`--room-keys`). */
  roomKeys?: "all" | "approve" | "verified";
  /**
   * Take the home's lock (default true). Only the tests turn it off
   * (`HUSH_TEST_NO_HOME_LOCK=1`), to show what the generation check does without it.
   */
  lockHome?: boolean;
}

/** A started engine and the way to hear its events. */
export interface EngineHandle {
  /** The engine's command methods. */
  engine: ChatEngine;
  /** Lines to show the user before the session (e.g. a stale home lock taken over). */
  notes?: string[];
  /**
   * Subscribes the listener, then connects. Resolves at the first `ready`; rejects when the
   * relay refuses for good (bad token, nick unavailable...): the session then ends with that
   * error. Reconnection after a loss is the engine's business and does not settle this.
   */
  start(listener: ChatEventListener): Promise<void>;
}

/** Creates an engine (the chat engine from `chat/`, or a scripted one in tests). */
export type EngineFactory = (options: EngineOptions) => EngineHandle | Promise<EngineHandle>;

/** Where `runClient` writes and how it asks (injectable for tests). */
export interface ClientIo {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** Asks for a line on the terminal; null at end of input. */
  ask(question: string): string | null;
  /** Environment variables (only those the client reads, and only when granted). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Asks for environment variables not granted yet (a Deno prompt, before the line editor
   * starts) and returns them; absent in tests, where `env` is all there is.
   */
  requestEnv?(names: readonly string[]): Record<string, string | undefined>;
  /** Whether stdin is a terminal. */
  stdinIsTerminal: boolean;
  /** Stdin as a byte stream (JSON mode and piped input). */
  stdin(): ReadableStream<Uint8Array>;
  /**
   * Asks for network access to `host:port` now, while the terminal is still in normal mode
   * (a Deno permission prompt must not meet the raw-mode line editor).
   */
  requestNet(host: string): Promise<boolean>;
  /** Whether stdout is a terminal. */
  stdoutIsTerminal: boolean;
}

/**
 * The process's real stdin/stdout/stderr and environment.
 *
 * @returns The I/O of this process.
 */
export function processIo(): ClientIo {
  const encoder = new TextEncoder();
  const write = (stream: { writeSync(b: Uint8Array): number }, text: string) => {
    const bytes = encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
  };
  return {
    out: (line) => write(Deno.stdout, line + "\n"),
    err: (line) => write(Deno.stderr, line + "\n"),
    ask: (question) => prompt(question),
    get env() {
      // Never the whole environment: the variables the client reads, when granted.
      return grantedEnv();
    },
    requestEnv: (names) => requestEnv(names),
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stdin: () => Deno.stdin.readable,
    requestNet: async (host) =>
      (await Deno.permissions.request({ name: "net", host })).state === "granted",
    stdoutIsTerminal: Deno.stdout.isTerminal(),
  };
}

/**
 * Runs one client session (or the `fingerprint` / `help` command) to its end.
 *
 * @param options Checked command-line options.
 * @param context The engine factory and, optionally, the I/O to use.
 * @returns When the session is over.
 * @throws {UsageError} When no nick can be had (JSON mode, or end of input at the question).
 * @throws {HushError} What the engine throws while starting (bad home, relay unreachable...).
 */
export async function runClient(
  options: ClientOptions,
  context: { createEngine: EngineFactory; io?: ClientIo },
): Promise<void> {
  const io = context.io ?? processIo();
  if (options.command === "help") {
    io.out(HELP_TEXT.trimEnd());
    return;
  }
  const nick = options.nick ?? askNick(options, io);
  const found: FoundHome | undefined = options.home === undefined
    ? await homeFor(nick, homeEnv(io))
    : undefined;
  const home = options.home ?? found!.dir;
  if (options.command === "fingerprint") {
    let own;
    try {
      own = await ownFingerprint(home, { create: options.create });
    } catch (error) {
      if (!(error instanceof HushError) || error.code !== "NO_IDENTITY") throw error;
      const where = options.home === undefined ? "" : ` --home ${options.home}`;
      throw new ClientError("NO_IDENTITY", `${nick} has no identity in ${home} yet`, {
        hint: `the first chat session creates it (deno task client --nick ${nick}${where}); ` +
          `or run fingerprint --create to make one now`,
      });
    }
    for (const line of fingerprintLines(nick, own)) io.out(line);
    return;
  }
  const engineOptions: EngineOptions = {
    server: options.server,
    nick,
    home,
    cipher: options.cipher,
    room: options.room,
  };
  if (options.token !== undefined) engineOptions.token = options.token;
  if (options.ca !== undefined) engineOptions.caCerts = [await readCa(options.ca)];
  if (options.refuseInsecure) engineOptions.refuseInsecure = true;
  if (options.roomKeys !== undefined) engineOptions.roomKeys = options.roomKeys;
  if (io.env.HUSH_TEST_NO_HOME_LOCK === "1") engineOptions.lockHome = false;
  const handle = await context.createEngine(engineOptions);
  const notes = [usingHome(home, nick, found), ...(handle.notes ?? [])];

  if (options.json) {
    let cipher = options.cipher;
    const listener = (event: ChatEvent) => {
      if (event.type === "cipher") cipher = event.cipher;
      io.out(encodeJsonEvent(event));
    };
    for (const message of notes) io.out(encodeJsonEvent({ type: "info", message }));
    const started = handle.start(listener);
    const fatal = watchStart(started);
    let acknowledged = true;
    const session = runJsonMode(handle.engine, {
      input: io.stdin(),
      writeLine: io.out,
      cipher: () => cipher,
      ready: started,
    }).then((all) => {
      acknowledged = all;
    });
    await endOrFail(session, fatal, handle);
    if (!acknowledged) {
      throw new ClientError("UNACKNOWLEDGED", "Some messages were not acknowledged by the relay", {
        hint: "they stay in the outbox of --home and are sent again on the next start",
      });
    }
    return;
  }

  const host = netHost(options.server);
  // The `ws` package reads two variables when it loads: ask now, not under the line editor.
  if (/^wss?:/.test(options.server)) io.requestEnv?.(WS_ENV_VARS);
  if (!await io.requestNet(host)) {
    throw new ClientError("PERMISSION_DENIED", `Network access to "${host}" was denied`, {
      hint: "run `deno task client` (permissions granted) or allow the network access",
    });
  }
  const ui = new InteractiveUi({
    nick,
    room: options.room,
    cipher: options.cipher,
    color: shouldColor(io.env, io.stdoutIsTerminal),
    raw: io.stdinIsTerminal && io.stdoutIsTerminal,
    bell: io.stdoutIsTerminal,
  });
  ui.print([
    ...notes.slice(1).map((note) => `-- ${note}`),
    ...(found !== undefined && found.match !== "default" ? [`-- ${notes[0]}`] : []),
    `-- connecting to ${options.server} as ${nick} (home ${home})`,
  ]);
  const fatal = watchStart(handle.start((event) => ui.show(event)));
  try {
    await endOrFail(ui.run(handle.engine), fatal, handle);
  } finally {
    ui.close();
  }
}

/**
 * Turns the start promise into one that only ever rejects, with a fatal start error. `CLOSED`
 * is not fatal: it means the session ended (and closed the engine) before the first READY.
 */
function watchStart(started: Promise<void>): Promise<never> {
  const forever = new Promise<never>(() => {});
  return started.then(
    () => forever,
    (error: unknown) => {
      if (error instanceof HushError && error.code === "CLOSED") return forever;
      throw error;
    },
  );
}

/** Waits for the session to end; if the start fails for good first, closes and rethrows. */
async function endOrFail(
  session: Promise<void>,
  fatal: Promise<never>,
  handle: EngineHandle,
): Promise<void> {
  try {
    await Promise.race([session, fatal]);
  } catch (error) {
    try {
      await handle.engine.close();
    } catch {
      // Already failing: the start error is the one to report.
    }
    throw error;
  }
}

/** The `host:port` of a relay URL, for the permission request. */
function netHost(server: string): string {
  const url = new URL(server);
  const port = url.port !== "" ? url.port : url.protocol === "wss:" ? "443" : "80";
  return `${url.hostname}:${port}`;
}

function askNick(options: ClientOptions, io: ClientIo): string {
  if (options.json || !io.stdinIsTerminal) {
    throw new UsageError("No nick given", { hint: "pass --nick NICK" });
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const answer = io.ask("Nick:");
    if (answer === null) throw new UsageError("No nick given", { hint: "pass --nick NICK" });
    const nick = answer.trim();
    const problem = checkNick(nick);
    if (problem === undefined) return nick;
    io.err(`hush: error: ${problem}`);
  }
  throw new UsageError("No usable nick given", { hint: "pass --nick NICK" });
}

/** The first line of a session: which home, and why when it was looked up by the nick. */
function usingHome(home: string, nick: string, found: FoundHome | undefined): string {
  if (found?.match === "current") return `Using home ${home} (the identity with the nick ${nick})`;
  if (found?.match === "former") {
    return `Using home ${home} (the identity that had the nick ${nick} before a /nick)`;
  }
  return `Using home ${home}`;
}

/** `HOME` and `XDG_CONFIG_HOME`, asked for when not granted (`deno run client.ts`). */
function homeEnv(io: ClientIo): Readonly<Record<string, string | undefined>> {
  const env = io.env;
  if (env.HOME !== undefined || env.XDG_CONFIG_HOME !== undefined || io.requestEnv === undefined) {
    return env;
  }
  return { ...env, ...io.requestEnv(["XDG_CONFIG_HOME", "HOME"]) };
}

async function homeFor(
  nick: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<FoundHome> {
  try {
    return await findHomeDir(nick, { XDG_CONFIG_HOME: env.XDG_CONFIG_HOME, HOME: env.HOME });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), {
      hint: "pass --home DIR",
    });
  }
}

async function readCa(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(
      `Cannot read the certificate ${JSON.stringify(path)}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { hint: "--ca takes a PEM file, e.g. the relay's cert.pem" },
    );
  }
}
