/**
 * The relay's routing, acknowledgement and store-and-forward logic driven directly through
 * fake transports (no sockets, no permissions), with a fast-check model: whatever the order of
 * sends, acks, disconnects and reconnects, nothing is lost and the order is kept.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { encodeFrame } from "../../protocol/mod.ts";
import { Relay } from "../../relay/relay.ts";
import { type FakePeer, login } from "./_fake_peer.ts";
import { MemoryStore, resolveRelayOptions, SqliteStore } from "../../relay/mod.ts";

const SLOW = Deno.permissions.querySync({ name: "env", variable: "SLOW" }).state === "granted" &&
  Deno.env.get("SLOW") === "1";
const RUNS = SLOW ? 300 : 40;

function newRelay(options: Record<string, unknown> = {}): Relay {
  return new Relay(resolveRelayOptions({ store: new MemoryStore(), ...options }));
}

async function settle(ms = 1): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

function send(relay: Relay, peer: FakePeer, from: string, to: string, n: number): void {
  const frame = encodeFrame({
    type: "send",
    id: new Uint8Array(16).fill(n & 255),
    cipher: 1,
    from,
    toKind: "nick",
    to,
    body: new Uint8Array([n >> 8, n & 255]),
  });
  relay.onFrame(peer.connection, frame, performance.now());
}

function deliveredBodies(peer: FakePeer): number[] {
  return peer.frames.flatMap((f) => f.type === "deliver" ? [(f.body[0]! << 8) | f.body[1]!] : []);
}

type Op =
  | { op: "send" }
  | { op: "ack"; fraction: number }
  | { op: "disconnect" }
  | { op: "connect" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ op: "send" as const }) },
  {
    weight: 2,
    arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((fraction) => ({
      op: "ack" as const,
      fraction,
    })),
  },
  { weight: 1, arbitrary: fc.constant({ op: "disconnect" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "connect" as const }) },
);

for (
  const [storeName, makeStore] of [
    ["memory", () => new MemoryStore()],
    // With SQLite, live deliveries and pumps wait for the turn's commit.
    ["SQLite", () => new SqliteStore(":memory:")],
  ] as const
) {
  Deno.test(`relay model (${storeName} store): across sends, partial acks and reconnects nothing is lost and order is kept`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const relay = newRelay({ store: makeStore() });
        const aliceId = generateIdentityKeyPair();
        const bobId = generateIdentityKeyPair();
        const alice = await login(relay, "alice", aliceId);
        let bob: FakePeer | null = await login(relay, "bob", bobId);
        let sent = 0;
        /** Bodies bob acknowledged, over every connection, in order. */
        const acked: number[] = [];
        let ackedOnThis = 0;
        const ackUpTo = (peer: FakePeer, n: number) => {
          const bodies = deliveredBodies(peer);
          acked.push(...bodies.slice(ackedOnThis, n));
          ackedOnThis = n;
          relay.onFrame(peer.connection, encodeFrame({ type: "ack", count: n }), performance.now());
        };
        for (const o of ops) {
          if (o.op === "send") send(relay, alice, "alice", "bob", sent++);
          else if (o.op === "ack" && bob) {
            const total = deliveredBodies(bob).length;
            ackUpTo(bob, ackedOnThis + Math.floor((total - ackedOnThis) * o.fraction));
          } else if (o.op === "disconnect" && bob) {
            bob.close();
            relay.onEnded(bob.connection);
            bob = null;
          } else if (o.op === "connect" && !bob) {
            bob = await login(relay, "bob", bobId);
            ackedOnThis = 0;
          }
          await settle(0);
        }
        if (!bob) {
          bob = await login(relay, "bob", bobId);
          ackedOnThis = 0;
        }
        await settle(0);
        ackUpTo(bob, deliveredBodies(bob).length);
        // Everything sent was acknowledged exactly once, in the order it was sent.
        assert.deepEqual(acked, [...Array(sent).keys()]);
        // Every SEND was handled and nothing is left in the queue.
        assert.match(relay.metricsText(), /hush_envelopes_queued 0\n/);
        await settle(15); // the ACCEPTED timer
        const accepted = alice.frames.filter((f) => f.type === "accepted");
        if (sent > 0) {
          assert.equal(accepted.at(-1)?.type === "accepted" && accepted.at(-1)!.count, sent);
        }
        await relay.close();
      }),
      { numRuns: RUNS },
    );
  });
}

Deno.test("relay model: a room envelope reaches every other member exactly once after acks", async () => {
  const relay = newRelay();
  const ids = [0, 1, 2, 3].map(() => generateIdentityKeyPair());
  const peers = await Promise.all(ids.map((id, i) => login(relay, `m${i}`, id)));
  for (const [i, p] of peers.entries()) {
    relay.onFrame(p.connection, encodeFrame({ type: "join", room: "r" }), performance.now());
    assert.ok(p.frames.some((f) => f.type === "joined" && f.nick === `m${i}` && f.room === "r"));
  }
  // m3 goes away; m0 sends to the room.
  peers[3]!.close();
  relay.onEnded(peers[3]!.connection);
  relay.onFrame(
    peers[0]!.connection,
    encodeFrame({
      type: "send",
      id: new Uint8Array(16),
      cipher: 1,
      from: "m0",
      toKind: "room",
      to: "r",
      body: new Uint8Array([0, 42]),
    }),
    performance.now(),
  );
  assert.deepEqual(deliveredBodies(peers[0]!), []);
  assert.deepEqual(deliveredBodies(peers[1]!), [42]);
  assert.deepEqual(deliveredBodies(peers[2]!), [42]);
  const back = await login(relay, "m3", ids[3]!);
  assert.deepEqual(deliveredBodies(back), [42]);
  await settle(15);
  await relay.close();
});
