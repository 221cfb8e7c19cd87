/**
 * A home in a directory (Deno): the directory is created owner-only (0o700), every file
 * owner-only (0o600), and every write is atomic (write a temporary file, flush it, rename it
 * over the old one).
 *
 * One home, one process: a client opens its home with `{ lock: true, claim: true }`.
 * - The lock: an exclusive, non-blocking OS lock (`flock`) on the file `lock`, held for the
 *   whole session, and the holder's pid, host and start time written into that file. A second
 *   process finds the lock taken and refuses to start (`HOME_LOCKED`, naming the holder). The OS
 *   drops the lock when the holder dies, so a lock left by a crashed process is taken over (with
 *   a note naming it).
 * - The generation: the file `generation` holds a counter that every session start increments
 *   (its claim). Every later write first checks, under a short OS lock on that file, that the
 *   counter is still this session's; if another session claimed the home since, the write is
 *   refused (`HOME_TAKEN_OVER`) and nothing is written. A compare-and-swap: even where the home
 *   lock is not in force, two writers never both keep going, and state saved by an older session
 *   can never overwrite (and then be reused after) what a newer one wrote.
 *
 * Per-key stores ({@linkcode FileHome.openEntries}): `<name>.sqlite` in the directory, 0600, one
 * SQLite transaction per commit (`_sqlite_entries.ts`), run under the same generation check as
 * a write (the generation file's lock is held from the check to the end of the transaction).
 *
 * @module
 */

import { ChatError } from "./errors.ts";
import { fingerprint } from "../crypto/mod.ts";
import {
  type ChatHome,
  checkHomeName,
  type EntryStore,
  homeDirName,
  homesBaseDir,
} from "./home.ts";
import { SqliteEntryStore } from "./_sqlite_entries.ts";
import { IDENTITY_FILE, loadOrCreateIdentity } from "./identity.ts";
import { decodeIdentity } from "../crypto/mod.ts";

/** The file whose OS lock says "this home is in use"; it names the holder. */
export const LOCK_FILE = "lock";
/** The file holding the home's generation counter (one step per session start). */
export const GENERATION_FILE = "generation";

/** Who holds (or last held) a home's lock. */
export interface HomeLockHolder {
  pid: number;
  host: string;
  /** ISO 8601 start time. */
  startedAt: string;
}

/** How to open a home directory. */
export interface FileHomeOptions {
  /**
   * Take the home's exclusive lock for as long as the home is open (until
   * {@linkcode FileHome.close}); refuse with `HOME_LOCKED` when another process holds it.
   */
  lock?: boolean;
  /**
   * Claim the next generation, and refuse every later write once another session claimed a
   * newer one (`HOME_TAKEN_OVER`).
   */
  claim?: boolean;
}

/** A {@linkcode ChatHome} backed by a directory. */
export class FileHome implements ChatHome {
  readonly location: string;
  /** A note for the user about the lock (a stale lock taken over), if any. */
  lockNote: string | undefined;
  #lockFile: Deno.FsFile | undefined;
  #generation: number | undefined;
  #takenOver: ChatError | undefined;
  #closed = false;
  /** Per-key stores opened (or being opened), by name. */
  #entries = new Map<string, Promise<SqliteEntryStore>>();

  private constructor(dir: string) {
    this.location = dir;
  }

  /** The generation this session claimed (undefined without `claim`). */
  get generation(): number | undefined {
    return this.#generation;
  }

  /**
   * Opens (creating when missing) a home directory.
   *
   * @param dir The directory path.
   * @param options `lock` and `claim` (see {@linkcode FileHomeOptions}); both off by default.
   * @returns The home.
   * @throws {ChatError} `BAD_HOME` when the directory cannot be created or is not a directory,
   *   `HOME_LOCKED` when another process holds the home's lock.
   */
  static async open(dir: string, options: FileHomeOptions = {}): Promise<FileHome> {
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const info = await Deno.stat(dir);
      if (!info.isDirectory) throw new Error("not a directory");
      if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(dir, 0o700);
    } catch (error) {
      throw new ChatError(
        "BAD_HOME",
        `Cannot use home directory "${dir}": ${error instanceof Error ? error.message : error}`,
        { cause: error },
      );
    }
    const home = new FileHome(dir);
    if (options.lock === true) await home.#lock();
    try {
      if (options.claim === true) await home.#claim();
    } catch (error) {
      await home.close();
      throw error;
    }
    return home;
  }

  /**
   * Releases the lock (clearing the holder's details); later writes are refused. Idempotent.
   *
   * @returns When released.
   */
  async close(): Promise<void> {
    const file = this.#lockFile;
    this.#lockFile = undefined;
    this.#closed = true;
    if (this.#generation !== undefined) {
      this.#takenOver ??= new ChatError("CLOSED", `The home "${this.location}" is closed`);
    }
    const stores = [...this.#entries.values()];
    this.#entries.clear();
    for (const store of stores) await store.then((s) => s.close()).catch(() => {});
    if (file === undefined) return;
    try {
      await file.truncate(0);
      await file.unlock();
    } catch {
      // The OS releases the lock with the file anyway.
    } finally {
      file.close();
    }
  }

  async #lock(): Promise<void> {
    const path = `${this.location}/${LOCK_FILE}`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (error) {
      throw new ChatError("BAD_HOME", `Cannot open the lock file "${path}"`, { cause: error });
    }
    try {
      const previous = parseHolder(await Deno.readTextFile(path).catch(() => ""));
      let locked: boolean;
      try {
        locked = await file.tryLock(true);
      } catch {
        // No OS locks on this file system: judge by the holder's details alone.
        locked = previous === undefined || !(await holderMayBeAlive(previous));
      }
      if (!locked) {
        const now = parseHolder(await Deno.readTextFile(path).catch(() => "")) ?? previous;
        throw new ChatError(
          "HOME_LOCKED",
          `The home "${this.location}" is in use by another Hush client (${
            describeHolder(now)
          }): one home, one running client`,
        );
      }
      if (previous !== undefined) {
        this.lockNote = `Took over the stale lock of "${this.location}" left by ${
          describeHolder(previous)
        }, which no longer holds it`;
      }
      const me: HomeLockHolder = {
        pid: Deno.pid,
        host: await hostName(),
        startedAt: new Date().toISOString(),
      };
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      await writeAll(file, new TextEncoder().encode(JSON.stringify(me) + "\n"));
      await file.syncData();
      this.#lockFile = file;
    } catch (error) {
      file.close();
      if (error instanceof ChatError) throw error;
      throw new ChatError("BAD_HOME", `Cannot lock "${path}"`, { cause: error });
    }
  }

  /** Increments the generation counter and makes it this session's. */
  async #claim(): Promise<void> {
    await this.#withGeneration(async (file, current) => {
      const next = current + 1;
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      await writeAll(file, new TextEncoder().encode(`${next}\n`));
      await file.syncData();
      this.#generation = next;
    });
  }

  /** Runs `fn` with the generation file open and exclusively locked (briefly). */
  async #withGeneration<T>(
    fn: (file: Deno.FsFile, current: number) => Promise<T>,
  ): Promise<T> {
    const path = `${this.location}/${GENERATION_FILE}`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    } catch (error) {
      throw new ChatError("BAD_HOME", `Cannot open "${path}"`, { cause: error });
    }
    try {
      let locked = false;
      try {
        await file.lock(true);
        locked = true;
      } catch {
        // No OS locks here: the check below still catches every claim made before it.
      }
      try {
        const text = new TextDecoder().decode(await readAll(file)).trim();
        const current = text === "" ? 0 : Number(text);
        if (!Number.isSafeInteger(current) || current < 0) {
          throw new ChatError("BAD_HOME", `Damaged generation file "${path}": "${text}"`);
        }
        return await fn(file, current);
      } finally {
        if (locked) await file.unlock().catch(() => {});
      }
    } finally {
      file.close();
    }
  }

  /** With a claimed generation: runs `write` only if nobody claimed a newer one. */
  async #guarded(write: () => Promise<void>): Promise<void> {
    const mine = this.#generation;
    if (mine === undefined) return await write();
    if (this.#takenOver !== undefined) throw this.#takenOver;
    await this.#withGeneration(async (_file, current) => {
      if (current !== mine) {
        this.#takenOver = new ChatError(
          "HOME_TAKEN_OVER",
          `Another Hush client started on the home "${this.location}" (generation ${current}, ` +
            `this client's is ${mine}): this client stops and writes nothing more there`,
        );
        throw this.#takenOver;
      }
      await write();
    });
  }

  /**
   * Opens (creating when missing) the per-key store `name`: the SQLite file `<name>.sqlite` in
   * the directory (0600, WAL, `synchronous = FULL`). Each commit is one transaction, run only
   * while this session's generation is current (as a write is); the same store is returned
   * while it is open, and {@linkcode FileHome.close} closes it.
   *
   * @param name Store name (`<name>.sqlite` must match `HOME_NAME_PATTERN`).
   * @returns The store.
   * @throws {ChatError} `BAD_HOME` when the file cannot be opened, `CLOSED` after `close()`.
   */
  async openEntries(name: string): Promise<EntryStore> {
    checkHomeName(name);
    const file = `${name}.sqlite`;
    checkHomeName(file);
    if (this.#closed) throw new ChatError("CLOSED", `The home "${this.location}" is closed`);
    let opening = this.#entries.get(name);
    if (opening === undefined) {
      opening = SqliteEntryStore.open(`${this.location}/${file}`, (write) => this.#guarded(write));
      this.#entries.set(name, opening);
      opening.catch(() => this.#entries.delete(name));
    }
    const store = await opening;
    if (this.#closed) {
      await store.close();
      throw new ChatError("CLOSED", `The home "${this.location}" is closed`);
    }
    return store;
  }

  /**
   * Reads a file.
   *
   * @param name File name.
   * @returns The text or undefined when missing.
   * @throws {ChatError} `BAD_HOME` when the file exists but cannot be read.
   */
  async read(name: string): Promise<string | undefined> {
    checkHomeName(name);
    try {
      return await Deno.readTextFile(`${this.location}/${name}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new ChatError("BAD_HOME", `Cannot read "${this.location}/${name}"`, { cause: error });
    }
  }

  /**
   * Replaces a file atomically, owner-only.
   *
   * @param name File name.
   * @param text Contents.
   * @throws {ChatError} `BAD_HOME` when the write fails, `HOME_TAKEN_OVER` when another session
   *   claimed the home since this one did (nothing is written).
   */
  async write(name: string, text: string): Promise<void> {
    checkHomeName(name);
    await this.#guarded(() => this.#write(name, text));
  }

  async #write(name: string, text: string): Promise<void> {
    const path = `${this.location}/${name}`;
    const temp = `${path}.tmp-${crypto.randomUUID()}`;
    try {
      const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
      try {
        await writeAll(file, new TextEncoder().encode(text));
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(temp, path);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw new ChatError("BAD_HOME", `Cannot write "${path}"`, { cause: error });
    }
  }

  /**
   * Appends to a file (creating it owner-only) before returning: `open(O_APPEND)`, `write`,
   * `close`, no flush (what a SIGKILLed process wrote is kept by the OS). For the `shown` journal.
   * Not checked against the generation (that check is asynchronous): the home lock keeps other
   * sessions out; refused once another session was seen to take the home over.
   *
   * @param name File name.
   * @param text The text to append.
   * @throws {ChatError} `BAD_HOME` when the write fails, `HOME_TAKEN_OVER` / `CLOSED`.
   */
  appendSync(name: string, text: string): void {
    checkHomeName(name);
    if (this.#takenOver !== undefined) throw this.#takenOver;
    const path = `${this.location}/${name}`;
    try {
      const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
      try {
        const bytes = new TextEncoder().encode(text);
        let offset = 0;
        while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
      } finally {
        file.close();
      }
    } catch (error) {
      throw new ChatError("BAD_HOME", `Cannot append to "${path}"`, { cause: error });
    }
  }

  /**
   * Replaces a file's contents before returning (truncate and write, not atomic, no flush): for
   * the `shown` journal only.
   *
   * @param name File name.
   * @param text Contents.
   * @throws {ChatError} `BAD_HOME` when the write fails, `HOME_TAKEN_OVER` / `CLOSED`.
   */
  writeSync(name: string, text: string): void {
    checkHomeName(name);
    if (this.#takenOver !== undefined) throw this.#takenOver;
    const path = `${this.location}/${name}`;
    try {
      Deno.writeTextFileSync(path, text, { mode: 0o600 });
    } catch (error) {
      throw new ChatError("BAD_HOME", `Cannot write "${path}"`, { cause: error });
    }
  }

  /**
   * Deletes a file (missing is fine).
   *
   * @param name File name.
   * @throws {ChatError} `BAD_HOME` when the delete fails for another reason.
   */
  async remove(name: string): Promise<void> {
    checkHomeName(name);
    await this.#guarded(async () => {
      try {
        await Deno.remove(`${this.location}/${name}`);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        throw new ChatError("BAD_HOME", `Cannot delete "${this.location}/${name}"`, {
          cause: error,
        });
      }
    });
  }
}

/**
 * Opens a home directory (see {@linkcode FileHome.open}).
 *
 * @param dir The directory path.
 * @param options `lock` and `claim` (see {@linkcode FileHomeOptions}).
 * @returns The home.
 * @throws {ChatError} `BAD_HOME` when the directory is unusable, `HOME_LOCKED`.
 */
export function openFileHome(dir: string, options: FileHomeOptions = {}): Promise<FileHome> {
  return FileHome.open(dir, options);
}

/**
 * Reads (creating on first use) the identity in a home directory and returns its fingerprint,
 * without connecting: for `client.ts fingerprint`. The home's lock is taken while the identity
 * may be created; when a running client holds it, an existing identity is only read.
 *
 * @param dir The home directory.
 * @param options `create: false` refuses (`NO_IDENTITY`) instead of creating an identity; the
 *   default creates one, as the first chat session does.
 * @returns The short fingerprint and whether the identity was just created.
 * @throws {ChatError} `BAD_HOME` when the directory or identity file is unusable,
 *   `HOME_LOCKED` when a running client holds a home that has no identity yet, `NO_IDENTITY`.
 */
export async function homeFingerprint(
  dir: string,
  options: { create?: boolean } = {},
): Promise<{ fingerprint: string; created: boolean }> {
  if (options.create === false && !await exists(`${dir}/${IDENTITY_FILE}`)) {
    throw new ChatError("NO_IDENTITY", `No identity in "${dir}" yet: nothing was created`);
  }
  let home: FileHome;
  try {
    home = await openFileHome(dir, { lock: true });
  } catch (error) {
    if (!(error instanceof ChatError) || error.code !== "HOME_LOCKED") throw error;
    const text = await (await openFileHome(dir)).read(IDENTITY_FILE);
    if (text === undefined) throw error;
    try {
      return { fingerprint: fingerprint(decodeIdentity(text.trim()).publicKey), created: false };
    } catch (cause) {
      throw new ChatError("BAD_HOME", `Cannot read the identity in "${dir}/${IDENTITY_FILE}"`, {
        cause,
      });
    }
  }
  try {
    const { identity, created } = await loadOrCreateIdentity(home);
    return { fingerprint: fingerprint(identity.publicKey), created };
  } finally {
    await home.close();
  }
}

/** Where a nick's home is, and why. */
export interface FoundHome {
  /** The home directory. */
  dir: string;
  /**
   * How the nick matched: `current` (the identity in `dir` has the nick now), `former` (it had
   * it before a `/nick`), or `default` (no home knows the nick: the nick's default directory,
   * maybe new).
   */
  match: "current" | "former" | "default";
}

/**
 * Finds the home of the identity that has, or had, a nick: a home belongs to an identity, not to
 * a nick. Looks at every home under the homes directory (`$XDG_CONFIG_HOME/hush`, else
 * `~/.config/hush`) and picks the one whose profile's current nick is `nick`, else the one
 * whose former nicks include it (the most recent such rename); else the nick's default
 * directory. The nick's default directory wins ties.
 *
 * @param nick The nick given with `--nick`.
 * @param env `XDG_CONFIG_HOME` and `HOME`.
 * @returns The directory and how it was chosen.
 * @throws {RangeError} When no homes directory can be had (set HOME or pass --home).
 */
export async function findHomeDir(
  nick: string,
  env: { XDG_CONFIG_HOME?: string | undefined; HOME?: string | undefined },
): Promise<FoundHome> {
  const base = homesBaseDir(env);
  const own = homeDirName(nick);
  let best: { name: string; score: number; rank: number } | undefined;
  let entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(base)) {
      if (entry.isDirectory && entries.length < 10_000) entries.push(entry);
    }
  } catch {
    return { dir: `${base}/${own}`, match: "default" };
  }
  entries = entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    const profile = await readProfile(`${base}/${entry.name}/profile.json`);
    if (profile === undefined) continue;
    const current = typeof profile.granted === "string"
      ? profile.granted
      : typeof profile.nick === "string"
      ? profile.nick
      : undefined;
    const former = Array.isArray(profile.former) ? profile.former : [];
    const formerAt = former.indexOf(nick);
    // current beats former; a more recent rename beats an older one; the own directory wins ties.
    const score = current === nick ? 2 : formerAt >= 0 ? 1 : 0;
    if (score === 0) continue;
    const rank = (score === 1 ? -formerAt : 0) * 2 + (entry.name === own ? 1 : 0);
    if (best === undefined || score > best.score || (score === best.score && rank > best.rank)) {
      best = { name: entry.name, score, rank };
    }
  }
  if (best === undefined) return { dir: `${base}/${own}`, match: "default" };
  return { dir: `${base}/${best.name}`, match: best.score === 2 ? "current" : "former" };
}

async function readProfile(
  path: string,
): Promise<{ nick?: unknown; granted?: unknown; former?: unknown } | undefined> {
  try {
    const parsed: unknown = JSON.parse(await Deno.readTextFile(path));
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a lock file's holder; undefined when empty or unreadable. */
function parseHolder(text: string): HomeLockHolder | undefined {
  if (text.trim() === "") return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<HomeLockHolder>;
    return {
      pid: typeof parsed.pid === "number" ? parsed.pid : 0,
      host: typeof parsed.host === "string" ? parsed.host : "an unknown host",
      startedAt: typeof parsed.startedAt === "string" ? parsed.startedAt : "an unknown time",
    };
  } catch {
    return { pid: 0, host: "an unknown host", startedAt: "an unknown time" };
  }
}

function describeHolder(holder: HomeLockHolder | undefined): string {
  if (holder === undefined) return "a process that has not written its details yet";
  return `pid ${holder.pid} on host ${holder.host}, started ${holder.startedAt}`;
}

/** Without OS locks: a holder on this host is alive while its pid is; elsewhere, who knows. */
async function holderMayBeAlive(holder: HomeLockHolder): Promise<boolean> {
  if (holder.host !== await hostName()) return true;
  if (holder.pid === Deno.pid) return false;
  try {
    await Deno.stat(`/proc/${holder.pid}`);
    return true;
  } catch {
    return false;
  }
}

let cachedHostName: string | undefined;

/** This machine's name, without asking for a permission the client does not have. */
async function hostName(): Promise<string> {
  if (cachedHostName !== undefined) return cachedHostName;
  let name = "";
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      name = Deno.hostname();
    }
  } catch {
    // Not available: read it below.
  }
  for (const path of ["/proc/sys/kernel/hostname", "/etc/hostname"]) {
    if (name !== "") break;
    name = (await Deno.readTextFile(path).catch(() => "")).trim();
  }
  cachedHostName = name === "" ? "localhost" : name;
  return cachedHostName;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

async function readAll(file: Deno.FsFile): Promise<Uint8Array> {
  await file.seek(0, Deno.SeekMode.Start);
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(256);
  for (let i = 0; i < 64; i++) {
    const n = await file.read(buffer);
    if (n === null || n === 0) break;
    chunks.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
