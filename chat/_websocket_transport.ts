/**
 * The WebSocket transport: one binary message per frame, `binaryType = "arraybuffer"`. Uses only
 * the web-standard `WebSocket`, so a browser client can use this file as is.
 *
 * @module
 */

import type { Transport, TransportHandlers } from "./transport.ts";

/** Options for {@linkcode connectWebSocketTransport}. */
export interface WebSocketTransportOptions {
  maxFrameSize: number;
  timeoutMs: number;
}

/**
 * Opens a WebSocket and returns a frame transport once it is open.
 *
 * @param url `ws://` or `wss://` URL.
 * @param handlers Frame and close callbacks.
 * @param options Frame size limit and connect timeout.
 * @returns The transport.
 * @throws {Error} When the socket fails to open or times out.
 */
export function connectWebSocketTransport(
  url: string,
  handlers: TransportHandlers,
  options: WebSocketTransportOptions,
): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    let open = false;
    let closed = false;
    const timer = setTimeout(() => {
      if (open) return;
      closed = true;
      socket.close();
      reject(new Error(`timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const finish = (reason: string) => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      if (open) handlers.onClose(reason);
      else reject(new Error(reason));
    };
    const transport: Transport = {
      url,
      send(frame: Uint8Array): void {
        if (closed || socket.readyState !== WebSocket.OPEN) return;
        socket.send(frame);
      },
      close(): void {
        if (closed) return;
        try {
          socket.close(1000);
        } catch {
          // already closing
        }
        finish("closed by client");
      },
    };
    socket.onopen = () => {
      open = true;
      clearTimeout(timer);
      resolve(transport);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (closed) return;
      // The web API only lets a script close with 1000 or 3000-4999, so 1003/1009 are not
      // available here: 1000 with a reason.
      if (!(event.data instanceof ArrayBuffer)) {
        socket.close(1000, "text message");
        finish("the relay sent a text WebSocket message");
        return;
      }
      if (event.data.byteLength > options.maxFrameSize) {
        socket.close(1000, "message too big");
        finish(`the relay sent a frame over ${options.maxFrameSize} bytes`);
        return;
      }
      handlers.onFrame(new Uint8Array(event.data));
    };
    socket.onerror = (event: Event) => {
      const message = (event as ErrorEvent).message;
      finish(message ? `WebSocket error: ${message}` : "WebSocket error");
    };
    socket.onclose = (event: CloseEvent) => {
      finish(
        event.reason
          ? `connection closed by the relay: ${event.reason}`
          : "connection closed by the relay",
      );
    };
  });
}
