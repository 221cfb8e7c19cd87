/**
 * Deferred, cumulative delivery ACKs. A client's ACK is a small frame the relay does not answer;
 * sent alone right before the client's next frame, it makes that frame wait for the relay's
 * delayed TCP acknowledgement (about 40 ms) wherever Nagle's algorithm is on, as in Deno's
 * `WebSocket` client. So an ACK is held for up to {@linkcode ACK_DELAY_MS} and leaves right after
 * the next frame sent in the meantime, at once when {@linkcode ACK_EVERY} deliveries are waiting,
 * or when the transport closes (PROTOCOL.md §6). Private to the engine.
 *
 * @module
 */

import { encodeFrame } from "../protocol/mod.ts";
import type { Transport } from "./transport.ts";

/** Longest an ACK for handled deliveries is held (milliseconds). */
export const ACK_DELAY_MS = 50;

/** Deliveries handled but not acknowledged at which an ACK leaves at once. */
export const ACK_EVERY = 64;

/** A transport whose ACK frames are deferred and ride behind the next frame. */
export interface AckingTransport extends Transport {
  /**
   * Records that the first `count` DELIVERs of this connection are handled and stored; the ACK
   * for them leaves within {@linkcode ACK_DELAY_MS}.
   */
  ack(count: number): void;
}

/**
 * Wraps a transport so that ACKs are deferred (see the module documentation).
 *
 * @param transport The connected transport.
 * @param delayMs How long an ACK may wait (tests pass a shorter or longer one).
 * @returns The same transport with {@linkcode AckingTransport.ack}.
 */
export function withDeferredAcks(
  transport: Transport,
  delayMs: number = ACK_DELAY_MS,
): AckingTransport {
  let sent = 0;
  let pending = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending <= sent) return;
    sent = pending;
    transport.send(encodeFrame({ type: "ack", count: sent }));
  };
  return {
    get url() {
      return transport.url;
    },
    send(frame: Uint8Array): void {
      transport.send(frame);
      flush();
    },
    ack(count: number): void {
      if (count <= pending) return;
      pending = count;
      if (pending - sent >= ACK_EVERY) flush();
      else if (timer === undefined) timer = setTimeout(flush, delayMs);
    },
    close(): void {
      flush();
      transport.close();
    },
  };
}
