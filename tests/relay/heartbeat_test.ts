/**
 * Heartbeats (PROTOCOL.md 8), driven through fake transports whose writes complete when the test
 * says: a silent client is dropped once the PING has been out for a heartbeat, not for the relay's
 * own delay in writing it (10,000 logins at once left writes waiting seconds: bench/relay/README.md
 * "10,000 connections"); a client that does not read is dropped after two heartbeats of waiting.
 */
import assert from "node:assert/strict";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { encodeFrame } from "../../protocol/mod.ts";
import { MemoryStore, resolveRelayOptions } from "../../relay/mod.ts";
import { Relay } from "../../relay/relay.ts";
import { type FakePeer, login } from "./_fake_peer.ts";

const HB = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pinged = (p: FakePeer) => p.frames.some((f) => f.type === "relay-ping");
const timedOut = (p: FakePeer) =>
  p.closed && p.frames.some((f) => f.type === "error" && f.code === "HEARTBEAT_TIMEOUT");

/** The relay runs its heartbeat sweep every `HB / 4` once it listens; these relays do not. */
let sweeping: Relay | undefined;
async function sleepSweeping(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    sweeping?.sweepHeartbeats();
    await sleep(Math.min(HB / 4, Math.max(1, end - performance.now())));
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!check() && performance.now() < end) await sleepSweeping(HB / 4);
  return check();
}

/** A relay with heartbeats every `HB` ms and one logged-in client `a` through a fake peer. */
async function withClient(body: (a: FakePeer, relay: Relay) => Promise<void>): Promise<void> {
  const relay = sweeping = new Relay(
    resolveRelayOptions({ store: new MemoryStore(), heartbeatMs: HB }),
  );
  try {
    await body(await login(relay, "a", generateIdentityKeyPair()), relay);
  } finally {
    await relay.close();
  }
}

Deno.test("heartbeat: a silent client whose PING went out is dropped after two heartbeats", async () => {
  await withClient(async (a) => {
    const start = performance.now();
    assert.ok(await until(() => pinged(a), 20 * HB), "PING after a heartbeat of silence");
    assert.ok(await until(() => timedOut(a), 20 * HB), "HEARTBEAT_TIMEOUT, then closed");
    assert.ok(performance.now() - start >= 2 * HB);
  });
});

Deno.test("heartbeat: a PING the relay has not written yet does not count against the client", async () => {
  await withClient(async (a) => {
    a.stalled = true; // the relay's writes to `a` wait (its own load), the PING among them
    assert.ok(await until(() => pinged(a), 20 * HB));
    // Silent for over 2 heartbeats by now, but the PING is not out (and the write has waited
    // less than 2 heartbeats: the client may still be reading).
    await sleepSweeping(1.4 * HB);
    assert.equal(a.closed, false, "not dropped while its PING waited in the relay");
    a.unstall(); // the PING leaves now
    const out = performance.now();
    assert.ok(await until(() => timedOut(a), 20 * HB), "dropped once the PING was out, unanswered");
    assert.ok(performance.now() - out >= HB * 0.9, "a heartbeat after the PING left");
  });
});

Deno.test("heartbeat: a client that answers the PING once it gets it stays", async () => {
  await withClient(async (a, relay) => {
    a.stalled = true;
    assert.ok(await until(() => pinged(a), 20 * HB));
    await sleepSweeping(1.4 * HB);
    a.unstall();
    await sleepSweeping(HB / 3);
    // Its PONG, as soon as the PING arrived.
    const ping = a.frames.find((f) => f.type === "relay-ping");
    assert.ok(ping?.type === "relay-ping");
    relay.onFrame(
      a.connection,
      encodeFrame({ type: "pong", nonce: ping.nonce }),
      performance.now(),
    );
    await sleepSweeping(HB / 2);
    assert.equal(a.closed, false, "answered: still connected");
  });
});

Deno.test("heartbeat: a client that does not read (a write waits two heartbeats) is dropped", async () => {
  await withClient(async (a) => {
    a.stalled = true; // never completes again
    assert.ok(await until(() => timedOut(a), 30 * HB), "dropped: its writes never completed");
  });
});
