/**
 * The line editor's state machine: keys in, buffer, cursor, history and completion out. Pure, so
 * it is tested without a terminal. Text is edited by grapheme cluster (an emoji with modifiers,
 * a letter with its accents), which is what a user sees as one character.
 *
 * @module
 */

import type { Key } from "./keys.ts";

/** The state of the line being typed. */
export interface LineState {
  /** The line as grapheme clusters. */
  readonly chars: readonly string[];
  /** Cursor position, an index into `chars` (0 to `chars.length`). */
  readonly cursor: number;
  /** Submitted lines, oldest first. */
  readonly history: readonly string[];
  /** Which history entry is shown; `history.length` means the line being written. */
  readonly historyIndex: number;
  /** The line being written, kept while browsing history. */
  readonly draft: string;
  /** Tab completion in progress (repeated Tab cycles through the candidates). */
  readonly completion?: CompletionState;
}

/** A tab completion in progress. */
export interface CompletionState {
  /** Candidates for the word, in order. */
  readonly candidates: readonly string[];
  /** The candidate shown now. */
  readonly index: number;
  /** Where the completed word starts (index into `chars`). */
  readonly start: number;
  /** How many grapheme clusters the shown candidate (with its suffix) occupies. */
  readonly length: number;
}

/** What completion needs to know: the word under the cursor and the line before it. */
export type CompletionSource = (word: string, before: string) => readonly string[];

/** The result of one key: the new state and what the editor should do. */
export interface KeyResult {
  /** The new state. */
  state: LineState;
  /** A submitted line (Enter). */
  submit?: string;
  /** Ctrl-D on an empty line or Ctrl-C on an empty line: end the session. */
  quit?: boolean;
  /** Ctrl-L: clear the screen and redraw. */
  redraw?: boolean;
  /** Something the user asked for is not possible (no completion, no history): ring the bell. */
  bell?: boolean;
}

/** Most lines history keeps. */
export const HISTORY_LIMIT = 500;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * Splits text into grapheme clusters.
 *
 * @param text Any text.
 * @returns The grapheme clusters, in order.
 */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/**
 * An empty line with the given history.
 *
 * @param history Earlier lines, oldest first.
 * @returns The state.
 */
export function emptyLine(history: readonly string[] = []): LineState {
  return { chars: [], cursor: 0, history, historyIndex: history.length, draft: "" };
}

/**
 * The text of the line being typed.
 *
 * @param state The state.
 * @returns The line.
 */
export function lineText(state: LineState): string {
  return state.chars.join("");
}

/**
 * Applies one key to the state.
 *
 * @param state The current state.
 * @param key The key.
 * @param complete Completion candidates for a word (Tab).
 * @returns The new state and what to do.
 */
export function applyKey(state: LineState, key: Key, complete?: CompletionSource): KeyResult {
  const base: LineState = withoutCompletion(state);
  switch (key.kind) {
    case "text":
      return { state: insertText(base, key.text) };
    case "enter": {
      const line = lineText(base);
      return { state: emptyLine(remember(base.history, line)), submit: line };
    }
    case "backspace":
      if (base.cursor === 0) return { state: base, bell: true };
      return {
        state: edit(base, [
          ...base.chars.slice(0, base.cursor - 1),
          ...base.chars.slice(base.cursor),
        ], base.cursor - 1),
      };
    case "delete":
      if (base.cursor === base.chars.length) return { state: base };
      return {
        state: edit(base, [
          ...base.chars.slice(0, base.cursor),
          ...base.chars.slice(base.cursor + 1),
        ], base.cursor),
      };
    case "left":
      return { state: { ...base, cursor: Math.max(0, base.cursor - 1) } };
    case "right":
      return { state: { ...base, cursor: Math.min(base.chars.length, base.cursor + 1) } };
    case "word-left":
      return { state: { ...base, cursor: wordStart(base.chars, base.cursor) } };
    case "word-right":
      return { state: { ...base, cursor: wordEnd(base.chars, base.cursor) } };
    case "home":
      return { state: { ...base, cursor: 0 } };
    case "end":
      return { state: { ...base, cursor: base.chars.length } };
    case "up": {
      if (base.historyIndex === 0) return { state: base, bell: true };
      const draft = base.historyIndex === base.history.length ? lineText(base) : base.draft;
      const index = base.historyIndex - 1;
      return { state: showLine(base, base.history[index] ?? "", index, draft) };
    }
    case "down": {
      if (base.historyIndex >= base.history.length) return { state: base, bell: true };
      const index = base.historyIndex + 1;
      const text = index === base.history.length ? base.draft : base.history[index] ?? "";
      return { state: showLine(base, text, index, base.draft) };
    }
    case "tab":
      return completeWord(state, complete);
    case "interrupt":
      if (base.chars.length === 0) return { state: base, quit: true };
      return { state: edit(base, [], 0) };
    case "eof":
      if (base.chars.length === 0) return { state: base, quit: true };
      return applyKey(base, { kind: "delete" });
    case "kill-line":
      return { state: edit(base, base.chars.slice(base.cursor), 0) };
    case "kill-to-end":
      return { state: edit(base, base.chars.slice(0, base.cursor), base.cursor) };
    case "kill-word": {
      const start = wordStart(base.chars, base.cursor);
      return {
        state: edit(base, [...base.chars.slice(0, start), ...base.chars.slice(base.cursor)], start),
      };
    }
    case "redraw":
      return { state: base, redraw: true };
    case "ignored":
      return { state: base };
  }
}

/**
 * Default completion: commands after a leading `/`, cipher suites after `/cipher`, on/off after
 * `/wire`, and nicks (also as `@nick`) everywhere else, case-insensitively.
 *
 * @param word The word under the cursor.
 * @param before The line before that word.
 * @param lists The command names (with slash), known nicks and cipher suites.
 * @returns Matching candidates, sorted, without duplicates.
 */
export function completionCandidates(
  word: string,
  before: string,
  lists: { commands: readonly string[]; nicks: readonly string[]; ciphers?: readonly string[] },
): string[] {
  const lower = word.toLowerCase();
  const starts = (candidate: string) => candidate.toLowerCase().startsWith(lower);
  const unique = (items: string[]) => [...new Set(items)].sort();
  const trimmedBefore = before.trim().toLowerCase();
  if (trimmedBefore === "" && word.startsWith("/")) return unique(lists.commands.filter(starts));
  if (trimmedBefore === "/cipher") return unique((lists.ciphers ?? []).filter(starts));
  if (trimmedBefore === "/wire") return ["on", "off"].filter(starts);
  if (word.startsWith("@")) return unique(lists.nicks.map((n) => `@${n}`).filter(starts));
  return unique(lists.nicks.filter(starts));
}

function withoutCompletion(state: LineState): LineState {
  if (state.completion === undefined) return state;
  const { completion: _dropped, ...rest } = state;
  return rest;
}

function insertText(state: LineState, text: string): LineState {
  const before = graphemes(state.chars.slice(0, state.cursor).join("") + text);
  const chars = [...before, ...state.chars.slice(state.cursor)];
  return edit(state, chars, before.length);
}

function edit(state: LineState, chars: readonly string[], cursor: number): LineState {
  return {
    chars,
    cursor,
    history: state.history,
    historyIndex: state.history.length,
    draft: "",
  };
}

function showLine(state: LineState, text: string, index: number, draft: string): LineState {
  const chars = graphemes(text);
  return { chars, cursor: chars.length, history: state.history, historyIndex: index, draft };
}

function remember(history: readonly string[], line: string): readonly string[] {
  if (line.trim() === "" || history[history.length - 1] === line) return history;
  const next = [...history, line];
  return next.length > HISTORY_LIMIT ? next.slice(next.length - HISTORY_LIMIT) : next;
}

function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && /^\s+$/u.test(ch);
}

function wordStart(chars: readonly string[], cursor: number): number {
  let i = cursor;
  while (i > 0 && isSpace(chars[i - 1])) i--;
  while (i > 0 && !isSpace(chars[i - 1])) i--;
  return i;
}

function wordEnd(chars: readonly string[], cursor: number): number {
  let i = cursor;
  while (i < chars.length && isSpace(chars[i])) i++;
  while (i < chars.length && !isSpace(chars[i])) i++;
  return i;
}

function completeWord(state: LineState, complete: CompletionSource | undefined): KeyResult {
  const current = state.completion;
  if (current !== undefined && current.candidates.length > 1) {
    const index = (current.index + 1) % current.candidates.length;
    return {
      state: replaceWord(
        withoutCompletion(state),
        current.start,
        current.length,
        current.candidates,
        index,
      ),
    };
  }
  const base = withoutCompletion(state);
  if (complete === undefined) return { state: base, bell: true };
  let start = base.cursor;
  while (start > 0 && !isSpace(base.chars[start - 1])) start--;
  const word = base.chars.slice(start, base.cursor).join("");
  const before = base.chars.slice(0, start).join("");
  const candidates = complete(word, before);
  if (candidates.length === 0) return { state: base, bell: true };
  return { state: replaceWord(base, start, base.cursor - start, candidates, 0) };
}

function replaceWord(
  state: LineState,
  start: number,
  length: number,
  candidates: readonly string[],
  index: number,
): LineState {
  const inserted = graphemes(`${candidates[index] ?? ""} `);
  const after = state.chars.slice(start + length);
  // Do not double the space when one already follows the word.
  const chars = [
    ...state.chars.slice(0, start),
    ...inserted,
    ...(after[0] === " " ? after.slice(1) : after),
  ];
  const next = edit(state, chars, start + inserted.length);
  return { ...next, completion: { candidates, index, start, length: inserted.length } };
}

/**
 * Approximate display width of one grapheme cluster: 2 for emoji and East Asian wide
 * characters, 0 for zero-width ones, 1 otherwise.
 *
 * @param cluster One grapheme cluster.
 * @returns Its width in terminal columns.
 */
export function clusterWidth(cluster: string): number {
  const code = cluster.codePointAt(0) ?? 0;
  if (code === 0 || /^[\u200b-\u200f\u2060\ufeff]$/u.test(cluster) || /^\p{M}+$/u.test(cluster)) {
    return 0;
  }
  if (/\p{Extended_Pictographic}/u.test(cluster) && (cluster.length > 1 || code >= 0x1f000)) {
    return 2;
  }
  if (/\p{Regional_Indicator}/u.test(cluster)) return 2;
  if (
    (code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) || (code >= 0x20000 && code <= 0x3fffd)
  ) return 2;
  return 1;
}

/**
 * Display width of text, ignoring ANSI escape sequences.
 *
 * @param text Text, possibly coloured.
 * @returns Width in terminal columns.
 */
export function textWidth(text: string): number {
  // deno-lint-ignore no-control-regex
  const plain = text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "");
  return graphemes(plain).reduce((sum, c) => sum + clusterWidth(c), 0);
}

/**
 * The visible part of the input line for a terminal `columns` wide: scrolls horizontally so the
 * cursor is always on screen.
 *
 * @param state The state.
 * @param options `prompt` (may be coloured) and `columns`.
 * @returns The text to draw after the prompt and the cursor's column (0-based, prompt included).
 */
export function visibleLine(
  state: LineState,
  options: { prompt: string; columns: number },
): { text: string; cursorColumn: number } {
  const promptWidth = textWidth(options.prompt);
  const available = Math.max(1, options.columns - promptWidth - 1);
  const widths = state.chars.map(clusterWidth);
  let start = 0;
  let beforeCursor = widths.slice(0, state.cursor).reduce((a, b) => a + b, 0);
  while (beforeCursor > available && start < state.cursor) {
    beforeCursor -= widths[start] ?? 0;
    start++;
  }
  let end = start;
  let used = 0;
  while (end < state.chars.length && used + (widths[end] ?? 0) <= available) {
    used += widths[end] ?? 0;
    end++;
  }
  return {
    text: state.chars.slice(start, end).join(""),
    cursorColumn: promptWidth + beforeCursor,
  };
}
