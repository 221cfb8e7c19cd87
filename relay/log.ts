/**
 * The relay's event log: one timestamped line per event, never an envelope body, a token or a
 * signature.
 *
 * Line format: `<ISO 8601 time> <event> key=value key=value ...`; values with spaces are
 * double-quoted.
 *
 * @module
 */

/** Values a log line may carry (never bytes: bodies cannot be logged by construction). */
export type LogValue = string | number | boolean;

/** Where lines go: a file, or the process's stdout. */
interface LineWriter {
  writeSync(bytes: Uint8Array): number;
}

/** Writes event lines to an optional file (or stdout) and an optional callback. */
export class EventLog {
  #file: LineWriter | null = null;
  #ownsFile = false;
  #sink: ((line: string) => void) | undefined;
  #encoder = new TextEncoder();

  /**
   * Opens the log.
   *
   * @param options `path`: file to append to (needs --allow-write), or `-` for stdout;
   *   `sink`: extra callback.
   */
  constructor(options: { path?: string | null; sink?: (line: string) => void } = {}) {
    if (options.path === "-") {
      this.#file = Deno.stdout;
    } else if (options.path) {
      this.#file = Deno.openSync(options.path, { append: true, create: true });
      this.#ownsFile = true;
    }
    this.#sink = options.sink;
  }

  /** Whether anything is listening (lets hot paths skip formatting). */
  get enabled(): boolean {
    return this.#file !== null || this.#sink !== undefined;
  }

  /**
   * Writes one event.
   *
   * @param event Event name, e.g. `connect`.
   * @param fields Key/value details.
   */
  write(event: string, fields: Record<string, LogValue> = {}): void {
    if (!this.enabled) return;
    let line = `${new Date().toISOString()} ${event}`;
    for (const [k, v] of Object.entries(fields)) {
      const s = String(v);
      line += ` ${k}=${/[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s}`;
    }
    try {
      if (this.#file !== null) {
        let bytes = this.#encoder.encode(line + "\n");
        // A write may be partial (a pipe): the rest goes after, so lines never interleave.
        for (let i = 0; i < 1000 && bytes.length > 0; i++) {
          bytes = bytes.subarray(this.#file.writeSync(bytes));
        }
      }
    } catch {
      // A full disk must not take the relay down.
    }
    this.#sink?.(line);
  }

  /** Closes the file (never stdout). */
  close(): void {
    try {
      if (this.#ownsFile) (this.#file as Deno.FsFile | null)?.close();
    } catch {
      // already closed
    }
    this.#file = null;
  }
}
