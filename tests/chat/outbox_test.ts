import assert from "node:assert/strict";
import fc from "fast-check";
import { Outbox } from "../../chat/outbox.ts";
import { propertyRuns } from "./_runs.ts";

function entry(n: number) {
  return { id: n.toString(16).padStart(32, "0"), frame: Uint8Array.of(n & 0xff, 1, 2) };
}

Deno.test("Outbox.takeUnsent() hands out each entry once per connection, in order", () => {
  const outbox = new Outbox();
  outbox.enqueue(entry(1));
  outbox.enqueue(entry(2));
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(1).id, entry(2).id]);
  assert.deepEqual(outbox.takeUnsent(), []);
  outbox.enqueue(entry(3));
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(3).id]);
});

Deno.test("Outbox.acknowledge() settles a cumulative count from the oldest", () => {
  const outbox = new Outbox();
  for (let i = 1; i <= 4; i++) outbox.enqueue(entry(i));
  outbox.takeUnsent();
  assert.deepEqual(outbox.acknowledge(2).map((s) => s.entry.id), [entry(1).id, entry(2).id]);
  assert.deepEqual(outbox.acknowledge(2), []);
  assert.deepEqual(outbox.acknowledge(4).map((s) => s.entry.id), [entry(3).id, entry(4).id]);
  assert.equal(outbox.size, 0);
});

Deno.test("Outbox.acknowledge() never settles an entry not yet sent", () => {
  const outbox = new Outbox();
  outbox.enqueue(entry(1));
  outbox.takeUnsent();
  outbox.enqueue(entry(2));
  assert.equal(outbox.acknowledge(5).length, 1);
  assert.equal(outbox.size, 1);
});

Deno.test("Outbox resends every unacknowledged entry after a reconnect with the same ids", () => {
  const outbox = new Outbox();
  for (let i = 1; i <= 3; i++) outbox.enqueue(entry(i));
  outbox.takeUnsent();
  outbox.acknowledge(1);
  outbox.resetConnection();
  const again = outbox.takeUnsent();
  assert.deepEqual(again.map((e) => e.id), [entry(2).id, entry(3).id]);
  assert.deepEqual(again[0]?.frame, entry(2).frame);
  // the new connection counts from zero
  assert.deepEqual(outbox.acknowledge(1).map((s) => s.entry.id), [entry(2).id]);
});

Deno.test("Outbox.enqueue() refuses a duplicate id", () => {
  const outbox = new Outbox();
  outbox.enqueue(entry(1));
  assert.throws(() => outbox.enqueue(entry(1)), RangeError);
});

Deno.test("Outbox.drained() resolves once the last entry is acknowledged", async () => {
  const outbox = new Outbox();
  await outbox.drained();
  outbox.enqueue(entry(1));
  let done = false;
  const waiting = outbox.drained().then(() => (done = true));
  outbox.takeUnsent();
  await Promise.resolve();
  assert.equal(done, false);
  outbox.acknowledge(1);
  await waiting;
  assert.equal(done, true);
});

Deno.test("Outbox survives a JSON round trip with frames and metadata", () => {
  const outbox = new Outbox();
  outbox.enqueue({ ...entry(1), meta: { to: "bob", private: true } });
  outbox.enqueue(entry(2));
  const restored = Outbox.fromJSON(outbox.toJSON());
  assert.deepEqual(restored.entries, [
    { ...entry(1), meta: { to: "bob", private: true } },
    { ...entry(2), meta: {} },
  ]);
  assert.equal(Outbox.fromJSON('[{"id":1},"x"]').size, 0);
});

Deno.test("Outbox delivers every entry exactly once across random acks and reconnects", () => {
  // Model: a relay that accepts SENDs in order and may lose the connection at any point; after
  // each reconnect the client resends. The relay's accepted log, deduplicated by id the way the
  // receiver does, must equal the enqueued order, and the outbox must end empty.
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant("enqueue"), fc.constant("flush"), fc.constant("drop")), {
        maxLength: 60,
      }),
      (steps) => {
        const outbox = new Outbox();
        const accepted: string[] = [];
        let next = 0;
        let acceptedOnConnection = 0;
        const flush = () => {
          for (const sent of outbox.takeUnsent()) {
            accepted.push(sent.id);
            acceptedOnConnection++;
          }
        };
        for (const step of steps) {
          if (step === "enqueue") outbox.enqueue(entry(next++));
          else if (step === "flush") {
            flush();
            outbox.acknowledge(acceptedOnConnection);
          } else {
            flush(); // sent, but the ack is lost with the connection
            outbox.resetConnection();
            acceptedOnConnection = 0;
          }
        }
        flush();
        outbox.acknowledge(acceptedOnConnection);
        assert.equal(outbox.size, 0);
        const unique = [...new Set(accepted)];
        assert.deepEqual(unique, Array.from({ length: next }, (_, i) => entry(i).id));
      },
    ),
    { numRuns: propertyRuns() },
  );
});

function to(n: number, nick: string) {
  return { ...entry(n), meta: { to: nick, toKind: "nick" } };
}

Deno.test("Outbox keeps a refused entry held until released; later entries to that nick wait behind it", () => {
  const outbox = new Outbox();
  outbox.enqueue(to(1, "bob"));
  outbox.takeUnsent();
  const refused = outbox.reject(1, entry(1).id, {
    to: "bob",
    toKind: "nick",
    code: "QUEUE_FULL",
    detail: "full",
  });
  assert.equal(refused?.id, entry(1).id);
  const [settled] = outbox.acknowledge(1);
  assert.deepEqual(settled?.rejections.map((r) => r.code), ["QUEUE_FULL"]);
  assert.equal(outbox.size, 1, "a refused entry stays");
  outbox.hold(settled!.entry, 100);
  outbox.enqueue(to(2, "bob"));
  outbox.enqueue(to(3, "carol"));
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(3).id], "bob's wait");
  assert.equal(outbox.nextRelease(), 100);
  assert.equal(outbox.releaseDue(99), 0);
  assert.equal(outbox.releaseDue(100), 1);
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(1).id, entry(2).id]);
});

Deno.test("Outbox.reject() finds the SEND by sequence number on this connection, else by id", () => {
  const outbox = new Outbox();
  for (let i = 1; i <= 3; i++) outbox.enqueue(entry(i));
  outbox.takeUnsent();
  outbox.acknowledge(1);
  const r = { to: "bob", toKind: "nick" as const, code: "QUEUE_FULL", detail: "" };
  assert.equal(outbox.reject(3, entry(3).id, r)?.id, entry(3).id);
  assert.equal(outbox.reject(9, entry(2).id, r)?.id, entry(2).id, "by id when the seq is off");
  assert.equal(outbox.reject(2, "ff".repeat(16), r), undefined);
  assert.deepEqual(outbox.acknowledge(3).map((s) => s.rejections.length), [1, 1]);
});

Deno.test("Outbox hands out nothing from a room line not yet encrypted on, until it is replaced", () => {
  const outbox = new Outbox();
  outbox.enqueue(entry(1));
  const line = {
    ...entry(2),
    frame: new Uint8Array(0),
    line: { room: "lobby", text: "hi", ts: 5 },
  };
  outbox.enqueue(line);
  outbox.enqueue(entry(3));
  assert.ok(outbox.hasLines());
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(1).id]);
  outbox.replace(line, [entry(7), { ...entry(2), frame: Uint8Array.of(2) }]);
  assert.ok(!outbox.hasLines());
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(7).id, entry(2).id, entry(3).id]);
});

Deno.test("Outbox.drained() does not wait for held entries or those queued behind them", async () => {
  const outbox = new Outbox();
  outbox.enqueue(to(1, "bob"));
  outbox.takeUnsent();
  outbox.reject(1, entry(1).id, { to: "bob", toKind: "nick", code: "QUEUE_FULL", detail: "" });
  outbox.enqueue(to(2, "bob"));
  outbox.acknowledge(1);
  await outbox.drained();
  assert.equal(outbox.size, 2);
});

Deno.test("Outbox keeps a bounded unconfirmed list and requeues the entries of another epoch first", () => {
  const outbox = new Outbox();
  const limits = { maxEntries: 2, maxAgeMs: 1_000, maxBytes: 1_000 };
  outbox.keepUnconfirmed(entry(1), "aa", 0, limits);
  outbox.keepUnconfirmed(entry(2), "aa", 10, limits);
  outbox.keepUnconfirmed(entry(3), "aa", 20, limits);
  assert.deepEqual(outbox.unconfirmed.map((e) => e.id), [entry(2).id, entry(3).id], "newest 2");
  outbox.pruneUnconfirmed(1_015, limits);
  assert.deepEqual(outbox.unconfirmed.map((e) => e.id), [entry(3).id], "none older than 1 s");
  outbox.keepUnconfirmed(entry(4), "bb", 1_020, limits);
  outbox.enqueue(entry(5));
  assert.deepEqual(outbox.requeueUnconfirmed("bb").map((e) => e.id), [entry(3).id]);
  assert.deepEqual(outbox.entries.map((e) => e.id), [entry(3).id, entry(5).id]);
  assert.deepEqual(outbox.unconfirmed.map((e) => e.id), [entry(4).id]);
  assert.deepEqual(outbox.requeueUnconfirmed("bb"), []);
});

Deno.test("Outbox keeps room lines and the unconfirmed list across a JSON round trip", () => {
  const outbox = new Outbox();
  outbox.keepUnconfirmed(entry(1), "aa", 5);
  outbox.enqueue({ ...entry(2), frame: new Uint8Array(0), line: { room: "r", text: "t", ts: 1 } });
  outbox.enqueue(entry(3));
  const restored = Outbox.fromJSON(outbox.toJSON(), outbox.unconfirmedJSON());
  assert.deepEqual(restored.unconfirmed.map((e) => [e.id, e.meta?.epoch]), [[entry(1).id, "aa"]]);
  assert.deepEqual(restored.entries.map((e) => e.id), [entry(2).id, entry(3).id]);
  assert.deepEqual(restored.entries[0]?.line, { room: "r", text: "t", ts: 1 });
  assert.equal(Outbox.fromJSON('[{"id":"a","frame":"","line":{"room":1}}]').size, 0);
  assert.equal(Outbox.fromJSON(outbox.toJSON()).unconfirmed.length, 0, "kept apart");
  assert.equal(Outbox.fromJSON("[]", '[{"id":"b","frame":""}]').unconfirmed.length, 0, "no epoch");
});

Deno.test("Outbox bounds the unconfirmed list's bytes, dropping the oldest", () => {
  const outbox = new Outbox();
  const limits = { maxEntries: 100, maxAgeMs: 1_000, maxBytes: 7 };
  const version = outbox.unconfirmedVersion;
  for (let i = 1; i <= 3; i++) outbox.keepUnconfirmed(entry(i), "aa", 0, limits); // 3 bytes each
  assert.deepEqual(outbox.unconfirmed.map((e) => e.id), [entry(2).id, entry(3).id]);
  assert.notEqual(outbox.unconfirmedVersion, version, "a change is visible");
});

function toRoom(n: number, room: string) {
  return { ...entry(n), meta: { to: room, toKind: "room" } };
}

Deno.test("Outbox keeps the order per room behind a blocking held room envelope, not behind a non-blocking one", () => {
  const outbox = new Outbox();
  outbox.enqueue(toRoom(1, "lobby"));
  outbox.takeUnsent();
  outbox.reject(1, entry(1).id, { to: "lobby", toKind: "room", code: "STORE_FAILED", detail: "" });
  const [settled] = outbox.acknowledge(1);
  outbox.hold(settled!.entry, 100, true);
  outbox.enqueue(toRoom(2, "lobby"));
  outbox.enqueue(toRoom(3, "other"));
  outbox.enqueue(to(4, "bob"));
  assert.deepEqual(
    outbox.takeUnsent().map((e) => e.id),
    [entry(3).id, entry(4).id],
    "lobby's next message waits behind the held one; other conversations go",
  );
  assert.equal(outbox.releaseDue(100), 1);
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(1).id, entry(2).id], "in order");
  // One member's full queue (a non-blocking hold) does not stall the room for the others.
  outbox.acknowledge(4);
  outbox.enqueue(toRoom(5, "lobby"));
  outbox.takeUnsent();
  outbox.reject(5, entry(5).id, { to: "bob", toKind: "room", code: "QUEUE_FULL", detail: "" });
  const [full] = outbox.acknowledge(5);
  outbox.hold(full!.entry, 200);
  outbox.enqueue(toRoom(6, "lobby"));
  assert.deepEqual(outbox.takeUnsent().map((e) => e.id), [entry(6).id]);
});
