/**
 * Issue 9, item 7: a `--store` relay checks its file at start. A damaged store (random bytes over
 * middle pages), a file that is not SQLite, and a 0-byte file Hush did not create are refused with
 * STORE_FAILED and a clear message, never with the `--allow-read` hint meant for permissions.
 * Real `server.ts` processes and real files.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loggedIn, relayTest, sleep, startServer } from "./_relay_harness.ts";

const SERVER = new URL("../../server.ts", import.meta.url).pathname;

/** Runs `server.ts` expecting it to exit; returns status and output. */
async function runServer(args: string[], dir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      SERVER,
      "--port",
      "0",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function perms(dir: string): string[] {
  return ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`];
}

relayTest("server.ts refuses a store whose middle pages were overwritten", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-integrity-" });
  const path = `${dir}/relay.sqlite`;
  try {
    // A real store with 40 messages queued for an offline bob.
    const server = await startServer(["--store", path], perms(dir));
    const bob = await loggedIn(server.tcp, "bob");
    bob.close();
    await sleep(50);
    const alice = await loggedIn(server.tcp, "alice");
    for (let i = 0; i < 40; i++) {
      await alice.sendEnvelope("bob", new Uint8Array(3000).fill(i));
    }
    await alice.nextWhere("accepted", (f) => f.count === 40, 10_000);
    alice.close();
    assert.equal((await server.stop("SIGTERM")).code, 0);
    const size = (await Deno.stat(path)).size;
    assert.ok(size > 40 * 4096, `store of ${size} bytes`);

    // Random bytes over pages in the middle of the file (page size 4096).
    const file = await Deno.open(path, { read: true, write: true });
    const pages = Math.floor(size / 4096);
    const junk = new Uint8Array(4096 * 6);
    crypto.getRandomValues(junk);
    await file.seek(Math.floor(pages / 2) * 4096, Deno.SeekMode.Start);
    await file.write(junk);
    file.close();

    const r = await runServer(["--store", path], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /listening/);
    assert.match(r.stderr, /^hush: error: /m);
    assert.match(r.stderr, /damaged/i);
    assert.match(r.stderr, /quick_check/);
    assert.doesNotMatch(r.stderr, /--allow-read/, "not a permission problem");
    assert.match(r.stderr, /hush: hint: .*backup/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

relayTest("server.ts refuses a 0-byte store file and a file that is not SQLite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-integrity-" });
  try {
    const empty = `${dir}/empty.sqlite`;
    await Deno.writeFile(empty, new Uint8Array(0));
    const r = await runServer(["--store", empty], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /0 bytes/);
    assert.match(r.stderr, /hush: hint: .*(remove|delete)/i);
    assert.doesNotMatch(r.stderr, /--allow-read/);
    assert.equal((await Deno.stat(empty)).size, 0, "the file is left as it was");

    const text = `${dir}/notes.txt`;
    await Deno.writeTextFile(text, "my notes, not a database\n".repeat(200));
    const t = await runServer(["--store", text], dir);
    assert.equal(t.code, 1, t.stdout + t.stderr);
    assert.match(t.stderr, /not a SQLite database/);
    assert.doesNotMatch(t.stderr, /--allow-read/);
    assert.equal(
      await Deno.readTextFile(text),
      "my notes, not a database\n".repeat(200),
      "the file is left as it was",
    );

    // A path that does not exist yet is a new store, as before.
    const fresh = `${dir}/new/relay.sqlite`;
    const server = await startServer(["--store", fresh], perms(dir));
    for (let i = 0; i < 100 && server.lines.length < 2; i++) await sleep(20);
    assert.ok(server.lines.some((l) => l.includes(`sqlite ${fresh}`)), server.lines.join("\n"));
    await server.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

relayTest("server.ts without --allow-write for its store keeps the permission hint", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-integrity-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", SERVER, "--port", "0", "--store", `${dir}/relay.sqlite`],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      signal: AbortSignal.timeout(20_000),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /hush: hint: --store needs --allow-read --allow-write/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
