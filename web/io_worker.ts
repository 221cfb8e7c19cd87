/// <reference lib="dom" />
/**
 * The page's IO worker: it holds the IndexedDB home and the WebSocket to the relay, so that the
 * durable write that must come before a frame (docs/CLIENT.md: session state, then outbox, then
 * the wire) completes on a thread of its own. On the page's thread, Chromium holds tasks back
 * after a click or a key until the next frame is drawn, and an IndexedDB commit's `complete`
 * waited with them: 8-19 ms on every message typed (bench/web/README.md).
 *
 * The rule that keeps the delivery promise: a frame leaves only once every write the page issued
 * before it is committed. The page does not wait for its writes (`web/io_link.ts` resolves them
 * at once); the worker does, before each send. When a write fails, the worker closes every
 * connection, sends nothing more, and tells the page ({@linkcode IoFatal}): no frame ever leaves
 * that rests on state that was not saved, so no message key can be used twice.
 *
 * `serveIo` is the worker's logic with its two resources passed in (tests give it a store in
 * memory and a fake socket); `web/io_worker_main.ts` starts it on IndexedDB and `WebSocket`.
 *
 * @module
 */

import type { KeyValue, StoreName } from "./browser_home.ts";
import type { Transport, TransportHandlers } from "../chat/transport.ts";
import type {
  FromWorker,
  IoConnect,
  IoPort,
  IoRead,
  StoreChanges,
  ToWorker,
} from "./io_messages.ts";

/** What {@linkcode serveIo} works with. */
export interface IoResources {
  /** The store (IndexedDB in the worker). */
  store: Promise<KeyValue>;
  /** Opens a frame transport (`connectWebSocketTransport` in the worker). */
  connect(
    url: string,
    handlers: TransportHandlers,
    options: { maxFrameSize: number; timeoutMs: number },
  ): Promise<Transport>;
}

/** A frame or flush waiting for the writes before it. */
type Waiting =
  | { after: number; kind: "send"; cid: number; frame: Uint8Array }
  | { after: number; kind: "close"; cid: number }
  | { after: number; kind: "flush"; id: number };

/**
 * Serves the page's reads, writes and connections on `port` until the worker ends.
 *
 * @param port The worker's global scope (or one end of a `MessageChannel` in tests).
 * @param resources The store and the transport factory.
 */
export function serveIo(port: IoPort<ToWorker, FromWorker>, resources: IoResources): void {
  new IoServer(port, resources);
}

class IoServer {
  readonly #port: IoPort<ToWorker, FromWorker>;
  readonly #resources: IoResources;
  /** The last write issued, and the last one committed (writes commit in order: `#writing`). */
  #issued = 0;
  #done = 0;
  readonly #waiting: Waiting[] = [];
  readonly #connections = new Map<number, Transport>();
  #fatal: { code: string; message: string } | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(port: IoPort<ToWorker, FromWorker>, resources: IoResources) {
    this.#port = port;
    this.#resources = resources;
    port.onmessage = (event) => this.#onMessage(event.data);
  }

  #onMessage(message: ToWorker): void {
    switch (message.t) {
      case "read":
        this.#read(message.id, message.op, message.store, message.key);
        return;
      case "write":
        this.#write(message.seq, message.writes);
        return;
      case "flush":
        this.#enqueue({ after: this.#issued, kind: "flush", id: message.id });
        return;
      case "connect":
        this.#connect(message);
        return;
      case "send":
        this.#enqueue({
          after: this.#issued,
          kind: "send",
          cid: message.cid,
          frame: message.frame,
        });
        return;
      case "close":
        // After the frames sent before it, as a socket closes after what it was given.
        this.#enqueue({ after: this.#issued, kind: "close", cid: message.cid });
        return;
    }
  }

  #read(id: number, op: IoRead["op"], name: StoreName, key: string): void {
    // After the writes issued before it: they wait in `#writing` before reaching IndexedDB.
    this.#writing
      .then(() => this.#resources.store)
      .then((store) =>
        op === "get"
          ? store.get(name, key)
          : op === "keys"
          ? store.keys(name, key)
          : store.entries(name, key)
      )
      .then(
        (value) => this.#port.postMessage({ t: "result", id, ok: true, value }),
        (error) => this.#port.postMessage({ t: "result", id, ok: false, ...describe(error) }),
      );
  }

  #write(seq: number, writes: StoreChanges[]): void {
    this.#issued = seq;
    if (this.#fatal !== undefined) return;
    // One batch after the other: IndexedDB orders them anyway (every write takes all stores);
    // a store without `applyAll` (tests) gets the same order from this chain.
    this.#writing = this.#writing
      .then(() => this.#resources.store)
      .then(async (store) => {
        if (this.#fatal !== undefined) return;
        if (store.applyAll !== undefined) await store.applyAll(writes);
        else for (const { store: name, changes } of writes) await store.apply(name, changes);
        this.#done = seq;
        this.#drain();
      })
      .catch((error) => this.#fail(error));
  }

  #enqueue(item: Waiting): void {
    this.#waiting.push(item);
    this.#drain();
  }

  /** Sends the frames (and answers the flushes) whose writes are all committed, in order. */
  #drain(): void {
    while (this.#waiting.length > 0) {
      const item = this.#waiting[0]!;
      if (this.#fatal === undefined && item.after > this.#done) return;
      this.#waiting.shift();
      if (item.kind === "flush") {
        this.#port.postMessage({ t: "flushed", id: item.id, ok: this.#fatal === undefined });
      } else if (item.kind === "close") {
        const connection = this.#connections.get(item.cid);
        this.#connections.delete(item.cid);
        connection?.close();
      } else if (this.#fatal === undefined) {
        this.#connections.get(item.cid)?.send(item.frame);
      }
    }
  }

  #connect(message: IoConnect): void {
    const { cid, url, maxFrameSize, timeoutMs } = message;
    if (this.#fatal !== undefined) {
      this.#port.postMessage({ t: "failed", cid, ...this.#fatal });
      return;
    }
    this.#resources.connect(url, {
      onFrame: (frame) => {
        // The transport's frames own their buffers (one per WebSocket message): hand it over.
        const bytes = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength
          ? frame.buffer as ArrayBuffer
          : frame.slice().buffer;
        this.#port.postMessage({ t: "frame", cid, bytes }, [bytes]);
      },
      onClose: (reason) => {
        if (!this.#connections.delete(cid)) return;
        this.#port.postMessage({ t: "closed", cid, reason });
      },
    }, { maxFrameSize, timeoutMs }).then(
      (transport) => {
        if (this.#fatal !== undefined) {
          transport.close();
          this.#port.postMessage({ t: "failed", cid, ...this.#fatal });
          return;
        }
        this.#connections.set(cid, transport);
        this.#port.postMessage({ t: "open", cid });
      },
      (error) => this.#port.postMessage({ t: "failed", cid, ...describe(error, "CONNECT_FAILED") }),
    );
  }

  /** A write failed: nothing more leaves, every connection closes, the page is told. */
  #fail(error: unknown): void {
    if (this.#fatal !== undefined) return;
    const { message } = describe(error);
    this.#fatal = {
      code: "BAD_HOME",
      message: `A write to the home failed (${message}): nothing more is sent; reload the page`,
    };
    for (const [cid, connection] of [...this.#connections]) {
      this.#connections.delete(cid);
      connection.close();
      this.#port.postMessage({
        t: "closed",
        cid,
        reason: this.#fatal.message,
        code: this.#fatal.code,
      });
    }
    this.#port.postMessage({ t: "fatal", ...this.#fatal });
    this.#drain();
  }
}

function describe(error: unknown, otherwise = "BAD_HOME"): { code: string; message: string } {
  const code = (error as { code?: unknown })?.code;
  return {
    code: typeof code === "string" ? code : otherwise,
    message: error instanceof Error ? error.message : String(error),
  };
}
