/// <reference lib="dom" />
/**
 * The browser client's reusable parts (the page itself is `web/main.ts`, bundled by
 * `web/build.ts`; docs/WEB.md): the IndexedDB home with its passphrase lock, the IO worker that
 * holds IndexedDB and the WebSocket off the page's thread, and the parser of the lines typed in
 * the Message box.
 *
 * @module
 */

export {
  BrowserHome,
  type KeyValue,
  MemoryKeyValue,
  openBrowserHome,
  type OpenHomeOptions,
  type StoredFile,
  type SyncStore,
} from "./browser_home.ts";
export { openIndexedDb } from "./indexed_db.ts";
export { type IoKeyValue, IoLink, startIoWorker } from "./io_link.ts";
export { type IoResources, serveIo } from "./io_worker.ts";
export { DEFAULT_SCRYPT, HomeLock, LOCK_SUITE, type LockParams } from "./lock.ts";
export { CIPHER_CHOICES, parseLine, USAGE, type WebCommand, type WebParse } from "./commands.ts";
