/**
 * Errors of the terminal client. Every one carries a stable `code` and, where it helps, a `hint`
 * that the command line prints as `hush: hint: ...`.
 *
 * Codes:
 * - `USAGE`: a bad flag, flag value or argument on the command line (exit code 2).
 * - `BAD_COMMAND`: a typed chat command that cannot be parsed (unknown or wrong arguments).
 * - `UNACKNOWLEDGED`: the session ended with messages the relay had not acknowledged (they stay
 *   in the home's outbox and are sent again on the next start).
 * - `PERMISSION_DENIED`: the user refused Deno's network permission prompt.
 * - `INTERNAL`: an unexpected failure, reported as one line instead of a crash.
 *
 * @module
 */

import { HushError } from "../crypto/errors.ts";

/** An error of the terminal client with a stable code and an optional hint for the user. */
export class ClientError extends HushError {
  /** A short suggestion printed after the error, when one helps. */
  readonly hint: string | undefined;

  /**
   * Creates a client error.
   *
   * @param code Stable error code, e.g. `USAGE`.
   * @param message Sentence-case message, no final period.
   * @param options `hint` for the user and the usual `cause`.
   */
  constructor(code: string, message: string, options: ErrorOptions & { hint?: string } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** A bad command line: the process prints the message and hint and exits with code 2. */
export class UsageError extends ClientError {
  /**
   * Creates a usage error (code `USAGE`).
   *
   * @param message What is wrong, e.g. `Unknown flag "--nik"`.
   * @param options `hint` for the user.
   */
  constructor(message: string, options: { hint?: string } = {}) {
    super("USAGE", message, options);
  }
}
