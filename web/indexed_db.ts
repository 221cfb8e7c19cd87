/// <reference lib="dom" />
/**
 * The IndexedDB database `hush` as a {@linkcode KeyValue}: what the page's IO worker
 * (`web/io_worker.ts`) keeps the homes in.
 *
 * Every write (`put`, `delete`, `apply`, `applyAll`) is one `readwrite` transaction over all three
 * stores with `durability: "strict"`. Transactions whose scopes overlap run in the order they were
 * created, so writes commit in the order they were issued, whatever store they touch: a later
 * write is never on disk without every earlier one (a session state saved after an outbox entry
 * that was sealed with it, say). Reads take only their store.
 *
 * @module
 */

import { ChatError } from "../chat/errors.ts";
import type { KeyValue, StoreName } from "./browser_home.ts";

/** The object stores of the database. */
const STORES: StoreName[] = ["files", "entries", "homes"];

/**
 * Opens the IndexedDB database `hush` (stores `files`, `entries` and `homes`).
 *
 * @param factory `indexedDB`.
 * @returns A {@linkcode KeyValue} over it.
 * @throws {ChatError} `BAD_HOME` when IndexedDB refuses (e.g. a private window that blocks it).
 */
export function openIndexedDb(factory: IDBFactory): Promise<KeyValue> {
  return new Promise((resolve, reject) => {
    // Version 2 added `entries`; an upgrade creates whatever store is missing.
    const request = factory.open("hush", 2);
    request.onupgradeneeded = () => {
      for (const name of STORES) {
        if (!request.result.objectStoreNames.contains(name)) request.result.createObjectStore(name);
      }
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

  get(store: StoreName, key: string): Promise<unknown> {
    return this.#run(store, "readonly", (s) => s.get(key));
  }

  async put(store: StoreName, key: string, value: unknown): Promise<void> {
    await this.#run(store, "readwrite", (s) => s.put(value, key));
  }

  async delete(store: StoreName, key: string): Promise<void> {
    await this.#run(store, "readwrite", (s) => s.delete(key));
  }

  async keys(store: StoreName, prefix: string): Promise<string[]> {
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const keys = await this.#run(store, "readonly", (s) => s.getAllKeys(range));
    return (keys as IDBValidKey[]).map(String);
  }

  async entries(store: StoreName, prefix: string): Promise<[string, unknown][]> {
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const out: [string, unknown][] = [];
    await new Promise<void>((resolve, reject) => {
      const tx = this.#db.transaction(store, "readonly");
      const request = tx.objectStore(store).openCursor(range);
      request.onsuccess = () => {
        const cursor = request.result;
        if (cursor === null) return;
        out.push([String(cursor.key), cursor.value]);
        cursor.continue();
      };
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
      tx.onabort = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
    });
    return out;
  }

  apply(store: StoreName, changes: ReadonlyMap<string, unknown>): Promise<void> {
    return this.applyAll([{ store, changes }]);
  }

  applyAll(
    writes: readonly { store: StoreName; changes: ReadonlyMap<string, unknown> }[],
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const tx = this.#db.transaction(STORES, "readwrite", { durability: "strict" });
      for (const { store, changes } of writes) {
        const objects = tx.objectStore(store);
        for (const [key, value] of changes) {
          if (value === undefined) objects.delete(key);
          else objects.put(value, key);
        }
      }
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
      tx.onabort = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
    });
  }

  /** One request in its own transaction, resolved when the transaction is committed. */
  #run(
    store: StoreName,
    mode: IDBTransactionMode,
    start: (s: IDBObjectStore) => IDBRequest,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Writes take every store: they then commit one after the other, in the order issued.
      const scope = mode === "readwrite" ? STORES : store;
      const tx = this.#db.transaction(scope, mode, { durability: "strict" });
      const request = start(tx.objectStore(store));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
      tx.onabort = () => reject(new ChatError("BAD_HOME", `IndexedDB: ${tx.error?.message}`));
    });
  }
}
