import assert from "node:assert/strict";
import type { ChatEvent } from "../../chat/events.ts";
import { encodeJsonEvent, parseJsonCommand, runJsonMode } from "../../terminal/json_mode.ts";
import { readLines } from "../../terminal/read_lines.ts";
import { FakeEngine } from "./_fake_engine.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => encoder.encode(c)));
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(stream)) lines.push(line);
  return lines;
}

Deno.test("readLines() splits on LF and CR LF across chunks, keeping a last partial line", async () => {
  assert.deepEqual(await collect(streamOf("one\r\ntw", "o\nthr", "ee")), ["one", "two", "three"]);
  assert.deepEqual(await collect(streamOf("\n\n")), ["", ""]);
  assert.deepEqual(await collect(streamOf()), []);
});

Deno.test("readLines() decodes UTF-8 split across chunks", async () => {
  const bytes = new TextEncoder().encode("héllo 👋🏽\n");
  const stream = ReadableStream.from([bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9)]);
  assert.deepEqual(await collect(stream), ["héllo 👋🏽"]);
});

Deno.test("encodeJsonEvent() writes one line with the type field first", () => {
  const event: ChatEvent = {
    type: "message",
    id: "ab",
    from: "bob",
    to: "lobby",
    private: false,
    text: 'two\nlines \u2028 and "quotes"',
    cipher: "aes-256-gcm",
    insecure: false,
    verified: false,
    ts: 1,
    own: false,
  };
  const line = encodeJsonEvent(event);
  assert.ok(!line.includes("\n"));
  assert.ok(line.startsWith('{"type":"message"'));
  assert.deepEqual(JSON.parse(line), event);
});

Deno.test("runJsonMode() runs each line, reports bad ones as JSON, and closes at end of input", async () => {
  const engine = new FakeEngine();
  const out: string[] = [];
  await runJsonMode(engine, {
    input: streamOf("hello\n/pm bob hi\n/nope\n", "/cipher\n"),
    writeLine: (line) => out.push(line),
    cipher: () => "caesar",
  });
  assert.deepEqual(engine.calls, [["sendRoom", "hello"], ["sendPrivate", "bob", "hi"], ["close"]]);
  const events = out.map((line) => JSON.parse(line));
  assert.equal(events.length, 2);
  assert.equal(events[0].type, "error");
  assert.equal(events[0].code, "BAD_COMMAND");
  assert.match(events[0].message, /Unknown command "\/nope"/);
  assert.deepEqual(events[1], {
    type: "info",
    message: "Cipher: caesar (change it with /cipher SUITE)",
  });
});

Deno.test("runJsonMode() stops at /quit and still closes the engine", async () => {
  const engine = new FakeEngine();
  await runJsonMode(engine, {
    input: streamOf("one\n/quit\ntwo\n"),
    writeLine: () => {},
    cipher: () => "aes-256-gcm",
  });
  assert.deepEqual(engine.calls, [["sendRoom", "one"], ["close"]]);
});

Deno.test("runJsonMode() reports a failing close as an error line", async () => {
  const engine = new FakeEngine();
  engine.fail.close = new Error("relay gone");
  const out: string[] = [];
  await runJsonMode(engine, {
    input: streamOf(""),
    writeLine: (l) => out.push(l),
    cipher: () => "",
  });
  assert.deepEqual(out.map((l) => JSON.parse(l)), [
    { type: "error", code: "INTERNAL", message: "relay gone" },
  ]);
});

Deno.test("runJsonMode() reports messages the relay did not acknowledge", async () => {
  const engine = new FakeEngine();
  engine.pending = 2;
  const out: string[] = [];
  const all = await runJsonMode(engine, {
    input: streamOf("hello\n"),
    writeLine: (l) => out.push(l),
    cipher: () => "",
  });
  assert.equal(all, false);
  assert.deepEqual(out.map((l) => JSON.parse(l)), [{
    type: "error",
    code: "UNACKNOWLEDGED",
    message:
      "2 messages not acknowledged by the relay: kept in the outbox, sent again on the next start",
  }]);
});

Deno.test("parseJsonCommand: text is never a command; args are single words", () => {
  assert.deepEqual(parseJsonCommand('{"cmd":"send","text":"/cipher caesar"}'), {
    ok: true,
    command: { kind: "say", text: "/cipher caesar" },
  });
  assert.deepEqual(parseJsonCommand('{"cmd":"pm","to":"bob","text":"@x hi"}'), {
    ok: true,
    command: { kind: "private", nick: "bob", text: "@x hi" },
  });
  assert.deepEqual(parseJsonCommand('{"cmd":"verify","args":["bob"]}'), {
    ok: true,
    command: { kind: "verify", nick: "bob" },
  });
  for (
    const bad of [
      "{not json",
      "[1]",
      '{"text":"x"}',
      '{"cmd":"send"}',
      '{"cmd":"pm","text":"x"}',
      '{"cmd":"verify","args":["bob\\n/cipher"]}',
      '{"cmd":"verify","args":["a b"]}',
    ]
  ) {
    assert.equal(parseJsonCommand(bad).ok, false, bad);
  }
});
