/// <reference lib="dom" />
/**
 * The browser client's entry point (bundled by `web/build.ts`): finds the relay, opens homes in
 * IndexedDB (one per nick, held by a Web Lock so two tabs never share one), starts the
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
  type KeyValue,
  noteGrantedNick,
  openBrowserHome,
  openIndexedDb,
} from "./browser_home.ts";
import { ChatError } from "../chat/errors.ts";
import { isValidNick } from "../protocol/names.ts";
import { relayUrlFor } from "./relay_url.ts";

let store: KeyValue | undefined;

async function openHome(
  nick: string,
  passphrase: string,
): Promise<BrowserHome & { release(): void }> {
  if (!isValidNick(nick)) {
    throw new ChatError("BAD_NICK", "A nick is 1-32 letters, digits, _ or - (no spaces)");
  }
  store ??= await openIndexedDb(indexedDB);
  const name = await findHomeName(store, nick);
  const release = await holdHome(name);
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
  const app = new App(root, {
    relayUrl: relayUrlFor(new URL(location.href), meta),
    openHome,
    noteNick: (home, nick) => {
      if (store !== undefined) noteGrantedNick(store, home, nick).catch(() => {});
    },
    bundleSha256: document.getElementById("bundle-sha256")?.textContent ?? "",
  });
  addEventListener("pagehide", () => void app.close());
}
