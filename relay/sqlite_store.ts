/**
 * A persistent {@link Store} in one SQLite file (`node:sqlite`, `DatabaseSync`).
 *
 * Tables: `bindings(nick PRIMARY KEY, identity_key)`, `members(room, nick)`,
 * `envelopes(id PRIMARY KEY, frame BLOB, enqueued_at, recipients)` (each accepted envelope once,
 * with the JSON list of the nicks whose queues hold it), `cursors(nick PRIMARY KEY, acked)` (every
 * envelope of a nick with id up to `acked` is gone from its queue: an ACK is one small row), the
 * view `queue(id, nick, frame, enqueued_at)` of what the queues hold, `bundles(nick PRIMARY KEY,
 * ...)`, `prekeys(nick, id, key)`, `meta(key PRIMARY KEY, value)` (`epoch`: the 8-byte storage
 * epoch announced in READY). A room envelope for 49 members is one row written and, once every
 * member acked it, one row deleted. The queues' index (ids, sizes, times; not the frames) is kept
 * in memory too, read from the file at open and after a rollback: about 100 bytes per queued
 * delivery.
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
  id INTEGER PRIMARY KEY, frame BLOB NOT NULL, enqueued_at INTEGER NOT NULL,
  recipients TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (nick TEXT PRIMARY KEY, acked INTEGER NOT NULL) WITHOUT ROWID;
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

/** A queued envelope in the index: how many queues hold it, its frame's size, when it came. */
interface EnvelopeInfo {
  refs: number;
  size: number;
  at: number;
}

/** A nick's queue in the index: envelope ids, increasing, from `head` on. */
interface NickQueue {
  ids: number[];
  head: number;
}

/** The envelope last enqueued in the open turn (written with its first recipient). */
interface PendingEnvelope {
  id: number;
  /** The caller's frame object (the next recipients of a room SEND pass the same one). */
  source: Uint8Array;
  at: number;
  recipients: string[];
}

/** The nicks of an envelope's `recipients` column (a JSON array). */
function parseRecipients(value: unknown): string[] {
  try {
    const list = JSON.parse(String(value));
    return Array.isArray(list) ? list.map(String) : [];
  } catch {
    return [];
  }
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
  /** The next envelope id: above every envelope and every cursor in the file. */
  #nextId = 1;
  /** Each queued envelope: deliveries left (queues holding it), frame size, enqueue time. */
  #envelopes = new Map<number, EnvelopeInfo>();
  /** Each nick's queue: envelope ids in increasing order, from index `head` on. */
  #queues = new Map<string, NickQueue>();
  /**
   * The envelope last enqueued: written with its first recipient; the others of a room SEND are
   * written (one UPDATE) when a different frame comes, the atomic section or the turn ends, or
   * anything reads the queues.
   */
  #pendingEnvelope: PendingEnvelope | null = null;
  /** Set when writing a pending envelope failed: the turn's commit must fail (rolled back). */
  #lostWrite: unknown = null;
  /** Envelopes no queue holds any more, deleted with the turn's commit (one statement). */
  #released: number[] = [];
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
      members: p("SELECT room, nick FROM members"),
      addMember: p("INSERT OR IGNORE INTO members (room, nick) VALUES (?, ?)"),
      removeMember: p("DELETE FROM members WHERE room = ? AND nick = ?"),
      putEnvelope: p(
        "INSERT INTO envelopes (id, frame, enqueued_at, recipients) VALUES (?, ?, ?, ?)",
      ),
      dropEnvelope: p("DELETE FROM envelopes WHERE id = ?"),
      dropEnvelopes: p("DELETE FROM envelopes WHERE id IN (SELECT value FROM json_each(?))"),
      frame: p("SELECT frame FROM envelopes WHERE id = ?"),
      recipientsOf: p("SELECT recipients FROM envelopes WHERE id = ?"),
      setRecipients: p("UPDATE envelopes SET recipients = ? WHERE id = ?"),
      advance: p(
        "INSERT INTO cursors (nick, acked) VALUES (?, ?) ON CONFLICT (nick) DO UPDATE SET acked = max(acked, excluded.acked)",
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
    try {
      this.#loadQueues();
    } catch (cause) {
      this.#db.close();
      throw openFailed(path, cause);
    }
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
    // Before envelopes/cursors, a table `queue(id, nick, frame, enqueued_at)` held one row (and
    // one copy of the frame) per delivery: each becomes an envelope of one recipient, ids kept.
    const old = this.#db.prepare(
      "SELECT type FROM sqlite_schema WHERE name = 'queue'",
    ).get() as Row | undefined;
    if (old?.type === "table") {
      this.#db.exec(`BEGIN IMMEDIATE;
        INSERT INTO envelopes (id, frame, enqueued_at, recipients)
          SELECT id, frame, enqueued_at, json_array(nick) FROM queue;
        DROP TABLE queue;
        COMMIT;`);
    }
    if (old?.type !== "view") {
      this.#db.exec(`CREATE VIEW IF NOT EXISTS queue AS
        SELECT e.id AS id, r.value AS nick, e.frame AS frame, e.enqueued_at AS enqueued_at
        FROM envelopes e, json_each(e.recipients) r LEFT JOIN cursors c ON c.nick = r.value
        WHERE e.id > coalesce(c.acked, 0)`);
    }
  }

  /**
   * Reads the queues' index from the file (at open, and after a rollback: the file is the truth),
   * and drops envelopes no queue holds and cursors that hide nothing any more.
   */
  #loadQueues(): void {
    this.#envelopes.clear();
    this.#queues.clear();
    this.#pendingEnvelope = null;
    const cursors = new Map<string, number>();
    let max = 0;
    for (const r of this.#db.prepare("SELECT nick, acked FROM cursors").all() as Row[]) {
      cursors.set(String(r.nick), Number(r.acked));
      if (Number(r.acked) > max) max = Number(r.acked);
    }
    const orphans: number[] = [];
    let lowest = Infinity;
    const rows = this.#db.prepare(
      "SELECT id, length(frame) AS size, enqueued_at, recipients FROM envelopes ORDER BY id",
    ).iterate() as Iterable<Row>;
    for (const r of rows) {
      const id = Number(r.id);
      if (id > max) max = id;
      if (id < lowest) lowest = id;
      const info: EnvelopeInfo = { refs: 0, size: Number(r.size), at: Number(r.enqueued_at) };
      for (const nick of parseRecipients(r.recipients)) {
        if (id <= (cursors.get(nick) ?? 0)) continue;
        this.#queueOf(nick).ids.push(id);
        info.refs++;
      }
      if (info.refs === 0) orphans.push(id);
      else this.#envelopes.set(id, info);
    }
    if (max + 1 > this.#nextId) this.#nextId = max + 1;
    if (orphans.length === 0 && ![...cursors.values()].some((a) => a < lowest)) return;
    const own = !this.#db.isTransaction;
    if (own) this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const id of orphans) this.#s.dropEnvelope!.run(id);
      // A cursor below every envelope hides nothing: ids only grow (#nextId stays above it).
      this.#db.prepare("DELETE FROM cursors WHERE acked < ?").run(
        Number.isFinite(lowest) ? lowest : Number.MAX_SAFE_INTEGER,
      );
      if (own) this.#db.exec("COMMIT");
    } catch (e) {
      if (own && this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  #queueOf(nick: string): NickQueue {
    let q = this.#queues.get(nick);
    if (q === undefined) this.#queues.set(nick, q = { ids: [], head: 0 });
    return q;
  }

  /** Writes the pending envelope's recipients past the first (all known now). */
  #flushEnvelope(): void {
    const p = this.#pendingEnvelope;
    if (p === null) return;
    this.#pendingEnvelope = null;
    if (p.recipients.length < 2 || !this.#envelopes.has(p.id)) return;
    try {
      this.#s.setRecipients!.run(JSON.stringify(p.recipients), p.id);
    } catch (cause) {
      // Its deliveries are in the index but not in the file: the turn must not commit.
      this.#lostWrite = cause;
      throw storeFailed("write the store", cause);
    }
  }

  /** One delivery of an envelope gone: the envelope's row goes with its last one. */
  #release(id: number): void {
    const info = this.#envelopes.get(id);
    if (info === undefined) return;
    if (--info.refs > 0) return;
    this.#envelopes.delete(id);
    if (this.#pendingEnvelope?.id === id) this.#pendingEnvelope = null;
    this.#released.push(id);
  }

  /** Deletes the released envelopes' rows (in the turn's transaction). */
  #dropReleased(): void {
    if (this.#released.length === 0) return;
    const ids = this.#released;
    this.#released = [];
    this.#s.dropEnvelopes!.run(JSON.stringify(ids));
  }

  /** Takes ids out of a nick's queue (and releases their envelopes); their count and bytes. */
  #drop(nick: string, keep: (id: number) => boolean): QueueStats {
    const q = this.#queues.get(nick);
    const gone = { count: 0, bytes: 0 };
    if (q === undefined) return gone;
    const kept: number[] = [];
    for (let i = q.head; i < q.ids.length; i++) {
      const id = q.ids[i]!;
      if (keep(id)) {
        kept.push(id);
        continue;
      }
      gone.count++;
      gone.bytes += this.#envelopes.get(id)?.size ?? 0;
      this.#release(id);
    }
    if (kept.length === 0) this.#queues.delete(nick);
    else {
      q.ids = kept;
      q.head = 0;
    }
    return gone;
  }

  /** Moves a nick's cursor up to `id` (never down). */
  #advance(nick: string, id: number): void {
    this.#s.advance!.run(nick, id);
  }

  /** Queued envelopes (index only) of `nicks` with id above `afterId`, in id order, at most `limit` (more when ids tie). */
  #select(
    nicks: Iterable<string>,
    afterId: number,
    limit: number,
    keep: (info: EnvelopeInfo) => boolean = () => true,
  ): { id: number; nick: string; info: EnvelopeInfo }[] {
    const out: { id: number; nick: string; info: EnvelopeInfo }[] = [];
    for (const nick of nicks) {
      const q = this.#queues.get(nick);
      if (q === undefined) continue;
      let taken = 0;
      for (let i = q.head; i < q.ids.length && taken < limit; i++) {
        const id = q.ids[i]!;
        if (id <= afterId) continue;
        const info = this.#envelopes.get(id);
        if (info === undefined || !keep(info)) continue;
        out.push({ id, nick, info });
        taken++;
      }
    }
    out.sort((a, b) => a.id - b.id || (a.nick < b.nick ? -1 : 1));
    // Never cut between two deliveries of one envelope: callers page on from the last id.
    let end = Math.min(limit, out.length);
    while (end > 0 && end < out.length && out[end]!.id === out[end - 1]!.id) end++;
    return out.slice(0, end);
  }

  /** The frames of the selected envelopes, read from the file. */
  #withFrames(
    rows: { id: number; nick: string; info: EnvelopeInfo }[],
  ): HeldEnvelope[] {
    this.#flushEnvelope();
    const frames = new Map<number, Uint8Array>();
    return rows.map((r) => {
      let frame = frames.get(r.id);
      if (frame === undefined) {
        frame = bytes((this.#s.frame!.get(r.id) as Row | undefined)?.frame);
        frames.set(r.id, frame);
      }
      return { id: r.id, nick: r.nick, frame, enqueuedAt: r.info.at };
    });
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
      this.#flushEnvelope(); // what came before is not the section's to roll back
      this.#db.exec("SAVEPOINT op");
    } catch (cause) {
      throw storeFailed("write the store", cause);
    }
    const lostBefore = this.#lostWrite;
    try {
      const out = fn();
      this.#flushEnvelope();
      this.#db.exec("RELEASE op");
      return out;
    } catch (e) {
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK TO op");
          this.#db.exec("RELEASE op");
          this.#lostWrite = lostBefore; // a write lost inside the section is rolled back with it
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
    try {
      this.#flushEnvelope();
      if (this.#lostWrite !== null) throw this.#lostWrite;
      if (!this.#db.isTransaction) throw new Error("the transaction was rolled back");
      this.#dropReleased();
      this.execCommit();
    } catch (cause) {
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {
          // nothing more to undo
        }
      }
      this.#lostWrite = null;
      this.#released = []; // still there: orphans, deleted when the index is read again
      this.#afterRollback();
      throw storeFailed("write the store", cause);
    }
  }

  /** After a rollback the queues' index is read back from the file (best effort). */
  #afterRollback(): void {
    this.#pendingEnvelope = null;
    this.#released = [];
    try {
      this.#loadQueues();
    } catch {
      // The file is failing: the index is read again after the next rollback or restart.
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
      const held = this.#withFrames(this.#select([nick], 0, Infinity));
      this.#drop(nick, () => false);
      // Envelopes other queues still hold may list the nick: its cursor hides them.
      this.#advance(nick, this.#nextId - 1);
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
      let p = this.#pendingEnvelope;
      // The same frame object for the next recipient in the same turn (a room SEND's members):
      // one envelope, one row, one id (a frame does not change once handed over).
      if (
        p === null || p.source !== frame || p.at !== at || p.recipients.includes(nick) ||
        this.#envelopes.get(p.id)?.size !== frame.length
      ) {
        this.#flushEnvelope();
        const id = this.#nextId;
        this.#s.putEnvelope!.run(id, frame, at, JSON.stringify([nick]));
        this.#nextId++;
        p = { id, source: frame, at, recipients: [] };
        this.#pendingEnvelope = p;
        this.#envelopes.set(id, { refs: 0, size: frame.length, at });
      }
      p.recipients.push(nick);
      this.#envelopes.get(p.id)!.refs++;
      this.#queueOf(nick).ids.push(p.id);
      return p.id;
    });
  }
  queuedFor(nicks: readonly string[], afterId: number, limit: number): HeldEnvelope[] {
    return this.#withFrames(this.#select(new Set(nicks), afterId, limit));
  }
  queued(nick: string, afterId: number, limit: number): QueuedEnvelope[] {
    return this.#withFrames(this.#select([nick], afterId, limit)).map((e) => ({
      id: e.id,
      frame: e.frame,
      enqueuedAt: e.enqueuedAt,
    }));
  }
  deleteQueuedThrough(nick: string, id: number): QueueStats {
    const gone = { count: 0, bytes: 0 };
    const q = this.#queues.get(nick);
    if (q === undefined || q.ids[q.head]! > id) return gone;
    return this.#write(() => {
      this.#flushEnvelope();
      this.#advance(nick, id); // first: if it fails, the index is unchanged
      while (q.head < q.ids.length && q.ids[q.head]! <= id) {
        const e = q.ids[q.head++]!;
        gone.count++;
        gone.bytes += this.#envelopes.get(e)?.size ?? 0;
        this.#release(e);
      }
      if (q.head === q.ids.length) this.#queues.delete(nick);
      else if (q.head > 1024 && q.head * 2 > q.ids.length) {
        q.ids = q.ids.slice(q.head);
        q.head = 0;
      }
      return gone;
    });
  }
  queuedBefore(cutoff: number, afterId: number, limit: number): HeldEnvelope[] {
    return this.#withFrames(
      this.#select(this.#queues.keys(), afterId, limit, (info) => info.at < cutoff),
    );
  }
  deleteQueuedId(id: number, nick?: string): void {
    this.atomically(() => {
      this.#flushEnvelope();
      const holders = nick === undefined ? [...this.#queues.keys()] : [nick];
      const from = new Set<string>();
      for (const n of holders) if (this.#drop(n, (x) => x !== id).count > 0) from.add(n);
      if (from.size === 0 || !this.#envelopes.has(id)) return;
      // Other queues still hold it: only these nicks leave its recipients.
      const row = this.#s.recipientsOf!.get(id) as Row | undefined;
      const left = parseRecipients(row?.recipients).filter((n) => !from.has(n));
      this.#s.setRecipients!.run(JSON.stringify(left), id);
    });
  }
  deleteQueuedBefore(cutoff: number): number {
    return this.atomically(() => {
      this.#flushEnvelope();
      let count = 0;
      for (const nick of [...this.#queues.keys()]) {
        count += this.#drop(nick, (id) => (this.#envelopes.get(id)?.at ?? 0) >= cutoff).count;
      }
      return count;
    });
  }
  queueStats(): Map<string, QueueStats> {
    const out = new Map<string, QueueStats>();
    for (const [nick, q] of this.#queues) {
      let bytes = 0;
      for (let i = q.head; i < q.ids.length; i++) bytes += this.#envelopes.get(q.ids[i]!)!.size;
      out.set(nick, { count: q.ids.length - q.head, bytes });
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
