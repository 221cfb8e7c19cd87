/**
 * Splits a byte stream into frames that each start with a u32 big-endian length prefix.
 * Pure and permission-free, so it is unit-tested on its own.
 *
 * @module
 */

import { ChatError } from "./errors.ts";

/** Reassembles length-prefixed frames from arbitrary stream chunks. */
export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #maxFrameSize: number;

  /**
   * Creates a reader.
   *
   * @param maxFrameSize Largest accepted frame body in bytes.
   */
  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
  }

  /**
   * Feeds one chunk and returns every frame it completes, in order.
   *
   * @param chunk Bytes as read from the stream.
   * @returns The complete frames (without prefixes); views are copies, safe to keep.
   * @throws {ChatError} `FRAME_TOO_LARGE` when a prefix announces more than the limit.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    let buffer: Uint8Array;
    if (this.#buffer.length === 0) {
      buffer = chunk;
    } else {
      buffer = new Uint8Array(this.#buffer.length + chunk.length);
      buffer.set(this.#buffer, 0);
      buffer.set(chunk, this.#buffer.length);
    }
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = new DataView(buffer.buffer, buffer.byteOffset + offset, 4).getUint32(0);
      if (length > this.#maxFrameSize) {
        throw new ChatError(
          "FRAME_TOO_LARGE",
          `Frame of ${length} bytes is over the limit: ${this.#maxFrameSize} bytes`,
        );
      }
      if (buffer.length - offset - 4 < length) break;
      frames.push(buffer.slice(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    this.#buffer = buffer.slice(offset);
    return frames;
  }
}

/**
 * Prefixes frames with their u32 big-endian lengths and concatenates them into one buffer.
 *
 * @param frames The frames to write, in order.
 * @returns One buffer: `len(f0) || f0 || len(f1) || f1 ...`.
 * @throws {RangeError} When a frame is 4 GiB or larger.
 */
export function encodeLengthPrefixed(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const frame of frames) total += 4 + frame.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const frame of frames) {
    if (frame.length > 0xffffffff) throw new RangeError("Frame is too large to prefix");
    view.setUint32(offset, frame.length);
    out.set(frame, offset + 4);
    offset += 4 + frame.length;
  }
  return out;
}
