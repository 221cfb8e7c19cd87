/// <reference lib="dom" />
/**
 * The messages between the page and its IO worker (`web/io_worker.ts`, `web/io_link.ts`), one
 * ordered `postMessage` channel each way (docs/WEB.md "The IO worker").
 *
 * @module
 */

import type { StoreName } from "./browser_home.ts";

/** A read of the store: answered by a {@linkcode IoResult}. */
export interface IoRead {
  t: "read";
  id: number;
  op: "get" | "keys" | "entries";
  store: StoreName;
  /** The key (`get`) or the prefix (`keys`, `entries`). */
  key: string;
}

/** One store's puts and deletes (`undefined`). */
export interface StoreChanges {
  store: StoreName;
  changes: Map<string, unknown>;
}

/**
 * Writes, committed in one transaction (all or none): the page's writes since its last message.
 * Not answered, unless it fails (then {@linkcode IoFatal}).
 */
export interface IoWrite {
  t: "write";
  /** 1, 2, 3, ... in the order the page issued them. */
  seq: number;
  writes: StoreChanges[];
}

/** Asks for an {@linkcode IoFlushed} once every earlier write is committed. */
export interface IoFlush {
  t: "flush";
  id: number;
}

/** Opens a WebSocket to the relay. */
export interface IoConnect {
  t: "connect";
  cid: number;
  url: string;
  maxFrameSize: number;
  timeoutMs: number;
}

/** A frame for the relay: it leaves once every write issued before it is committed. */
export interface IoSend {
  t: "send";
  cid: number;
  frame: Uint8Array;
}

/** Closes a connection. */
export interface IoClose {
  t: "close";
  cid: number;
}

/** What the page posts to the worker. */
export type ToWorker = IoRead | IoWrite | IoFlush | IoConnect | IoSend | IoClose;

/** The answer to an {@linkcode IoRead}. */
export type IoResult =
  | { t: "result"; id: number; ok: true; value: unknown }
  | { t: "result"; id: number; ok: false; code: string; message: string };

/** Every write before the {@linkcode IoFlush} of this id is committed (`ok`), or one failed. */
export interface IoFlushed {
  t: "flushed";
  id: number;
  ok: boolean;
}

/** A connection opened (`open`) or could not (`failed`). */
export type IoOpened =
  | { t: "open"; cid: number }
  | { t: "failed"; cid: number; code: string; message: string };

/** A frame from the relay. */
export interface IoFrame {
  t: "frame";
  cid: number;
  bytes: ArrayBuffer;
}

/** A connection is gone; `code` when reconnecting cannot help (a write failed). */
export interface IoClosed {
  t: "closed";
  cid: number;
  reason: string;
  code?: string;
}

/** A write failed: the worker sends nothing more, ever (the page must be reloaded). */
export interface IoFatal {
  t: "fatal";
  code: string;
  message: string;
}

/** What the worker posts to the page. */
export type FromWorker = IoResult | IoFlushed | IoOpened | IoFrame | IoClosed | IoFatal;

/** One end of the channel: a `Worker` on the page's side, the worker's global on the other. */
export interface IoPort<In, Out> {
  postMessage(message: Out, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<In>) => void) | null;
}
