/**
 * A second process holding a SQLite file's write lock, as an operator's `sqlite3` shell or a backup
 * would: for the locked-store tests.
 *
 * @module
 */

import assert from "node:assert/strict";

/**
 * Starts a process that opens `path` with node:sqlite, takes the write lock (`BEGIN EXCLUSIVE`),
 * prints `locked`, holds it for `holdMs` and then commits.
 */
export async function lockStore(path: string, holdMs: number): Promise<Deno.ChildProcess> {
  const code = `
    import { DatabaseSync } from "node:sqlite";
    const db = new DatabaseSync(${JSON.stringify(path)});
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("BEGIN EXCLUSIVE");
    console.log("locked");
    await new Promise((r) => setTimeout(r, ${holdMs}));
    db.exec("COMMIT");
    db.close();
    console.log("released");
  `;
  const dir = path.slice(0, path.lastIndexOf("/"));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", `--allow-read=${dir}`, `--allow-write=${dir}`, code],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (!text.includes("locked") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  assert.ok(text.includes("locked"), `the locker did not take the lock: ${text}`);
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch {
      // gone
    }
  })();
  return child;
}
