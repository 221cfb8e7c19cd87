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
