/**
 * The `client.ts` program: parse the command line, run the client, turn every failure into
 * `hush: error: ...` (and `hush: hint: ...`) lines and an exit code. Never a stack trace.
 *
 * Exit codes: 0 success, 1 runtime error (relay unreachable, bad home...), 2 usage error.
 *
 * @module
 */

import { HushError } from "../crypto/errors.ts";
import { ClientError, UsageError } from "./errors.ts";
import { parseClientArgs } from "./options.ts";
import { type ClientIo, type EngineFactory, processIo, runClient } from "./run_client.ts";

/** Exit code of a usage error. */
export const EXIT_USAGE = 2;
/** Exit code of a runtime error. */
export const EXIT_FAILURE = 1;

/**
 * The lines printed for an error: `hush: error: ...` and, when known, `hush: hint: ...`.
 *
 * @param error What was thrown.
 * @returns The lines (no stack trace).
 */
export function errorLines(error: unknown): string[] {
  if (error instanceof ClientError) {
    return [`hush: error: ${error.message}`, ...(error.hint ? [`hush: hint: ${error.hint}`] : [])];
  }
  if (error instanceof HushError) {
    const hint = /certificate/i.test(error.message) ? CERTIFICATE_HINT : HINTS[error.code];
    return [`hush: error: ${error.message}`, ...(hint ? [`hush: hint: ${hint}`] : [])];
  }
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return [
      `hush: error: ${firstLine(error.message)}`,
      "hush: hint: run `deno task client` (permissions granted) or allow what Deno asks for",
    ];
  }
  const message = error instanceof Error ? firstLine(error.message) : String(error);
  return [`hush: error: ${message}`];
}

const CERTIFICATE_HINT =
  "the relay's TLS certificate is not trusted: pass --ca FILE with its certificate (PEM)";

const HINTS: Readonly<Record<string, string>> = {
  CONNECT_FAILED: "is the relay running? start one with `deno task server`, or pass --server URL",
  BAD_SERVER_URL: "use ws://HOST:PORT/, wss://HOST/, tcp://HOST:PORT or tls://HOST:PORT",
  BAD_HOME: "pass --home DIR with a directory you can write",
  HOME_LOCKED: "quit the other client first (one home, one client), or pass another --home",
  HANDSHAKE_FAILED: "check --token, and that --server points at a Hush relay",
  BAD_IDENTITY_ENCODING: "the identity file in your home is damaged; use another --home",
};

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").replace(/\.$/, "");
}

/**
 * Runs `client.ts` with its arguments.
 *
 * @param args Command-line arguments (`Deno.args`).
 * @param context The engine factory and, optionally, the I/O (tests pass their own).
 * @returns The exit code.
 */
export async function main(
  args: readonly string[],
  context: { createEngine: EngineFactory; io?: ClientIo },
): Promise<number> {
  let io: ClientIo | undefined = context.io;
  const err = (line: string) => (io ?? processIo()).err(line);
  try {
    const options = parseClientArgs(args);
    io ??= processIo();
    await runClient(options, { createEngine: context.createEngine, io });
    return 0;
  } catch (error) {
    for (const line of errorLines(error)) err(line);
    if (error instanceof UsageError) return EXIT_USAGE;
    if (io?.env.HUSH_DEBUG && error instanceof Error && error.stack) err(error.stack);
    return EXIT_FAILURE;
  }
}
