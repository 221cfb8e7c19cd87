import assert from "node:assert/strict";
import { HELP_TEXT } from "../../terminal/help.ts";
import { CLIENT_PERMISSIONS } from "../../terminal/child_client.ts";
import { WAIT_MS, withWorld } from "./_client_harness.ts";

const ROOT = new URL("../../", import.meta.url);

async function client(
  args: string[],
  stdin = "",
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CLIENT_PERMISSIONS, "client.ts", ...args],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, out: decoder.decode(stdout), err: decoder.decode(stderr) };
}

Deno.test("client.ts --help prints the help text and exits 0", async () => {
  const { code, out, err } = await client(["--help"]);
  assert.equal(code, 0);
  assert.equal(out, HELP_TEXT.trimEnd() + "\n");
  assert.equal(err, "");
});

Deno.test("client.ts reports usage errors in one line with a hint, exit 2, no stack", async () => {
  const { code, out, err } = await client(["--nick", "bob", "--server", "http://example"]);
  assert.equal(code, 2);
  assert.equal(out, "");
  assert.match(err, /^hush: error: Server "http:\/\/example" has an unsupported scheme/);
  assert.match(err, /\nhush: hint: /);
  assert.ok(!/\bat .*\.ts:\d+/.test(err), "no stack trace");
  const json = await client(["--json"]);
  assert.equal(json.code, 2);
  assert.equal(json.err, "hush: error: No nick given\nhush: hint: pass --nick NICK\n");
});

Deno.test("client.ts fingerprint prints the same fingerprint the relay session reports", async () => {
  await withWorld(async (world) => {
    const home = `${world.dir}/dana`;
    // No identity yet: said so, nothing created (issue 11; it used to create one silently).
    const none = await client(["fingerprint", "--nick", "dana", "--home", home]);
    assert.equal(none.code, 1, none.err);
    assert.equal(none.out, "");
    assert.match(none.err, /^hush: error: dana has no identity in .* yet\n/);
    assert.match(none.err, /hush: hint: the first chat session creates it .*fingerprint --create/);
    await assert.rejects(Deno.lstat(`${home}/identity`), Deno.errors.NotFound);
    const first = await client(["fingerprint", "--nick", "dana", "--home", home, "--create"]);
    assert.equal(first.code, 0, first.err);
    const fingerprint = /^dana: ([0-9a-f ]+)$/m.exec(first.out)?.[1];
    assert.ok(fingerprint, first.out);
    assert.match(first.out, /a new identity was created/);
    const again = await client(["fingerprint", "--nick", "dana", "--home", home]);
    assert.ok(again.out.includes(`dana: ${fingerprint}`));
    assert.ok(!again.out.includes("a new identity"));
    const dana = await world.client("dana");
    const ready = await dana.waitForType("ready", () => true, { timeoutMs: WAIT_MS });
    assert.equal(ready.fingerprint, fingerprint);
  });
});

Deno.test("client.ts --json turns a bad command into an error line and carries on", async () => {
  await withWorld(async (world) => {
    const bot = await world.client("bot");
    await bot.send("/jion dev");
    const error = await bot.waitForType("error", (e) => e.code === "BAD_COMMAND", {
      timeoutMs: WAIT_MS,
    });
    assert.match(error.message, /did you mean \/join\?/);
    await bot.send("/help");
    await bot.waitForType("info", (e) => e.message.includes("/verify NICK [NUMBER|WORDS]"), {
      timeoutMs: WAIT_MS,
    });
    assert.equal(await bot.end(), 0);
  });
});
