/**
 * The TCP (and TLS) transport: length-prefixed frames, read into a buffer that forwarded frames
 * keep by reference, and one write per connection per tick.
 *
 * @module
 */

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
/** Shared by every idle peer (nothing to write): replaced before a push. */
const NOTHING: Uint8Array[] = [];
const BUSY_READ_BYTES = 64 * 1024;
const CLOSE_GRACE_MS = 2000;

/** A TCP or TLS connection. */
export class TcpPeer implements Peer {
  readonly transport: string;
  readonly remote: string;
  readonly batchWithTimer = false;
  #conn: Deno.Conn;
  #host: PeerHost;
  connection!: Connection;
  #pending: Uint8Array[] = NOTHING;
  #pendingBytes = 0;
  #inWrite = 0;
  #writing = false;
  #closing = false;
  #closed = false;

  /**
   * Wraps an accepted connection (TCP_NODELAY is set where the runtime allows it).
   *
   * @param conn The accepted connection.
   * @param host The relay.
   * @param transport `tcp` or `tls`.
   */
  constructor(conn: Deno.Conn, host: PeerHost, transport: string) {
    this.#conn = conn;
    this.#host = host;
    this.transport = transport;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remote = `${addr.hostname}:${addr.port}`;
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  }

  get bufferedBytes(): number {
    return this.#pendingBytes + this.#inWrite;
  }

  send(frame: Uint8Array): void {
    if (this.#closed || this.#closing) return;
    if (this.#pending === NOTHING) this.#pending = [];
    this.#pending.push(frame);
    this.#pendingBytes += frame.length + 4;
    this.#host.scheduleFlush(this.connection);
  }

  queue(frame: Uint8Array): void {
    if (this.#closed || this.#closing) return;
    if (this.#pending === NOTHING) this.#pending = [];
    this.#pending.push(frame);
    this.#pendingBytes += frame.length + 4;
  }

  flush(): void {
    if (this.#writing || this.#closed) return;
    if (this.#pending.length === 0) {
      if (this.#closing) this.#shut();
      return;
    }
    const out = new Uint8Array(this.#pendingBytes);
    let o = 0;
    for (const f of this.#pending) {
      const n = f.length;
      out[o] = n >>> 24;
      out[o + 1] = (n >>> 16) & 0xff;
      out[o + 2] = (n >>> 8) & 0xff;
      out[o + 3] = n & 0xff;
      out.set(f, o + 4);
      o += 4 + n;
    }
    this.#pending = NOTHING;
    this.#pendingBytes = 0;
    this.#writing = true;
    this.#inWrite = out.length;
    this.#writeAll(out).then(
      () => {
        this.#writing = false;
        this.#inWrite = 0;
        this.flush();
      },
      () => {
        this.#writing = false;
        this.#inWrite = 0;
        this.#shut();
      },
    );
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  close(immediate = false): void {
    if (this.#closed) return;
    this.#closing = true;
    if (immediate) return this.#shut();
    this.flush();
    if (this.#writing) setTimeout(() => this.#shut(), CLOSE_GRACE_MS);
  }

  #shut(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = NOTHING;
    this.#pendingBytes = 0;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
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
      while (!this.#closed) {
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
        const n = await this.#conn.read(end === 0 ? buf : buf.subarray(end));
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
          if (this.#closing || this.#closed) return;
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
      if (!this.#closing) this.#shut();
      host.onEnded(conn);
    }
  }
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
}
