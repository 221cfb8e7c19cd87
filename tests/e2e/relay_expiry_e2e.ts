/**
 * Issue 9, item 5: envelopes queued past `--queue-max-age` are counted, logged, and both ends are
 * told with an UNDELIVERED notice (reason EXPIRED), queued like a DELIVER for whoever is offline.
 * Both the periodic purge (offline holder) and the pump (holder connecting) find them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { toHex } from "../../crypto/bytes.ts";
import { randomBytes } from "../../crypto/random.ts";
import {
  type FrameOf,
  inProcessRelay,
  loggedIn,
  relayTest,
  type ServerProcess,
  sleep,
  startServer,
} from "./_relay_harness.ts";

async function metric(wsUrl: string, name: string): Promise<number> {
  const http = wsUrl.replace(/^ws/, "http");
  const text = await (await fetch(new URL("/metrics", http))).text();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m === null ? NaN : Number(m[1]);
}

relayTest(
  "server.ts --store: an expired envelope is counted, logged, and both ends get UNDELIVERED EXPIRED",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hush-expiry-" });
    const path = `${dir}/relay.sqlite`;
    const log = `${dir}/relay.log`;
    const args = ["--store", path, "--queue-max-age", "1", "--log-file", log];
    const perms = ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`];
    let server: ServerProcess | null = await startServer(args, perms);
    try {
      const bob = await loggedIn(server.tcp, "bob");
      const carol = await loggedIn(server.tcp, "carol");
      const alice = await loggedIn(server.tcp, "alice");
      for (const c of [bob, carol, alice]) {
        await c.send({ type: "join", room: "dev" });
        await c.nextWhere("joined", (f) => f.room === "dev" && f.nick === c.nick);
      }
      bob.close();
      carol.close();
      await sleep(100);
      const toBob = randomBytes(16);
      const toRoom = randomBytes(16);
      await alice.sendEnvelope("bob", new Uint8Array([1]), { id: toBob });
      await alice.sendEnvelope("dev", new Uint8Array([2]), { id: toRoom, toKind: "room" });
      await alice.nextWhere("accepted", (f) => f.count === 2);
      // Online sender: told as soon as the purge finds them (1 s age, purge every 250 ms).
      const notices: FrameOf<"undelivered">[] = [];
      for (let i = 0; i < 3; i++) notices.push(await alice.next("undelivered", 5000));
      const seen = notices.map((n) => `${toHex(n.id)} ${n.toKind}:${n.to} ${n.holder}`).sort();
      assert.deepEqual(
        seen,
        [
          `${toHex(toBob)} nick:bob bob`,
          `${toHex(toRoom)} room:dev bob`,
          `${toHex(toRoom)} room:dev carol`,
        ].sort(),
      );
      for (const n of notices) {
        assert.equal(n.reason, "EXPIRED");
        assert.equal(n.from, "alice");
        assert.ok(Math.abs(n.enqueuedAt - Date.now() / 1000) < 10, `enqueuedAt ${n.enqueuedAt}`);
      }
      assert.equal(await metric(server.ws, "hush_envelopes_expired_total"), 3);
      assert.match(await Deno.readTextFile(log), / expired .*envelopes=\d/);
      alice.ack();
      await sleep(50);

      // The holders are offline: their notices wait in the store, across a restart.
      await server.stop();
      server = await startServer(args, perms);
      const bob2 = await loggedIn(server.tcp, "bob", { identity: bob.identity });
      const n = await bob2.next("undelivered");
      assert.deepEqual(
        [toHex(n.id), n.from, n.holder, n.reason, n.to],
        [toHex(toBob), "alice", "bob", "EXPIRED", "bob"],
      );
      const n2 = await bob2.next("undelivered");
      assert.deepEqual([toHex(n2.id), n2.toKind, n2.to], [toHex(toRoom), "room", "dev"]);
      await sleep(100);
      assert.ok(!bob2.frames.some((f) => f.type === "deliver"), "the expired envelopes are gone");
      // Notices are acknowledged like deliveries.
      await bob2.ack();
      await sleep(50);
      bob2.close();
      await sleep(50);
      const bob3 = await loggedIn(server.tcp, "bob", { identity: bob.identity });
      await sleep(200);
      assert.ok(!bob3.frames.some((f) => f.type === "undelivered"), "acked notices are gone");
      bob3.close();
    } finally {
      await server?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

relayTest("an envelope found expired by the pump (holder connecting) is reported too", async () => {
  // The periodic purge is out of the way: only the pump can find the expired envelope.
  const relay = await inProcessRelay({ queueMaxAgeSeconds: 1, purgeIntervalMs: 3_600_000 });
  try {
    const bob = await loggedIn(relay.tcpUrl!, "bob");
    bob.close();
    await sleep(30);
    const alice = await loggedIn(relay.tcpUrl!, "alice");
    const id = randomBytes(16);
    await alice.sendEnvelope("bob", new Uint8Array([1]), { id });
    await alice.next("accepted");
    alice.close(); // the sender is offline too: its notice is queued
    await sleep(1100);
    const back = await loggedIn(relay.tcpUrl!, "bob", { identity: bob.identity });
    const n = await back.next("undelivered");
    assert.deepEqual([toHex(n.id), n.holder, n.reason], [toHex(id), "bob", "EXPIRED"]);
    await sleep(50);
    assert.ok(!back.frames.some((f) => f.type === "deliver"));
    assert.match(relay.metricsText(), /hush_envelopes_expired_total 1/);
    assert.ok(relay.log.some((l) => / expired .*envelopes=1/.test(l)), relay.log.join("\n"));
    const alice2 = await loggedIn(relay.tcpUrl!, "alice", { identity: alice.identity });
    const told = await alice2.next("undelivered");
    assert.deepEqual([toHex(told.id), told.from, told.to], [toHex(id), "alice", "bob"]);
    back.close();
    alice2.close();
  } finally {
    await relay.close();
  }
});
