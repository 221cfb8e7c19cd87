import assert from "node:assert/strict";
import { checkNick, checkRoom, checkServer, parseClientArgs } from "../../terminal/options.ts";
import { UsageError } from "../../terminal/errors.ts";
import { DEFAULT_ROOM, DEFAULT_SERVER, HELP_TEXT } from "../../terminal/help.ts";
import { HushError } from "../../crypto/errors.ts";

function usage(args: string[]): UsageError {
  try {
    parseClientArgs(args);
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${error}`);
    return error;
  }
  throw new Error(`parseClientArgs(${JSON.stringify(args)}) did not throw`);
}

Deno.test("parseClientArgs() gives the defaults for no arguments", () => {
  const options = parseClientArgs([]);
  assert.deepEqual(options, {
    command: "chat",
    server: DEFAULT_SERVER,
    room: DEFAULT_ROOM,
    cipher: "aes-256-gcm",
    json: false,
    refuseInsecure: false,
    create: false,
  });
});

Deno.test("parseClientArgs() reads every flag", () => {
  const options = parseClientArgs([
    "--nick",
    "bob",
    "--server",
    "tcp://127.0.0.1:4875",
    "--home",
    "/tmp/h",
    "--room",
    "#dev",
    "--cipher",
    "caesar",
    "--token",
    "s3cret",
    "--ca",
    "relay.pem",
    "--json",
    "--refuse-insecure",
  ]);
  assert.deepEqual(options, {
    command: "chat",
    nick: "bob",
    server: "tcp://127.0.0.1:4875",
    home: "/tmp/h",
    room: "dev",
    cipher: "caesar",
    token: "s3cret",
    ca: "relay.pem",
    json: true,
    refuseInsecure: true,
    create: false,
  });
});

Deno.test("parseClientArgs() accepts --flag=value and every server scheme", () => {
  for (
    const server of ["ws://h:1/", "wss://relay.example/", "tcp://h:2", "tls://h:3", "tcp+tls://h:4"]
  ) {
    assert.equal(parseClientArgs([`--server=${server}`]).server, server);
  }
});

Deno.test("parseClientArgs() recognises the fingerprint subcommand and --help", () => {
  assert.equal(parseClientArgs(["fingerprint", "--nick", "bob"]).command, "fingerprint");
  assert.equal(parseClientArgs(["fingerprint", "--nick", "bob"]).nick, "bob");
  assert.equal(parseClientArgs(["--help"]).command, "help");
  assert.equal(parseClientArgs(["-h"]).command, "help");
  assert.equal(parseClientArgs(["help"]).command, "help");
  // --help wins over bad values elsewhere: the user asked for help.
  assert.equal(parseClientArgs(["--help", "--cipher", "rot13"]).command, "help");
});

Deno.test("parseClientArgs() rejects an unknown flag with a hint, as a usage error", () => {
  const error = usage(["--nik", "bob"]);
  assert.equal(error.message, 'Unknown flag "--nik"');
  assert.equal(error.code, "USAGE");
  assert.ok(error instanceof HushError);
  assert.match(error.hint ?? "", /--help/);
});

Deno.test("parseClientArgs() rejects a flag without its value", () => {
  assert.equal(usage(["--nick"]).message, "Flag --nick needs a value");
  assert.equal(usage(["--nick", "--json"]).message, "Flag --nick needs a value");
  assert.equal(usage(["--json=yes"]).message, "Flag --json does not take a value");
});

Deno.test("parseClientArgs() rejects bad nicks, rooms, servers and ciphers", () => {
  assert.match(usage(["--nick", "bob smith"]).message, /not allowed/);
  assert.match(usage(["--nick", "x".repeat(33)]).message, /too long/);
  assert.match(usage(["--room", "a b"]).message, /not allowed/);
  assert.match(usage(["--server", "http://x"]).message, /unsupported scheme/);
  assert.match(usage(["--server", "not a url"]).message, /is not a URL/);
  assert.match(usage(["--server", "tcp://127.0.0.1"]).message, /has no port/);
  const cipher = usage(["--cipher", "rot13"]);
  assert.equal(cipher.message, 'Unknown cipher suite "rot13"');
  assert.match(cipher.hint ?? "", /aes-256-gcm, chacha20-poly1305/);
  assert.match(usage(["--home", ""]).message, /--home cannot be empty/);
});

Deno.test("parseClientArgs() rejects unknown subcommands and extra arguments", () => {
  assert.equal(usage(["chat"]).message, 'Unknown command "chat"');
  assert.equal(usage(["fingerprint", "bob"]).message, 'Unexpected argument "bob"');
});

Deno.test("checkNick() follows the protocol's name rule", () => {
  assert.equal(checkNick("alice"), undefined);
  assert.equal(checkNick("bob_1"), undefined);
  assert.equal(checkNick("A-z_09"), undefined);
  assert.equal(checkNick(""), "A nick cannot be empty");
  assert.match(checkNick("héloïse") ?? "", /not allowed/);
  assert.match(checkNick("a/b") ?? "", /not allowed/);
});

Deno.test("checkRoom() drops a leading # and rejects bad names", () => {
  assert.deepEqual(checkRoom("#lobby"), { room: "lobby" });
  assert.deepEqual(checkRoom("dev-2"), { room: "dev-2" });
  assert.equal(checkRoom("#").error, "A room name cannot be empty");
  assert.match(checkRoom("a.b").error ?? "", /not allowed/);
});

Deno.test("checkServer() accepts the four schemes and rejects others", () => {
  assert.equal(checkServer("ws://127.0.0.1:4874/"), undefined);
  assert.equal(checkServer("tls://relay.example:4875"), undefined);
  assert.match(checkServer("ftp://x") ?? "", /unsupported scheme/);
});

Deno.test("HELP_TEXT documents every flag, the subcommand and the task", () => {
  for (
    const word of [
      "--nick",
      "--server",
      "--home",
      "--room",
      "--cipher",
      "--token",
      "--ca",
      "--json",
      "--help",
      "fingerprint",
      "deno task client",
      "caesar",
      "INSECURE",
      DEFAULT_SERVER,
      "/help",
    ]
  ) {
    assert.ok(HELP_TEXT.includes(word), `help text lacks ${word}`);
  }
  for (const line of HELP_TEXT.split("\n")) assert.ok(line.length <= 100, `long line: ${line}`);
});

Deno.test("parseClientArgs() takes --create with fingerprint only", () => {
  assert.equal(parseClientArgs(["fingerprint", "--nick", "bob", "--create"]).create, true);
  assert.throws(() => parseClientArgs(["--nick", "bob", "--create"]), /--create goes with/);
});
