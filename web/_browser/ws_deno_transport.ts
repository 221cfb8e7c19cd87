/**
 * Browser stand-in for `chat/_ws_deno_transport.ts` (the build maps that file here, so the `ws`
 * npm package stays out of the bundle). `chat/transport.ts` only loads it under Deno.
 *
 * @module
 */

import { ChatError } from "../../chat/errors.ts";

/**
 * Never called in a browser.
 *
 * @returns Never.
 * @throws {ChatError} `CONNECT_FAILED`.
 */
export function connectDenoWebSocketTransport(): Promise<never> {
  return Promise.reject(new ChatError("CONNECT_FAILED", "The Deno WebSocket client is not here"));
}
