/// <reference lib="dom" />
/**
 * The browser client's entry point (bundled by `web/build.ts`): finds the relay, starts the IO
 * worker (`web/io_worker.ts`: IndexedDB and the WebSocket, off the page's thread), opens homes
 * through it (one per nick, held by a Web Lock so two tabs never share one), starts the
 * {@linkcode App}.
 *
 * Relay: the `relay` query parameter (`/?relay=ws://127.0.0.1:4874/`), else the page's
 * `<meta name="hush-relay">` (set by `deno task web --relay URL`), else the origin the page
 * came from (`ws://HOST/` for `http://HOST/`, `wss://` for `https://`).
 *
 * @module
 */

import { App } from "./app.ts";
import {
  type BrowserHome,
  findHomeName,
  noteGrantedNick,
  openBrowserHome,
} from "./browser_home.ts";
import { ChatError } from "../chat/errors.ts";
import { type IoLink, startIoWorker } from "./io_link.ts";
import { isValidNick } from "../protocol/names.ts";
import { relayUrlFor } from "./relay_url.ts";

/** The IO worker's source: the build puts it before the bundle (`web/build.ts`). */
const IO_WORKER = (globalThis as { HUSH_IO_WORKER?: string }).HUSH_IO_WORKER;

let link: IoLink | undefined;
let app: App | undefined;

function ioLink(): IoLink {
  if (IO_WORKER === undefined) {
    throw new ChatError(
      "BAD_HOME",
      "This bundle has no IO worker: rebuild it (deno task web:build)",
    );
  }
  if (link === undefined) {
    link = startIoWorker(IO_WORKER);
    link.onFatal((error) => app?.fatal(error));
  }
  return link;
}

async function openHome(
  nick: string,
  passphrase: string,
): Promise<BrowserHome & { release(): void }> {
  if (!isValidNick(nick)) {
    throw new ChatError("BAD_NICK", "A nick is 1-32 letters, digits, _ or - (no spaces)");
  }
  const { store } = ioLink();
  const name = await findHomeName(store, nick);
  const held = await holdHome(name);
  // The Web Lock goes once this home's writes are committed: another tab then reads them all.
  const release = () => void store.flushed().catch(() => {}).finally(held);
  try {
    const home = await openBrowserHome({
      name,
      passphrase,
      store,
      sync: storageOrUndefined(),
    });
    // Ask the browser not to evict this origin's storage under pressure: a lost home is a lost
    // identity. The answer changes nothing here.
    navigator.storage?.persist?.().catch(() => {});
    return Object.assign(home, { release });
  } catch (error) {
    release();
    throw error;
  }
}

/** Takes the Web Lock of a home, so that a second tab cannot open it at the same time. */
function holdHome(nick: string): Promise<() => void> {
  const locks = (navigator as { locks?: LockManager }).locks;
  if (locks === undefined) return Promise.resolve(() => {});
  return new Promise((resolve, reject) => {
    let free: () => void = () => {};
    const held = new Promise<void>((r) => (free = r));
    locks.request(`hush-home:${nick}`, { ifAvailable: true }, (lock) => {
      if (lock === null) {
        reject(
          new ChatError("HOME_IN_USE", `The home of "${nick}" is open in another tab or window`),
        );
        return;
      }
      resolve(free);
      return held;
    }).catch(reject);
  });
}

function storageOrUndefined(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined; // blocked by the browser's settings
  }
}

const root = document.getElementById("app");
if (root !== null) {
  const meta = document.querySelector('meta[name="hush-relay"]')?.getAttribute("content") ?? "";
  app = new App(root, {
    relayUrl: relayUrlFor(new URL(location.href), meta),
    openHome,
    noteNick: (home, nick) => {
      if (link !== undefined) noteGrantedNick(link.store, home, nick).catch(() => {});
    },
    connectTransport: (url, handlers, options) => ioLink().connectTransport(url, handlers, options),
    bundleSha256: document.getElementById("bundle-sha256")?.textContent ?? "",
  });
  addEventListener("pagehide", () => void app?.close());
}
