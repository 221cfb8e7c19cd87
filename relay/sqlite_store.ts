/**
 * A persistent {@link Store} in one SQLite file (`node:sqlite`, `DatabaseSync`).
 *
 * Tables: `bindings(nick PRIMARY KEY, identity_key)`, `members(room, nick)`,
 * `queue(id INTEGER PRIMARY KEY AUTOINCREMENT, nick, frame BLOB, enqueued_at)`,
 * `bundles(nick PRIMARY KEY, ...)`, `prekeys(nick, id, key)`, `meta(key PRIMARY KEY, value)`
 * (`epoch`: the 8-byte storage epoch announced in READY). WAL journal. Writes are grouped:
 * the first write of a turn of the event loop opens a transaction, committed by
 * {@linkcode SqliteStore.commit} (which the relay calls before an ACCEPTED leaves) or, at the
 * latest, in a microtask queued when it opened. A store call that must be atomic runs in a
 * savepoint of it.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { randomBytes } from "../crypto/random.ts";
import { EPOCH_BYTES, type OneTimePrekey, type SignedBundle } from "../protocol/mod.ts";
import { RelayError } from "./errors.ts";
import type { HeldEnvelope, QueuedEnvelope, QueueStats, Store } from "./store.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bindings (
  nick TEXT PRIMARY KEY, identity_key BLOB NOT NULL, last_used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS members (room TEXT NOT NULL, nick TEXT NOT NULL, PRIMARY KEY (room, nick));
CREATE TABLE IF NOT EXISTS queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT, nick TEXT NOT NULL, frame BLOB NOT NULL,
  enqueued_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS queue_nick ON queue (nick, id);
CREATE TABLE IF NOT EXISTS bundles (
  nick TEXT PRIMARY KEY, identity_dh_key BLOB NOT NULL, identity_dh_signature BLOB NOT NULL,
  signed_prekey_id INTEGER NOT NULL, signed_prekey BLOB NOT NULL,
  signed_prekey_signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS prekeys (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, nick TEXT NOT NULL, id INTEGER NOT NULL,
  key BLOB NOT NULL, UNIQUE (nick, id));
`;

type Row = Record<string, unknown>;

function bytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(0);
}

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * How long a write waits for a lock held by another process (ms) before it fails with
   * `STORE_FAILED` (SQLite `busy_timeout`; default {@link DEFAULT_BUSY_TIMEOUT_MS}).
   */
  busyTimeoutMs?: number;
}

/** Default wait for a locked store file, in milliseconds. */
export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

/** Wraps what SQLite threw in a `STORE_FAILED` error (a RelayError passes through). */
function storeFailed(what: string, cause: unknown): RelayError {
  if (cause instanceof RelayError) return cause;
  return new RelayError(
    "STORE_FAILED",
    `Cannot ${what}: ${cause instanceof Error ? cause.message : cause}`,
    { cause },
  );
}

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = "SQLite format 3\0";

/** Whether a --store error was a missing permission (then the flags are the hint). */
function isPermissionError(cause: unknown): boolean {
  return cause instanceof Deno.errors.NotCapable || cause instanceof Deno.errors.PermissionDenied;
}

/** A store that cannot be opened: the permission hint only when permissions are the cause. */
function openFailed(path: string, cause: unknown): RelayError {
  const text = cause instanceof Error ? cause.message : String(cause);
  if (isPermissionError(cause)) {
    return new RelayError("STORE_FAILED", `Cannot open store "${path}": ${text}`, {
      cause,
      hint: "--store needs --allow-read --allow-write",
    });
  }
  return new RelayError("STORE_FAILED", `Cannot open store "${path}": ${text}`, { cause });
}

/** A store that fails its integrity check. */
function damaged(path: string, what: string, cause?: unknown): RelayError {
  return new RelayError("STORE_FAILED", `Store "${path}" is damaged (${what})`, {
    ...(cause === undefined ? {} : { cause }),
    hint: "restore the file from a backup, or move it away to start with an empty store " +
      "(what was queued in it is then lost); the relay does not start on a damaged store",
  });
}

/**
 * Checks what is at a --store path before SQLite opens it: nothing (a new store: false), or a
 * non-empty file that starts like a SQLite database (true). A 0-byte file or any other file is
 * refused and left as it is: the operator named a path Hush did not create.
 *
 * @throws {RelayError} `STORE_FAILED` with a hint.
 */
function checkStoreFile(path: string): boolean {
  let size: number;
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) {
      throw new RelayError("STORE_FAILED", `Store "${path}" is not a file`, {
        hint: "--store names a file (created when missing), not a folder",
      });
    }
    size = info.size;
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) return false;
    if (cause instanceof RelayError) throw cause;
    throw openFailed(path, cause);
  }
  if (size === 0) {
    throw new RelayError(
      "STORE_FAILED",
      `Store "${path}" is an empty file (0 bytes) that Hush did not create`,
      {
        hint: "Hush creates its store where no file exists: remove the empty file if it is " +
          "yours to remove, or name another path with --store",
      },
    );
  }
  let head = "";
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      const buf = new Uint8Array(16);
      const n = file.readSync(buf) ?? 0;
      head = String.fromCharCode(...buf.subarray(0, n));
    } finally {
      file.close();
    }
  } catch (cause) {
    throw openFailed(path, cause);
  }
  if (head !== SQLITE_HEADER) {
    throw new RelayError("STORE_FAILED", `Store "${path}" is not a SQLite database`, {
      hint: "--store names the relay's own SQLite file: check the path (Hush never overwrites " +
        "another file)",
    });
  }
  return true;
}

/** A {@link Store} in a SQLite file; used with `--store PATH`. */
export class SqliteStore implements Store {
  readonly description: string;
  readonly persistent = true;
  readonly epoch: Uint8Array;
  #db: DatabaseSync;
  #s: Record<string, StatementSync>;
  /** Whether the turn's write transaction is open. */
  #open = false;
  /** Set when opening a transaction failed: the rest of the turn fails fast (no second wait). */
  #failedTurn = false;
  onPending: (() => void) | undefined = undefined;

  /**
   * Opens (creating if needed) the database at `path`.
   *
   * @param path File path (`:memory:` for tests).
   * @param options Busy timeout.
   * @throws {RelayError} `STORE_FAILED` if the file cannot be opened or is not a Hush store.
   */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.description = `sqlite ${path}`;
    const existed = path !== ":memory:" && checkStoreFile(path);
    try {
      const slash = path.lastIndexOf("/");
      if (path !== ":memory:" && !existed) {
        // Owner only: the folder (when the relay creates it) 0700, the file 0600 (its -wal and
        // -shm files take the file's mode).
        if (slash > 0) {
          const dir = path.slice(0, slash);
          let made = false;
          try {
            Deno.statSync(dir);
          } catch {
            made = true;
          }
          Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
          if (made) ownerOnly(dir, 0o700);
        }
        Deno.openSync(path, { create: true, write: true, mode: 0o600 }).close();
        ownerOnly(path, 0o600);
      }
      this.#db = new DatabaseSync(path);
      const busy = Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
      this.#db.exec(`PRAGMA busy_timeout = ${busy}`);
    } catch (cause) {
      throw openFailed(path, cause);
    }
    if (existed) this.#checkIntegrity(path);
    try {
      this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
      this.#db.exec(SCHEMA);
      this.#migrate();
      this.epoch = this.#loadEpoch();
    } catch (cause) {
      this.#db.close();
      throw openFailed(path, cause);
    }
    const p = (sql: string) => this.#db.prepare(sql);
    this.#s = {
      bindings: p("SELECT nick, identity_key FROM bindings"),
      bind: p(
        "INSERT OR REPLACE INTO bindings (nick, identity_key, last_used) VALUES (?, ?, ?)",
      ),
      touch: p("UPDATE bindings SET last_used = ? WHERE nick = ?"),
      unused: p("SELECT nick FROM bindings WHERE last_used < ?"),
      lastUsed: p("SELECT last_used FROM bindings WHERE nick = ?"),
      unbind: p("DELETE FROM bindings WHERE nick = ?"),
      leaveAll: p("DELETE FROM members WHERE nick = ?"),
      dropBundle: p("DELETE FROM bundles WHERE nick = ?"),
      queuedOf: p("SELECT id, frame, enqueued_at FROM queue WHERE nick = ? ORDER BY id"),
      dropQueue: p("DELETE FROM queue WHERE nick = ?"),
      queuedFor: p(
        "SELECT id, nick, frame, enqueued_at FROM queue WHERE nick IN (SELECT value FROM json_each(?)) AND id > ? ORDER BY id LIMIT ?",
      ),
      members: p("SELECT room, nick FROM members"),
      addMember: p("INSERT OR IGNORE INTO members (room, nick) VALUES (?, ?)"),
      removeMember: p("DELETE FROM members WHERE room = ? AND nick = ?"),
      enqueue: p("INSERT INTO queue (nick, frame, enqueued_at) VALUES (?, ?, ?)"),
      queued: p(
        "SELECT id, frame, enqueued_at FROM queue WHERE nick = ? AND id > ? ORDER BY id LIMIT ?",
      ),
      statsThrough: p(
        "SELECT count(*) AS n, coalesce(sum(length(frame)), 0) AS b FROM queue WHERE nick = ? AND id <= ?",
      ),
      deleteThrough: p("DELETE FROM queue WHERE nick = ? AND id <= ?"),
      deleteBefore: p("DELETE FROM queue WHERE enqueued_at < ?"),
      queuedBefore: p(
        "SELECT id, nick, frame, enqueued_at FROM queue WHERE enqueued_at < ? AND id > ? ORDER BY id LIMIT ?",
      ),
      deleteId: p("DELETE FROM queue WHERE id = ?"),
      stats: p(
        "SELECT nick, count(*) AS n, sum(length(frame)) AS b FROM queue GROUP BY nick",
      ),
      putBundle: p(
        "INSERT OR REPLACE INTO bundles VALUES (?, ?, ?, ?, ?, ?)",
      ),
      getBundle: p("SELECT * FROM bundles WHERE nick = ?"),
      clearPrekeys: p("DELETE FROM prekeys WHERE nick = ?"),
      addPrekey: p("INSERT OR REPLACE INTO prekeys (nick, id, key) VALUES (?, ?, ?)"),
      firstPrekey: p("SELECT seq, id, key FROM prekeys WHERE nick = ? ORDER BY seq LIMIT 1"),
      deletePrekey: p("DELETE FROM prekeys WHERE seq = ?"),
      dropPrekey: p("DELETE FROM prekeys WHERE nick = ? AND id = ?"),
      countPrekeys: p("SELECT count(*) AS n FROM prekeys WHERE nick = ?"),
    };
  }

  /**
   * `PRAGMA quick_check` of a file that existed, and a look at its tables: a damaged file, or a
   * SQLite database of some other program, is refused (and left as it is).
   */
  #checkIntegrity(path: string): void {
    let problems: string[];
    let tables: string[];
    try {
      problems = (this.#db.prepare("PRAGMA quick_check(8)").all() as Row[])
        .map((r) => String(Object.values(r)[0]));
      tables =
        (this.#db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Row[])
          .map((r) => String(r.name));
    } catch (cause) {
      this.#db.close();
      throw damaged(
        path,
        `quick_check failed: ${cause instanceof Error ? cause.message : cause}`,
        cause,
      );
    }
    if (problems.length !== 1 || problems[0] !== "ok") {
      this.#db.close();
      throw damaged(path, `PRAGMA quick_check found: ${problems.join("; ").slice(0, 600)}`);
    }
    const foreign = tables.filter((t) => !t.startsWith("sqlite_"));
    if (foreign.length > 0 && !foreign.includes("bindings")) {
      this.#db.close();
      throw new RelayError(
        "STORE_FAILED",
        `Store "${path}" is a SQLite database of another program (tables ${
          foreign.slice(0, 5).join(", ")
        })`,
        {
          hint:
            "--store names the relay's own file: check the path (Hush never changes another database)",
        },
      );
    }
  }

  /**
   * A store written by an older relay has no `bindings.last_used`: add it, and count its
   * bindings as used now (they get a full --nick-ttl from the upgrade).
   */
  #migrate(): void {
    const columns = (this.#db.prepare("PRAGMA table_info(bindings)").all() as Row[])
      .map((r) => String(r.name));
    if (!columns.includes("last_used")) {
      this.#db.exec("ALTER TABLE bindings ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0");
    }
    this.#db.prepare("UPDATE bindings SET last_used = ? WHERE last_used = 0").run(Date.now());
  }

  /** The epoch kept in `meta`; a store without one (a new file) gets a random one now. */
  #loadEpoch(): Uint8Array {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as
      | Row
      | undefined;
    const stored = bytes(row?.value);
    if (stored.length === EPOCH_BYTES) return stored;
    const epoch = randomBytes(EPOCH_BYTES);
    this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch', ?)").run(epoch);
    return epoch;
  }

  get pending(): boolean {
    return this.#open;
  }

  /**
   * Opens the turn's transaction if none is open. `BEGIN IMMEDIATE` takes the write lock at once
   * (waiting up to the busy timeout), so a locked file fails here, before anything is written.
   *
   * @throws {RelayError} `STORE_FAILED` when the lock cannot be had, or the open transaction was
   *   rolled back by SQLite itself (then the turn's earlier writes are gone: the commit fails too).
   */
  #begin(): void {
    if (this.#open) {
      if (this.#db.isTransaction) return;
      throw new RelayError(
        "STORE_FAILED",
        "Cannot write the store: the transaction was rolled back",
      );
    }
    if (this.#failedTurn) {
      throw new RelayError("STORE_FAILED", "Cannot write the store: it is locked or failing");
    }
    try {
      this.#db.exec("BEGIN IMMEDIATE");
    } catch (cause) {
      this.#failedTurn = true;
      setTimeout(() => this.#failedTurn = false, 0);
      throw storeFailed("write the store", cause);
    }
    this.#open = true;
    if (this.onPending !== undefined) this.onPending();
    else queueMicrotask(() => this.commit());
  }

  /** Runs `fn` in a savepoint of the turn's transaction; SQLite errors become STORE_FAILED. */
  atomically<T>(fn: () => T): T {
    this.#begin();
    try {
      this.#db.exec("SAVEPOINT op");
    } catch (cause) {
      throw storeFailed("write the store", cause);
    }
    try {
      const out = fn();
      this.#db.exec("RELEASE op");
      return out;
    } catch (e) {
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK TO op");
          this.#db.exec("RELEASE op");
        } catch {
          // The commit reports it.
        }
      }
      throw storeFailed("write the store", e);
    }
  }

  /** One write statement in the turn's transaction; SQLite errors become STORE_FAILED. */
  #write<T>(fn: () => T): T {
    this.#begin();
    try {
      return fn();
    } catch (cause) {
      throw storeFailed("write the store", cause);
    }
  }

  /**
   * Commits the turn's transaction. On failure the transaction is rolled back: nothing the turn
   * wrote is kept.
   *
   * @throws {RelayError} `STORE_FAILED` when SQLite cannot commit (locked, disk full, file removed).
   */
  commit(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      if (!this.#db.isTransaction) throw new Error("the transaction was rolled back");
      this.execCommit();
    } catch (cause) {
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {
          // nothing more to undo
        }
      }
      throw storeFailed("write the store", cause);
    }
  }

  /** Runs `COMMIT` (a seam for tests that inject a failing commit). */
  protected execCommit(): void {
    this.#db.exec("COMMIT");
  }

  bindings(): [string, Uint8Array][] {
    return (this.#s.bindings!.all() as Row[]).map((r) => [String(r.nick), bytes(r.identity_key)]);
  }
  bindNick(nick: string, identityKey: Uint8Array): void {
    this.#write(() => this.#s.bind!.run(nick, identityKey, Date.now()));
  }
  touchNick(nick: string, at: number): void {
    this.#write(() => this.#s.touch!.run(Math.floor(at), nick));
  }
  nickLastUsed(nick: string): number {
    const row = this.#s.lastUsed!.get(nick) as Row | undefined;
    return row === undefined ? 0 : Number(row.last_used);
  }
  nicksUnusedSince(cutoff: number): string[] {
    return (this.#s.unused!.all(Math.floor(cutoff)) as Row[]).map((r) => String(r.nick));
  }
  releaseNick(nick: string): HeldEnvelope[] {
    return this.atomically(() => {
      const held = (this.#s.queuedOf!.all(nick) as Row[]).map((r) => ({
        id: Number(r.id),
        nick,
        frame: bytes(r.frame),
        enqueuedAt: Number(r.enqueued_at),
      }));
      this.#s.dropQueue!.run(nick);
      this.#s.unbind!.run(nick);
      this.#s.leaveAll!.run(nick);
      this.#s.dropBundle!.run(nick);
      this.#s.clearPrekeys!.run(nick);
      return held;
    });
  }
  memberships(): [string, string][] {
    return (this.#s.members!.all() as Row[]).map((r) => [String(r.room), String(r.nick)]);
  }
  addMember(room: string, nick: string): void {
    this.#write(() => this.#s.addMember!.run(room, nick));
  }
  removeMember(room: string, nick: string): void {
    this.#write(() => this.#s.removeMember!.run(room, nick));
  }
  enqueue(nick: string, frame: Uint8Array, enqueuedAt: number): number {
    return this.#write(() =>
      Number(this.#s.enqueue!.run(nick, frame, Math.floor(enqueuedAt)).lastInsertRowid)
    );
  }
  queuedFor(nicks: readonly string[], afterId: number, limit: number): HeldEnvelope[] {
    return (this.#s.queuedFor!.all(JSON.stringify(nicks), afterId, limit) as Row[]).map((r) => ({
      id: Number(r.id),
      nick: String(r.nick),
      frame: bytes(r.frame),
      enqueuedAt: Number(r.enqueued_at),
    }));
  }
  queued(nick: string, afterId: number, limit: number): QueuedEnvelope[] {
    return (this.#s.queued!.all(nick, afterId, limit) as Row[]).map((r) => ({
      id: Number(r.id),
      frame: bytes(r.frame),
      enqueuedAt: Number(r.enqueued_at),
    }));
  }
  deleteQueuedThrough(nick: string, id: number): QueueStats {
    return this.atomically(() => {
      const r = this.#s.statsThrough!.get(nick, id) as Row;
      this.#s.deleteThrough!.run(nick, id);
      return { count: Number(r.n), bytes: Number(r.b) };
    });
  }
  queuedBefore(cutoff: number, afterId: number, limit: number): HeldEnvelope[] {
    return (this.#s.queuedBefore!.all(Math.floor(cutoff), afterId, limit) as Row[]).map((r) => ({
      id: Number(r.id),
      nick: String(r.nick),
      frame: bytes(r.frame),
      enqueuedAt: Number(r.enqueued_at),
    }));
  }
  deleteQueuedId(id: number): void {
    this.#write(() => this.#s.deleteId!.run(id));
  }
  deleteQueuedBefore(cutoff: number): number {
    return this.#write(() => Number(this.#s.deleteBefore!.run(Math.floor(cutoff)).changes));
  }
  queueStats(): Map<string, QueueStats> {
    const out = new Map<string, QueueStats>();
    for (const r of this.#s.stats!.all() as Row[]) {
      out.set(String(r.nick), { count: Number(r.n), bytes: Number(r.b) });
    }
    return out;
  }
  putBundle(nick: string, b: SignedBundle): void {
    this.#write(() =>
      this.#s.putBundle!.run(
        nick,
        b.identityDhKey,
        b.identityDhSignature,
        b.signedPrekeyId,
        b.signedPrekey,
        b.signedPrekeySignature,
      )
    );
  }
  getBundle(nick: string): SignedBundle | undefined {
    const r = this.#s.getBundle!.get(nick) as Row | undefined;
    if (r === undefined) return undefined;
    return {
      identityDhKey: bytes(r.identity_dh_key),
      identityDhSignature: bytes(r.identity_dh_signature),
      signedPrekeyId: Number(r.signed_prekey_id),
      signedPrekey: bytes(r.signed_prekey),
      signedPrekeySignature: bytes(r.signed_prekey_signature),
    };
  }
  addOneTimePrekeys(nick: string, keys: OneTimePrekey[], replace: boolean): void {
    this.atomically(() => {
      if (replace) this.#s.clearPrekeys!.run(nick);
      for (const k of keys) this.#s.addPrekey!.run(nick, k.id, k.key);
    });
  }
  takeOneTimePrekey(nick: string): OneTimePrekey | undefined {
    return this.atomically(() => {
      const r = this.#s.firstPrekey!.get(nick) as Row | undefined;
      if (r === undefined) return undefined;
      this.#s.deletePrekey!.run(Number(r.seq));
      return { id: Number(r.id), key: bytes(r.key) };
    });
  }
  dropOneTimePrekey(nick: string, id: number): void {
    this.#write(() => this.#s.dropPrekey!.run(nick, id));
  }
  countOneTimePrekeys(nick: string): number {
    return Number((this.#s.countPrekeys!.get(nick) as Row).n);
  }
  close(): void {
    if (!this.#db.isOpen) return;
    this.commit();
    this.#db.close();
  }
}

/** Sets a mode where the platform has them (not on Windows). */
function ownerOnly(path: string, mode: number): void {
  if (Deno.build.os === "windows") return;
  Deno.chmodSync(path, mode);
}
