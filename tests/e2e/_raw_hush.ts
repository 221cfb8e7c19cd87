/**
 * The end-to-end layer (`Hush`) of a raw test connection to the relay: its bundles are fetched
 * over that connection. For tests that send by hand what the real client never would (junk
 * sender keys, insecure suites, forged payloads) to a real `client.ts --json` process.
 *
 * @module
 */

import { bundleFromKeys } from "../../chat/key_directory.ts";
import { Hush, MemorySessionStore, type SessionStore } from "../../sessions/mod.ts";
import type { TestClient } from "./_relay_harness.ts";

/**
 * A `Hush` for the user logged in on `connection`.
 *
 * @param connection A logged-in test client (`loggedIn`).
 * @param store Its session store (a fresh memory store by default).
 * @param nick The nick it writes as (by default the connection's, as it is at each use).
 */
export function hushOver(
  connection: TestClient,
  store: SessionStore = new MemorySessionStore(),
  nick: () => string = () => connection.nick,
): Hush {
  return new Hush({
    store,
    identity: connection.identity,
    nick,
    fetchBundle: async (peer) => {
      await connection.send({ type: "fetch-keys", nick: peer });
      const keys = await connection.next("keys");
      if (keys.status !== "ok") throw new Error(`no bundle for ${peer}: ${keys.status}`);
      return bundleFromKeys(keys);
    },
  });
}
