/**
 * TCP framing: every frame is preceded by its length as a u32 big-endian integer.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "./frames.ts";

/** Options of {@link FrameSplitter}. */
export interface FrameSplitterOptions {
  /** Largest accepted frame in bytes (default 65,536). */
  maxFrameBytes?: number;
}

/**
 * Splits a TCP byte stream into frames (`u32be length || frame`, repeated).
 *
 * Returned frames are views into the pushed chunks when a frame lies inside one chunk, else
 * fresh copies.
 */
export class FrameSplitter {
  #max: number;
  #pending: Uint8Array = new Uint8Array(0);

  /**
   * Creates a splitter.
   *
   * @param options Size limit.
   */
  constructor(options: FrameSplitterOptions = {}) {
    this.#max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /**
   * Adds received bytes and returns every frame they complete.
   *
   * @param chunk Bytes read from the socket.
   * @returns Complete frames, in order (possibly none).
   * @throws {ProtocolError} `EMPTY_FRAME` for a length of 0, `FRAME_TOO_LARGE` for a length
   *   above the maximum (checked as soon as the 4 prefix bytes arrive).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    let buf = chunk;
    if (this.#pending.length > 0) {
      buf = new Uint8Array(this.#pending.length + chunk.length);
      buf.set(this.#pending);
      buf.set(chunk, this.#pending.length);
    }
    const out: Uint8Array[] = [];
    let pos = 0;
    while (buf.length - pos >= 4) {
      const n = ((buf[pos]! << 24) >>> 0) + (buf[pos + 1]! << 16) + (buf[pos + 2]! << 8) +
        buf[pos + 3]!;
      checkLength(n, this.#max);
      if (buf.length - pos - 4 < n) break;
      out.push(buf.subarray(pos + 4, pos + 4 + n));
      pos += 4 + n;
    }
    this.#pending = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
    return out;
  }
}

/**
 * Validates a TCP length prefix.
 *
 * @param length The decoded u32.
 * @param maxFrameBytes The maximum frame size.
 * @throws {ProtocolError} `EMPTY_FRAME` or `FRAME_TOO_LARGE`.
 */
export function checkLength(length: number, maxFrameBytes: number): void {
  if (length === 0) throw new ProtocolError("EMPTY_FRAME", "Cannot read frame: length prefix 0");
  if (length > maxFrameBytes) {
    throw new ProtocolError(
      "FRAME_TOO_LARGE",
      `Cannot read frame: length ${length} is over the maximum of ${maxFrameBytes}`,
    );
  }
}
