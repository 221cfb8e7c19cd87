/**
 * Browser stand-in for `chat/_tcp_transport.ts` (the build maps that file here): a page has no
 * raw TCP, so a `tcp://` or `tls://` relay URL fails with a readable error.
 *
 * @module
 */

import { ChatError } from "../../chat/errors.ts";

/**
 * Always refuses: browsers speak WebSocket only.
 *
 * @returns Never.
 * @throws {ChatError} `BAD_SERVER_URL`.
 */
export function connectTcpTransport(): Promise<never> {
  return Promise.reject(
    new ChatError("BAD_SERVER_URL", "A browser reaches a relay over ws:// or wss:// only"),
  );
}
