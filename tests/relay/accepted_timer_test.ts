/**
 * ACCEPTED rides along with the reply in a conversation: the relay's ACCEPTED timer sends it on
 * its own only once the oldest uncovered SEND of that connection is about 10 ms old, not whenever
 * the timer runs for another connection (PROTOCOL.md 6). Driven through fake transports.
 */
import assert from "node:assert/strict";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { encodeFrame } from "../../protocol/mod.ts";
import { MemoryStore, resolveRelayOptions } from "../../relay/mod.ts";
import { Relay } from "../../relay/relay.ts";
import { type FakePeer, login } from "./_fake_peer.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function send(relay: Relay, peer: FakePeer, from: string, to: string, n: number): void {
  const frame = encodeFrame({
    type: "send",
    id: new Uint8Array(16).fill(n & 255),
    cipher: 1,
    from,
    toKind: "nick",
    to,
    body: new Uint8Array([n]),
  });
  relay.onFrame(peer.connection, frame, performance.now());
}

const accepted = (p: FakePeer, n: number) =>
  p.frames.some((f) => f.type === "accepted" && f.count >= n);

Deno.test("a SEND's ACCEPTED waits for the reply when another connection's timer runs first", async () => {
  const relay = new Relay(resolveRelayOptions({ store: new MemoryStore() }));
  try {
    const x = await login(relay, "x", generateIdentityKeyPair());
    const a = await login(relay, "a", generateIdentityKeyPair());
    const b = await login(relay, "b", generateIdentityKeyPair());
    let checked = 0;
    // Bounded: a round counts only when A's SEND went in before X's timer ran.
    for (let round = 1; round <= 10 && checked < 3; round++) {
      send(relay, x, "x", "b", round); // nobody answers X: the ACCEPTED timer runs ~10 ms later
      await sleep(6);
      const before = a.frames.length;
      send(relay, a, "a", "b", round); // A's own deadline: ~6 ms after X's
      const early = accepted(x, round); // X's timer already ran: this round proves nothing
      for (let i = 0; i < 1000 && !accepted(x, round); i++) await sleep(1);
      assert.ok(accepted(x, round), "X's ACCEPTED comes from the timer");
      send(relay, b, "b", "a", round); // B's reply, at once
      for (let i = 0; i < 1000 && !accepted(a, round); i++) await sleep(1);
      const mine = a.frames.slice(before).filter((f) =>
        f.type === "deliver" || f.type === "accepted"
      );
      assert.ok(mine.some((f) => f.type === "deliver") && accepted(a, round));
      if (early) continue;
      checked++;
      // Before: X's timer flushed A's ACCEPTED too, on its own, before B's reply.
      assert.equal(mine[0]!.type, "deliver", `round ${round}: ACCEPTED rode along with the reply`);
    }
    assert.ok(checked >= 1, "at least one round had A's SEND before X's timer");
  } finally {
    await relay.close();
  }
});

Deno.test("a quiet sender still gets ACCEPTED on its own, about 10 ms after its SEND", async () => {
  const relay = new Relay(resolveRelayOptions({ store: new MemoryStore() }));
  try {
    const a = await login(relay, "a", generateIdentityKeyPair());
    await login(relay, "b", generateIdentityKeyPair());
    const t0 = performance.now();
    send(relay, a, "a", "b", 1);
    for (let i = 0; i < 1000 && !accepted(a, 1); i++) await sleep(1);
    const ms = performance.now() - t0;
    assert.ok(accepted(a, 1));
    assert.ok(ms >= 8, `ACCEPTED after ${ms.toFixed(1)} ms (held for a reply first)`);
    assert.ok(ms < 1000, `ACCEPTED after ${ms.toFixed(1)} ms`);
  } finally {
    await relay.close();
  }
});
