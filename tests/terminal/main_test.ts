import assert from "node:assert/strict";
import { HushError } from "../../crypto/errors.ts";
import { UsageError } from "../../terminal/errors.ts";
import { HELP_TEXT } from "../../terminal/help.ts";
import { errorLines, EXIT_FAILURE, EXIT_USAGE, main } from "../../terminal/main.ts";
import { HELP_TEXT as CLIENT_HELP_TEXT } from "../../client.ts";
import type { ClientIo, EngineFactory } from "../../terminal/run_client.ts";

function fakeIo(answers: (string | null)[] = [], stdinIsTerminal = true) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const io: ClientIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    ask: (question) => {
      asked.push(question);
      return answers.shift() ?? null;
    },
    env: { HOME: "/home/test" },
    stdinIsTerminal,
    stdoutIsTerminal: false,
    stdin: () => ReadableStream.from<Uint8Array>([]),
    requestNet: () => Promise.resolve(true),
  };
  return { io, out, err, asked };
}

const noEngine: EngineFactory = () => {
  throw new HushError("CONNECT_FAILED", 'Cannot connect to "ws://127.0.0.1:1/": refused');
};

Deno.test("main() prints the help text and exits 0", async () => {
  const { io, out, err } = fakeIo();
  assert.equal(await main(["--help"], { createEngine: noEngine, io }), 0);
  assert.deepEqual(out, [HELP_TEXT.trimEnd()]);
  assert.equal(CLIENT_HELP_TEXT, HELP_TEXT);
  assert.deepEqual(err, []);
});

Deno.test("main() prints a usage error with a hint and exits 2", async () => {
  const { io, out, err } = fakeIo();
  assert.equal(await main(["--cipher", "rot13"], { createEngine: noEngine, io }), EXIT_USAGE);
  assert.deepEqual(out, []);
  assert.deepEqual(err, [
    'hush: error: Unknown cipher suite "rot13"',
    "hush: hint: choose one of aes-256-gcm, chacha20-poly1305, xchacha20-poly1305, caesar",
  ]);
});

Deno.test("main() reports a relay that cannot be reached in one line, with a hint, exit 1", async () => {
  const { io, err } = fakeIo();
  const code = await main(["--nick", "bob", "--home", "/tmp/x"], { createEngine: noEngine, io });
  assert.equal(code, EXIT_FAILURE);
  assert.equal(err[0], 'hush: error: Cannot connect to "ws://127.0.0.1:1/": refused');
  assert.match(err[1] ?? "", /^hush: hint: is the relay running\?/);
  assert.equal(err.length, 2);
});

Deno.test("main() asks for the nick when none is given and uses it", async () => {
  const { io, err, asked } = fakeIo(["bad nick", "carol"]);
  let nick = "";
  let home = "";
  const createEngine: EngineFactory = (options) => {
    nick = options.nick;
    home = options.home;
    throw new HushError("CONNECT_FAILED", "refused");
  };
  assert.equal(await main([], { createEngine, io }), EXIT_FAILURE);
  assert.deepEqual(asked, ["Nick:", "Nick:"]);
  assert.equal(nick, "carol");
  assert.equal(home, "/home/test/.config/hush/carol");
  assert.match(err[0] ?? "", /^hush: error: Nick "bad nick" is not allowed/);
});

Deno.test("main() refuses to ask for a nick in JSON mode or without a terminal", async () => {
  for (const [args, terminal] of [[["--json"], true], [[], false]] as const) {
    const { io, err, asked } = fakeIo(["x"], terminal);
    assert.equal(await main(args, { createEngine: noEngine, io }), EXIT_USAGE);
    assert.deepEqual(asked, []);
    assert.deepEqual(err, ["hush: error: No nick given", "hush: hint: pass --nick NICK"]);
  }
});

Deno.test("errorLines() never shows a stack and adds hints where known", () => {
  assert.deepEqual(errorLines(new UsageError("Bad", { hint: "do this" })), [
    "hush: error: Bad",
    "hush: hint: do this",
  ]);
  assert.deepEqual(errorLines(new HushError("SOMETHING", "Went wrong")), [
    "hush: error: Went wrong",
  ]);
  assert.deepEqual(errorLines(new Error("first line.\n    at stack")), ["hush: error: first line"]);
  assert.match(
    errorLines(new Deno.errors.NotCapable("Requires net access"))[1] ?? "",
    /deno task client/,
  );
});
