/**
 * A file home's per-key store (`ChatHome.openEntries`): one SQLite file `<name>.sqlite` in the
 * home directory (`node:sqlite`), owner-only (0600; SQLite gives its `-wal` and `-shm` files the
 * same mode), WAL journal with `synchronous = FULL`, one transaction per commit.
 *
 * Why FULL: a commit is what lets the engine acknowledge a delivery to the relay (which then
 * deletes it), so a commit must survive a power loss, not only a crash of the process. With WAL,
 * `NORMAL` would already survive a SIGKILL (a committed transaction is in the WAL, which the OS
 * keeps), but a power loss could roll back the last commits, whose messages the relay has
 * deleted: FULL syncs the WAL at every commit, as the snapshot file was synced before its rename.
 *
 * `secure_delete = ON`: the space of a deleted or replaced value (an old ratchet state, a used
 * skipped key) is zeroed in the file, not left in free pages (the WAL still holds recent page
 * versions until it is checkpointed and reused; see SECURITY.md).
 *
 * Table `entries(key, text, bytes, seq)`: one row per key, its value in `text` or `bytes`, and
 * `seq`, the number of the commit that last wrote it (table `meta`, row `commits`): which rows a
 * commit wrote can be seen afterwards (the tests measure that a save writes only what changed).
 *
 * Deno-only, loaded by `file_home.ts` on first use (`node:sqlite` is imported dynamically, so
 * the rest of the engine still loads in a browser).
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { crashPointForTest } from "./_crash_hook.ts";
import { ChatError } from "./errors.ts";
import type { EntryStore, EntryValue } from "./home.ts";

/** How long a commit waits for another connection's write lock (ms). */
const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  key TEXT PRIMARY KEY NOT NULL,
  text TEXT,
  bytes BLOB,
  seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
`;

type Row = Record<string, unknown>;

/** Runs a commit under the home's guard (the generation check, see `file_home.ts`). */
export type CommitGuard = (write: () => Promise<void>) => Promise<void>;

/** An {@linkcode EntryStore} in one SQLite file. */
export class SqliteEntryStore implements EntryStore {
  readonly path: string;
  #db: DatabaseSync;
  #guard: CommitGuard;
  #s: {
    all: StatementSync;
    put: StatementSync;
    del: StatementSync;
    seq: StatementSync;
    setSeq: StatementSync;
  };

  private constructor(path: string, db: DatabaseSync, guard: CommitGuard) {
    this.path = path;
    this.#db = db;
    this.#guard = guard;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      all: p("SELECT key, text, bytes FROM entries"),
      put: p(
        "INSERT INTO entries (key, text, bytes, seq) VALUES (?, ?, ?, ?) " +
          "ON CONFLICT (key) DO UPDATE SET text = excluded.text, bytes = excluded.bytes, " +
          "seq = excluded.seq",
      ),
      del: p("DELETE FROM entries WHERE key = ?"),
      seq: p("SELECT value FROM meta WHERE key = 'commits'"),
      setSeq: p("INSERT OR REPLACE INTO meta (key, value) VALUES ('commits', ?)"),
    };
  }

  /**
   * Opens (creating when missing, 0600) the store file.
   *
   * @param path The SQLite file path.
   * @param guard Runs each commit (the home's generation check).
   * @returns The store.
   * @throws {ChatError} `BAD_HOME` when the file cannot be opened or is not such a store.
   */
  static async open(path: string, guard: CommitGuard): Promise<SqliteEntryStore> {
    let db: DatabaseSync | undefined;
    try {
      const { DatabaseSync } = await import("node:sqlite");
      const file = await Deno.open(path, { create: true, write: true, mode: 0o600 });
      file.close();
      if (Deno.build.os !== "windows") {
        const info = await Deno.stat(path);
        if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(path, 0o600);
      }
      db = new DatabaseSync(path);
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;");
      db.exec(SCHEMA);
      return new SqliteEntryStore(path, db, guard);
    } catch (error) {
      try {
        db?.close();
      } catch {
        // closing what failed to open
      }
      throw new ChatError("BAD_HOME", `Cannot open the store "${path}": ${message(error)}`, {
        cause: error,
      });
    }
  }

  /** Whether the file is still open. */
  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  /**
   * Reads every entry.
   *
   * @returns Key to value.
   * @throws {ChatError} `BAD_HOME` when the file cannot be read, `CLOSED`.
   */
  load(): Promise<Map<string, EntryValue>> {
    this.#checkOpen();
    const out = new Map<string, EntryValue>();
    try {
      for (const row of this.#s.all.all() as Row[]) {
        const key = row.key;
        if (typeof key !== "string") throw new Error("a key that is not text");
        if (typeof row.text === "string") out.set(key, row.text);
        else if (row.bytes instanceof Uint8Array) out.set(key, new Uint8Array(row.bytes));
        else throw new Error(`entry "${key}" holds no value`);
      }
    } catch (error) {
      throw new ChatError("BAD_HOME", `Cannot read the store "${this.path}": ${message(error)}`, {
        cause: error,
      });
    }
    return Promise.resolve(out);
  }

  /**
   * Applies the changes in one transaction, under the home's guard.
   *
   * @param changes Key to value; undefined deletes.
   * @returns Once committed (synced).
   * @throws {ChatError} `BAD_HOME` when the commit fails (nothing of it is kept), the guard's
   *   errors (`HOME_TAKEN_OVER`, `CLOSED`).
   */
  async commit(changes: ReadonlyMap<string, EntryValue | undefined>): Promise<void> {
    if (changes.size === 0) return;
    await this.#guard(() => {
      this.#checkOpen();
      this.#commitNow(changes);
      return Promise.resolve();
    });
  }

  #commitNow(changes: ReadonlyMap<string, EntryValue | undefined>): void {
    const crashAt = crashKeyForTest();
    let open = false;
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      open = true;
      const last = this.#s.seq.get() as Row | undefined;
      const seq = (typeof last?.value === "number" ? last.value : Number(last?.value ?? 0)) + 1;
      this.#s.setSeq.run(seq);
      for (const [key, value] of changes) {
        if (value === undefined) this.#s.del.run(key);
        else if (typeof value === "string") this.#s.put.run(key, value, null, seq);
        else this.#s.put.run(key, null, value, seq);
      }
      // Test-only: die in the middle of the commit (every row written, COMMIT not run).
      if (crashAt !== undefined && changes.has(crashAt)) Deno.exit(137);
      this.#db.exec("COMMIT");
      open = false;
    } catch (error) {
      if (open) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {
          // SQLite may have rolled back already.
        }
      }
      throw new ChatError("BAD_HOME", `Cannot write the store "${this.path}": ${message(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Closes the file (idempotent); later calls are refused with `CLOSED`.
   *
   * @returns When closed.
   */
  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }

  #checkOpen(): void {
    if (!this.#db.isOpen) throw new ChatError("CLOSED", `The store "${this.path}" is closed`);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The key of the test-only `commit:<key>` crash hook (`_crash_hook.ts`), if asked for. */
function crashKeyForTest(): string | undefined {
  const wanted = crashPointForTest();
  return wanted?.startsWith("commit:") ? wanted.slice("commit:".length) : undefined;
}
