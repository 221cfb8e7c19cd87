/**
 * A persistent {@link Store} in one SQLite file (`node:sqlite`, `DatabaseSync`).
 *
 * Tables: `bindings(nick PRIMARY KEY, identity_key)`, `members(room, nick)`,
 * `envelopes(id PRIMARY KEY, frame BLOB, enqueued_at)` (each queued frame once, however many
 * recipients it has), `deliveries(nick, id, envelope) WITHOUT ROWID` (one small row per queued
 * delivery: the store id, store-wide increasing, and its frame), the view `queue(id, nick, frame,
 * enqueued_at)` of both, `bundles(nick PRIMARY KEY, ...)`, `prekeys(nick, id, key)`,
 * `meta(key PRIMARY KEY, value)` (`epoch`: the 8-byte storage epoch announced in READY). A room
 * envelope for 49 members is one `envelopes` row and 49 rows of a few bytes, not 49 copies.
 *
 * Durability: WAL journal with `synchronous = NORMAL` by default: a commit is in the WAL file
 * when `commit()` returns, so a killed relay (SIGKILL, a crash) loses nothing committed; a power
 * loss or kernel crash may lose the last commits before a checkpoint. `synchronous: "full"`
 * (`--store-sync full`) syncs the WAL at every commit: power-loss safe, slower. Writes are grouped:
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
CREATE TABLE IF NOT EXISTS envelopes (
  id INTEGER PRIMARY KEY, frame BLOB NOT NULL, enqueued_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
  nick TEXT NOT NULL, id INTEGER NOT NULL, envelope INTEGER NOT NULL,
  PRIMARY KEY (nick, id)) WITHOUT ROWID;
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

/** Whether two byte arrays hold the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * How long a write waits for a lock held by another process (ms) before it fails with
   * `STORE_FAILED` (SQLite `busy_timeout`; default {@link DEFAULT_BUSY_TIMEOUT_MS}).
   */
  busyTimeoutMs?: number;
  /**
   * SQLite `synchronous`: `normal` (default; nothing committed is lost when the relay process
   * dies, the last commits may be lost on power loss) or `full` (the WAL is synced at every
   * commit: power-loss safe).
   */
  synchronous?: "normal" | "full";
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
  /** The next store id (of a delivery or an envelope): above every one in the file. */
  #nextId = 1;
  /** Deliveries still pointing at each envelope (an envelope goes with its last delivery). */
  #refs = new Map<number, number>();
  /** Frame length of each envelope. */
  #sizes = new Map<number, number>();
  /** The last frame enqueued in the open transaction and its envelope: the next recipients share it. */
  #shareFrame: Uint8Array | null = null;
  #shareCopy: Uint8Array = new Uint8Array(0);
  #shareAt = 0;
  #shareEnvelope = 0;
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
      const sync = options.synchronous === "full" ? "FULL" : "NORMAL";
      this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${sync};`);
      this.#db.exec(SCHEMA);
      this.#migrate();
      this.#loadEnvelopes();
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
      queuedOf: p(
        "SELECT d.id, e.frame, e.enqueued_at FROM deliveries d JOIN envelopes e ON e.id = d.envelope WHERE d.nick = ? ORDER BY d.id",
      ),
      dropQueue: p("DELETE FROM deliveries WHERE nick = ? RETURNING envelope"),
      queuedFor: p(
        "SELECT d.id, d.nick, e.frame, e.enqueued_at FROM deliveries d JOIN envelopes e ON e.id = d.envelope WHERE d.nick IN (SELECT value FROM json_each(?)) AND d.id > ? ORDER BY d.id LIMIT ?",
      ),
      members: p("SELECT room, nick FROM members"),
      addMember: p("INSERT OR IGNORE INTO members (room, nick) VALUES (?, ?)"),
      removeMember: p("DELETE FROM members WHERE room = ? AND nick = ?"),
      putEnvelope: p("INSERT INTO envelopes (id, frame, enqueued_at) VALUES (?, ?, ?)"),
      dropEnvelope: p("DELETE FROM envelopes WHERE id = ?"),
      enqueue: p("INSERT INTO deliveries (nick, id, envelope) VALUES (?, ?, ?)"),
      queued: p(
        "SELECT d.id, e.frame, e.enqueued_at FROM deliveries d JOIN envelopes e ON e.id = d.envelope WHERE d.nick = ? AND d.id > ? ORDER BY d.id LIMIT ?",
      ),
      deleteThrough: p("DELETE FROM deliveries WHERE nick = ? AND id <= ? RETURNING envelope"),
      deleteBefore: p(
        "DELETE FROM deliveries WHERE envelope IN (SELECT id FROM envelopes WHERE enqueued_at < ?) RETURNING envelope",
      ),
      queuedBefore: p(
        "SELECT d.id, d.nick, e.frame, e.enqueued_at FROM deliveries d JOIN envelopes e ON e.id = d.envelope WHERE e.enqueued_at < ? AND d.id > ? ORDER BY d.id LIMIT ?",
      ),
      deleteId: p("DELETE FROM deliveries WHERE id = ? RETURNING envelope"),
      deleteNickId: p("DELETE FROM deliveries WHERE nick = ? AND id = ? RETURNING envelope"),
      stats: p(
        "SELECT d.nick, count(*) AS n, sum(length(e.frame)) AS b FROM deliveries d JOIN envelopes e ON e.id = d.envelope GROUP BY d.nick",
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
    // Before envelopes/deliveries, a table `queue(id, nick, frame, enqueued_at)` held one copy of
    // the frame per recipient: move its rows over (ids kept), then `queue` becomes a view.
    const old = this.#db.prepare(
      "SELECT type FROM sqlite_schema WHERE name = 'queue'",
    ).get() as Row | undefined;
    if (old?.type === "table") {
      this.#db.exec(`BEGIN IMMEDIATE;
        INSERT INTO envelopes (id, frame, enqueued_at) SELECT id, frame, enqueued_at FROM queue;
        INSERT INTO deliveries (nick, id, envelope) SELECT nick, id, id FROM queue;
        DROP TABLE queue;
        COMMIT;`);
    }
    if (old?.type !== "view") {
      this.#db.exec(`CREATE VIEW IF NOT EXISTS queue AS
        SELECT d.id AS id, d.nick AS nick, e.frame AS frame, e.enqueued_at AS enqueued_at
        FROM deliveries d JOIN envelopes e ON e.id = d.envelope`);
    }
  }

  /**
   * Reads what the envelopes' bookkeeping needs (deliveries per envelope, frame sizes, the next
   * id) and drops envelopes no delivery points at. Also after a rollback: the file is the truth.
   */
  #loadEnvelopes(): void {
    this.#refs.clear();
    this.#sizes.clear();
    this.#shareFrame = null;
    let max = 0;
    for (const r of this.#db.prepare("SELECT id, length(frame) AS n FROM envelopes").all() as Row[]) {
      this.#sizes.set(Number(r.id), Number(r.n));
      if (Number(r.id) > max) max = Number(r.id);
    }
    const counts = this.#db.prepare(
      "SELECT envelope, count(*) AS n, max(id) AS top FROM deliveries GROUP BY envelope",
    ).all() as Row[];
    for (const r of counts) {
      this.#refs.set(Number(r.envelope), Number(r.n));
      if (Number(r.top) > max) max = Number(r.top);
    }
    if (max + 1 > this.#nextId) this.#nextId = max + 1;
    const orphans = [...this.#sizes.keys()].filter((id) => !this.#refs.has(id));
    if (orphans.length > 0) {
      const drop = this.#db.prepare("DELETE FROM envelopes WHERE id = ?");
      const own = !this.#db.isTransaction;
      if (own) this.#db.exec("BEGIN IMMEDIATE");
      for (const id of orphans) {
        drop.run(id);
        this.#sizes.delete(id);
      }
      if (own) this.#db.exec("COMMIT");
    }
  }

  /** One delivery of an envelope gone: the envelope goes with its last one. Returns its size. */
  #release(envelope: number): number {
    const size = this.#sizes.get(envelope) ?? 0;
    const left = (this.#refs.get(envelope) ?? 1) - 1;
    if (left > 0) {
      this.#refs.set(envelope, left);
      return size;
    }
    this.#refs.delete(envelope);
    this.#sizes.delete(envelope);
    if (this.#shareEnvelope === envelope) this.#shareFrame = null;
    this.#s.dropEnvelope!.run(envelope);
    return size;
  }

  /** Releases the envelopes of deleted deliveries (RETURNING envelope rows); their count and bytes. */
  #releaseAll(rows: Row[]): QueueStats {
    let bytes = 0;
    for (const r of rows) bytes += this.#release(Number(r.envelope));
    return { count: rows.length, bytes };
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
      this.#afterRollback();
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
    this.#shareFrame = null;
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
      this.#afterRollback();
      throw storeFailed("write the store", cause);
    }
  }

  /** After a rollback the envelopes' counts are read back from the file (best effort). */
  #afterRollback(): void {
    this.#shareFrame = null;
    try {
      this.#loadEnvelopes();
    } catch {
      // The file is failing: the next successful turn reads them again.
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
      this.#releaseAll(this.#s.dropQueue!.all(nick) as Row[]);
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
    return this.#write(() => {
      const at = Math.floor(enqueuedAt);
      const id = this.#nextId++;
      let envelope = this.#shareEnvelope;
      // The same frame (same object, same bytes) for the next recipient in the same turn (a room
      // SEND): one stored copy. A new envelope takes the id of its first delivery.
      if (
        frame !== this.#shareFrame || at !== this.#shareAt || !this.#refs.has(envelope) ||
        !sameBytes(frame, this.#shareCopy)
      ) {
        envelope = id;
        this.#s.putEnvelope!.run(envelope, frame, at);
        this.#sizes.set(envelope, frame.length);
        this.#refs.set(envelope, 0);
        this.#shareFrame = frame;
        this.#shareCopy = frame.slice();
        this.#shareAt = at;
        this.#shareEnvelope = envelope;
      }
      this.#s.enqueue!.run(nick, id, envelope);
      this.#refs.set(envelope, this.#refs.get(envelope)! + 1);
      return id;
    });
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
    return this.atomically(() => this.#releaseAll(this.#s.deleteThrough!.all(nick, id) as Row[]));
  }
  queuedBefore(cutoff: number, afterId: number, limit: number): HeldEnvelope[] {
    return (this.#s.queuedBefore!.all(Math.floor(cutoff), afterId, limit) as Row[]).map((r) => ({
      id: Number(r.id),
      nick: String(r.nick),
      frame: bytes(r.frame),
      enqueuedAt: Number(r.enqueued_at),
    }));
  }
  deleteQueuedId(id: number, nick?: string): void {
    this.atomically(() =>
      this.#releaseAll(
        (nick === undefined
          ? this.#s.deleteId!.all(id)
          : this.#s.deleteNickId!.all(nick, id)) as Row[],
      )
    );
  }
  deleteQueuedBefore(cutoff: number): number {
    return this.atomically(() =>
      this.#releaseAll(this.#s.deleteBefore!.all(Math.floor(cutoff)) as Row[]).count
    );
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
