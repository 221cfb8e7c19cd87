import assert from "node:assert/strict";
import { InteractiveUi } from "../../terminal/interactive.ts";
import { FakeEngine } from "./_fake_engine.ts";
import { FakeTerminal } from "./_fake_terminal.ts";

function ui(terminal: FakeTerminal) {
  return new InteractiveUi({
    nick: "alice",
    room: "lobby",
    cipher: "aes-256-gcm",
    color: false,
    raw: true,
    bell: false,
    input: terminal,
    output: terminal,
    columns: () => 80,
  });
}

/** What the screen would show: the text after the last line clear, per printed line. */
function lastPrompt(written: string): string {
  const parts = written.split("\r\x1b[2K");
  const last = parts[parts.length - 1] ?? "";
  return last.slice(0, last.lastIndexOf("\r") === -1 ? last.length : last.lastIndexOf("\r"));
}

Deno.test("InteractiveUi runs typed lines on the engine and closes it on /quit", async () => {
  const terminal = new FakeTerminal(["hello\r", "/pm bob hi\r", "/quit\r"]);
  const engine = new FakeEngine();
  await ui(terminal).run(engine);
  assert.deepEqual(engine.calls, [["sendRoom", "hello"], ["sendPrivate", "bob", "hi"], ["close"]]);
  assert.deepEqual(terminal.raw, [true, false]);
});

Deno.test("InteractiveUi shows a bad command as one error line and keeps going", async () => {
  const terminal = new FakeTerminal(["/join\r", "\x04"]);
  const engine = new FakeEngine();
  await ui(terminal).run(engine);
  assert.match(terminal.written, /error: Which room\? \(usage: \/join ROOM\)\r\n/);
  assert.deepEqual(engine.calls, [["close"]]);
});

Deno.test("InteractiveUi follows nick, room and cipher in the prompt", async () => {
  const terminal = new FakeTerminal([]);
  const screen = ui(terminal);
  const engine = new FakeEngine();
  const running = screen.run(engine);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(lastPrompt(terminal.written), "alice@lobby> ");
  screen.show({
    type: "ready",
    nick: "alice_1",
    fingerprint: "f",
    server: "ws://x/",
    room: "lobby",
  });
  screen.show({ type: "room", current: "dev" });
  assert.equal(lastPrompt(terminal.written), "alice_1@dev> ");
  screen.show({ type: "cipher", cipher: "caesar", insecure: true });
  assert.equal(lastPrompt(terminal.written), "alice_1@dev INSECURE> ");
  terminal.push("\x04");
  await running;
});

Deno.test("InteractiveUi completes nicks it has seen in events", async () => {
  const terminal = new FakeTerminal([]);
  const screen = ui(terminal);
  const engine = new FakeEngine();
  const running = screen.run(engine);
  screen.show({
    type: "users",
    room: "lobby",
    users: [{ nick: "bobby", online: true, verified: false }],
  });
  screen.show({ type: "join", nick: "carol", room: "lobby" });
  terminal.push("@bo\thi\r");
  terminal.push("ca\t\r");
  terminal.push("\x04");
  await running;
  assert.deepEqual(engine.calls, [["sendPrivate", "bobby", "hi"], ["sendRoom", "carol"], [
    "close",
  ]]);
});

Deno.test("InteractiveUi prints incoming events above the input line", async () => {
  const terminal = new FakeTerminal(["draft"]);
  const screen = ui(terminal);
  const running = screen.run(new FakeEngine());
  await new Promise((resolve) => setTimeout(resolve, 10));
  screen.show({ type: "join", nick: "bob", room: "lobby" });
  assert.ok(terminal.written.includes("-- bob joined lobby\r\n\r\x1b[2Kalice@lobby> draft"));
  terminal.push("<EOF>");
  await running;
});

Deno.test("InteractiveUi reads plain lines when stdin is not a terminal", async () => {
  const terminal = new FakeTerminal([]);
  const engine = new FakeEngine();
  const screen = new InteractiveUi({
    nick: "alice",
    room: "lobby",
    cipher: "aes-256-gcm",
    color: false,
    raw: false,
    bell: false,
    output: terminal,
    lines: () => ReadableStream.from([new TextEncoder().encode("one\n/rooms\n")]),
  });
  screen.show({ type: "join", nick: "bob", room: "lobby" });
  await screen.run(engine);
  assert.deepEqual(engine.calls, [["sendRoom", "one"], ["listRooms"], ["close"]]);
  assert.match(terminal.written, /^\[\d\d:\d\d\] -- bob joined lobby\n/);
  assert.deepEqual(terminal.raw, []);
});

Deno.test("InteractiveUi shows one disconnect notice per outage and a short line on reconnect", () => {
  const terminal = new FakeTerminal([]);
  const screen = new InteractiveUi({
    nick: "alice",
    room: "lobby",
    cipher: "aes-256-gcm",
    color: false,
    raw: false,
    bell: false,
    output: terminal,
  });
  screen.show({ type: "disconnected", reason: "relay went away" });
  screen.show({ type: "reconnecting", attempt: 1, delayMs: 100 });
  screen.show({ type: "disconnected", reason: "refused" });
  screen.show({ type: "reconnecting", attempt: 2, delayMs: 200 });
  screen.show({ type: "connected", server: "tcp://x:1" });
  screen.show({
    type: "ready",
    nick: "alice",
    fingerprint: "f",
    server: "tcp://x:1",
    room: "lobby",
  });
  screen.show({ type: "disconnected", reason: "again" });
  screen.show({ type: "ready", nick: "alice", fingerprint: "f", server: "tcp://x:1", room: "dev" });
  const lines = terminal.written.trimEnd().split("\n").map((l) => l.slice(8));
  assert.deepEqual(lines, [
    "-- disconnected: relay went away",
    // One line per outage (issue 11): later attempts and their connects are not printed.
    "-- reconnecting in 0.1 s (attempt 1); unsent messages wait in the outbox",
    "*** Connected to tcp://x:1 as alice, talking in lobby",
    "*** Your fingerprint: f  (/help lists the commands)",
    "-- disconnected: again",
    "-- back online as alice, talking in dev",
  ]);
});

Deno.test("InteractiveUi keeps one updating status in the prompt during an outage", async () => {
  const terminal = new FakeTerminal([]);
  const screen = ui(terminal);
  const running = screen.run(new FakeEngine());
  await new Promise((resolve) => setTimeout(resolve, 0));
  screen.show({
    type: "ready",
    nick: "alice",
    fingerprint: "f",
    server: "tcp://x:1",
    room: "lobby",
  });
  const before = terminal.written.length;
  screen.show({ type: "disconnected", reason: "relay went away" });
  for (let attempt = 1; attempt <= 5; attempt++) {
    screen.show({ type: "reconnecting", attempt, delayMs: 100 * attempt });
    screen.show({ type: "connected", server: "tcp://x:1" });
    screen.show({ type: "disconnected", reason: "refused" });
  }
  screen.show({ type: "reconnecting", attempt: 5, delayMs: 500 });
  const during = terminal.written.slice(before);
  assert.equal(during.split("disconnected:").length - 1, 1, during);
  assert.ok(!during.includes("reconnecting in"), during);
  assert.ok(!during.includes("connected to"), during);
  assert.match(lastPrompt(during), /^\[offline: attempt 6 in 0\.5 s\] alice@lobby> /);
  screen.show({
    type: "ready",
    nick: "alice",
    fingerprint: "f",
    server: "tcp://x:1",
    room: "lobby",
  });
  assert.match(lastPrompt(terminal.written), /^alice@lobby> /);
  terminal.push("\x04");
  await running;
});

function received(text: string, overrides: Record<string, unknown> = {}) {
  return {
    type: "message" as const,
    id: text,
    from: "bob",
    to: "lobby",
    private: false,
    text,
    cipher: "aes-256-gcm",
    insecure: false,
    verified: false,
    ts: Date.now(),
    own: false,
    ...overrides,
  };
}

Deno.test("InteractiveUi: [unverified] once per conversation, a separator before missed messages, dates on old ones", () => {
  const terminal = new FakeTerminal([]);
  const screen = new InteractiveUi({
    nick: "alice",
    room: "lobby",
    cipher: "aes-256-gcm",
    color: false,
    raw: false,
    bell: false,
    output: terminal,
  });
  screen.show({
    type: "ready",
    nick: "alice",
    fingerprint: "f",
    server: "tcp://x:1",
    room: "lobby",
  });
  const start = terminal.written.length;
  const yesterday = new Date();
  yesterday.setDate(yesterday.getDate() - 1);
  yesterday.setHours(23, 59);
  screen.show(received("written yesterday", { ts: yesterday.getTime() }));
  screen.show(received("second"));
  screen.show(received("pm one", { private: true, to: "alice" }));
  screen.show(received("pm two", { private: true, to: "alice" }));
  screen.show({ type: "identity-changed", peer: "bob", oldFingerprint: "a", newFingerprint: "b" });
  screen.show(received("after the change"));
  const lines = terminal.written.slice(start).trimEnd().split("\n");
  const day = `${yesterday.getFullYear()}-${String(yesterday.getMonth() + 1).padStart(2, "0")}-${
    String(yesterday.getDate()).padStart(2, "0")
  }`;
  assert.equal(lines[0], "-------- new messages (sent while you were away) --------");
  // Shown at its arrival time, with the sender's time and date beside it.
  assert.match(
    lines[1] ?? "",
    new RegExp(
      `^\\[\\d\\d:\\d\\d\\] \\[sent ${day} 23:59\\] \\[unverified\\] <bob> written yesterday$`,
    ),
  );
  assert.match(lines[2] ?? "", /^\[\d\d:\d\d\] <bob> second$/);
  assert.match(lines[3] ?? "", /\[pm from bob\] \[unverified\] <bob> pm one$/);
  assert.match(lines[4] ?? "", /\[pm from bob\] <bob> pm two$/);
  assert.match(lines[lines.length - 1] ?? "", /\[unverified\] <bob> after the change$/);
  assert.equal(lines.filter((l) => l.includes("new messages")).length, 1);
});
