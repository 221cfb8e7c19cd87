import assert from "node:assert/strict";
import { parseLine } from "../../web/commands.ts";

Deno.test("plain text and // go to the open conversation", () => {
  assert.deepEqual(parseLine("hello 🎉"), { ok: true, command: { kind: "say", text: "hello 🎉" } });
  assert.deepEqual(parseLine("//join is a word"), {
    ok: true,
    command: { kind: "say", text: "/join is a word" },
  });
  assert.deepEqual(parseLine("   "), { ok: true, command: null });
});

Deno.test("@NICK TEXT and /pm NICK TEXT are private; /pm NICK alone opens the conversation", () => {
  const expected = { ok: true, command: { kind: "private", nick: "bob", text: "hi there" } };
  assert.deepEqual(parseLine("@bob hi there"), expected);
  assert.deepEqual(parseLine("/pm bob hi there"), expected);
  assert.deepEqual(parseLine("/msg @bob hi there"), expected);
  assert.deepEqual(parseLine("/pm bob"), { ok: true, command: { kind: "open", nick: "bob" } });
  const bad = parseLine("@bob");
  assert.equal(bad.ok, false);
  assert.equal(parseLine("/pm b@d hi").ok, false);
});

Deno.test("rooms may be written #name", () => {
  assert.deepEqual(parseLine("/join #dev"), { ok: true, command: { kind: "join", room: "dev" } });
  assert.deepEqual(parseLine("/join dev"), { ok: true, command: { kind: "join", room: "dev" } });
  assert.deepEqual(parseLine("/leave"), { ok: true, command: { kind: "leave" } });
  assert.deepEqual(parseLine("/leave #dev"), { ok: true, command: { kind: "leave", room: "dev" } });
  const missing = parseLine("/join");
  assert.ok(!missing.ok && missing.message.includes("usage: /join ROOM"));
  assert.equal(parseLine("/join a b").ok, false);
});

Deno.test("/verify takes the 60 digits with or without spaces", () => {
  const digits = "1234567890".repeat(6);
  const spaced = digits.match(/.{5}/g)!.join(" ");
  assert.deepEqual(parseLine(`/verify alice ${spaced}`), {
    ok: true,
    command: { kind: "verify", nick: "alice", digits },
  });
  assert.deepEqual(parseLine("/verify alice"), {
    ok: true,
    command: { kind: "verify", nick: "alice" },
  });
  assert.equal(parseLine("/verify alice 12345").ok, false);
});

Deno.test("/cipher, /trust, /nick, /users, /list, /wire, /help, unknown commands", () => {
  assert.deepEqual(parseLine("/cipher CAESAR"), {
    ok: true,
    command: { kind: "cipher", suite: "caesar" },
  });
  assert.equal(parseLine("/cipher rot13").ok, false);
  assert.deepEqual(parseLine("/cipher"), { ok: true, command: { kind: "cipher" } });
  assert.deepEqual(parseLine("/trust bob"), { ok: true, command: { kind: "trust", nick: "bob" } });
  assert.deepEqual(parseLine("/nick carol"), {
    ok: true,
    command: { kind: "nick", nick: "carol" },
  });
  assert.deepEqual(parseLine("/users"), { ok: true, command: { kind: "users", everyone: false } });
  assert.deepEqual(parseLine("/list"), { ok: true, command: { kind: "users", everyone: true } });
  assert.deepEqual(parseLine("/wire on"), { ok: true, command: { kind: "wire", on: true } });
  assert.deepEqual(parseLine("/help"), { ok: true, command: { kind: "help" } });
  const unknown = parseLine("/frobnicate");
  assert.ok(!unknown.ok && unknown.message.includes("/help"));
});
