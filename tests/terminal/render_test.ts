import assert from "node:assert/strict";
import type { ChatEvent } from "../../chat/events.ts";
import {
  hexLines,
  NICK_PALETTE,
  nickColor,
  paint,
  renderEvent,
  sanitize,
  shouldColor,
  timestamp,
  wrapLine,
} from "../../terminal/render.ts";

const NOW = new Date(2026, 10, 23, 9, 5, 30);
const plain = { color: false, now: NOW, currentRoom: "lobby" } as const;

function message(overrides: Partial<Extract<ChatEvent, { type: "message" }>> = {}): ChatEvent {
  return {
    type: "message",
    id: "00".repeat(16),
    from: "bob",
    to: "lobby",
    private: false,
    text: "hello",
    cipher: "aes-256-gcm",
    insecure: false,
    verified: true,
    ts: NOW.getTime(),
    own: false,
    ...overrides,
  };
}

Deno.test("timestamp() shows local hours and minutes as [HH:MM]", () => {
  assert.equal(timestamp(NOW), "[09:05]");
  assert.equal(timestamp(new Date(2026, 0, 1, 23, 59)), "[23:59]");
});

Deno.test("renderEvent() shows a room message with time and nick", () => {
  assert.deepEqual(renderEvent(message(), plain), ["[09:05] <bob> hello"]);
});

Deno.test("renderEvent() names the room of a message to a room not in view", () => {
  assert.deepEqual(renderEvent(message({ to: "dev" }), plain), ["[09:05] dev <bob> hello"]);
});

Deno.test("renderEvent() marks private messages and rings the bell for received ones", () => {
  const received = message({ private: true, to: "alice", text: "psst" });
  assert.deepEqual(renderEvent(received, plain), ["[09:05] [pm from bob] <bob> psst\x07"]);
  assert.deepEqual(renderEvent(received, { ...plain, bell: false }), [
    "[09:05] [pm from bob] <bob> psst",
  ]);
  const sent = message({ private: true, from: "alice", to: "bob", own: true, text: "psst" });
  assert.deepEqual(renderEvent(sent, plain), ["[09:05] [pm to bob] <alice> psst"]);
});

Deno.test("renderEvent() flags every message under an insecure suite, sent or received", () => {
  const received = message({ cipher: "caesar", insecure: true });
  assert.deepEqual(renderEvent(received, plain), ["[09:05] [insecure: caesar] <bob> hello"]);
  const sent = message({ cipher: "caesar", insecure: true, own: true, from: "alice" });
  assert.match(renderEvent(sent, plain)[0] ?? "", /\[insecure: caesar\] <alice> hello/);
});

Deno.test("renderEvent() marks messages from unverified peers", () => {
  assert.deepEqual(renderEvent(message({ verified: false }), plain), [
    "[09:05] [unverified] <bob> hello",
  ]);
  // The user's own room message carries no mark about itself.
  assert.deepEqual(renderEvent(message({ verified: false, own: true, from: "alice" }), plain), [
    "[09:05] <alice> hello",
  ]);
});

Deno.test("renderEvent() writes join, leave, presence and nick notices", () => {
  const lines = (event: ChatEvent) => renderEvent(event, plain);
  assert.deepEqual(lines({ type: "join", nick: "bob", room: "lobby" }), [
    "[09:05] -- bob joined lobby",
  ]);
  assert.deepEqual(lines({ type: "leave", nick: "bob", room: "lobby" }), [
    "[09:05] -- bob left lobby",
  ]);
  assert.deepEqual(lines({ type: "presence", nick: "bob", online: false }), [
    "[09:05] -- bob is offline",
  ]);
  assert.deepEqual(lines({ type: "nick", old: "bob", new: "bobby" }), [
    "[09:05] -- bob is now known as bobby",
  ]);
  assert.deepEqual(lines({ type: "sent", id: "ab" }), []);
});

Deno.test("renderEvent() says a refused message was not delivered, and whether it is retried", () => {
  const event = {
    type: "undelivered",
    id: "4096f42a6d89d474cfb3d6e73c1ec5f1",
    to: "bob",
    code: "QUEUE_FULL",
    message: 'Message 4096f42a not delivered to "bob" (QUEUE_FULL): full',
    retrying: true,
  } as const;
  assert.deepEqual(renderEvent(event, plain), [
    "[09:05] ! message 4096f42a not delivered to bob: queue full; will retry",
  ]);
  assert.deepEqual(
    renderEvent({ ...event, code: "SOMETHING_NEW", retrying: false, message: "odd\x1b[2J" }, plain),
    ["[09:05] ! message 4096f42a not delivered to bob: odd^[[2J; not retried"],
  );
  assert.ok((renderEvent(event, { ...plain, color: true })[0] ?? "").includes("\x1b[33m! message"));
});

Deno.test("renderEvent() lists users with online and verified states", () => {
  const lines = renderEvent({
    type: "users",
    room: "lobby",
    users: [
      { nick: "alice", online: true, verified: true, fingerprint: "3f2a 9c01" },
      { nick: "bo", online: false, verified: false },
    ],
  }, plain);
  assert.deepEqual(lines, [
    "[09:05] -- Users in lobby (1 online, 2 members):",
    "[09:05]    alice  online   verified    3f2a 9c01",
    "[09:05]    bo     offline  unverified",
  ]);
  const own = renderEvent({
    type: "users",
    room: null,
    users: [{ nick: "alice", online: true, verified: false }],
  }, { ...plain, ownNick: "alice" });
  assert.deepEqual(own, [
    "[09:05] -- Users (1 online, 1 known):",
    "[09:05]    alice  online   (you)",
  ]);
});

Deno.test("renderEvent() shows the safety number and how to compare it", () => {
  const lines = renderEvent({
    type: "safety-number",
    peer: "bob",
    safetyNumber: "1".repeat(60),
    formatted: "11111 11111 11111 11111\n11111 11111 11111 11111\n11111 11111 11111 11111",
    words: ["apple", "river"],
    verified: false,
  }, plain);
  assert.equal(lines[0], "[09:05] -- Safety number with bob (not verified yet):");
  assert.equal(lines[1], "[09:05]      11111 11111 11111 11111");
  assert.equal(lines.length, 8);
  assert.ok(lines.some((l) => l.includes("to read aloud: apple river")));
  assert.ok(lines.some((l) => l.includes("/verify bob")));
  const verified = renderEvent({
    type: "safety-number",
    peer: "bob",
    safetyNumber: "1".repeat(60),
    formatted: "11111 11111 11111 11111\n11111 11111 11111 11111\n11111 11111 11111 11111",
    words: ["apple", "river"],
    verified: true,
  }, plain);
  assert.equal(verified[0], "[09:05] -- Safety number with bob (verified):");
  assert.equal(verified.length, 4, "no instructions once verified");
});

Deno.test("renderEvent() shows the 26 read-aloud words on two rows of 13", () => {
  const words = Array.from({ length: 26 }, (_, i) => `w${i}`);
  const lines = renderEvent({
    type: "safety-number",
    peer: "bob",
    safetyNumber: "1".repeat(60),
    formatted: "11111 11111 11111 11111\n11111 11111 11111 11111\n11111 11111 11111 11111",
    words,
    verified: false,
  }, plain);
  assert.ok(lines.includes(`[09:05]    to read aloud: ${words.slice(0, 13).join(" ")}`));
  assert.ok(lines.includes(`[09:05]                   ${words.slice(13).join(" ")}`));
});

Deno.test("renderEvent() is loud about a changed identity and says sending is blocked", () => {
  const lines = renderEvent({
    type: "identity-changed",
    peer: "bob",
    oldFingerprint: "aaaa",
    newFingerprint: "bbbb",
  }, plain);
  assert.ok(lines.length >= 5);
  const text = lines.join("\n");
  assert.match(text, /WARNING: bob's identity key has CHANGED/);
  assert.match(text, /sending to bob is blocked until \/trust bob/i);
  assert.match(text, /old fingerprint: aaaa/);
  assert.match(text, /new fingerprint: bbbb/);
});

Deno.test("renderEvent() reports a verification result either way", () => {
  assert.match(
    renderEvent({ type: "verified", peer: "bob", match: true }, plain)[0] ?? "",
    /bob is verified/,
  );
  assert.match(
    renderEvent({ type: "verified", peer: "bob", match: false }, plain).join("\n"),
    /does NOT match/,
  );
});

Deno.test("renderEvent() warns when switching to an insecure cipher", () => {
  assert.match(
    renderEvent({ type: "cipher", cipher: "caesar", insecure: true }, plain)[0] ?? "",
    /\[insecure: caesar\]/,
  );
  assert.deepEqual(renderEvent({ type: "cipher", cipher: "aes-256-gcm", insecure: false }, plain), [
    "[09:05] -- Cipher is now aes-256-gcm",
  ]);
});

Deno.test("renderEvent() shows the wire view: clear header, body hex and size", () => {
  const bodyHex = "ab".repeat(100);
  const lines = renderEvent({
    type: "wire",
    wire: {
      direction: "out",
      id: "0f".repeat(16),
      from: "alice",
      to: "lobby",
      toKind: "room",
      cipher: "aes-256-gcm",
      bodyHex,
      size: 160,
      kind: "room",
    },
  }, { ...plain, width: 80 });
  const text = lines.join("\n");
  assert.match(
    lines[0] ?? "",
    /\[wire out\] what the relay sees: 160 bytes on the wire, 100 of them/,
  );
  assert.match(text, /message id: 0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f/);
  assert.match(text, /clear header: from alice {2}to lobby \(room\)/);
  assert.match(text, /cipher aes-256-gcm {2}kind room/);
  assert.match(text, /body: ab ab ab/);
  assert.match(text, /\|\.{12}\|/);
  assert.match(text, /\.\.\. 36 more bytes/);
  for (const line of lines.slice(1)) assert.ok(line.length <= 80, `too wide: ${line}`);
});

Deno.test("renderEvent() shows errors as one line and never a stack", () => {
  assert.deepEqual(
    renderEvent({ type: "error", code: "UNKNOWN_PEER", message: 'No such user "zed"' }, plain),
    ['[09:05] error: No such user "zed"'],
  );
});

Deno.test("renderEvent() shows a message the relay dropped (UNDELIVERED) as one readable line", () => {
  const base = { type: "undelivered" as const, id: "ab".repeat(16), to: "bob", code: "EXPIRED" };
  assert.deepEqual(
    renderEvent(
      { ...base, message: "Message abababab to bob was not delivered", retrying: false },
      plain,
    ),
    ["[09:05] ! message abababab not delivered to bob: it waited too long in the relay's queue; not retried"],
  );
  assert.deepEqual(
    renderEvent({ ...base, code: "NICK_RELEASED", message: "x", retrying: false }, plain),
    ["[09:05] ! message abababab not delivered to bob: that nick was released; not retried"],
  );
});

Deno.test("renderEvent() renders every event type in the contract", () => {
  const events: ChatEvent[] = [
    { type: "ready", nick: "a", fingerprint: "f", server: "ws://x/", room: "lobby" },
    { type: "connected", server: "ws://x/" },
    { type: "disconnected", reason: "closed" },
    { type: "reconnecting", attempt: 2, delayMs: 1500 },
    { type: "rooms", rooms: ["lobby", "dev"], current: "lobby" },
    { type: "room", current: "dev" },
    { type: "whois", nick: "b", fingerprint: "f", verified: false, cipher: "caesar", online: true },
    { type: "trusted", peer: "b", fingerprint: "f" },
    { type: "info", message: "one\ntwo" },
  ];
  for (const event of events) {
    const lines = renderEvent(event, plain);
    assert.ok(lines.length > 0, event.type);
    for (const line of lines) assert.ok(line.startsWith("[09:05]"), line);
  }
  assert.match(
    renderEvent(events[3] as ChatEvent, plain)[0] ?? "",
    /reconnecting in 1\.5 s \(attempt 2\)/,
  );
  assert.match(renderEvent(events[4] as ChatEvent, plain)[0] ?? "", /lobby \(current\), dev/);
  assert.deepEqual(renderEvent(events[8] as ChatEvent, plain), [
    "[09:05] -- one",
    "[09:05] -- two",
  ]);
});

Deno.test("renderEvent() output has no escape codes when colour is off", () => {
  const lines = renderEvent(message({ cipher: "caesar", insecure: true, verified: false }), plain);
  assert.ok(!lines.join("").includes("\x1b"));
});

Deno.test("renderEvent() colours nicks and warnings when colour is on", () => {
  const [line] = renderEvent(message({ cipher: "caesar", insecure: true }), {
    ...plain,
    color: true,
  });
  assert.ok(line?.includes(`\x1b[${nickColor("bob")}mbob\x1b[0m`));
  assert.ok(line?.includes("\x1b[1;31m[insecure: caesar]\x1b[0m"));
});

Deno.test("nickColor() is stable and spreads nicks over the palette", () => {
  assert.equal(nickColor("alice"), nickColor("alice"));
  const colors = new Set(
    ["alice", "bob", "carol", "dave", "erin", "frank", "grace"].map(nickColor),
  );
  assert.ok(colors.size >= 3);
  for (const color of colors) assert.ok(NICK_PALETTE.includes(color));
});

Deno.test("shouldColor() honours NO_COLOR, TERM=dumb and non-terminals", () => {
  assert.equal(shouldColor({}, true), true);
  assert.equal(shouldColor({}, false), false);
  assert.equal(shouldColor({ NO_COLOR: "1" }, true), false);
  assert.equal(shouldColor({ NO_COLOR: "" }, true), true);
  assert.equal(shouldColor({ TERM: "dumb" }, true), false);
  assert.equal(paint("x", "31", false), "x");
  assert.equal(paint("x", "31", true), "\x1b[31mx\x1b[0m");
});

Deno.test("sanitize() neutralises terminal escape codes from the network", () => {
  assert.equal(sanitize("hi\x1b[2Jthere"), "hi^[[2Jthere");
  assert.equal(sanitize("a\rb\nc\x07"), "a^Mb^Jc^G");
  assert.equal(sanitize("x\u202ey"), "x\\u{202e}y");
  assert.equal(sanitize("emoji 👋🏽 ok"), "emoji 👋🏽 ok");
  const [line] = renderEvent(message({ text: "\x1b]0;pwned\x07", from: "bo\x1bb" }), plain);
  assert.ok(!line?.includes("\x1b"));
});

Deno.test("hexLines() groups bytes, wraps and counts what it leaves out", () => {
  assert.deepEqual(hexLines("00010203", { bytesPerLine: 2, ascii: false }), ["00 01", "02 03"]);
  assert.deepEqual(hexLines("0001020304", { maxBytes: 2, ascii: false }), [
    "00 01",
    "... 3 more bytes",
  ]);
  assert.deepEqual(hexLines(""), ["(empty)"]);
});

Deno.test("hexLines() shows printable bytes as text, the rest as dots", () => {
  assert.deepEqual(hexLines("4869210a7f", { bytesPerLine: 8 }), [
    "48 69 21 0a 7f           |Hi!..|",
  ]);
});

Deno.test("renderEvent() highlights a received message that names the user", () => {
  const color = { ...plain, color: true, ownNick: "alice" };
  const [named] = renderEvent(message({ text: "hey Alice, look" }), color);
  assert.ok(named?.includes("\x1b[1;33mhey Alice, look\x1b[0m"));
  const [other] = renderEvent(message({ text: "malice aforethought" }), color);
  assert.ok(other?.endsWith("> malice aforethought"));
  const [own] = renderEvent(message({ text: "I am alice", own: true, from: "alice" }), color);
  assert.ok(own?.endsWith("> I am alice"));
  assert.deepEqual(renderEvent(message({ text: "hey @alice" }), { ...plain, ownNick: "alice" }), [
    "[09:05] <bob> hey @alice\x07", // a mention rings the bell (issue 11)
  ]);
});

Deno.test("sanitize() shows invisible format characters and line separators", () => {
  for (const code of [0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x061c, 0xfeff, 0x2028, 0x2029]) {
    assert.equal(sanitize(`a${String.fromCodePoint(code)}b`), `a\\u{${code.toString(16)}}b`);
  }
  assert.equal(sanitize("héllo 👋"), "héllo 👋");
});

Deno.test("wrapLine() wraps itself with indented continuations; colour codes take no room", () => {
  assert.deepEqual(wrapLine("0123456789abcdefghij", 12, 4), ["0123456789ab", "    cdefghij"]);
  assert.deepEqual(wrapLine("\x1b[1m0123456789\x1b[0mab", 10, 2), [
    "\x1b[1m0123456789\x1b[0m",
    "  ab",
  ]);
  assert.deepEqual(wrapLine("short", 80, 10), ["short"]);
  // A wide character counts two columns.
  assert.deepEqual(wrapLine("ab界界界界界", 10, 2), ["ab界界界界", "  界"]);
});

Deno.test("renderEvent() wraps a padded message: no row can pass for another user's", () => {
  const padded = message({ text: `hi${" ".repeat(40)}[12:00] <carol> fake` });
  const rows = renderEvent(padded, { ...plain, width: 40 });
  assert.ok(rows.length > 1);
  for (const row of rows.slice(1)) assert.match(row, /^ {10}/);
});

Deno.test("renderEvent() shows a received message's arrival time, and the sender's when far off", () => {
  const sentLate = message({ ts: NOW.getTime() - 3 * 3_600_000 });
  assert.deepEqual(renderEvent(sentLate, plain), [
    `[09:05] [sent ${timestamp(new Date(NOW.getTime() - 3 * 3_600_000)).slice(1, -1)}] <bob> hello`,
  ]);
  // Within five minutes: no mark.
  assert.deepEqual(renderEvent(message({ ts: NOW.getTime() - 60_000 }), plain), [
    "[09:05] <bob> hello",
  ]);
});

Deno.test("renderEvent() marks a late message with when it was written, to the second", () => {
  const written = new Date(NOW.getTime() - 42_000);
  const late = message({ ts: written.getTime(), late: true });
  const seconds = String(written.getSeconds()).padStart(2, "0");
  assert.deepEqual(renderEvent(late, plain), [
    `[09:05] [late: written ${timestamp(written).slice(1, -1)}:${seconds}] <bob> hello`,
  ]);
  // Late and far off: one mark, the late one.
  const old = new Date(NOW.getTime() - 3 * 3_600_000);
  const rows = renderEvent(message({ ts: old.getTime(), late: true }), plain);
  assert.equal(rows.length, 1);
  assert.match(rows[0]!, /^\[09:05\] \[late: written \d\d:\d\d:\d\d\] <bob> hello$/);
});

Deno.test("renderEvent() says verification is one-directional and offers the words", () => {
  const verified = renderEvent({ type: "verified", peer: "bob", match: true }, plain).join("\n");
  assert.match(verified, /verified on your side only; bob verifies you on theirs/);
  const number = renderEvent({
    type: "safety-number",
    peer: "bob",
    safetyNumber: "1".repeat(60),
    formatted: "11111 11111",
    words: ["acorn", "actor"],
    verified: false,
  }, plain).join("\n");
  assert.match(number, /the number or the words bob reads out/);
  assert.match(number, /Verification is one-way/);
});

Deno.test("renderEvent() rings the bell on a mention in a room, not on other room lines", () => {
  const base = {
    type: "message" as const,
    id: "01",
    from: "bob",
    to: "lobby",
    private: false,
    cipher: "aes-256-gcm",
    insecure: false,
    verified: true,
    ts: Date.now(),
    own: false,
  };
  const options = { ...plain, ownNick: "alice", bell: true };
  assert.ok((renderEvent({ ...base, text: "hi alice, look" }, options)[0] ?? "").endsWith("\x07"));
  assert.ok(!(renderEvent({ ...base, text: "hi all" }, options)[0] ?? "").includes("\x07"));
});
