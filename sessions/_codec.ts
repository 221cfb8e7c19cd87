/**
 * Private byte-layout helpers: a growable writer and a bounds-checked reader. All integers are
 * big-endian. A reader that runs past the end throws `SessionError("BAD_MESSAGE")`.
 *
 * @module
 */
import { SessionError } from "./errors.ts";

/** Appends big-endian integers and byte strings. */
export class ByteWriter {
  #parts: Uint8Array[] = [];
  #length = 0;

  u8(value: number): this {
    return this.bytes(Uint8Array.of(value & 0xff));
  }

  u16(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`Value out of u16 range: "${value}"`);
    }
    return this.bytes(Uint8Array.of(value >>> 8, value & 0xff));
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`Value out of u32 range: "${value}"`);
    }
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    return this.bytes(out);
  }

  bytes(value: Uint8Array): this {
    this.#parts.push(value);
    this.#length += value.length;
    return this;
  }

  /** A u16 length prefix then the bytes. */
  bytes16(value: Uint8Array): this {
    return this.u16(value.length).bytes(value);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** Reads big-endian integers and byte strings from a buffer, refusing to run past its end. */
export class ByteReader {
  #data: Uint8Array;
  #offset = 0;
  #what: string;

  constructor(data: Uint8Array, what: string) {
    this.#data = data;
    this.#what = what;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#data.length - this.#offset;
  }

  #take(length: number): Uint8Array {
    if (this.#offset + length > this.#data.length) {
      throw new SessionError(
        "BAD_MESSAGE",
        `Truncated ${this.#what}: need ${length} more bytes at offset ${this.#offset}`,
      );
    }
    const out = this.#data.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  u8(): number {
    return this.#take(1)[0]!;
  }

  u16(): number {
    const b = this.#take(2);
    return (b[0]! << 8) | b[1]!;
  }

  u32(): number {
    const b = this.#take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  /** A copy of the next `length` bytes. */
  bytes(length: number): Uint8Array {
    return this.#take(length).slice();
  }

  bytes16(): Uint8Array {
    return this.bytes(this.u16());
  }

  /** Everything left, copied. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** Throws unless the whole buffer was consumed. */
  end(): void {
    if (this.remaining !== 0) {
      throw new SessionError(
        "BAD_MESSAGE",
        `Trailing bytes in ${this.#what}: ${this.remaining} after offset ${this.#offset}`,
      );
    }
  }
}
