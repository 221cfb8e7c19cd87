/**
 * A raw-mode line editor for the chat: a prompt, cursor movement, history, tab completion, and
 * {@link LineEditor.print} that puts incoming lines above the prompt without garbling what the
 * user is typing. The editing rules live in `line_state.ts` (pure); this file talks to the TTY.
 *
 * @module
 */

import { decodeKeys } from "./keys.ts";
import {
  applyKey,
  type CompletionSource,
  emptyLine,
  type LineState,
  visibleLine,
} from "./line_state.ts";

/** Where the editor reads keys from: `Deno.stdin`. */
export interface EditorInput {
  /** Turns raw mode on or off. */
  setRaw(mode: boolean): void;
  /** Reads bytes; null at end of input. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Where the editor draws: `Deno.stdout`. */
export interface EditorOutput {
  /** Writes bytes, returning how many were written. */
  writeSync(bytes: Uint8Array): number;
}

/** Options of a {@link LineEditor}. */
export interface LineEditorOptions {
  /** The prompt, e.g. `[lobby] `; may contain colours. */
  prompt: string;
  /** Tab completion candidates. */
  complete?: CompletionSource;
  /** Keys come from here (default `Deno.stdin`). */
  input?: EditorInput;
  /** Drawing goes here (default `Deno.stdout`). */
  output?: EditorOutput;
  /** Terminal width (default `Deno.consoleSize().columns`, 80 when unknown). */
  columns?: () => number;
  /** Earlier lines for the up arrow. */
  history?: readonly string[];
}

const CLEAR_LINE = "\r\x1b[2K";

/**
 * The escape sequence that redraws the prompt and the visible part of the input line, leaving
 * the cursor where the user is editing.
 *
 * @param state The line state.
 * @param options `prompt` and `columns`.
 * @returns Text to write to the terminal.
 */
export function redrawSequence(
  state: LineState,
  options: { prompt: string; columns: number },
): string {
  const { text, cursorColumn } = visibleLine(state, options);
  const move = cursorColumn > 0 ? `\x1b[${cursorColumn}C` : "";
  return `${CLEAR_LINE}${options.prompt}${text}\r${move}`;
}

/**
 * The escape sequence that prints lines above the input line: clear the input line, write the
 * lines, then redraw the prompt and the partial input.
 *
 * @param lines Lines to print (newlines inside them are kept).
 * @param state The line state.
 * @param options `prompt` and `columns`.
 * @returns Text to write to the terminal.
 */
export function printSequence(
  lines: readonly string[],
  state: LineState,
  options: { prompt: string; columns: number },
): string {
  const body = lines.join("\n").replace(/\r?\n/g, "\r\n");
  return `${CLEAR_LINE}${body}\r\n${redrawSequence(state, options)}`;
}

/** An interactive input line on a raw-mode terminal. */
export class LineEditor {
  #state: LineState;
  #prompt: string;
  #complete: CompletionSource | undefined;
  #input: EditorInput;
  #output: EditorOutput;
  #columns: () => number;
  #encoder = new TextEncoder();
  #raw = false;
  #closed = false;

  /**
   * Creates an editor; nothing is drawn until {@link LineEditor.lines} starts.
   *
   * @param options Prompt, completion, input and output.
   */
  constructor(options: LineEditorOptions) {
    this.#prompt = options.prompt;
    this.#complete = options.complete;
    this.#input = options.input ?? Deno.stdin;
    this.#output = options.output ?? Deno.stdout;
    this.#columns = options.columns ?? defaultColumns;
    this.#state = emptyLine(options.history ?? []);
  }

  /** The current state (for tests and status lines). */
  get state(): LineState {
    return this.#state;
  }

  /**
   * Reads submitted lines until the user quits (Ctrl-D or Ctrl-C on an empty line) or input
   * ends. Raw mode is on while this runs and off afterwards.
   *
   * @returns The submitted lines, in order.
   */
  async *lines(): AsyncGenerator<string> {
    this.#input.setRaw(true);
    this.#raw = true;
    this.#redraw();
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(4096);
    let pending = "";
    try {
      while (!this.#closed) {
        const n = await this.#input.read(buffer);
        if (n === null) return;
        pending += decoder.decode(buffer.subarray(0, n), { stream: true });
        const { keys, rest } = decodeKeys(pending);
        pending = rest;
        for (const key of keys) {
          const result = applyKey(this.#state, key, this.#complete);
          this.#state = result.state;
          if (result.bell) this.#write("\x07");
          if (result.redraw) this.#write("\x1b[2J\x1b[H");
          if (result.quit) return;
          if (result.submit !== undefined) {
            this.#write(`${CLEAR_LINE}`);
            this.#redraw();
            yield result.submit;
            if (this.#closed) return;
          } else {
            this.#redraw();
          }
        }
      }
    } finally {
      this.close();
    }
  }

  /**
   * Prints lines above the input line and redraws the prompt and partial input beneath them.
   *
   * @param lines One or more lines.
   */
  print(...lines: string[]): void {
    if (lines.length === 0) return;
    if (!this.#raw) {
      this.#write(lines.join("\n") + "\n");
      return;
    }
    this.#write(printSequence(lines, this.#state, this.#options()));
  }

  /**
   * Changes the prompt (e.g. after `/join`).
   *
   * @param prompt The new prompt.
   */
  setPrompt(prompt: string): void {
    this.#prompt = prompt;
    if (this.#raw) this.#redraw();
  }

  /** Clears the screen and redraws the input line at the top. */
  clearScreen(): void {
    this.#write("\x1b[2J\x1b[H");
    if (this.#raw) this.#redraw();
  }

  /** Leaves raw mode and moves to a fresh line; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#raw) {
      this.#write(`${CLEAR_LINE}`);
      try {
        this.#input.setRaw(false);
      } catch {
        // The terminal is gone; nothing to restore.
      }
      this.#raw = false;
    }
  }

  #options(): { prompt: string; columns: number } {
    return { prompt: this.#prompt, columns: this.#columns() };
  }

  #redraw(): void {
    this.#write(redrawSequence(this.#state, this.#options()));
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += this.#output.writeSync(bytes.subarray(offset));
  }
}

function defaultColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}
