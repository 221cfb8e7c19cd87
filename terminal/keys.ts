/**
 * Terminal input (in raw mode) to key presses. Pure: text in, keys out, with any incomplete
 * escape sequence at the end handed back to be completed by the next chunk.
 *
 * @module
 */

/** One key press (or one run of typed or pasted text). */
export type Key =
  | { kind: "text"; text: string }
  | {
    kind:
      | "enter"
      | "backspace"
      | "delete"
      | "left"
      | "right"
      | "word-left"
      | "word-right"
      | "home"
      | "end"
      | "up"
      | "down"
      | "tab"
      | "interrupt"
      | "eof"
      | "kill-line"
      | "kill-word"
      | "kill-to-end"
      | "redraw"
      | "ignored";
  };

/** The named (non-text) key kinds. */
export type KeyKind = Exclude<Key, { kind: "text" }>["kind"];

const CONTROL_KEYS: Readonly<Record<string, KeyKind>> = {
  "\r": "enter",
  "\n": "enter",
  "\x7f": "backspace",
  "\x08": "backspace",
  "\t": "tab",
  "\x01": "home", // Ctrl-A
  "\x02": "left", // Ctrl-B
  "\x03": "interrupt", // Ctrl-C
  "\x04": "eof", // Ctrl-D
  "\x05": "end", // Ctrl-E
  "\x06": "right", // Ctrl-F
  "\x0b": "kill-to-end", // Ctrl-K
  "\x0c": "redraw", // Ctrl-L
  "\x0e": "down", // Ctrl-N
  "\x10": "up", // Ctrl-P
  "\x15": "kill-line", // Ctrl-U
  "\x17": "kill-word", // Ctrl-W
};

const ESCAPE_KEYS: Readonly<Record<string, KeyKind>> = {
  "[A": "up",
  "[B": "down",
  "[C": "right",
  "[D": "left",
  "[H": "home",
  "[F": "end",
  "OA": "up",
  "OB": "down",
  "OC": "right",
  "OD": "left",
  "OH": "home",
  "OF": "end",
  "[1~": "home",
  "[7~": "home",
  "[4~": "end",
  "[8~": "end",
  "[3~": "delete",
  "[1;5C": "word-right",
  "[1;5D": "word-left",
  "[1;3C": "word-right",
  "[1;3D": "word-left",
  "b": "word-left", // Alt-B
  "f": "word-right", // Alt-F
};

/**
 * Splits raw terminal input into keys. Consecutive printable characters become one `text` key.
 *
 * @param input Decoded terminal input.
 * @returns The keys, and `rest`: an incomplete escape sequence to prepend to the next chunk.
 */
export function decodeKeys(input: string): { keys: Key[]; rest: string } {
  const keys: Key[] = [];
  let text = "";
  const flush = () => {
    if (text !== "") keys.push({ kind: "text", text });
    text = "";
  };
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? "";
    if (ch === "\x1b") {
      const sequence = readEscape(input, i + 1);
      if (sequence === undefined) {
        flush();
        return { keys, rest: input.slice(i) };
      }
      flush();
      // Bracketed paste markers and unknown sequences are swallowed, never inserted.
      keys.push({ kind: ESCAPE_KEYS[sequence] ?? "ignored" });
      i += 1 + sequence.length;
      continue;
    }
    const control = CONTROL_KEYS[ch];
    if (control !== undefined) {
      flush();
      // A CR LF pair (from a paste) is one Enter.
      if (ch === "\r" && input[i + 1] === "\n") i++;
      keys.push({ kind: control });
      i++;
      continue;
    }
    const code = ch.charCodeAt(0);
    if (code < 0x20) {
      flush();
      keys.push({ kind: "ignored" });
      i++;
      continue;
    }
    text += ch;
    i++;
  }
  flush();
  return { keys, rest: "" };
}

/** Reads the escape sequence after an ESC at `start`; undefined when the input ends inside it. */
function readEscape(input: string, start: number): string | undefined {
  const first = input[start];
  if (first === undefined) return undefined;
  if (first === "[") {
    for (let j = start + 1; j < input.length; j++) {
      const code = input.charCodeAt(j);
      if (code >= 0x40 && code <= 0x7e) return input.slice(start, j + 1);
    }
    return undefined;
  }
  if (first === "O") {
    const second = input[start + 1];
    return second === undefined ? undefined : input.slice(start, start + 2);
  }
  return first;
}
