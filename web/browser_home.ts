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

/** The key-value store under a browser home: IndexedDB in a page, a `Map` in tests. */
export interface KeyValue {
  get(store: "files" | "homes", key: string): Promise<unknown>;
  put(store: "files" | "homes", key: string, value: unknown): Promise<void>;
  delete(store: "files" | "homes", key: string): Promise<void>;
  /** Every key of `store` that starts with `prefix`. */
  keys(store: "files" | "homes", prefix: string): Promise<string[]>;
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
      this.appendSync = (file, text) => {
        checkHomeName(file);
        const key = this.#syncKey(file);
        sync.setItem(key, (sync.getItem(key) ?? "") + text);
      };
      this.writeSync = (file, text) => {
        checkHomeName(file);
        sync.setItem(this.#syncKey(file), text);
      };
    }
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
  readonly #stores = { files: new Map<string, unknown>(), homes: new Map<string, unknown>() };

  get(store: "files" | "homes", key: string): Promise<unknown> {
    return Promise.resolve(this.#stores[store].get(key));
  }

  put(store: "files" | "homes", key: string, value: unknown): Promise<void> {
    this.#stores[store].set(key, value);
    return Promise.resolve();
  }

  delete(store: "files" | "homes", key: string): Promise<void> {
    this.#stores[store].delete(key);
    return Promise.resolve();
  }

  keys(store: "files" | "homes", prefix: string): Promise<string[]> {
    return Promise.resolve([...this.#stores[store].keys()].filter((k) => k.startsWith(prefix)));
  }
}

/**
 * Opens the IndexedDB database `hush` (stores `files` and `homes`).
 *
 * @param factory `indexedDB`.
 * @returns A {@linkcode KeyValue} over it.
 * @throws {ChatError} `BAD_HOME` when IndexedDB refuses (e.g. a private window that blocks it).
 */
export function openIndexedDb(factory: IDBFactory): Promise<KeyValue> {
  return new Promise((resolve, reject) => {
    const request = factory.open("hush", 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("files");
      request.result.createObjectStore("homes");
    };
    request.onerror = () =>
      reject(new ChatError("BAD_HOME", `IndexedDB refused: ${request.error?.message ?? "?"}`));
    request.onsuccess = () => resolve(new IndexedDbKeyValue(request.result));
  });
}

class IndexedDbKeyValue implements KeyValue {
  readonly #db: IDBDatabase;

  constructor(db: IDBDatabase) {
    this.#db = db;
  }

  get(store: "files" | "homes", key: string): Promise<unknown> {
    return this.#run(store, "readonly", (s) => s.get(key));
  }

  async put(store: "files" | "homes", key: string, value: unknown): Promise<void> {
    await this.#run(store, "readwrite", (s) => s.put(value, key));
  }

  async delete(store: "files" | "homes", key: string): Promise<void> {
    await this.#run(store, "readwrite", (s) => s.delete(key));
  }

  async keys(store: "files" | "homes", prefix: string): Promise<string[]> {
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const keys = await this.#run(store, "readonly", (s) => s.getAllKeys(range));
    return (keys as IDBValidKey[]).map(String);
  }

  /** One request in its own transaction, resolved when the transaction is committed. */
  #run(
    store: "files" | "homes",
    mode: IDBTransactionMode,
    start: (s: IDBObjectStore) => IDBRequest,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const tx = this.#db.transaction(store, mode, { durability: "strict" });
      const request = start(tx.objectStore(store));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
      tx.onabort = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
    });
  }
}
