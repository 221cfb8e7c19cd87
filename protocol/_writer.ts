/**
 * Folder-private growable byte writer used by the encoder.
 *
 * @module
 */

import { utf8Encode } from "../crypto/bytes.ts";
import { isCode, isName } from "./_names.ts";
import { MAX_DETAIL_BYTES } from "./frames.ts";

/** Appends big-endian integers, fixed byte strings and length-prefixed strings. */
export class Writer {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(capacity = 64) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #ensure(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(value: number, field: string): this {
    checkInt(value, 0xff, field);
    this.#ensure(1);
    this.#buf[this.#len++] = value;
    return this;
  }

  u16(value: number, field: string): this {
    checkInt(value, 0xffff, field);
    this.#ensure(2);
    this.#view.setUint16(this.#len, value);
    this.#len += 2;
    return this;
  }

  u32(value: number, field: string): this {
    checkInt(value, 0xffff_ffff, field);
    this.#ensure(4);
    this.#view.setUint32(this.#len, value);
    this.#len += 4;
    return this;
  }

  /** Raw bytes; when `length` is given they must be exactly that long. */
  bytes(value: Uint8Array, field: string, length?: number): this {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`Cannot encode ${field}: expected a Uint8Array`);
    }
    if (length !== undefined && value.length !== length) {
      throw new RangeError(`Cannot encode ${field}: expected ${length} bytes, got ${value.length}`);
    }
    this.#ensure(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
    return this;
  }

  /** u8 length + name bytes; `allowEmpty` for the "all online users" roster. */
  name(value: string, field: string, allowEmpty = false): this {
    if (!(allowEmpty && value === "") && !isName(value)) {
      throw new RangeError(`Cannot encode ${field}: invalid name "${String(value)}"`);
    }
    this.u8(value.length, field);
    this.#ensure(value.length);
    for (let i = 0; i < value.length; i++) this.#buf[this.#len++] = value.charCodeAt(i);
    return this;
  }

  /** u8 length + error code bytes. */
  code(value: string, field: string): this {
    if (!isCode(value)) throw new RangeError(`Cannot encode ${field}: invalid code "${value}"`);
    this.u8(value.length, field);
    this.#ensure(value.length);
    for (let i = 0; i < value.length; i++) this.#buf[this.#len++] = value.charCodeAt(i);
    return this;
  }

  /** u16 length + UTF-8 text of at most 1024 bytes. */
  text(value: string, field: string): this {
    if (typeof value !== "string") throw new TypeError(`Cannot encode ${field}: not a string`);
    const bytes = utf8Encode(value);
    if (bytes.length > MAX_DETAIL_BYTES) {
      throw new RangeError(`Cannot encode ${field}: ${bytes.length} bytes is over 1024`);
    }
    this.u16(bytes.length, field);
    return this.bytes(bytes, field);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

function checkInt(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode ${field}: ${value} is not an integer in 0..${max}`);
  }
}
