/**
 * The one batched writer of both transports: frames queued during a tick leave in one write, each
 * with its framing (TCP: a `u32` length prefix; WebSocket: an RFC 6455 frame header), written into
 * one buffer taken from a shared pool. A peer extends it and adds its reading and closing.
 *
 * @module
 */

/** How a queued payload goes on the wire. */
export const Framing = Object.freeze(
  {
    /** `u32` length, then the frame (TCP, TLS). */
    LENGTH_PREFIX: 0,
    /** An RFC 6455 server frame header (FIN set, opcode, no mask), then the payload. */
    WEBSOCKET: 1,
  } as const,
);

/** Opcode of bytes written as they are, with no framing (an HTTP answer before an upgrade). */
export const RAW = -1;
/** WebSocket opcode of a binary message (one Hush frame). */
export const BINARY = 0x2;

/** Writes up to this size use a pooled buffer; bigger ones get their own. */
const POOL_BUFFER_BYTES = 16 * 1024;
/** Pooled buffers kept when no write uses them (the pool never holds more). */
const POOL_MAX = 32;
const pool: Uint8Array[] = [];

/** Shared by every idle writer (nothing queued): replaced before a push. */
const NO_FRAMES: Uint8Array[] = [];
const NO_OPCODES: number[] = [];

/** Bytes of framing in front of a payload of `n` bytes. */
function headerBytes(framing: number, opcode: number, n: number): number {
  if (framing === Framing.LENGTH_PREFIX) return 4;
  if (opcode === RAW) return 0;
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/**
 * A connection's queued output and its one write in progress. `bufferedBytes` is what is queued
 * or being written. After a failed write the socket is shut ({@link shut}).
 */
export abstract class BatchedWriter {
  protected readonly conn: Deno.Conn;
  readonly #framing: number;
  #frames: Uint8Array[] = NO_FRAMES;
  /** The opcode of each queued frame (WebSocket only). */
  #opcodes: number[] = NO_OPCODES;
  #pendingBytes = 0;
  #inWrite = 0;
  #writing = false;
  /** Writes started and completed (counters only: the relay's heartbeat sweep reads them). */
  writesStarted = 0;
  writesDone = 0;
  /** Closing: nothing more is queued; the socket is shut once what is queued is written. */
  protected closing = false;
  protected closed = false;

  /**
   * @param conn The socket written to.
   * @param framing {@link Framing}.
   */
  constructor(conn: Deno.Conn, framing: number) {
    this.conn = conn;
    this.#framing = framing;
  }

  /** Bytes queued or being written. */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#inWrite;
  }

  /** Whether a write is in progress. */
  protected get writing(): boolean {
    return this.#writing;
  }

  /**
   * Queues a payload for the next flush.
   *
   * @param payload The bytes (kept by reference until the flush copies them).
   * @param opcode The WebSocket opcode ({@link BINARY}, a control opcode, or {@link RAW}); ignored
   *   with a length prefix.
   * @returns False when the peer no longer writes (closing or closed).
   */
  protected push(payload: Uint8Array, opcode: number = BINARY): boolean {
    if (this.closed || this.closing) return false;
    if (this.#frames === NO_FRAMES) {
      this.#frames = [];
      if (this.#framing === Framing.WEBSOCKET) this.#opcodes = [];
    }
    this.#frames.push(payload);
    if (this.#framing === Framing.WEBSOCKET) this.#opcodes.push(opcode);
    this.#pendingBytes += headerBytes(this.#framing, opcode, payload.length) + payload.length;
    return true;
  }

  /** Writes what is queued (one write); when closing and nothing is left, shuts the socket. */
  flush(): void {
    if (this.#writing || this.closed) return;
    const frames = this.#frames;
    if (frames.length === 0) {
      if (this.closing) this.shut();
      return;
    }
    const total = this.#pendingBytes;
    const out = total <= POOL_BUFFER_BYTES
      ? (pool.pop() ?? new Uint8Array(POOL_BUFFER_BYTES))
      : new Uint8Array(total);
    let o = 0;
    if (this.#framing === Framing.LENGTH_PREFIX) {
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        const n = f.length;
        out[o] = n >>> 24;
        out[o + 1] = (n >>> 16) & 0xff;
        out[o + 2] = (n >>> 8) & 0xff;
        out[o + 3] = n & 0xff;
        out.set(f, o + 4);
        o += 4 + n;
      }
    } else {
      const opcodes = this.#opcodes;
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        const n = f.length;
        const opcode = opcodes[i]!;
        if (opcode !== RAW) {
          out[o] = 0x80 | opcode;
          if (n < 126) {
            out[o + 1] = n;
            o += 2;
          } else if (n < 65536) {
            out[o + 1] = 126;
            out[o + 2] = n >>> 8;
            out[o + 3] = n & 0xff;
            o += 4;
          } else {
            out[o + 1] = 127;
            out[o + 2] =
              out[o + 3] =
              out[o + 4] =
              out[o + 5] =
                0;
            out[o + 6] = n >>> 24;
            out[o + 7] = (n >>> 16) & 0xff;
            out[o + 8] = (n >>> 8) & 0xff;
            out[o + 9] = n & 0xff;
            o += 10;
          }
        }
        out.set(f, o);
        o += n;
      }
      this.#opcodes = NO_OPCODES;
    }
    this.#frames = NO_FRAMES;
    this.#pendingBytes = 0;
    this.#writing = true;
    this.#inWrite = total;
    this.writesStarted++;
    this.#write(out, 0, total);
  }

  /** Writes `out[off, total)`, then gives `out` back and flushes what came meanwhile. */
  #write(out: Uint8Array, off: number, total: number): void {
    this.conn.write(off === 0 && total === out.length ? out : out.subarray(off, total)).then(
      (n) => {
        if (off + n < total) return this.#write(out, off + n, total);
        this.#written(out);
        this.flush();
      },
      () => {
        this.#written(out);
        this.shut();
      },
    );
  }

  #written(out: Uint8Array): void {
    this.#writing = false;
    this.#inWrite = 0;
    this.writesDone++;
    if (out.length === POOL_BUFFER_BYTES && pool.length < POOL_MAX) pool.push(out);
  }

  /** Shuts the socket now; what is still queued is dropped. */
  protected shut(): void {
    if (this.closed) return;
    this.closed = true;
    this.#frames = NO_FRAMES;
    this.#opcodes = NO_OPCODES;
    this.#pendingBytes = 0;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}
