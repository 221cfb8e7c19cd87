/**
 * The WebSocket transport for Deno, on the `ws` package (npm) instead of Deno's built-in
 * `WebSocket`. Deno 2.9's `WebSocket` client leaves Nagle's algorithm on and writes a message of
 * about 1.5 to 64 KB as two writes (header, then payload), so every such message waits for the
 * relay's delayed TCP acknowledgement: about 40 ms (`bench/client/ws_nagle_probe.ts`). `ws` sets
 * `TCP_NODELAY` and writes a message at once. Same contract as `_websocket_transport.ts`, which a
 * browser uses (browsers set `TCP_NODELAY` themselves). Loaded only for `ws://` and `wss://`.
 *
 * @module
 */

import WebSocket from "ws";
import { ChatError } from "./errors.ts";
import type { Transport, TransportHandlers } from "./transport.ts";

/** What this transport uses of a `ws` client socket. */
interface WsSocket {
  readonly readyState: number;
  on(event: "open", listener: () => void): void;
  on(event: "message", listener: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: "close", listener: (code: number, reason: Uint8Array) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  send(data: Uint8Array): void;
  close(code?: number): void;
  terminate(): void;
}

const OPEN = 1;

/** Options for {@linkcode connectDenoWebSocketTransport}. */
export interface DenoWebSocketTransportOptions {
  /** Largest accepted incoming message in bytes. */
  maxFrameSize: number;
  /** Give up connecting after this many milliseconds. */
  timeoutMs: number;
  /** PEM CA certificates to trust for `wss://`. */
  caCerts?: string[];
}

/**
 * Opens a WebSocket (one binary message per frame) with the `ws` package.
 *
 * @param url `ws://` or `wss://` URL.
 * @param handlers Frame and close callbacks.
 * @param options Frame size limit, connect timeout, CA certificates.
 * @returns The transport, once the socket is open.
 * @throws {Error} When the socket fails to open or times out.
 */
export function connectDenoWebSocketTransport(
  url: string,
  handlers: TransportHandlers,
  options: DenoWebSocketTransportOptions,
): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const Ctor = WebSocket as unknown as new (url: string, options: unknown) => WsSocket;
    const socket = new Ctor(url, {
      perMessageDeflate: false,
      maxPayload: options.maxFrameSize,
      handshakeTimeout: options.timeoutMs,
      ...(options.caCerts === undefined ? {} : { ca: options.caCerts }),
    });
    let open = false;
    let closed = false;
    const finish = (reason: string) => {
      if (closed) return;
      closed = true;
      if (open) handlers.onClose(reason);
      else if (/Expected HTTP/i.test(reason)) reject(wrongPortError(url, reason));
      else reject(new Error(reason));
    };
    const transport: Transport = {
      url,
      send(frame: Uint8Array): void {
        if (closed || socket.readyState !== OPEN) return;
        socket.send(frame);
      },
      close(): void {
        if (closed) return;
        try {
          socket.close(1000);
        } catch {
          socket.terminate();
        }
        finish("closed by client");
      },
    };
    socket.on("open", () => {
      open = true;
      resolve(transport);
    });
    socket.on("message", (data, isBinary) => {
      if (closed) return;
      if (!isBinary) {
        socket.close(1003);
        finish("the relay sent a text WebSocket message");
        return;
      }
      handlers.onFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
    socket.on("error", (error) => {
      finish(`WebSocket error: ${error.message}`);
      socket.terminate();
    });
    socket.on("close", (_code, reason) => {
      const text = new TextDecoder().decode(reason);
      finish(text ? `connection closed by the relay: ${text}` : "connection closed by the relay");
    });
  });
}

/**
 * `WRONG_PROTOCOL`: a `ws://` or `wss://` URL aimed at the relay's raw TCP port (it answers the
 * HTTP upgrade with a binary frame, which the HTTP parser refuses).
 */
function wrongPortError(url: string, reason: string): ChatError {
  let right = "tcp://HOST:PORT";
  try {
    const parsed = new URL(url);
    right = `${parsed.protocol === "wss:" ? "tls" : "tcp"}://${parsed.host}`;
  } catch {
    // keep the placeholder
  }
  return new ChatError(
    "WRONG_PROTOCOL",
    `${url} did not answer in HTTP (${reason}): this looks like the relay's TCP port, use ${right} (or the relay's WebSocket port with ws://)`,
  );
}
