import { SAFETY_WORD_COUNT, SAFETY_WORDS } from "../../crypto/fingerprint.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { propertyRuns } from "./_runs.ts";
import {
  type Command,
  COMMAND_NAMES,
  COMMANDS,
  commandUsage,
  helpLines,
  parseCommand,
} from "../../terminal/commands.ts";

function command(line: string): Command | null {
  const result = parseCommand(line);
  assert.ok(result.ok, `parseCommand(${JSON.stringify(line)}) failed: ${JSON.stringify(result)}`);
  return result.command;
}

function failure(line: string): { message: string; usage?: string } {
  const result = parseCommand(line);
  assert.ok(!result.ok, `parseCommand(${JSON.stringify(line)}) should fail`);
  return result;
}

const DIGITS = "12345".repeat(12);

Deno.test("parseCommand() sends plain text to the room, trimmed", () => {
  assert.deepEqual(command("hello world"), { kind: "say", text: "hello world" });
  assert.deepEqual(command("  spaced  "), { kind: "say", text: "spaced" });
  assert.deepEqual(command("héllo 👋🏽 世界"), { kind: "say", text: "héllo 👋🏽 世界" });
});

Deno.test("parseCommand() returns null for a blank line", () => {
  assert.equal(command(""), null);
  assert.equal(command("   \t "), null);
});

Deno.test("parseCommand() sends //text as a line starting with /", () => {
  assert.deepEqual(command("//shrug"), { kind: "say", text: "/shrug" });
});

Deno.test("parseCommand() reads /pm, /msg and @nick as private messages", () => {
  const expected = { kind: "private", nick: "bob", text: "hi there 🙂" };
  assert.deepEqual(command("/pm bob hi there 🙂"), expected);
  assert.deepEqual(command("/msg bob hi there 🙂"), expected);
  assert.deepEqual(command("@bob hi there 🙂"), expected);
  assert.deepEqual(command("@bob: hi there 🙂"), expected);
  assert.deepEqual(command("/PM @bob hi there 🙂"), expected);
});

Deno.test("parseCommand() explains a private message without text or nick", () => {
  assert.deepEqual(failure("/pm bob"), {
    ok: false,
    message: "Nothing to send: type the text after the nick",
    usage: "/pm NICK TEXT",
  });
  assert.equal(failure("/msg").message, "Who to?");
  assert.equal(failure("/msg").usage, "/msg NICK TEXT");
  assert.equal(failure("@bob").usage, "@NICK TEXT");
  assert.match(failure("@b!b hi").message, /not allowed/);
});

Deno.test("parseCommand() reads /list and /users", () => {
  // /list is everyone on the relay; /users alone is the current room (dispatch fills it in).
  assert.deepEqual(command("/list"), { kind: "users", everyone: true });
  assert.deepEqual(command("/users"), { kind: "users" });
  assert.deepEqual(command("/users *"), { kind: "users", everyone: true });
  assert.deepEqual(command("/users #dev"), { kind: "users", room: "dev" });
  assert.equal(failure("/list x").message, "/list takes no arguments");
  assert.equal(failure("/users a b").usage, "/users [ROOM|*]");
});

Deno.test("parseCommand() reads /join, /leave and /rooms", () => {
  assert.deepEqual(command("/join dev"), { kind: "join", room: "dev" });
  assert.deepEqual(command("/join #dev"), { kind: "join", room: "dev" });
  assert.deepEqual(command("/leave"), { kind: "leave" });
  assert.deepEqual(command("/leave dev"), { kind: "leave", room: "dev" });
  assert.deepEqual(command("/part"), { kind: "leave" });
  assert.deepEqual(command("/rooms"), { kind: "rooms" });
  assert.deepEqual(failure("/join"), { ok: false, message: "Which room?", usage: "/join ROOM" });
  assert.equal(failure("/join a b").message, "Too many arguments");
  assert.match(failure("/join a.b").message, /not allowed/);
});

Deno.test("parseCommand() reads /nick, /whois and /trust with one nick", () => {
  assert.deepEqual(command("/nick bob2"), { kind: "nick", nick: "bob2" });
  assert.deepEqual(command("/whois bob"), { kind: "whois", nick: "bob" });
  assert.deepEqual(command("/whois @bob"), { kind: "whois", nick: "bob" });
  assert.deepEqual(command("/trust bob"), { kind: "trust", nick: "bob" });
  assert.deepEqual(failure("/nick"), { ok: false, message: "Which nick?", usage: "/nick NEW" });
  assert.equal(failure("/whois a b").usage, "/whois NICK");
  assert.match(failure("/trust b*b").message, /not allowed/);
});

Deno.test("parseCommand() reads /cipher with and without a suite", () => {
  assert.deepEqual(command("/cipher"), { kind: "cipher" });
  assert.deepEqual(command("/cipher caesar"), { kind: "cipher", suite: "caesar" });
  assert.deepEqual(command("/cipher ChaCha20-Poly1305"), {
    kind: "cipher",
    suite: "chacha20-poly1305",
  });
  const bad = failure("/cipher rot13");
  assert.match(bad.message, /Unknown cipher suite "rot13": choose aes-256-gcm/);
  assert.equal(bad.usage, "/cipher [SUITE]");
});

Deno.test("parseCommand() reads /verify with a safety number typed with spaces", () => {
  assert.deepEqual(command("/verify bob"), { kind: "verify", nick: "bob" });
  assert.deepEqual(command(`/verify bob ${DIGITS}`), {
    kind: "verify",
    nick: "bob",
    digits: DIGITS,
  });
  const spaced = DIGITS.match(/.{5}/g)?.join(" ") ?? "";
  assert.deepEqual(command(`/verify bob ${spaced}`), {
    kind: "verify",
    nick: "bob",
    digits: DIGITS,
  });
  assert.equal(failure("/verify").message, "Which nick?");
  assert.equal(failure("/verify bob 12345").message, "A safety number has 60 digits, got 5");
  assert.equal(
    failure("/verify bob 1234x").message,
    "A safety number has only digits (spaces are fine)",
  );
  assert.equal(failure("/verify bob 1234x").usage, "/verify NICK [NUMBER|WORDS]");
});

Deno.test("parseCommand() reads /wire on and /wire off only", () => {
  assert.deepEqual(command("/wire on"), { kind: "wire", on: true });
  assert.deepEqual(command("/wire OFF"), { kind: "wire", on: false });
  assert.deepEqual(failure("/wire"), { ok: false, message: "On or off?", usage: "/wire on|off" });
  assert.equal(failure("/wire maybe").message, 'Expected on or off, got "maybe"');
});

Deno.test("parseCommand() reads /clear, /help, /quit and /exit", () => {
  assert.deepEqual(command("/clear"), { kind: "clear" });
  assert.deepEqual(command("/help"), { kind: "help" });
  assert.deepEqual(command("/help /verify"), { kind: "help", topic: "verify" });
  assert.deepEqual(command("/quit"), { kind: "quit" });
  assert.deepEqual(command("/exit"), { kind: "quit" });
  assert.deepEqual(command("/quit bye all"), { kind: "quit" });
});

Deno.test("parseCommand() rejects an unknown command with a suggestion", () => {
  const error = failure("/jion lobby");
  assert.match(error.message, /^Unknown command "\/jion"; did you mean \/join\?/);
  assert.match(failure("/zzz").message, /^Unknown command "\/zzz" \(type \/help/);
  assert.match(failure("/").message, /A lone \/ is not a command/);
});

Deno.test("every command in the table parses and has usage and help", () => {
  for (const info of COMMANDS) {
    assert.ok(commandUsage(info.name)?.startsWith(`/${info.name}`));
    assert.ok(helpLines().some((line) => line.includes(`/${info.name}`)));
    assert.ok(helpLines(info.name)[0]?.includes(info.summary));
  }
  for (const name of COMMAND_NAMES) {
    const result = parseCommand(name);
    if (!result.ok) assert.ok(result.usage !== undefined || result.message !== "", name);
    assert.ok(!(!result.ok && /Unknown command/.test(result.message)), `${name} is unknown`);
  }
  assert.deepEqual(helpLines("nope"), ['No command "nope": type /help for the list']);
  assert.deepEqual(helpLines("msg").at(-1), "  also: /msg");
});

Deno.test("parseCommand() never throws and always answers with a command or a message (property)", () => {
  const runs = propertyRuns();
  const pieces = fc.constantFrom("/", "@", "//", " ", "pm", "verify", "bob", "123 45", "👋🏽", "\t");
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.array(pieces, { maxLength: 8 }).map((p) => p.join(""))),
      (line) => {
        const result = parseCommand(line);
        if (result.ok) {
          if (result.command?.kind === "say") assert.ok(result.command.text.trim() !== "");
        } else {
          assert.ok(result.message.length > 0);
          assert.ok(!result.message.includes("\n"));
        }
      },
    ),
    { numRuns: runs },
  );
});

Deno.test("parseCommand() takes the read-aloud words for /verify", () => {
  const spoken = SAFETY_WORDS.slice(0, SAFETY_WORD_COUNT);
  const typed = spoken.map((w, i) => i === 0 ? w[0]!.toUpperCase() + w.slice(1) : w).join(" ");
  assert.deepEqual(command(`/verify bob ${typed}`), { kind: "verify", nick: "bob", words: spoken });
  assert.match(
    failure("/verify bob acorn actor").message,
    new RegExp(`${SAFETY_WORD_COUNT} words, got 2`),
  );
  assert.match(failure("/verify bob acorn 12345").message, /not both/);
});

Deno.test("/help says plainly that @NICK is a private message", () => {
  const text = helpLines().join("\n");
  assert.match(text, /@NICK TEXT is a PRIVATE message to NICK only, not a public mention/);
});
