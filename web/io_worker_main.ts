/// <reference lib="dom" />
/**
 * The IO worker's entry point (bundled apart by `web/build.ts` and started by the page from the
 * main bundle, so the page's Subresource Integrity covers it too): {@linkcode serveIo} on the
 * IndexedDB database `hush` and the browser's `WebSocket`.
 *
 * @module
 */

import { serveIo } from "./io_worker.ts";
import { openIndexedDb } from "./indexed_db.ts";
import { connectWebSocketTransport } from "../chat/_websocket_transport.ts";
import type { FromWorker, IoPort, ToWorker } from "./io_messages.ts";

const store = openIndexedDb(indexedDB);
// A refused database fails every read and the first write (the page shows why).
store.catch(() => {});
serveIo(globalThis as unknown as IoPort<ToWorker, FromWorker>, {
  store,
  connect: connectWebSocketTransport,
});
