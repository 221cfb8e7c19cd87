/**
 * Where a chat engine keeps what must survive a restart: the identity, the granted nick, trust
 * pins, session state, seen message ids and the outbox. A home is a tiny named-file store;
 * `file_home.ts` keeps it in a directory (Deno), {@linkcode MemoryHome} in memory (tests, and a
 * starting point for a browser store).
 *
 * File names used by the engine (all UTF-8 text):
 * - `identity`: the Ed25519 identity in `encodeIdentity()` text form.
 * - `profile.json`: `{ "nick": granted nick, "cipher": suite id, "rooms": [...], "room": current }`.
 * - `sessions.json`: the sessions library's serialized state (ratchets, sender keys, trust), one
 *   snapshot rewritten per save: only in a home without {@linkcode ChatHome.openEntries} (a file
 *   home migrates it into `sessions.sqlite` at the first start and removes it).
 * - `sessions.sqlite` (with `-wal`, `-shm` while open): a file home's per-key store named
 *   `sessions` ({@linkcode ChatHome.openEntries}): the same entries, one SQLite row each, every
 *   save one transaction of the keys that changed (`file_home.ts`).
 * - `seen.json`: the bounded list of message ids already shown.
 * - `outbox.json`: older homes only; the envelopes not yet acknowledged by the relay now live in
 *   the session store (entry `chat/outbox`), saved with the state that encrypted them.
 * - `replaced`: written when the relay replaced this session by another connection of the same
 *   identity (a copy of the home elsewhere): the next start restarts every session.
 * - `lock`, `generation`: a file home's lock holder and session counter (`file_home.ts`).
 * - `shown`: the ids of saved-inbox messages already shown, one a line (the "shown journal",
 *   appended right after each is shown, emptied once the inbox without them is saved), written
 *   only through the optional synchronous methods below.
 *
 * @module
 */

/** Names a home accepts: letters, digits, `.`, `_`, `-`; 1-128 characters, not `.` or `..`. */
export const HOME_NAME_PATTERN: RegExp = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

/** A value kept in an {@linkcode EntryStore}: text or bytes. */
export type EntryValue = string | Uint8Array;

/**
 * A keyed store whose batches are atomic: after a crash, each commit is all there or absent.
 * Keys are short ASCII paths (the sessions library's keys, such as `session/bob`).
 */
export interface EntryStore {
  /**
   * Reads every entry.
   *
   * @returns The entries, key to value.
   */
  load(): Promise<Map<string, EntryValue>>;
  /**
   * Applies changes as one atomic batch: all of them are kept, or (after a failure or a crash)
   * none.
   *
   * @param changes Key to new value; `undefined` deletes the key (deleting a missing key is fine).
   */
  commit(changes: ReadonlyMap<string, EntryValue | undefined>): Promise<void>;
  /** Optional: releases the store (its owning home's `close()` does it too). */
  close?(): Promise<void>;
}

/** A small store of named text files. */
export interface ChatHome {
  /** Where the home lives, for messages (a directory path, or `memory`). */
  readonly location: string;
  /**
   * Reads a file.
   *
   * @param name A name matching {@linkcode HOME_NAME_PATTERN}.
   * @returns The text, or undefined when the file does not exist.
   */
  read(name: string): Promise<string | undefined>;
  /**
   * Replaces a file atomically (readers see the old or the new text, never a mix).
   *
   * @param name A name matching {@linkcode HOME_NAME_PATTERN}.
   * @param text The new contents.
   */
  write(name: string, text: string): Promise<void>;
  /**
   * Deletes a file; deleting a missing file is not an error.
   *
   * @param name A name matching {@linkcode HOME_NAME_PATTERN}.
   */
  remove(name: string): Promise<void>;
  /**
   * Optional: releases what the home holds (a file home's lock). The engine calls it last in
   * `close()`.
   */
  close?(): Promise<void>;
  /**
   * Optional: appends to a file (creating it) before returning, with no `await` in between, so
   * that a line written right after a message is shown is on file unless the process dies in
   * that instant (a SIGKILL keeps what was written: the OS has it; no flush is needed). The
   * engine uses it for the `shown` journal; without it (a browser store) a crash right after a
   * message was shown may show it again at the next start.
   *
   * @param name A name matching {@linkcode HOME_NAME_PATTERN}.
   * @param text The text to append.
   */
  appendSync?(name: string, text: string): void;
  /**
   * Optional (with `appendSync`): replaces a file's contents before returning. Not atomic: for
   * the `shown` journal only, where a torn write costs at most a message shown twice.
   *
   * @param name A name matching {@linkcode HOME_NAME_PATTERN}.
   * @param text The new contents.
   */
  writeSync?(name: string, text: string): void;
  /**
   * Optional: a per-key store named `name` (e.g. `sessions`), whose commits are atomic and, in a
   * home that fences its writes, fenced like `write`. The engine saves only the keys that
   * changed in it; without it the engine keeps the one-file snapshot (`sessions.json`).
   *
   * @param name A name matching {@linkcode HOME_NAME_PATTERN}.
   * @returns The store (opening the same name twice gives the same entries).
   */
  openEntries?(name: string): Promise<EntryStore>;
}

/**
 * Checks a home file name.
 *
 * @param name The name to check.
 * @throws {RangeError} When the name does not match {@linkcode HOME_NAME_PATTERN}.
 */
export function checkHomeName(name: string): void {
  if (!HOME_NAME_PATTERN.test(name)) throw new RangeError(`Invalid home file name: "${name}"`);
}

/**
 * The engine's view of its home: every write goes through, until {@linkcode FencedHome.stop}.
 * From then on (the relay ended the session for good, or another session took the home over)
 * every write and delete is refused with the stop error, so a stopped engine never saves
 * session state or an outbox that a newer session could later reuse. The same holds for the
 * commits of its per-key stores ({@linkcode FencedHome.openEntries}, present when the wrapped
 * home has it).
 */
export class FencedHome implements ChatHome {
  #inner: ChatHome;
  #stopped: Error | undefined;
  #onTakenOver: (error: Error) => void;
  /**
   * Opens the wrapped home's per-key store `name`, whose commits are refused with the stop
   * error once stopped (and stop the home when the wrapped store answers `HOME_TAKEN_OVER`).
   * Undefined when the wrapped home has no `openEntries`.
   */
  readonly openEntries?: (name: string) => Promise<EntryStore>;

  /**
   * Wraps a home.
   *
   * @param inner The home.
   * @param onTakenOver Called once when a write is refused with `HOME_TAKEN_OVER`.
   */
  constructor(inner: ChatHome, onTakenOver: (error: Error) => void = () => {}) {
    this.#inner = inner;
    this.#onTakenOver = onTakenOver;
    if (inner.openEntries !== undefined) {
      const open = inner.openEntries.bind(inner);
      this.openEntries = async (name: string): Promise<EntryStore> => {
        const store = await open(name);
        const fenced: EntryStore = {
          load: () => store.load(),
          commit: (changes) => this.#guard(() => store.commit(changes)),
        };
        if (store.close !== undefined) fenced.close = () => store.close!();
        return fenced;
      };
    }
  }

  /** Where the wrapped home lives. */
  get location(): string {
    return this.#inner.location;
  }

  /** The stop error, once stopped. */
  get stopped(): Error | undefined {
    return this.#stopped;
  }

  /** Sets what to call when a write meets `HOME_TAKEN_OVER`. */
  set onTakenOver(fn: (error: Error) => void) {
    this.#onTakenOver = fn;
  }

  /**
   * Refuses every later write and delete with `error` (the first stop wins).
   *
   * @param error Why.
   */
  stop(error: Error): void {
    this.#stopped ??= error;
  }

  /**
   * Reads a file.
   *
   * @param name File name.
   * @returns The text or undefined.
   */
  read(name: string): Promise<string | undefined> {
    return this.#inner.read(name);
  }

  /**
   * Writes a file unless stopped.
   *
   * @param name File name.
   * @param text Contents.
   * @throws The stop error once stopped; the wrapped home's errors.
   */
  write(name: string, text: string): Promise<void> {
    return this.#guard(() => this.#inner.write(name, text));
  }

  /**
   * Deletes a file unless stopped.
   *
   * @param name File name.
   * @throws The stop error once stopped; the wrapped home's errors.
   */
  remove(name: string): Promise<void> {
    return this.#guard(() => this.#inner.remove(name));
  }

  /**
   * Writes a file even after a stop (the wrapped home's own guards still apply): for the note
   * that this session was replaced, which the next start of this home must see.
   *
   * @param name File name.
   * @param text Contents.
   * @throws The wrapped home's errors.
   */
  writeThrough(name: string, text: string): Promise<void> {
    return this.#inner.write(name, text);
  }

  /**
   * Closes the wrapped home.
   *
   * @returns When closed.
   */
  async close(): Promise<void> {
    await this.#inner.close?.();
  }

  /** Whether the wrapped home has the synchronous journal writes (`appendSync`, `writeSync`). */
  get canWriteSync(): boolean {
    return this.#inner.appendSync !== undefined && this.#inner.writeSync !== undefined;
  }

  /**
   * Appends to a file synchronously unless stopped.
   *
   * @param name File name.
   * @param text The text to append.
   * @throws The stop error once stopped; the wrapped home's errors; a `RangeError` when the
   *   wrapped home has no `appendSync` (see {@linkcode FencedHome.canWriteSync}).
   */
  appendSync(name: string, text: string): void {
    if (this.#stopped !== undefined) throw this.#stopped;
    if (this.#inner.appendSync === undefined) throw new RangeError("No synchronous writes here");
    this.#inner.appendSync(name, text);
  }

  /**
   * Replaces a file's contents synchronously (not atomically) unless stopped.
   *
   * @param name File name.
   * @param text The new contents.
   * @throws The stop error once stopped; the wrapped home's errors; a `RangeError` when the
   *   wrapped home has no `writeSync`.
   */
  writeSync(name: string, text: string): void {
    if (this.#stopped !== undefined) throw this.#stopped;
    if (this.#inner.writeSync === undefined) throw new RangeError("No synchronous writes here");
    this.#inner.writeSync(name, text);
  }

  async #guard(fn: () => Promise<void>): Promise<void> {
    if (this.#stopped !== undefined) throw this.#stopped;
    try {
      await fn();
    } catch (error) {
      if ((error as { code?: unknown }).code === "HOME_TAKEN_OVER" && this.#stopped === undefined) {
        this.#stopped = error as Error;
        this.#onTakenOver(error as Error);
      }
      throw error;
    }
  }
}

/** A home in memory: for tests and for clients that keep nothing. */
export class MemoryHome implements ChatHome {
  readonly location = "memory";
  #files = new Map<string, string>();
  #entries = new Map<string, Map<string, EntryValue>>();

  /**
   * Opens the per-key store `name` (kept in memory with the home; bytes are copied in and out).
   *
   * @param name Store name.
   * @returns The store.
   * @throws {RangeError} For an invalid name.
   */
  openEntries(name: string): Promise<EntryStore> {
    checkHomeName(name);
    let map = this.#entries.get(name);
    if (map === undefined) this.#entries.set(name, map = new Map());
    const entries = map;
    const copy = (value: EntryValue): EntryValue =>
      value instanceof Uint8Array ? value.slice() : value;
    return Promise.resolve({
      load: () => {
        const out = new Map<string, EntryValue>();
        for (const [key, value] of entries) out.set(key, copy(value));
        return Promise.resolve(out);
      },
      commit: (changes: ReadonlyMap<string, EntryValue | undefined>) => {
        for (const [key, value] of changes) {
          if (value === undefined) entries.delete(key);
          else entries.set(key, copy(value));
        }
        return Promise.resolve();
      },
    });
  }

  /**
   * Reads a file.
   *
   * @param name File name.
   * @returns The text or undefined.
   * @throws {RangeError} For an invalid name.
   */
  read(name: string): Promise<string | undefined> {
    checkHomeName(name);
    return Promise.resolve(this.#files.get(name));
  }

  /**
   * Writes a file.
   *
   * @param name File name.
   * @param text Contents.
   * @throws {RangeError} For an invalid name.
   */
  write(name: string, text: string): Promise<void> {
    checkHomeName(name);
    this.#files.set(name, text);
    return Promise.resolve();
  }

  /**
   * Deletes a file.
   *
   * @param name File name.
   * @throws {RangeError} For an invalid name.
   */
  remove(name: string): Promise<void> {
    checkHomeName(name);
    this.#files.delete(name);
    return Promise.resolve();
  }

  /**
   * Appends to a file (creating it).
   *
   * @param name File name.
   * @param text The text to append.
   * @throws {RangeError} For an invalid name.
   */
  appendSync(name: string, text: string): void {
    checkHomeName(name);
    this.#files.set(name, (this.#files.get(name) ?? "") + text);
  }

  /**
   * Replaces a file.
   *
   * @param name File name.
   * @param text Contents.
   * @throws {RangeError} For an invalid name.
   */
  writeSync(name: string, text: string): void {
    checkHomeName(name);
    this.#files.set(name, text);
  }
}

/**
 * The directory that holds the default homes: `$XDG_CONFIG_HOME/hush` when `XDG_CONFIG_HOME` is
 * set and absolute, else `$HOME/.config/hush`.
 *
 * @param env The environment variables to read (`XDG_CONFIG_HOME`, `HOME`).
 * @returns The directory path.
 * @throws {RangeError} When neither variable gives a usable base directory.
 */
export function homesBaseDir(
  env: { XDG_CONFIG_HOME?: string | undefined; HOME?: string | undefined },
): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && xdg.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/hush`;
  const home = env.HOME;
  if (home !== undefined && home !== "") return `${home.replace(/\/+$/, "")}/.config/hush`;
  throw new RangeError("Cannot find a home directory: set HOME or XDG_CONFIG_HOME, or pass --home");
}

/**
 * The directory name of a nick's default home: characters outside `[A-Za-z0-9._-]` become `_`,
 * and a leading dot too.
 *
 * @param nick The nick.
 * @returns A safe directory name.
 */
export function homeDirName(nick: string): string {
  return nick.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_") || "_";
}

/**
 * Computes the default home directory for a nick: `<homesBaseDir>/<nick>`. (`client.ts` first
 * looks for the home of the identity that has or had the nick: `findHomeDir` in
 * `file_home.ts`.)
 *
 * @param nick The requested nick (characters outside `[A-Za-z0-9._-]` become `_`).
 * @param env The environment variables to read (`XDG_CONFIG_HOME`, `HOME`).
 * @returns The directory path.
 * @throws {RangeError} When neither variable gives a usable base directory.
 */
export function defaultHomeDir(
  nick: string,
  env: { XDG_CONFIG_HOME?: string | undefined; HOME?: string | undefined },
): string {
  return `${homesBaseDir(env)}/${homeDirName(nick)}`;
}
