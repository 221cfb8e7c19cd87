/**
 * The TCP (and TLS) transport: length-prefixed frames, read into a buffer that forwarded frames
 * keep by reference, and one write per connection per tick.
 *
 * @module
 */

import { BatchedWriter, Framing } from "./batched_writer.ts";
import { type Connection, type Peer, State } from "./connection.ts";

/** What a transport calls on the relay. */
export interface PeerHost {
  /** Handles one frame; returns true when the relay keeps a reference to its bytes. */
  onFrame(conn: Connection, frame: Uint8Array, now: number): boolean;
  /** Reports a framing error (fatal): an error code and a detail. */
  onFramingError(conn: Connection, code: string, detail: string): void;
  /** The transport ended (closed by either side). */
  onEnded(conn: Connection): void;
  /** Asks for {@link Peer.flush} at the end of this tick. */
  scheduleFlush(conn: Connection): void;
  /** Largest frame accepted. */
  readonly maxFrameBytes: number;
}

/** Read buffer for the handshake (HELLO, AUTH). */
const INITIAL_READ_BYTES = 512;
/**
 * Read buffer of an authenticated connection with nothing left in its handshake buffer: most
 * connections sit idle, and the first bigger frame moves them to BUSY_READ_BYTES anyway.
 */
const IDLE_READ_BYTES = 128;
const BUSY_READ_BYTES = 64 * 1024;
const CLOSE_GRACE_MS = 2000;

/** A TCP or TLS connection. */
export class TcpPeer extends BatchedWriter implements Peer {
  readonly transport: string;
  readonly remote: string;
  readonly batchWithTimer = false;
  #host: PeerHost;
  connection!: Connection;

  /**
   * Wraps an accepted connection (TCP_NODELAY is set where the runtime allows it).
   *
   * @param conn The accepted connection.
   * @param host The relay.
   * @param transport `tcp` or `tls`.
   */
  constructor(conn: Deno.Conn, host: PeerHost, transport: string) {
    super(conn, Framing.LENGTH_PREFIX);
    this.#host = host;
    this.transport = transport;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${addr.hostname}:${addr.port}`;
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  }

  send(frame: Uint8Array): void {
    if (this.push(frame)) this.#host.scheduleFlush(this.connection);
  }

  queue(frame: Uint8Array): void {
    this.push(frame);
  }

  close(immediate = false): void {
    if (this.closed) return;
    this.closing = true;
    if (immediate) return this.shut();
    this.flush();
    if (this.writing) setTimeout(() => this.shut(), CLOSE_GRACE_MS);
  }

  /** Reads frames until the connection ends; call once. */
  async run(): Promise<void> {
    const host = this.#host;
    const conn = this.connection;
    let buf = new Uint8Array(INITIAL_READ_BYTES);
    let start = 0;
    let end = 0;
    // Forwarded frames are views into `buf`: once one is, the bytes before `start` stay as they
    // are and reading goes on after them; a full buffer is then replaced, not compacted.
    let pinned = false;
    try {
      while (!this.closed) {
        if (end === buf.length) {
          const need = end - start >= 4 ? 4 + u32(buf, start) : 0;
          const size = Math.max(BUSY_READ_BYTES, need);
          if (!pinned && start > 0 && size <= buf.length) {
            buf.copyWithin(0, start, end);
          } else {
            const next = new Uint8Array(size);
            next.set(buf.subarray(start, end));
            buf = next;
            pinned = false;
          }
          end -= start;
          start = 0;
        }
        // Idle (the usual case): read into `buf` itself, no view object kept alive while waiting.
        const n = await this.conn.read(end === 0 ? buf : buf.subarray(end));
        if (n === null) break;
        end += n;
        const now = performance.now();
        conn.lastSeen = now;
        while (end - start >= 4) {
          const len = u32(buf, start);
          if (len === 0 || len > host.maxFrameBytes) {
            host.onFramingError(
              conn,
              len === 0 ? "EMPTY_FRAME" : "FRAME_TOO_LARGE",
              len === 0
                ? "Cannot read frame: length prefix 0"
                : `Cannot read frame: length ${len} is over the maximum of ${host.maxFrameBytes}`,
            );
            return;
          }
          if (end - start - 4 < len) break;
          const frame = buf.subarray(start + 4, start + 4 + len);
          start += 4 + len;
          if (host.onFrame(conn, frame, now)) pinned = true;
          if (this.closing || this.closed) return;
        }
        if (!pinned && start === end) {
          start = 0;
          end = 0;
          if (buf.length === INITIAL_READ_BYTES && conn.state === State.READY) {
            buf = new Uint8Array(IDLE_READ_BYTES);
          }
        }
      }
    } catch {
      // Reset by peer, closed by us, TLS failure: all end the connection.
    } finally {
      // A close the relay asked for shuts the socket once the last frames are written.
      if (!this.closing) this.shut();
      host.onEnded(conn);
    }
  }
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
}
