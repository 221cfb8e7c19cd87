/**
 * The page's IO worker (`web/io_worker.ts`) and its page side (`web/io_link.ts`), joined by a
 * real `MessageChannel` (structured clone, as between a page and a worker), with a store whose
 * writes complete when the test says and a transport that records what it sends.
 */

import assert from "node:assert/strict";
import { IoLink } from "../../web/io_link.ts";
import { type IoResources, serveIo } from "../../web/io_worker.ts";
import { BrowserHome, type KeyValue, MemoryKeyValue } from "../../web/browser_home.ts";
import type { FromWorker, IoPort, ToWorker } from "../../web/io_messages.ts";
import type { Transport, TransportHandlers } from "../../chat/transport.ts";
import { ChatError } from "../../chat/errors.ts";

/** A store in memory whose writes are held until `release()` (or failed by `fail()`). */
class HeldStore extends MemoryKeyValue {
  readonly held: { resolve(): void; reject(e: Error): void; label: string }[] = [];
  override apply(store: "files" | "entries" | "homes", changes: ReadonlyMap<string, unknown>) {
    return new Promise<void>((resolve, reject) => {
      this.held.push({
        label: [...changes.keys()].join(","),
        resolve: () => super.apply(store, changes).then(resolve),
        reject,
      });
    });
  }
  /** Completes the oldest held write. */
  release(): string {
    const write = this.held.shift();
    assert.ok(write, "a write is held");
    write.resolve();
    return write.label;
  }
  fail(): void {
    const write = this.held.shift();
    assert.ok(write, "a write is held");
    write.reject(new Error("QuotaExceededError"));
  }
}

class FakeSocket {
  sent: string[] = [];
  closed = false;
  handlers: TransportHandlers | undefined;
}

type IoWorld = ReturnType<typeof setUp>;

/**
 * A worker (`serveIo`) and its page side joined by a `MessageChannel`, over `store`; connections
 * open a {@linkcode FakeSocket} unless `connect` says otherwise.
 */
function setUp(store: KeyValue, connect?: IoResources["connect"]) {
  const channel = new MessageChannel();
  const socket = new FakeSocket();
  serveIo(channel.port2 as unknown as IoPort<ToWorker, FromWorker>, {
    store: Promise.resolve(store),
    connect: connect ?? ((url, handlers): Promise<Transport> => {
      socket.handlers = handlers;
      return Promise.resolve({
        url,
        send: (frame) => void socket.sent.push(new TextDecoder().decode(frame)),
        close: () => void (socket.closed = true),
      });
    }),
  });
  const link = new IoLink(channel.port1 as unknown as IoPort<FromWorker, ToWorker>);
  const events: string[] = [];
  const handlers: TransportHandlers = {
    onFrame: (frame) => events.push(`frame ${new TextDecoder().decode(frame)}`),
    onClose: (reason, error) =>
      events.push(`close ${reason}${error ? ` ${(error as ChatError).code}` : ""}`),
  };
  return {
    link,
    socket,
    events,
    handlers,
    close() {
      channel.port1.close();
      channel.port2.close();
    },
  };
}

/** Runs `body` in a fresh {@linkcode setUp}, then closes the channel. */
async function withIo(
  store: KeyValue,
  body: (t: IoWorld) => Promise<void>,
  connect?: IoResources["connect"],
): Promise<void> {
  const t = setUp(store, connect);
  try {
    await body(t);
  } finally {
    t.close();
  }
}

/** Lets the channel's messages and the promises behind them run. */
async function turn(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("io worker: a frame leaves only once every write issued before it is committed", async () => {
  const store = new HeldStore();
  await withIo(store, async (t) => {
    const transport = await t.link.connectTransport("ws://relay/", t.handlers, {});
    transport.send(text("hello")); // no write before it: goes at once
    await turn();
    assert.deepEqual(t.socket.sent, ["hello"]);

    // The engine's order: session state, then outbox, then the frame. The page does not wait.
    await t.link.store.apply("entries", new Map([["alice/sessions/bob", "state 1"]]));
    await t.link.store.put("files", "alice/outbox", "[m1]");
    transport.send(text("m1"));
    await t.link.store.apply("entries", new Map([["alice/sessions/bob", "state 2"]]));
    transport.send(text("m2"));
    await turn();
    assert.deepEqual(t.socket.sent, ["hello"], "nothing leaves before the session state is saved");
    assert.equal(store.release(), "alice/sessions/bob");
    await turn();
    assert.deepEqual(t.socket.sent, ["hello"], "nor before the outbox is");
    assert.equal(store.release(), "alice/outbox");
    await turn();
    assert.deepEqual(t.socket.sent, ["hello", "m1"], "m1 goes; m2 waits for its own state");
    store.release();
    await turn();
    assert.deepEqual(t.socket.sent, ["hello", "m1", "m2"]);
    assert.equal(await t.link.store.get("entries", "alice/sessions/bob"), "state 2");
    assert.deepEqual(await t.link.store.keys("files", "alice/"), ["alice/outbox"]);
    transport.close();
    await turn();
    assert.equal(t.socket.closed, true);
    assert.deepEqual(t.events, ["close closed by client"]);
  });
});

Deno.test("io worker: the writes before a frame are committed in one transaction", async () => {
  const store = new MemoryKeyValue() as MemoryKeyValue & Required<Pick<KeyValue, "applyAll">>;
  const transactions: string[][] = [];
  store.applyAll = async (writes) => {
    transactions.push(
      writes.flatMap(({ store: name, changes }) => [...changes.keys()].map((k) => `${name}:${k}`)),
    );
    for (const { store: name, changes } of writes) await store.apply(name, changes);
  };
  await withIo(store, async (t) => {
    const transport = await t.link.connectTransport("ws://relay/", t.handlers, {});
    await t.link.store.apply("entries", new Map([["a/sessions/bob", "s"]]));
    await t.link.store.put("files", "a/outbox", "[m1]");
    transport.send(text("m1"));
    await t.link.store.put("files", "a/later", "x"); // no frame after it: goes on a timer
    await turn();
    assert.deepEqual(transactions, [["entries:a/sessions/bob", "files:a/outbox"], [
      "files:a/later",
    ]]);
    assert.deepEqual(t.socket.sent, ["m1"]);
    assert.equal(await t.link.store.get("files", "a/later"), "x");
  });
});

Deno.test("io worker: a close waits for the frames sent before it, and they for their writes", async () => {
  const store = new HeldStore();
  await withIo(store, async (t) => {
    const transport = await t.link.connectTransport("ws://relay/", t.handlers, {});
    await t.link.store.put("files", "a/outbox", "[m1]");
    transport.send(text("m1"));
    transport.close();
    assert.deepEqual(t.events, ["close closed by client"], "the engine is told at once");
    await turn();
    assert.deepEqual(t.socket.sent, []);
    assert.equal(t.socket.closed, false, "not before m1 is out");
    store.release();
    await turn();
    assert.deepEqual(t.socket.sent, ["m1"]);
    assert.equal(t.socket.closed, true);
    assert.deepEqual(t.events, ["close closed by client"], "reported once");
  });
});

Deno.test("io worker: a read waits for the writes issued before it and sees them", async () => {
  const store = new HeldStore();
  await withIo(store, async (t) => {
    await t.link.store.put("homes", "granted:bob_1", "bob");
    await t.link.store.put("homes", "granted:bob_1", "bob-home");
    let answer: unknown = "unanswered";
    const read = t.link.store.get("homes", "granted:bob_1").then((v) => (answer = v));
    await turn();
    assert.equal(answer, "unanswered");
    store.release(); // the first batch: the read still waits for the rest
    await turn();
    assert.equal(answer, "unanswered");
    while (store.held.length > 0) store.release();
    await read;
    assert.equal(answer, "bob-home");
  });
});

Deno.test("io worker: flushed() waits for the writes issued before it", async () => {
  const store = new HeldStore();
  await withIo(store, async (t) => {
    await t.link.store.put("files", "a/x", "1");
    let flushed = false;
    const done = t.link.store.flushed().then(() => (flushed = true));
    await t.link.store.put("files", "a/y", "2"); // after the flush: not waited for
    await turn();
    assert.equal(flushed, false);
    store.release();
    await done;
    assert.equal(flushed, true);
    assert.equal(store.held.length, 1, "the later write is still held");
  });
});

Deno.test("io worker: a failed write stops every send, closes the connection and refuses what follows", async () => {
  const store = new HeldStore();
  await withIo(store, async (t) => {
    const fatal: string[] = [];
    t.link.onFatal((error) => fatal.push(error.code));
    const transport = await t.link.connectTransport("ws://relay/", t.handlers, {});
    await t.link.store.apply("entries", new Map([["alice/sessions/bob", "state 1"]]));
    transport.send(text("sealed with state 1"));
    const flush = t.link.store.flushed();
    flush.catch(() => {}); // looked at below
    await turn();
    store.fail();
    await turn();
    assert.deepEqual(t.socket.sent, [], "the frame whose state was not saved never leaves");
    assert.equal(t.socket.closed, true);
    assert.equal(t.events.length, 1);
    assert.match(
      t.events[0]!,
      /^close A write to the home failed \(QuotaExceededError\).* BAD_HOME$/,
    );
    assert.deepEqual(fatal, ["BAD_HOME"]);
    await assert.rejects(flush, (e: ChatError) => e.code === "BAD_HOME");
    await assert.rejects(
      t.link.store.put("files", "a/x", "1"),
      (e: ChatError) => e.code === "BAD_HOME",
    );
    await assert.rejects(
      t.link.connectTransport("ws://relay/", t.handlers, {}),
      (e: ChatError) => e.code === "BAD_HOME",
    );
  });
});

Deno.test("io worker: frames from the relay reach the engine in order; a relay close is reported once", async () => {
  await withIo(new MemoryKeyValue(), async (t) => {
    await t.link.connectTransport("ws://relay/", t.handlers, {});
    t.socket.handlers!.onFrame(text("one"));
    t.socket.handlers!.onFrame(text("two"));
    t.socket.handlers!.onClose("connection closed by the relay");
    t.socket.handlers!.onClose("connection closed by the relay");
    await turn();
    assert.deepEqual(t.events, ["frame one", "frame two", "close connection closed by the relay"]);
  });
});

Deno.test("io worker: a connection that cannot open fails with CONNECT_FAILED (the engine retries)", async () => {
  const refuse = () => Promise.reject(new Error("WebSocket error"));
  await withIo(new MemoryKeyValue(), async (t) => {
    await assert.rejects(
      t.link.connectTransport("ws://relay/", t.handlers, {}),
      (e: ChatError) => e.code === "CONNECT_FAILED" && e.message === "WebSocket error",
    );
  }, refuse);
});

Deno.test("io worker: a read that fails is rejected with its code", async () => {
  const store = new MemoryKeyValue();
  store.get = () => Promise.reject(new ChatError("BAD_HOME", "IndexedDB: gone"));
  await withIo(store, async (t) => {
    await assert.rejects(t.link.store.get("files", "a/x"), (e: ChatError) => e.code === "BAD_HOME");
  });
});

Deno.test("browser home: on a store whose writes complete later, the shown journal is trimmed only once they are committed", async () => {
  const values = new Map<string, string>();
  const sync = {
    getItem: (k: string) => values.get(k) ?? null,
    setItem: (k: string, v: string) => void values.set(k, v),
    removeItem: (k: string) => void values.delete(k),
  };
  let release: () => void = () => {};
  const store = new MemoryKeyValue() as MemoryKeyValue & { flushed(): Promise<void> };
  store.flushed = () => new Promise<void>((r) => (release = r));
  const home = new BrowserHome("alice", store, undefined, sync);
  home.appendSync!("shown", "?m1\n");
  home.appendSync!("shown", "m1\n");
  home.writeSync!("shown", ""); // the inbox without m1 is written, not yet committed
  home.appendSync!("shown", "?m2\n");
  assert.equal(
    values.get("hush/alice/shown"),
    "?m1\nm1\n?m2\n",
    "m1 stays until the inbox is saved",
  );
  release();
  await turn(1);
  assert.equal(values.get("hush/alice/shown"), "?m2\n", "then m1 goes; m2, appended since, stays");
});
