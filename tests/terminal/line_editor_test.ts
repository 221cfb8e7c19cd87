import assert from "node:assert/strict";
import { FakeTerminal } from "./_fake_terminal.ts";
import { LineEditor, printSequence, redrawSequence } from "../../terminal/line_editor.ts";
import { applyKey, emptyLine, type LineState } from "../../terminal/line_state.ts";

function typed(text: string): LineState {
  let state = emptyLine();
  for (const ch of text) state = applyKey(state, { kind: "text", text: ch }).state;
  return state;
}

Deno.test("redrawSequence() clears the line, draws prompt and input, and places the cursor", () => {
  const state = applyKey(typed("hello"), { kind: "left" }).state;
  assert.equal(
    redrawSequence(state, { prompt: "[lobby] ", columns: 80 }),
    "\r\x1b[2K[lobby] hello\r\x1b[12C",
  );
  assert.equal(redrawSequence(emptyLine(), { prompt: "", columns: 80 }), "\r\x1b[2K\r");
});

Deno.test("printSequence() prints above the prompt and restores the partial input", () => {
  const sequence = printSequence(["[09:05] <bob> hi", "second\nthird"], typed("half-typ"), {
    prompt: "> ",
    columns: 80,
  });
  assert.equal(
    sequence,
    "\r\x1b[2K[09:05] <bob> hi\r\nsecond\r\nthird\r\n\r\x1b[2K> half-typ\r\x1b[10C",
  );
});

Deno.test("LineEditor yields submitted lines and restores the terminal on quit", async () => {
  const terminal = new FakeTerminal(["hello\r", "/pm bo", "b hi\r", "\x04"]);
  const editor = new LineEditor({
    prompt: "> ",
    input: terminal,
    output: terminal,
    columns: () => 40,
  });
  const lines: string[] = [];
  for await (const line of editor.lines()) lines.push(line);
  assert.deepEqual(lines, ["hello", "/pm bob hi"]);
  assert.deepEqual(terminal.raw, [true, false]);
});

Deno.test("LineEditor.print() keeps the line being typed intact", async () => {
  const terminal = new FakeTerminal(["draft 👋🏽"]);
  const editor = new LineEditor({
    prompt: "> ",
    input: terminal,
    output: terminal,
    columns: () => 40,
  });
  const lines: string[] = [];
  const done = (async () => {
    for await (const line of editor.lines()) lines.push(line);
  })();
  // Let the editor read the first chunk.
  for (let i = 0; i < 50 && editor.state.chars.length === 0; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
  editor.print("[09:05] <bob> incoming");
  assert.ok(terminal.written.endsWith("[09:05] <bob> incoming\r\n\r\x1b[2K> draft 👋🏽\r\x1b[10C"));
  terminal.push(" done\r");
  terminal.push("<EOF>");
  await done;
  assert.deepEqual(lines, ["draft 👋🏽 done"]);
  assert.deepEqual(terminal.raw, [true, false]);
});

Deno.test("LineEditor completes with tab and reads history with the up arrow", async () => {
  const terminal = new FakeTerminal(["/wh\tbob\r", "\x1b[A\r", "<EOF>"]);
  const editor = new LineEditor({
    prompt: "> ",
    input: terminal,
    output: terminal,
    columns: () => 40,
    complete: (word) => ["/whois"].filter((c) => c.startsWith(word)),
  });
  const lines: string[] = [];
  for await (const line of editor.lines()) lines.push(line);
  assert.deepEqual(lines, ["/whois bob", "/whois bob"]);
});

Deno.test("LineEditor.print() writes plain lines before raw mode starts", () => {
  const terminal = new FakeTerminal([]);
  const editor = new LineEditor({ prompt: "> ", input: terminal, output: terminal });
  editor.print("one", "two");
  assert.equal(terminal.written, "one\ntwo\n");
  editor.close();
  assert.deepEqual(terminal.raw, []);
});
