/// <reference lib="dom" />
/**
 * The page's side of its IO worker (`web/io_worker.ts`): a {@linkcode KeyValue} and a frame
 * transport that both go through the worker, in one ordered channel.
 *
 * Reads are answered by the worker. Writes resolve at once: the worker commits them in the order
 * issued and holds back every frame sent after a write until that write is committed, so the
 * engine's "saved, then sent" order holds on the wire without the page waiting for IndexedDB
 * (which, on the page's thread, waits for the next drawn frame after a click or a key). What the
 * page does with a write that is not yet committed is only what it shows; anything that must not
 * happen before the writes are on disk (the `shown` journal trimmed, a home's lock released)
 * waits for {@linkcode IoKeyValue.flushed}. When a write fails, every later write and connect is
 * refused with `BAD_HOME` and the open connection closes with it: the engine stops.
 *
 * @module
 */

import type { KeyValue, StoreName } from "./browser_home.ts";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_SIZE,
  type Transport,
  type TransportHandlers,
  type TransportOptions,
} from "../chat/transport.ts";
import { ChatError } from "../chat/errors.ts";
import type { FromWorker, IoPort, IoRead, StoreChanges, ToWorker } from "./io_messages.ts";

/** A {@linkcode KeyValue} whose writes complete later, with a way to wait for them. */
export interface IoKeyValue extends KeyValue {
  /** Resolves once every write issued so far is committed; rejects when one failed. */
  flushed(): Promise<void>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface LinkConnection {
  handlers: TransportHandlers;
  opened?: Pending;
  closed: boolean;
}

/** The page's end of the IO worker. */
export class IoLink {
  readonly #port: IoPort<FromWorker, ToWorker>;
  #nextId = 1;
  #nextSeq = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #connections = new Map<number, LinkConnection>();
  /**
   * Writes not yet posted. They go, as one transaction, before the next message to the worker
   * (a frame, a read, a flush) or on a timer: the engine's session commit and outbox write
   * before a frame then cost one IndexedDB commit, not two.
   */
  #batch: StoreChanges[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | undefined;
  #fatal: ChatError | undefined;
  /** The worker is gone: nothing will be answered. */
  #dead = false;
  readonly #onFatal: ((error: ChatError) => void)[] = [];

  /** The store, through the worker. */
  readonly store: IoKeyValue;

  /**
   * @param port The worker (or, in tests, one end of a `MessageChannel`).
   */
  constructor(port: IoPort<FromWorker, ToWorker>) {
    this.#port = port;
    port.onmessage = (event) => this.#onMessage(event.data);
    const read = (op: IoRead["op"], store: StoreName, key: string) =>
      this.#request((id) => ({ t: "read", id, op, store, key }));
    const write = (store: StoreName, changes: Map<string, unknown>): Promise<void> => {
      if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
      this.#batch.push({ store, changes });
      this.#batchTimer ??= setTimeout(() => this.#postWrites(), 0);
      return Promise.resolve();
    };
    this.store = {
      get: (store, key) => read("get", store, key),
      keys: (store, prefix) => read("keys", store, prefix) as Promise<string[]>,
      entries: (store, prefix) => read("entries", store, prefix) as Promise<[string, unknown][]>,
      put: (store, key, value) => write(store, new Map([[key, value]])),
      delete: (store, key) => write(store, new Map([[key, undefined]])),
      apply: (store, changes) => write(store, new Map(changes)),
      flushed: async () => {
        const ok = await this.#request((id) => ({ t: "flush", id }));
        if (ok !== true) {
          throw this.#fatal ?? new ChatError("BAD_HOME", "A write to the home failed");
        }
      },
    };
  }

  /**
   * Calls `listener` when a write fails (at most once).
   *
   * @param listener Gets the `BAD_HOME` error.
   */
  onFatal(listener: (error: ChatError) => void): void {
    this.#onFatal.push(listener);
  }

  /**
   * Opens a WebSocket in the worker: the engine's `connectTransport` option.
   *
   * @param url The relay's `ws://` or `wss://` URL.
   * @param handlers Frame and close callbacks.
   * @param options The frame size limit and connect timeout.
   * @returns The transport.
   */
  readonly connectTransport = (
    url: string,
    handlers: TransportHandlers,
    options: TransportOptions,
  ): Promise<Transport> => {
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
    const cid = this.#nextId++;
    const connection: LinkConnection = { handlers, closed: false };
    this.#connections.set(cid, connection);
    const transport: Transport = {
      url,
      send: (frame) => {
        if (!connection.closed) this.#post({ t: "send", cid, frame });
      },
      close: () => {
        if (connection.closed) return;
        this.#post({ t: "close", cid });
        this.#closed(cid, "closed by client");
      },
    };
    return new Promise((resolve, reject) => {
      connection.opened = { resolve: () => resolve(transport), reject };
      this.#post({
        t: "connect",
        cid,
        url,
        maxFrameSize: options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
        timeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      });
    });
  };

  /**
   * The worker itself failed (its script did not start, or it died): every pending and later
   * request fails, every connection closes, with `BAD_HOME`.
   *
   * @param detail What the browser said.
   */
  workerFailed(detail: string): void {
    const error = this.#fatal ?? new ChatError(
      "BAD_HOME",
      `The page's IO worker failed (${detail}): nothing more is saved or sent; reload the page`,
    );
    const first = this.#fatal === undefined;
    this.#fatal = error;
    this.#dead = true;
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    this.#batch = [];
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    for (const cid of [...this.#connections.keys()]) this.#closed(cid, error.message, error);
    if (first) { for (const listener of this.#onFatal) listener(error); }
  }

  #request(make: (id: number) => ToWorker): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#fatal);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post(make(id));
    });
  }

  /** Posts a message to the worker, after the writes issued before it. */
  #post(message: ToWorker): void {
    this.#postWrites();
    this.#port.postMessage(message);
  }

  #postWrites(): void {
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    if (this.#batch.length === 0) return;
    const writes = this.#batch;
    this.#batch = [];
    this.#port.postMessage({ t: "write", seq: this.#nextSeq++, writes });
  }

  #onMessage(message: FromWorker): void {
    switch (message.t) {
      case "result": {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(new ChatError(message.code, message.message));
        return;
      }
      case "flushed": {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        pending?.resolve(message.ok);
        return;
      }
      case "open": {
        const connection = this.#connections.get(message.cid);
        const opened = connection?.opened;
        if (connection === undefined || opened === undefined) return;
        delete connection.opened;
        opened.resolve(undefined);
        return;
      }
      case "failed": {
        const connection = this.#connections.get(message.cid);
        this.#connections.delete(message.cid);
        connection?.opened?.reject(new ChatError(message.code, message.message));
        return;
      }
      case "frame": {
        const connection = this.#connections.get(message.cid);
        if (connection !== undefined && !connection.closed) {
          connection.handlers.onFrame(new Uint8Array(message.bytes));
        }
        return;
      }
      case "closed":
        this.#closed(
          message.cid,
          message.reason,
          message.code === undefined ? undefined : new ChatError(message.code, message.reason),
        );
        return;
      case "fatal": {
        if (this.#fatal !== undefined) return;
        this.#fatal = new ChatError(message.code, message.message);
        for (const listener of this.#onFatal) listener(this.#fatal);
        return;
      }
    }
  }

  #closed(cid: number, reason: string, error?: Error): void {
    const connection = this.#connections.get(cid);
    if (connection === undefined || connection.closed) return;
    connection.closed = true;
    this.#connections.delete(cid);
    if (connection.opened !== undefined) {
      connection.opened.reject(error ?? new ChatError("CONNECT_FAILED", reason));
      return;
    }
    if (error === undefined) connection.handlers.onClose(reason);
    else connection.handlers.onClose(reason, error);
  }
}

/**
 * Starts the IO worker from its source (carried in the main bundle, so the script tag's
 * Subresource Integrity covers it) through a `blob:` URL: the page's Content-Security-Policy
 * allows `worker-src blob:`, and the worker inherits that policy (its `connect-src` too).
 *
 * @param source The worker bundle (an ES module).
 * @returns The link.
 */
export function startIoWorker(source: string): IoLink {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module", name: "hush-io" });
  URL.revokeObjectURL(url);
  const link = new IoLink(worker as unknown as IoPort<FromWorker, ToWorker>);
  worker.addEventListener("error", (event) => link.workerFailed(event.message || "error"));
  worker.addEventListener("messageerror", () => link.workerFailed("a message did not decode"));
  return link;
}
