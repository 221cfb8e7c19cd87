/**
 * One frame transport over every relay URL scheme Hush speaks. The engine only sees
 * {@linkcode Transport}: whole frames in, whole frames out, one close notification.
 *
 * - `tcp://host:port`: plain TCP, each frame preceded by a u32 big-endian length.
 * - `tls://host:port` or `tcp+tls://host:port`: the same framing inside TLS.
 * - `ws://host:port/path`, `wss://...`: one binary WebSocket message per frame.
 *
 * The TCP/TLS half uses Deno APIs and lives in `_tcp_transport.ts`. WebSocket has two halves: in
 * Deno, `_ws_deno_transport.ts` on the `ws` package (Deno's own `WebSocket` client stalls about 40
 * ms on many messages: see that file); elsewhere `_websocket_transport.ts`, on the web-standard
 * `WebSocket` only, so a browser build can import that file alone.
 *
 * @module
 */

import { connectTcpTransport } from "./_tcp_transport.ts";
import { connectWebSocketTransport } from "./_websocket_transport.ts";
import { MAX_FRAME_BYTES_LIMIT } from "../protocol/mod.ts";
import { ChatError } from "./errors.ts";

/** Largest frame a transport accepts from the relay by default (bytes, excluding the prefix): 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE: number = MAX_FRAME_BYTES_LIMIT;

/** How long a transport may take to connect by default (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Callbacks a transport reports to. */
export interface TransportHandlers {
  /** Called once per whole frame received, in order. */
  onFrame(frame: Uint8Array): void;
  /**
   * Called exactly once when the connection is gone (closed by either side or failed). `error` is
   * set when retrying cannot help, e.g. a `WRONG_PROTOCOL` {@linkcode ChatError} (a `tcp://` URL
   * aimed at the relay's WebSocket port).
   */
  onClose(reason: string, error?: Error): void;
}

/** A connected frame transport. */
export interface Transport {
  /** The URL this transport is connected to. */
  readonly url: string;
  /**
   * Queues one whole frame for sending; frames go out in order. Sending on a closed transport is
   * silently dropped (the close has been or will be reported through `onClose`).
   *
   * @param frame The encoded frame (without any length prefix).
   */
  send(frame: Uint8Array): void;
  /** Closes the connection; `onClose` is reported once. */
  close(): void;
}

/** Options for {@linkcode connectTransport}. */
export interface TransportOptions {
  /** PEM-encoded CA certificates to trust for `tls://` / `tcp+tls://` (e.g. from `--ca FILE`). */
  caCerts?: string[];
  /** Largest accepted incoming frame in bytes; default {@linkcode DEFAULT_MAX_FRAME_SIZE}. */
  maxFrameSize?: number;
  /** Give up connecting after this many ms; default {@linkcode DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
}

/** The kind of transport a URL selects. */
export type TransportScheme = "tcp" | "tls" | "ws" | "wss";

/**
 * Tells whether a relay URL's transport is encrypted (TLS or WSS).
 *
 * @param url A relay URL.
 * @returns True for `tls://`, `tcp+tls://` and `wss://`.
 * @throws {ChatError} `BAD_SERVER_URL` for an unknown scheme or a malformed URL.
 */
export function isSecureUrl(url: string): boolean {
  const scheme = parseServerUrl(url).scheme;
  return scheme === "tls" || scheme === "wss";
}

/**
 * Splits a relay URL into its scheme, host and port.
 *
 * @param url `tcp://host:port`, `tls://host:port`, `tcp+tls://host:port`, `ws://...` or `wss://...`.
 * @returns The scheme, host name (brackets removed from IPv6) and port.
 * @throws {ChatError} `BAD_SERVER_URL` for an unknown scheme, a missing host or port.
 */
export function parseServerUrl(
  url: string,
): { scheme: TransportScheme; hostname: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ChatError("BAD_SERVER_URL", `Cannot parse server URL "${url}"`);
  }
  const protocol = parsed.protocol.slice(0, -1);
  const scheme: TransportScheme | undefined = protocol === "tcp"
    ? "tcp"
    : protocol === "tls" || protocol === "tcp+tls"
    ? "tls"
    : protocol === "ws"
    ? "ws"
    : protocol === "wss"
    ? "wss"
    : undefined;
  if (scheme === undefined) {
    throw new ChatError(
      "BAD_SERVER_URL",
      `Unsupported server URL scheme "${protocol}": use tcp://, tls://, ws:// or wss://`,
    );
  }
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (hostname === "") throw new ChatError("BAD_SERVER_URL", `Server URL "${url}" has no host`);
  const defaultPort = scheme === "ws" ? 80 : scheme === "wss" ? 443 : undefined;
  const port = parsed.port === "" ? defaultPort : Number(parsed.port);
  if (port === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ChatError("BAD_SERVER_URL", `Server URL "${url}" needs a port`);
  }
  return { scheme, hostname, port };
}

/**
 * Connects to a relay and returns a frame transport.
 *
 * @param url The relay URL (see the module documentation for schemes).
 * @param handlers Where frames and the close are reported; not called before this resolves.
 * @param options CA certificates, frame size limit, connect timeout.
 * @returns The connected transport.
 * @throws {ChatError} `BAD_SERVER_URL` for a bad URL, `CONNECT_FAILED` when the connection fails.
 */
export async function connectTransport(
  url: string,
  handlers: TransportHandlers,
  options: TransportOptions = {},
): Promise<Transport> {
  const { scheme, hostname, port } = parseServerUrl(url);
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  try {
    if ((scheme === "ws" || scheme === "wss") && isDeno()) {
      // Loaded only here: `tcp://` clients do not pay for it, and a browser never loads it.
      const { connectDenoWebSocketTransport } = await import("./_ws_deno_transport.ts");
      return await connectDenoWebSocketTransport(url, handlers, {
        maxFrameSize,
        timeoutMs,
        ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
      });
    }
    if (scheme === "ws" || scheme === "wss") {
      // A browser: it trusts its own certificate store, so `caCerts` does not apply.
      return await connectWebSocketTransport(url, handlers, { maxFrameSize, timeoutMs });
    }
    return await connectTcpTransport(url, handlers, {
      hostname,
      port,
      tls: scheme === "tls",
      ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
      maxFrameSize,
      timeoutMs,
    });
  } catch (error) {
    if (error instanceof ChatError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new ChatError("CONNECT_FAILED", `Cannot connect to "${url}": ${detail}`, {
      cause: error,
    });
  }
}

/** Whether this runs in Deno (the `ws` package transport) rather than a browser. */
function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
}
