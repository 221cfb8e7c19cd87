import assert from "node:assert/strict";
import type { ChatEvent } from "../../chat/events.ts";
import { HushError } from "../../crypto/errors.ts";
import { errorEvent, runLine } from "../../terminal/dispatch.ts";
import { FakeEngine } from "./_fake_engine.ts";

function setup() {
  const engine = new FakeEngine();
  const events: ChatEvent[] = [];
  let cleared = 0;
  const context = {
    engine,
    emit: (event: ChatEvent) => events.push(event),
    clear: () => cleared++,
    cipher: () => "aes-256-gcm",
  };
  return { engine, events, context, cleared: () => cleared };
}

Deno.test("runLine() calls the engine method of each command", async () => {
  const { engine, context } = setup();
  const digits = "0".repeat(60);
  const lines = [
    "hello all",
    "/pm bob hi",
    "@carol yo",
    "/list",
    "/users dev",
    "/join dev",
    "/leave",
    "/leave dev",
    "/rooms",
    "/nick bobby",
    "/whois bob",
    "/cipher caesar",
    "/trust bob",
    "/verify bob",
    `/verify bob ${digits}`,
    "/wire on",
  ];
  for (const line of lines) assert.equal(await runLine(line, context), "continue");
  assert.deepEqual(engine.calls, [
    ["sendRoom", "hello all"],
    ["sendPrivate", "bob", "hi"],
    ["sendPrivate", "carol", "yo"],
    ["listUsers"],
    ["listUsers", "dev"],
    ["join", "dev"],
    ["leave"],
    ["leave", "dev"],
    ["listRooms"],
    ["changeNick", "bobby"],
    ["whois", "bob"],
    ["setCipher", "caesar"],
    ["trust", "bob"],
    ["verify", "bob"],
    ["verify", "bob", digits],
    ["setWire", true],
  ]);
});

Deno.test("runLine() answers /cipher, /help and /clear without the engine", async () => {
  const { engine, events, context, cleared } = setup();
  await runLine("/cipher", context);
  await runLine("/help", context);
  await runLine("/clear", context);
  assert.deepEqual(engine.calls, []);
  assert.equal(cleared(), 1);
  assert.deepEqual(events[0], {
    type: "info",
    message: "Cipher: aes-256-gcm (change it with /cipher SUITE)",
  });
  assert.equal(events[1]?.type, "info");
  assert.match((events[1] as { message: string }).message, /\/verify NICK \[NUMBER\|WORDS\]/);
});

Deno.test("runLine() reports a bad command as one error event with its usage", async () => {
  const { engine, events, context } = setup();
  assert.equal(await runLine("/join", context), "continue");
  assert.deepEqual(events, [
    { type: "error", code: "BAD_COMMAND", message: "Which room? (usage: /join ROOM)" },
  ]);
  assert.deepEqual(engine.calls, []);
});

Deno.test("runLine() ignores blank lines and returns quit for /quit and /exit", async () => {
  const { engine, events, context } = setup();
  assert.equal(await runLine("   ", context), "continue");
  assert.equal(await runLine("/quit", context), "quit");
  assert.equal(await runLine("/exit", context), "quit");
  assert.deepEqual(engine.calls, []);
  assert.deepEqual(events, []);
});

Deno.test("runLine() turns an engine error into an error event, never a throw", async () => {
  const { engine, events, context } = setup();
  engine.fail.sendPrivate = new HushError("IDENTITY_CHANGED", 'Sending to "bob" is blocked');
  engine.fail.join = new Error("boom");
  await runLine("/pm bob hi", context);
  await runLine("/join dev", context);
  assert.deepEqual(events, [
    { type: "error", code: "IDENTITY_CHANGED", message: 'Sending to "bob" is blocked' },
    { type: "error", code: "INTERNAL", message: "boom" },
  ]);
});

Deno.test("errorEvent() keeps codes of typed errors and wraps anything else", () => {
  assert.deepEqual(errorEvent(new HushError("X", "y")), { type: "error", code: "X", message: "y" });
  assert.deepEqual(errorEvent("text"), { type: "error", code: "INTERNAL", message: "text" });
});
