import assert from "node:assert/strict";
import { MemoryStore, SqliteStore, type Store } from "../../relay/mod.ts";

const stores: [string, () => Store][] = [
  ["MemoryStore", () => new MemoryStore()],
  ["SqliteStore", () => new SqliteStore(":memory:")],
];

const bundle = {
  identityDhKey: new Uint8Array(32).fill(1),
  identityDhSignature: new Uint8Array(64).fill(2),
  signedPrekeyId: 9,
  signedPrekey: new Uint8Array(32).fill(3),
  signedPrekeySignature: new Uint8Array(64).fill(4),
};

for (const [name, make] of stores) {
  Deno.test(`${name} releases a nick: binding, rooms, bundle, prekeys and queue`, () => {
    const s = make();
    s.bindNick("bob", new Uint8Array(32).fill(7));
    s.bindNick("amy", new Uint8Array(32).fill(8));
    s.touchNick("amy", Date.now() + 10_000);
    s.addMember("dev", "bob");
    s.addMember("dev", "amy");
    s.putBundle("bob", bundle);
    s.addOneTimePrekeys("bob", [{ id: 1, key: new Uint8Array(32) }], false);
    const a = s.enqueue("bob", new Uint8Array([1]), 1000);
    s.enqueue("amy", new Uint8Array([2, 2]), 1001);
    const c = s.enqueue("bob", new Uint8Array([3]), 1002);
    assert.deepEqual(s.nicksUnusedSince(Date.now() + 5000), ["bob"]);
    assert.deepEqual(
      s.queuedFor(["bob", "amy"], a, 10).map((e) => [e.nick, e.id]),
      [["amy", a + 1], ["bob", c]],
    );
    const held = s.releaseNick("bob");
    assert.deepEqual(held.map((e) => [e.nick, e.id]), [["bob", a], ["bob", c]]);
    assert.deepEqual(s.bindings().map(([n]) => n), ["amy"]);
    assert.deepEqual(s.memberships(), [["dev", "amy"]]);
    assert.equal(s.getBundle("bob"), undefined);
    assert.equal(s.countOneTimePrekeys("bob"), 0);
    assert.deepEqual([...s.queueStats().keys()], ["amy"]);
    s.close();
  });

  Deno.test(`${name} keeps bindings and memberships`, () => {
    const s = make();
    s.bindNick("bob", new Uint8Array(32).fill(7));
    s.addMember("lobby", "bob");
    s.addMember("lobby", "bob");
    s.addMember("club", "bob");
    s.removeMember("club", "bob");
    assert.deepEqual(s.bindings(), [["bob", new Uint8Array(32).fill(7)]]);
    assert.deepEqual(s.memberships(), [["lobby", "bob"]]);
    s.close();
  });

  Deno.test(`${name} queues in order, pages after an id, deletes through an id`, () => {
    const s = make();
    const ids = [1, 2, 3, 4].map((i) => s.enqueue("bob", new Uint8Array(i).fill(i), 1000 + i));
    s.enqueue("carol", new Uint8Array([9]), 5000);
    assert.deepEqual(s.queued("bob", 0, 2).map((e) => e.frame.length), [1, 2]);
    assert.deepEqual(s.queued("bob", ids[1]!, 10).map((e) => e.id), ids.slice(2));
    assert.deepEqual(s.queueStats().get("bob"), { count: 4, bytes: 10 });
    assert.deepEqual(s.deleteQueuedThrough("bob", ids[1]!), { count: 2, bytes: 3 });
    assert.deepEqual(s.queueStats().get("bob"), { count: 2, bytes: 7 });
    assert.equal(s.deleteQueuedBefore(1004), 1);
    assert.deepEqual(s.queued("bob", 0, 10).map((e) => e.enqueuedAt), [1004]);
    assert.deepEqual(s.queueStats().get("carol"), { count: 1, bytes: 1 });
    s.close();
  });

  Deno.test(`${name} copies an enqueued frame: later changes to the caller's bytes do not leak`, () => {
    const s = make();
    const frame = new Uint8Array([1, 2, 3]);
    s.enqueue("bob", frame, 0);
    frame[0] = 99;
    assert.equal(s.queued("bob", 0, 1)[0]!.frame[0], 1);
    s.close();
  });

  Deno.test(`${name} hands out each one-time prekey once and counts the rest`, () => {
    const s = make();
    assert.equal(s.getBundle("bob"), undefined);
    s.putBundle("bob", bundle);
    assert.deepEqual(s.getBundle("bob"), bundle);
    s.addOneTimePrekeys("bob", [
      { id: 1, key: new Uint8Array(32).fill(1) },
      { id: 2, key: new Uint8Array(32).fill(2) },
    ], false);
    assert.equal(s.countOneTimePrekeys("bob"), 2);
    const first = s.takeOneTimePrekey("bob");
    const second = s.takeOneTimePrekey("bob");
    assert.deepEqual([first?.id, second?.id], [1, 2]);
    assert.equal(s.takeOneTimePrekey("bob"), undefined);
    s.addOneTimePrekeys("bob", [{ id: 5, key: new Uint8Array(32) }], false);
    s.addOneTimePrekeys("bob", [{ id: 6, key: new Uint8Array(32) }], true);
    assert.equal(s.countOneTimePrekeys("bob"), 1);
    assert.equal(s.takeOneTimePrekey("bob")?.id, 6);
    s.close();
  });
}
