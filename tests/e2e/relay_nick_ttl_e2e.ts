/**
 * Issue 9, items 12 and 10 (relay side): a nick binding unused for `--nick-ttl` is released (it
 * leaves its rooms, its queue is dropped with UNDELIVERED NICK_RELEASED to each sender), and an
 * identity connecting under one nick also gets what is queued for its other nicks. Real `server.ts`
 * processes over TCP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { toHex } from "../../crypto/bytes.ts";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { randomBytes } from "../../crypto/random.ts";
import { type FrameOf, loggedIn, relayTest, sleep, startServer } from "./_relay_harness.ts";

async function metric(wsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(new URL("/metrics", wsUrl.replace(/^ws/, "http")))).text();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m === null ? NaN : Number(m[1]);
}

relayTest(
  "a nick unused for --nick-ttl is released: it leaves its rooms and its senders get NICK_RELEASED",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hush-nickttl-" });
    const path = `${dir}/relay.sqlite`;
    const server = await startServer(
      ["--store", path, "--nick-ttl", "2", "--heartbeat", "60000"],
      ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`],
    );
    try {
      const bob = await loggedIn(server.tcp, "bob");
      const alice = await loggedIn(server.tcp, "alice");
      const carol = await loggedIn(server.tcp, "carol");
      for (const c of [bob, alice, carol]) {
        await c.send({ type: "join", room: "dev" });
        await c.nextWhere("joined", (f) => f.room === "dev" && f.nick === c.nick);
      }
      bob.close();
      await sleep(100);
      const direct = randomBytes(16);
      const room = randomBytes(16);
      await alice.sendEnvelope("bob", new Uint8Array([1]), { id: direct });
      await alice.sendEnvelope("dev", new Uint8Array([2]), { id: room, toKind: "room" });
      await alice.nextWhere("accepted", (f) => f.count === 2);
      // alice and carol stay connected: their nicks are in use. bob's is released after 2 s.
      const told: FrameOf<"undelivered">[] = [
        await alice.next("undelivered", 8000),
        await alice.next("undelivered", 3000),
      ];
      const got = told.map((n) => `${toHex(n.id)} ${n.toKind}:${n.to} ${n.holder} ${n.reason}`);
      assert.deepEqual(
        got.sort(),
        [
          `${toHex(direct)} nick:bob bob NICK_RELEASED`,
          `${toHex(room)} room:dev bob NICK_RELEASED`,
        ].sort(),
      );
      await carol.nextWhere("left", (f) => f.room === "dev" && f.nick === "bob", 3000);
      await carol.send({ type: "list", room: "dev" });
      const roster = await carol.nextWhere("roster", (f) => f.room === "dev");
      assert.deepEqual(roster.members.map((m) => m.nick), ["alice", "carol"]);
      await alice.send({ type: "fetch-identity", nick: "bob" });
      assert.equal((await alice.next("keys")).status, "no-such-user");
      assert.equal(await metric(server.ws, "hush_nicks_released_total"), 1);
      // The nick is free again: another identity gets it as asked, with an empty queue.
      const other = await loggedIn(server.tcp, "bob", { identity: generateIdentityKeyPair() });
      const ready = other.frames.find((f) => f.type === "ready") as FrameOf<"ready">;
      assert.deepEqual([ready.nick, ready.queued], ["bob", 0]);
      await sleep(200);
      assert.ok(!other.frames.some((f) => f.type === "deliver"), "nothing of the old bob");
      // alice and carol, online all along, were not released.
      await alice.send({ type: "fetch-identity", nick: "carol" });
      assert.notEqual((await alice.next("keys")).status, "no-such-user");
      for (const c of [alice, carol, other]) c.close();
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

relayTest(
  "an identity connecting under one nick gets what is queued for its other nicks",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hush-nicks-" });
    const path = `${dir}/relay.sqlite`;
    const server = await startServer(
      ["--store", path],
      ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`],
    );
    try {
      const identity = generateIdentityKeyPair();
      const bob = await loggedIn(server.tcp, "bob", { identity });
      bob.close();
      await sleep(50);
      const alice = await loggedIn(server.tcp, "alice");
      const first = randomBytes(16);
      await alice.sendEnvelope("bob", new Uint8Array([1]), { id: first });
      await alice.next("accepted");
      // The same identity comes back as "robert": bob's queue is delivered on that connection,
      // the envelope unchanged (recipient field still "bob").
      const robert = await loggedIn(server.tcp, "robert", { identity });
      const ready = robert.frames.find((f) => f.type === "ready") as FrameOf<"ready">;
      assert.deepEqual([ready.nick, ready.queued], ["robert", 1]);
      const d = await robert.next("deliver");
      assert.deepEqual([toHex(d.id), d.from, d.to], [toHex(first), "alice", "bob"]);
      // While robert is online, a SEND to bob reaches robert at once.
      const second = randomBytes(16);
      await alice.sendEnvelope("bob", new Uint8Array([2]), { id: second });
      const d2 = await robert.next("deliver");
      assert.deepEqual([toHex(d2.id), d2.to], [toHex(second), "bob"]);
      // bob is still a member of lobby; robert's own room message does not come back to it.
      const own = randomBytes(16);
      await robert.sendEnvelope("lobby", new Uint8Array([7]), { id: own, toKind: "room" });
      assert.equal(toHex((await alice.next("deliver")).id), toHex(own));
      await sleep(200);
      assert.ok(
        !robert.frames.some((f) => f.type === "deliver" && toHex(f.id) === toHex(own)),
        "the sender's identity does not get its own room message through its former nick",
      );
      await robert.ack();
      await sleep(100);
      robert.close();
      await sleep(50);
      // Acknowledged on robert's connection: gone from bob's queue.
      const bobAgain = await loggedIn(server.tcp, "bob", { identity });
      const again = bobAgain.frames.find((f) => f.type === "ready") as FrameOf<"ready">;
      assert.equal(again.queued, 0);
      // bob's own connection holds bob again.
      const third = randomBytes(16);
      await alice.sendEnvelope("bob", new Uint8Array([3]), { id: third });
      assert.equal(toHex((await bobAgain.next("deliver")).id), toHex(third));
      for (const c of [alice, bobAgain]) c.close();
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
