import assert from "node:assert/strict";
import fc from "fast-check";
import { propertyRuns } from "./_runs.ts";
import { decodeKeys, type Key } from "../../terminal/keys.ts";
import {
  applyKey,
  clusterWidth,
  completionCandidates,
  type CompletionSource,
  emptyLine,
  graphemes,
  HISTORY_LIMIT,
  type LineState,
  lineText,
  textWidth,
  visibleLine,
} from "../../terminal/line_state.ts";
import { COMMAND_NAMES } from "../../terminal/commands.ts";

const RUNS = propertyRuns();

const nicks = ["alice", "albert", "bob", "carol"];
const complete: CompletionSource = (word, before) =>
  completionCandidates(word, before, {
    commands: COMMAND_NAMES,
    nicks,
    ciphers: ["aes-256-gcm", "caesar", "chacha20-poly1305"],
  });

/** Types raw terminal input into a state; returns the final state and submitted lines. */
function type(
  input: string,
  state: LineState = emptyLine(),
): { state: LineState; lines: string[]; quit: boolean } {
  const lines: string[] = [];
  let quit = false;
  for (const key of decodeKeys(input).keys) {
    const result = applyKey(state, key, complete);
    state = result.state;
    if (result.submit !== undefined) lines.push(result.submit);
    if (result.quit) quit = true;
  }
  return { state, lines, quit };
}

const LEFT = "\x1b[D";
const RIGHT = "\x1b[C";
const UP = "\x1b[A";
const DOWN = "\x1b[B";

Deno.test("applyKey() inserts text at the cursor", () => {
  const { state } = type(`helo${LEFT}l`);
  assert.equal(lineText(state), "hello");
  assert.equal(state.cursor, 4);
});

Deno.test("applyKey() moves with left, right, home and end, within bounds", () => {
  let { state } = type(`abc${LEFT}${LEFT}${LEFT}${LEFT}`);
  assert.equal(state.cursor, 0);
  state = type(`\x05${RIGHT}${RIGHT}`, state).state;
  assert.equal(state.cursor, 3);
  state = type("\x01X", state).state;
  assert.equal(lineText(state), "Xabc");
  state = type("\x1b[FY", state).state;
  assert.equal(lineText(state), "XabcY");
});

Deno.test("applyKey() deletes with backspace and delete, ringing at the start", () => {
  const { state } = type(`abcd${LEFT}${LEFT}\x7f\x1b[3~`);
  assert.equal(lineText(state), "ad");
  assert.equal(state.cursor, 1);
  const result = applyKey(emptyLine(), { kind: "backspace" });
  assert.equal(result.bell, true);
});

Deno.test("applyKey() edits emoji and accents as whole characters", () => {
  const { state } = type("a👋🏽e\u0301👨‍👩‍👧\x7f\x7f");
  assert.equal(lineText(state), "a👋🏽");
  assert.equal(state.chars.length, 2);
  const moved = type(`${LEFT}x`, state).state;
  assert.equal(lineText(moved), "ax👋🏽");
});

Deno.test("applyKey() submits on Enter and starts an empty line", () => {
  const { state, lines } = type("hi there\rnext");
  assert.deepEqual(lines, ["hi there"]);
  assert.equal(lineText(state), "next");
  assert.deepEqual(state.history, ["hi there"]);
});

Deno.test("applyKey() browses history with up and down and keeps the draft", () => {
  let { state } = type("one\rtwo\rdraft");
  state = type(UP, state).state;
  assert.equal(lineText(state), "two");
  state = type(UP, state).state;
  assert.equal(lineText(state), "one");
  assert.equal(applyKey(state, { kind: "up" }).bell, true);
  state = type(DOWN, state).state;
  assert.equal(lineText(state), "two");
  state = type(DOWN, state).state;
  assert.equal(lineText(state), "draft");
  assert.equal(applyKey(state, { kind: "down" }).bell, true);
});

Deno.test("applyKey() does not store blank lines or repeats in history, and caps it", () => {
  const { state } = type("a\ra\r \r\rb\r");
  assert.deepEqual(state.history, ["a", "b"]);
  const many = Array.from({ length: HISTORY_LIMIT + 5 }, (_, i) => `line ${i}\r`).join("");
  const capped = type(many).state;
  assert.equal(capped.history.length, HISTORY_LIMIT);
  assert.equal(capped.history[0], "line 5");
});

Deno.test("applyKey() kills words and lines like readline", () => {
  assert.equal(lineText(type("hello big world\x17").state), "hello big ");
  assert.equal(lineText(type(`hello world${LEFT}${LEFT}\x15`).state), "ld");
  assert.equal(lineText(type(`hello world\x01${RIGHT}\x0b`).state), "h");
  const words = type(`one two three\x1b[1;5D\x1b[1;5D|`).state;
  assert.equal(lineText(words), "one |two three");
});

Deno.test("applyKey() quits on Ctrl-D or Ctrl-C only on an empty line", () => {
  assert.equal(type("\x04").quit, true);
  assert.equal(type("\x03").quit, true);
  const typed = type(`ab${LEFT}\x04`);
  assert.equal(typed.quit, false);
  assert.equal(lineText(typed.state), "a");
  const cleared = type("abc\x03");
  assert.equal(cleared.quit, false);
  assert.equal(lineText(cleared.state), "");
});

Deno.test("tab completes commands at the start of the line", () => {
  assert.equal(lineText(type("/ver\t").state), "/verify ");
  assert.equal(lineText(type("/wi\t").state), "/wire ");
  assert.equal(lineText(type("/wire of\t").state), "/wire off ");
  assert.equal(lineText(type("/wire o\t").state), "/wire on ");
  assert.equal(lineText(type("/cipher ca\t").state), "/cipher caesar ");
});

Deno.test("tab completes nicks anywhere and @nicks, cycling on repeated tab", () => {
  assert.equal(lineText(type("hi b\t").state), "hi bob ");
  assert.equal(lineText(type("@ca\t").state), "@carol ");
  assert.equal(lineText(type("/pm B\t").state), "/pm bob ");
  const first = type("al\t").state;
  assert.equal(lineText(first), "albert ");
  const second = type("\t", first).state;
  assert.equal(lineText(second), "alice ");
  const third = type("\t", second).state;
  assert.equal(lineText(third), "albert ");
  assert.equal(lineText(type("x", second).state), "alice x");
});

Deno.test("tab completes in the middle of a line without doubling spaces", () => {
  const { state } = type(`hi bo there\x01${RIGHT}${RIGHT}${RIGHT}${RIGHT}${RIGHT}\t`);
  assert.equal(lineText(state), "hi bob there");
  assert.equal(state.cursor, 7);
});

Deno.test("tab with no candidate rings the bell and changes nothing", () => {
  const result = applyKey(type("zz").state, { kind: "tab" }, complete);
  assert.equal(result.bell, true);
  assert.equal(lineText(result.state), "zz");
});

Deno.test("clusterWidth() and textWidth() count emoji and wide characters as two", () => {
  assert.equal(clusterWidth("a"), 1);
  assert.equal(clusterWidth("👋🏽"), 2);
  assert.equal(clusterWidth("世"), 2);
  assert.equal(clusterWidth("\u0301"), 0);
  assert.equal(textWidth("\x1b[1;32mab\x1b[0m世"), 4);
  assert.deepEqual(graphemes("e\u0301x"), ["e\u0301", "x"]);
});

Deno.test("visibleLine() shows the whole line when it fits", () => {
  const { state } = type(`hello${LEFT}`);
  assert.deepEqual(visibleLine(state, { prompt: "[lobby] ", columns: 80 }), {
    text: "hello",
    cursorColumn: 12,
  });
});

Deno.test("visibleLine() scrolls a long line so the cursor stays on screen", () => {
  const { state } = type("x".repeat(100));
  const view = visibleLine(state, { prompt: "> ", columns: 20 });
  assert.ok(view.cursorColumn < 20);
  assert.ok(textWidth("> " + view.text) < 20);
  const home = visibleLine(type("\x01", state).state, { prompt: "> ", columns: 20 });
  assert.equal(home.cursorColumn, 2);
});

Deno.test("any key sequence keeps the cursor within the line (property)", () => {
  const key = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 4 }).filter((s) => s !== "").map((text): Key => ({
      kind: "text",
      text,
    })),
    fc.constantFrom<Key>(
      { kind: "left" },
      { kind: "right" },
      { kind: "home" },
      { kind: "end" },
      { kind: "backspace" },
      { kind: "delete" },
      { kind: "up" },
      { kind: "down" },
      { kind: "tab" },
      { kind: "enter" },
      { kind: "kill-word" },
      { kind: "kill-line" },
      { kind: "kill-to-end" },
      { kind: "word-left" },
      { kind: "word-right" },
    ),
  );
  fc.assert(
    fc.property(fc.array(key, { maxLength: 40 }), (keys) => {
      let state = emptyLine(["/help", "hi bob"]);
      for (const k of keys) {
        state = applyKey(state, k, complete).state;
        assert.ok(state.cursor >= 0 && state.cursor <= state.chars.length);
        assert.ok(state.historyIndex >= 0 && state.historyIndex <= state.history.length);
        const view = visibleLine(state, { prompt: "> ", columns: 30 });
        assert.ok(view.cursorColumn < 30 + 2);
      }
    }),
    { numRuns: RUNS },
  );
});
