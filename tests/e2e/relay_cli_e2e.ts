/**
 * `server.ts` flags as a user types them: `--tcp-port -1` / `off` (no TCP listener) and
 * `--log-file -` (the event log on the console).
 */
import assert from "node:assert/strict";
import { parseServerArgs } from "../../server.ts";
import { loggedIn, relayTest, sleep, startServer } from "./_relay_harness.ts";

const SERVER = new URL("../../server.ts", import.meta.url).pathname;

Deno.test("parseServerArgs: --tcp-port -1, --tcp-port=-1 and --tcp-port off mean no TCP", () => {
  assert.equal(parseServerArgs(["--tcp-port", "-1"])?.tcpPort, -1);
  assert.equal(parseServerArgs(["--tcp-port=-1"])?.tcpPort, -1);
  assert.equal(parseServerArgs(["--tcp-port", "off"])?.tcpPort, -1);
  assert.equal(parseServerArgs(["--tcp-port=off"])?.tcpPort, -1);
  assert.equal(parseServerArgs(["--port", "0", "--tcp-port", "-1"])?.tcpPort, -1);
  // The word is only for --tcp-port; a negative number elsewhere is parsed, then range-checked.
  assert.throws(() => parseServerArgs(["--port", "off"]), /Invalid --port "off"/);
  assert.equal(parseServerArgs(["--rate", "-5"])?.rate, -5);
});

for (const form of [["--tcp-port", "-1"], ["--tcp-port", "off"], ["--tcp-port=-1"]]) {
  relayTest(`server.ts ${form.join(" ")} listens on WebSocket only`, async () => {
    const server = await startServer(form);
    try {
      assert.equal(server.tcp, "");
      assert.match(server.lines[0]!, /^hush relay listening on ws:\/\/127\.0\.0\.1:\d+\/$/);
      const bob = await loggedIn(server.ws, "bob");
      bob.close();
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });
}

relayTest("server.ts --log-file - writes the event log to stdout and makes no file", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", `--allow-write=${dir}`, `--allow-read=${dir}`, SERVER]
      .concat(["--port", "0", "--log-file", "-"]),
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  let ended = false;
  const drained = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
    ended = true;
  })();
  const until = async (re: RegExp) => {
    for (let i = 0; i < 500 && !re.test(out) && !ended; i++) await sleep(20);
  };
  try {
    await until(/listening on (\S+)/);
    const ws = /listening on (\S+)/.exec(out)?.[1];
    assert.ok(ws, out);
    const alice = await loggedIn(ws, "alice");
    alice.close();
    await until(/ disconnect /);
  } finally {
    child.kill("SIGTERM");
  }
  await drained;
  await child.stderr.cancel();
  const status = await child.status;
  const files = [];
  for await (const entry of Deno.readDir(dir)) files.push(entry.name);
  await Deno.remove(dir, { recursive: true });
  assert.equal(status.code, 0);
  assert.deepEqual(files, []);
  for (const event of ["listen", "connect", "auth", "disconnect", "shutdown"]) {
    assert.match(out, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${event} `, "m"), event);
  }
  assert.match(out, /^hush relay listening on ws:/m);
  assert.match(out, /auth .*nick=alice/);
});
