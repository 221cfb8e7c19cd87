import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../relay/mod.ts";

function countRows(path: string): number {
  const reader = new DatabaseSync(path, { readOnly: true });
  try {
    return Number((reader.prepare("SELECT count(*) AS n FROM queue").get() as { n: number }).n);
  } finally {
    reader.close();
  }
}

Deno.test("SqliteStore groups a turn's writes into one transaction, committed by commit() or a microtask", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-store-" });
  const path = `${dir}/relay.sqlite`;
  const store = new SqliteStore(path);
  try {
    store.enqueue("bob", new Uint8Array([1]), Date.now());
    store.enqueue("bob", new Uint8Array([2]), Date.now());
    assert.equal(countRows(path), 0, "another reader sees nothing before the commit");
    store.commit();
    assert.equal(countRows(path), 2, "commit() makes the turn's writes durable");

    store.enqueue("bob", new Uint8Array([3]), Date.now());
    assert.equal(countRows(path), 2);
    await Promise.resolve(); // the microtask queued by the first write of the turn
    assert.equal(countRows(path), 3, "the microtask commits without an explicit commit()");

    const first = store.queued("bob", 0, 1)[0]!;
    assert.deepEqual(store.deleteQueuedThrough("bob", first.id), { count: 1, bytes: 1 });
    store.commit();
    assert.equal(countRows(path), 2);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.close() commits what the turn wrote", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-store-" });
  const path = `${dir}/relay.sqlite`;
  try {
    const store = new SqliteStore(path);
    store.enqueue("carol", new Uint8Array([7, 7]), Date.now());
    store.bindNick("carol", new Uint8Array(32).fill(1));
    store.close();
    assert.equal(countRows(path), 1);
    const again = new SqliteStore(path);
    assert.deepEqual(again.queueStats().get("carol"), { count: 1, bytes: 2 });
    assert.equal(again.bindings().length, 1);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore opens a store written by the version-1 relay: adds last_used and an epoch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-store-" });
  const path = `${dir}/relay.sqlite`;
  try {
    const old = new DatabaseSync(path);
    old.exec(`
      CREATE TABLE bindings (nick TEXT PRIMARY KEY, identity_key BLOB NOT NULL);
      CREATE TABLE members (room TEXT NOT NULL, nick TEXT NOT NULL, PRIMARY KEY (room, nick));
      CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, nick TEXT NOT NULL,
        frame BLOB NOT NULL, enqueued_at INTEGER NOT NULL);`);
    old.prepare("INSERT INTO bindings VALUES ('bob', ?)").run(new Uint8Array(32).fill(1));
    old.prepare("INSERT INTO queue (nick, frame, enqueued_at) VALUES ('bob', ?, 1)").run(
      new Uint8Array([9]),
    );
    old.close();
    const before = Date.now();
    const store = new SqliteStore(path);
    assert.equal(store.epoch.length, 8);
    assert.deepEqual(store.bindings().map(([n]) => n), ["bob"]);
    assert.deepEqual(store.nicksUnusedSince(before - 1), [], "upgraded bindings count as used now");
    assert.deepEqual(store.queueStats().get("bob"), { count: 1, bytes: 1 });
    const epoch = store.epoch;
    store.close();
    const again = new SqliteStore(path);
    assert.deepEqual(again.epoch, epoch);
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
