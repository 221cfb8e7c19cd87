import assert from "node:assert/strict";
import { decodeKeys } from "../../terminal/keys.ts";

Deno.test("decodeKeys() groups printable text, Unicode and emoji into one key", () => {
  assert.deepEqual(decodeKeys("héllo 👋🏽"), {
    keys: [{ kind: "text", text: "héllo 👋🏽" }],
    rest: "",
  });
});

Deno.test("decodeKeys() reads Enter, Backspace, Tab and the control keys", () => {
  const { keys } = decodeKeys("a\r\x7f\x08\t\x01\x05\x03\x04\x15\x17\x0b\x0c\x10\x0e\x02\x06");
  assert.deepEqual(keys.map((k) => k.kind), [
    "text",
    "enter",
    "backspace",
    "backspace",
    "tab",
    "home",
    "end",
    "interrupt",
    "eof",
    "kill-line",
    "kill-word",
    "kill-to-end",
    "redraw",
    "up",
    "down",
    "left",
    "right",
  ]);
});

Deno.test("decodeKeys() reads arrow, home, end and delete escape sequences", () => {
  const { keys } = decodeKeys(
    "\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\x1bOH\x1bOF\x1b[1~\x1b[4~\x1b[3~",
  );
  assert.deepEqual(keys.map((k) => k.kind), [
    "up",
    "down",
    "right",
    "left",
    "home",
    "end",
    "home",
    "end",
    "home",
    "end",
    "delete",
  ]);
  assert.deepEqual(decodeKeys("\x1b[1;5C\x1b[1;5D\x1bb\x1bf").keys.map((k) => k.kind), [
    "word-right",
    "word-left",
    "word-left",
    "word-right",
  ]);
});

Deno.test("decodeKeys() keeps an incomplete escape sequence for the next chunk", () => {
  assert.deepEqual(decodeKeys("ab\x1b["), { keys: [{ kind: "text", text: "ab" }], rest: "\x1b[" });
  assert.deepEqual(decodeKeys("\x1b"), { keys: [], rest: "\x1b" });
  assert.deepEqual(decodeKeys("\x1b[" + "A").keys, [{ kind: "up" }]);
});

Deno.test("decodeKeys() treats CR LF as one Enter and swallows unknown sequences", () => {
  assert.deepEqual(decodeKeys("a\r\nb").keys, [
    { kind: "text", text: "a" },
    { kind: "enter" },
    { kind: "text", text: "b" },
  ]);
  assert.deepEqual(decodeKeys("\x1b[200~x\x1b[201~").keys, [
    { kind: "ignored" },
    { kind: "text", text: "x" },
    { kind: "ignored" },
  ]);
  assert.deepEqual(decodeKeys("\x00").keys, [{ kind: "ignored" }]);
});
