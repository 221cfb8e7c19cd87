/**
 * The WebSocket transport: one binary message per frame (`Deno.upgradeWebSocket`).
 *
 * @module
 */

import type { Connection, Peer } from "./connection.ts";
import type { PeerHost } from "./transport_tcp.ts";

/**
 * Reading `WebSocket.bufferedAmount` costs a call into the runtime, and the relay asks on every
 * DELIVER: below this many bytes (or a quarter of the relay's slow-reader bound, if smaller) the
 * peer answers with an upper bound instead (the last value read plus everything sent since), and
 * reads the socket again only when the bound reaches it.
 */
const EXACT_BUFFERED_FROM = 64 * 1024;

/** A WebSocket connection. */
export class WebSocketPeer implements Peer {
  readonly transport: string;
  readonly remote: string;
  readonly batchWithTimer = true;
  #socket: WebSocket;
  connection!: Connection;
  #closed = false;
  /** `bufferedAmount` when last read, and bytes sent since. */
  #bufferedRead = 0;
  #sentSinceRead = 0;
  readonly #exactFrom: number;

  /**
   * Wraps an upgraded socket; frames flow once it opens.
   *
   * @param socket The server side of the upgrade.
   * @param remote `address:port` of the client.
   * @param transport `ws` or `wss`.
   * @param maxBufferedBytes The relay's slow-reader bound (`--max-buffered`).
   */
  constructor(socket: WebSocket, remote: string, transport: string, maxBufferedBytes: number) {
    this.#exactFrom = Math.min(EXACT_BUFFERED_FROM, Math.floor(maxBufferedBytes / 4));
    this.#socket = socket;
    this.remote = remote;
    this.transport = transport;
    socket.binaryType = "arraybuffer";
  }

  /**
   * Starts delivering messages to the relay.
   *
   * @param host The relay.
   * @param onOpen Called when the socket opens.
   */
  start(host: PeerHost, onOpen: () => void): void {
    const socket = this.#socket;
    socket.onopen = onOpen;
    socket.onmessage = (event: MessageEvent) => {
      const conn = this.connection;
      if (conn === undefined || this.#closed) return;
      const now = performance.now();
      conn.lastSeen = now;
      if (typeof event.data === "string") {
        host.onFramingError(conn, "UNEXPECTED_FRAME", "Cannot read frame: a text message");
        return;
      }
      const frame = new Uint8Array(event.data as ArrayBuffer);
      if (frame.length === 0) {
        host.onFramingError(conn, "EMPTY_FRAME", "Cannot read frame: empty");
        return;
      }
      if (frame.length > host.maxFrameBytes) {
        host.onFramingError(
          conn,
          "FRAME_TOO_LARGE",
          `Cannot read frame: ${frame.length} bytes is over the maximum of ${host.maxFrameBytes}`,
        );
        return;
      }
      host.onFrame(conn, frame, now);
    };
    socket.onclose = () => {
      this.#closed = true;
      if (this.connection !== undefined) host.onEnded(this.connection);
    };
    socket.onerror = () => {};
  }

  /** Bytes not yet handed to the kernel: exact, or an upper bound while that is small. */
  get bufferedBytes(): number {
    const bound = this.#bufferedRead + this.#sentSinceRead;
    if (bound < this.#exactFrom) return bound;
    this.#bufferedRead = this.#socket.bufferedAmount;
    this.#sentSinceRead = 0;
    return this.#bufferedRead;
  }

  send(frame: Uint8Array): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(frame);
    this.#sentSinceRead += frame.length;
  }

  queue(frame: Uint8Array): void {
    this.send(frame);
  }

  flush(): void {}

  close(immediate = false): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#socket.close(immediate ? 1008 : 1000);
    } catch {
      // not open yet or already closing
    }
  }
}
