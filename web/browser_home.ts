/// <reference lib="dom" />
/**
 * The browser's chat home ({@linkcode ChatHome} of `chat/home.ts`): the engine's named files in
 * IndexedDB (database `hush`, store `files`, key `HOME/NAME`), one home per nick typed at
 * connect. With a passphrase, every file is sealed ({@linkcode HomeLock}); the home's lock
 * parameters live in the store `homes`.
 *
 * The `shown` journal (the ids of messages already shown from a saved inbox) needs a write that
 * is done before the next message is shown: IndexedDB has none, so the journal lives in the
 * synchronous `localStorage` (message ids only: the relay sees them too). Without
 * `localStorage`, the home has no `appendSync` and a crash right after a message was shown may
 * show it again at the next start.
 *
 * @module
 */

import { type ChatHome, checkHomeName } from "../chat/home.ts";
import { ChatError } from "../chat/errors.ts";
import { HomeLock, type LockParams } from "./lock.ts";

/** A stored value: text (an unlocked home) or sealed bytes (a locked one). */
export type StoredFile = string | Uint8Array;

/** The object stores of the `hush` database: files, per-key entries, lock parameters. */
export type StoreName = "files" | "entries" | "homes";

/** A value kept in a per-key store (`EntryValue` of `chat/home.ts`): text or bytes. */
export type BrowserEntryValue = string | Uint8Array;

/**
 * A per-key store of a browser home (`EntryStore` of `chat/home.ts`): every commit is one
 * IndexedDB transaction, so after a crash it is all there or absent.
 */
export interface BrowserEntryStore {
  load(): Promise<Map<string, BrowserEntryValue>>;
  commit(changes: ReadonlyMap<string, BrowserEntryValue | undefined>): Promise<void>;
}

/** The key-value store under a browser home: IndexedDB in a page, a `Map` in tests. */
export interface KeyValue {
  get(store: StoreName, key: string): Promise<unknown>;
  put(store: StoreName, key: string, value: unknown): Promise<void>;
  delete(store: StoreName, key: string): Promise<void>;
  /** Every key of `store` that starts with `prefix`. */
  keys(store: StoreName, prefix: string): Promise<string[]>;
  /** Every entry of `store` whose key starts with `prefix`. */
  entries(store: StoreName, prefix: string): Promise<[string, unknown][]>;
  /** Puts and deletes (`undefined`) in one transaction: all or nothing. */
  apply(store: StoreName, changes: ReadonlyMap<string, unknown>): Promise<void>;
  /**
   * Optional: the changes of several stores in one transaction, all or nothing (the IO worker
   * commits the page's writes in batches with it).
   */
  applyAll?(
    writes: readonly { store: StoreName; changes: ReadonlyMap<string, unknown> }[],
  ): Promise<void>;
  /**
   * Optional: for a store whose writes resolve before they are committed (the page's IO worker,
   * `web/io_link.ts`), resolves once every write issued so far is committed.
   */
  flushed?(): Promise<void>;
}

/** The synchronous store of the `shown` journal (`localStorage`). */
export interface SyncStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Files written through the synchronous store. */
const SYNC_FILES = new Set(["shown"]);

/** What {@linkcode openBrowserHome} needs. */
export interface OpenHomeOptions {
  /** The home's name (the nick typed at connect). */
  name: string;
  /** The passphrase: empty or absent for an unlocked home. */
  passphrase?: string;
  /** Where the files go. */
  store: KeyValue;
  /** Where the `shown` journal goes (absent: no `appendSync`). */
  sync?: SyncStore | undefined;
  /** scrypt cost for a new lock (tests use a small one). */
  cost?: { logN: number; r: number; p: number };
}

/**
 * Opens (or creates) a browser home.
 *
 * @param options Name, passphrase and stores.
 * @returns The home.
 * @throws {ChatError} `HOME_LOCKED` (a locked home opened without its passphrase),
 *   `WRONG_PASSPHRASE`, `HOME_NOT_LOCKED` (a passphrase given for a home made without one).
 */
export async function openBrowserHome(options: OpenHomeOptions): Promise<BrowserHome> {
  const { name, store } = options;
  const passphrase = options.passphrase ?? "";
  const params = await store.get("homes", name) as LockParams | undefined;
  if (params !== undefined) {
    if (passphrase === "") {
      throw new ChatError("HOME_LOCKED", `The home of "${name}" is locked: type its passphrase`);
    }
    const lock = await HomeLock.open(passphrase, name, params);
    return new BrowserHome(name, store, lock, options.sync);
  }
  if (passphrase === "") return new BrowserHome(name, store, undefined, options.sync);
  const existing = await store.keys("files", `${name}/`);
  if (existing.length > 0) {
    throw new ChatError(
      "HOME_NOT_LOCKED",
      `The home of "${name}" was made without a passphrase: leave the field empty`,
    );
  }
  const { lock, params: made } = await HomeLock.create(passphrase, name, options.cost);
  await store.put("homes", name, made);
  return new BrowserHome(name, store, lock, options.sync);
}

/**
 * The home to open for a nick typed at connect: the home of that name when it exists, else the
 * home whose identity was last granted that nick (after `/nick NEW`, or a suffixed `bob_1`),
 * else a new home of that name. (The terminal's `findHomeDir` does the same with directories.)
 *
 * @param store The stores.
 * @param nick The nick typed.
 * @returns The home's name.
 */
export async function findHomeName(store: KeyValue, nick: string): Promise<string> {
  if (await store.get("homes", nick) !== undefined) return nick;
  if ((await store.keys("files", `${nick}/`)).length > 0) return nick;
  const granted = await store.get("homes", `${GRANTED_PREFIX}${nick}`);
  return typeof granted === "string" ? granted : nick;
}

/**
 * Notes that the relay granted `nick` to the identity of home `home`, for
 * {@linkcode findHomeName}.
 *
 * @param store The stores.
 * @param home The home's name.
 * @param nick The granted nick.
 */
export async function noteGrantedNick(store: KeyValue, home: string, nick: string): Promise<void> {
  if (nick === home) return;
  await store.put("homes", `${GRANTED_PREFIX}${nick}`, home);
}

/** Key prefix, in the store `homes`, of "nick granted to home" notes (a nick has no `:`). */
const GRANTED_PREFIX = "granted:";

/** A chat home in the browser. Use {@linkcode openBrowserHome}. */
export class BrowserHome implements ChatHome {
  readonly location: string;
  readonly #name: string;
  readonly #store: KeyValue;
  readonly #lock: HomeLock | undefined;
  readonly #sync: SyncStore | undefined;
  appendSync?: (name: string, text: string) => void;
  writeSync?: (name: string, text: string) => void;

  /** @internal */
  constructor(name: string, store: KeyValue, lock: HomeLock | undefined, sync?: SyncStore) {
    this.#name = name;
    this.location = `indexeddb:hush/${name}`;
    this.#store = store;
    this.#lock = lock;
    this.#sync = sync;
    if (sync !== undefined) {
      // A trim of the journal (`writeSync`) waits, on a store whose writes complete later, until
      // the writes issued before it are committed: the journal drops the ids of shown messages
      // only once the saved inbox without them is on disk. Appends made meanwhile are kept.
      const trims = new Map<string, { text: string; appended: string }>();
      const flushed = store.flushed?.bind(store);
      this.appendSync = (file, text) => {
        checkHomeName(file);
        const key = this.#syncKey(file);
        sync.setItem(key, (sync.getItem(key) ?? "") + text);
        const trim = trims.get(key);
        if (trim !== undefined) trim.appended += text;
      };
      this.writeSync = (file, text) => {
        checkHomeName(file);
        const key = this.#syncKey(file);
        if (flushed === undefined) {
          sync.setItem(key, text);
          return;
        }
        const trim = { text, appended: "" };
        trims.set(key, trim);
        const done = () => {
          if (trims.get(key) !== trim) return false; // a later trim took its place
          trims.delete(key);
          return true;
        };
        flushed().then(() => {
          if (done()) sync.setItem(key, trim.text + trim.appended);
        }, done);
      };
    }
  }

  /** The home's name (the nick first typed for it). */
  get name(): string {
    return this.#name;
  }

  /** Whether the files are sealed under a passphrase. */
  get locked(): boolean {
    return this.#lock !== undefined;
  }

  /**
   * Reads a file.
   *
   * @param name File name.
   * @returns The text or undefined.
   * @throws {ChatError} `BAD_HOME` when a sealed file does not open.
   */
  async read(name: string): Promise<string | undefined> {
    checkHomeName(name);
    if (this.#sync !== undefined && SYNC_FILES.has(name)) {
      return this.#sync.getItem(this.#syncKey(name)) ?? undefined;
    }
    const value = await this.#store.get("files", this.#key(name)) as StoredFile | undefined;
    if (value === undefined) return undefined;
    if (this.#lock === undefined) {
      if (typeof value !== "string") throw badFile(this.#name, name, "is sealed");
      return value;
    }
    if (!(value instanceof Uint8Array)) throw badFile(this.#name, name, "is not sealed");
    try {
      return this.#lock.open(name, value);
    } catch (error) {
      throw badFile(this.#name, name, "does not open", error);
    }
  }

  /**
   * Writes a file (one IndexedDB transaction: all or nothing).
   *
   * @param name File name.
   * @param text Contents.
   */
  async write(name: string, text: string): Promise<void> {
    checkHomeName(name);
    if (this.#sync !== undefined && SYNC_FILES.has(name)) {
      this.#sync.setItem(this.#syncKey(name), text);
      return;
    }
    const value: StoredFile = this.#lock === undefined ? text : this.#lock.seal(name, text);
    await this.#store.put("files", this.#key(name), value);
  }

  /**
   * Deletes a file.
   *
   * @param name File name.
   */
  async remove(name: string): Promise<void> {
    checkHomeName(name);
    if (this.#sync !== undefined && SYNC_FILES.has(name)) {
      this.#sync.removeItem(this.#syncKey(name));
      return;
    }
    await this.#store.delete("files", this.#key(name));
  }

  /**
   * A per-key store (the engine keeps its session state in `sessions`): IndexedDB store
   * `entries`, keys `HOME/NAME/KEY`, one transaction per commit; sealed per entry in a locked
   * home (the entry's key is bound in).
   *
   * @param name A name matching the home's file names.
   * @returns The store.
   */
  openEntries(name: string): Promise<BrowserEntryStore> {
    checkHomeName(name);
    const prefix = `${this.#name}/${name}/`;
    const lock = this.#lock;
    const store = this.#store;
    const home = this.#name;
    return Promise.resolve({
      async load(): Promise<Map<string, BrowserEntryValue>> {
        const out = new Map<string, BrowserEntryValue>();
        for (const [fullKey, value] of await store.entries("entries", prefix)) {
          const key = fullKey.slice(prefix.length);
          if (lock === undefined) {
            if (typeof value !== "string" && !(value instanceof Uint8Array)) {
              throw badFile(home, `${name}/${key}`, "is not an entry");
            }
            out.set(key, value);
            continue;
          }
          if (!(value instanceof Uint8Array)) {
            throw badFile(home, `${name}/${key}`, "is not sealed");
          }
          try {
            out.set(key, lock.openEntry(`${name}/${key}`, value));
          } catch (error) {
            throw badFile(home, `${name}/${key}`, "does not open", error);
          }
        }
        return out;
      },
      async commit(changes: ReadonlyMap<string, BrowserEntryValue | undefined>): Promise<void> {
        const batch = new Map<string, unknown>();
        for (const [key, value] of changes) {
          batch.set(
            `${prefix}${key}`,
            value === undefined || lock === undefined
              ? value
              : lock.sealEntry(`${name}/${key}`, value),
          );
        }
        await store.apply("entries", batch);
      },
    });
  }

  #key(name: string): string {
    return `${this.#name}/${name}`;
  }

  #syncKey(name: string): string {
    return `hush/${this.#name}/${name}`;
  }
}

function badFile(home: string, name: string, what: string, cause?: unknown): ChatError {
  return new ChatError("BAD_HOME", `The file "${name}" of the home of "${home}" ${what}`, {
    cause,
  });
}

/** A {@linkcode KeyValue} in memory (tests, and a page where IndexedDB is refused). */
export class MemoryKeyValue implements KeyValue {
  readonly #stores = {
    files: new Map<string, unknown>(),
    entries: new Map<string, unknown>(),
    homes: new Map<string, unknown>(),
  };

  get(store: StoreName, key: string): Promise<unknown> {
    return Promise.resolve(this.#stores[store].get(key));
  }

  put(store: StoreName, key: string, value: unknown): Promise<void> {
    this.#stores[store].set(key, value);
    return Promise.resolve();
  }

  delete(store: StoreName, key: string): Promise<void> {
    this.#stores[store].delete(key);
    return Promise.resolve();
  }

  keys(store: StoreName, prefix: string): Promise<string[]> {
    return Promise.resolve([...this.#stores[store].keys()].filter((k) => k.startsWith(prefix)));
  }

  entries(store: StoreName, prefix: string): Promise<[string, unknown][]> {
    return Promise.resolve([...this.#stores[store]].filter(([k]) => k.startsWith(prefix)));
  }

  apply(store: StoreName, changes: ReadonlyMap<string, unknown>): Promise<void> {
    for (const [key, value] of changes) {
      if (value === undefined) this.#stores[store].delete(key);
      else this.#stores[store].set(key, value);
    }
    return Promise.resolve();
  }
}
