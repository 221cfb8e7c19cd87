/**
 * Held, cumulative delivery ACKs. The relay keeps an envelope until an ACK covers it; one ACK per
 * delivery would cost the relay a frame (a WebSocket message) per delivery. So an ACK for handled
 * deliveries is held for up to {@linkcode ACK_DELAY_MS}, and leaves at once when
 * {@linkcode ACK_EVERY} deliveries are waiting or the transport closes (PROTOCOL.md §6). Private
 * to the engine.
 *
 * @module
 */

import { encodeFrame } from "../protocol/mod.ts";
import type { Transport } from "./transport.ts";

/** Longest an ACK for handled deliveries is held (milliseconds). */
export const ACK_DELAY_MS = 50;

/** Deliveries handled but not acknowledged at which an ACK leaves at once. */
export const ACK_EVERY = 64;

/** A transport whose ACK frames are held and cumulative. */
export interface AckingTransport extends Transport {
  /**
   * Records that the first `count` DELIVERs of this connection are handled and stored; the ACK
   * for them leaves within {@linkcode ACK_DELAY_MS}.
   */
  ack(count: number): void;
}

/**
 * Wraps a transport so that ACKs are held (see the module documentation).
 *
 * @param transport The connected transport.
 * @param delayMs How long an ACK may wait (tests pass a shorter or longer one).
 * @returns The same transport with {@linkcode AckingTransport.ack}.
 */
export function withHeldAcks(
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
