/**
 * The TCP and TLS transport (Deno-specific): u32 big-endian length-prefixed frames over
 * `Deno.connect` / `Deno.connectTls`, with `TCP_NODELAY` set and writes batched per tick.
 *
 * @module
 */

import { concatBytes } from "../crypto/bytes.ts";
import { ChatError } from "./errors.ts";
import { FrameSplitter, withLengthPrefix } from "../protocol/mod.ts";
import type { Transport, TransportHandlers } from "./transport.ts";

/** Options for {@linkcode connectTcpTransport}. */
export interface TcpTransportOptions {
  hostname: string;
  port: number;
  tls: boolean;
  caCerts?: string[];
  maxFrameSize: number;
  timeoutMs: number;
}

/**
 * Connects over TCP (optionally TLS) and returns a frame transport.
 *
 * @param url The URL, kept for display.
 * @param handlers Frame and close callbacks.
 * @param options Host, port, TLS, CA certificates, limits.
 * @returns The transport once connected.
 * @throws {Error} When the connection fails or times out.
 */
export async function connectTcpTransport(
  url: string,
  handlers: TransportHandlers,
  options: TcpTransportOptions,
): Promise<Transport> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  let conn: Deno.Conn | Deno.TlsConn;
  const connecting = options.tls
    ? Deno.connectTls({
      hostname: options.hostname,
      port: options.port,
      ...(options.caCerts === undefined ? {} : { caCerts: options.caCerts }),
    })
    : Deno.connect({ hostname: options.hostname, port: options.port, transport: "tcp" });
  try {
    conn = await Promise.race([connecting, timeout]);
  } catch (error) {
    connecting.then((late) => late.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (options.tls) await (conn as Deno.TlsConn).handshake();
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  return new TcpTransport(url, conn, handlers, options.maxFrameSize);
}

class TcpTransport implements Transport {
  readonly url: string;
  #conn: Deno.Conn;
  #handlers: TransportHandlers;
  #splitter: FrameSplitter;
  #pending: Uint8Array[] = [];
  #writing = false;
  #closed = false;

  constructor(url: string, conn: Deno.Conn, handlers: TransportHandlers, maxFrameSize: number) {
    this.url = url;
    this.#conn = conn;
    this.#handlers = handlers;
    this.#splitter = new FrameSplitter({ maxFrameBytes: maxFrameSize });
    this.#readLoop();
  }

  send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#pending.push(frame);
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => this.#writeLoop());
    }
  }

  close(): void {
    this.#finish("closed by client");
  }

  async #writeLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0 && !this.#closed) {
        const batch = concatBytes(...this.#pending.map(withLengthPrefix));
        this.#pending = [];
        let offset = 0;
        while (offset < batch.length) offset += await this.#conn.write(batch.subarray(offset));
      }
    } catch (error) {
      this.#finish(`write failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    let reason = "connection closed by the relay";
    let first = true;
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        if (first && looksLikeHttp(chunk.subarray(0, n))) {
          // A relay's WebSocket/HTTP port answers our length-prefixed HELLO with "HTTP/1.1 400":
          // read as a length, "HTTP" is 1213486160. Say what happened, once, and stop.
          const error = wrongPortError(this.url);
          this.#finish(error.message, error);
          return;
        }
        first = false;
        for (const frame of this.#splitter.push(chunk.subarray(0, n)).map((f) => f.slice())) {
          if (this.#closed) break;
          this.#handlers.onFrame(frame);
        }
      }
    } catch (error) {
      if (!this.#closed) reason = error instanceof Error ? error.message : String(error);
    }
    this.#finish(reason);
  }

  #finish(reason: string, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    if (error === undefined) this.#handlers.onClose(reason);
    else this.#handlers.onClose(reason, error);
  }
}

/** Whether the first bytes from the server are an HTTP response rather than a Hush frame. */
function looksLikeHttp(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new TextDecoder().decode(bytes.subarray(0, 5)).startsWith("HTTP");
}

/** `WRONG_PROTOCOL`: a `tcp://` or `tls://` URL aimed at the relay's WebSocket/HTTP port. */
function wrongPortError(url: string): ChatError {
  let right = "ws://HOST:PORT/";
  try {
    const parsed = new URL(url);
    const secure = parsed.protocol === "tls:" || parsed.protocol === "tcp+tls:";
    right = `${secure ? "wss" : "ws"}://${parsed.host}/`;
  } catch {
    // keep the placeholder
  }
  return new ChatError(
    "WRONG_PROTOCOL",
    `${url} answered in HTTP: this is the relay's WebSocket port, use ${right} (or the relay's TCP port with tcp://)`,
  );
}
