import assert from "node:assert/strict";
import fc from "fast-check";
import { describeBody, MAX_SKIP, OutboundSenderKey, SessionError } from "../../sessions/mod.ts";
import { leakedPlaintexts, RelayDouble } from "./_relay_double.ts";
import { assertSessionError, dumpStore, runs } from "./_helpers.ts";

const FIVE = ["alice", "bob", "carol", "dave", "erin"];

function roomOf(nicks: string[], room = "lobby"): RelayDouble {
  const relay = new RelayDouble();
  for (const nick of nicks) {
    relay.addParty(nick);
    relay.join(room, nick);
  }
  return relay;
}

Deno.test("a room of five: every member reads every other member's messages", async () => {
  const relay = roomOf(FIVE);
  const said: string[] = [];
  for (const nick of FIVE) {
    const text = `hello from ${nick}`;
    said.push(text);
    await relay.say(nick, "lobby", text);
  }
  for (const nick of FIVE) {
    const shown = relay.receiveAll(nick);
    assert.deepEqual(
      shown.map((m) => `${m.room}:${m.text}`).sort(),
      said.filter((t) => !t.endsWith(nick)).map((t) => `lobby:${t}`).sort(),
    );
  }
  assert.deepEqual(leakedPlaintexts(relay, said), []);
});

Deno.test("a room message is one ciphertext: the sender key is distributed once per member", async () => {
  const relay = roomOf(FIVE);
  const alice = relay.party("alice").hush;
  const first = await alice.encryptToRoom("lobby", ["bob", "carol", "dave", "erin"], "one");
  assert.deepEqual(first.distributions.map((d) => d.to), ["bob", "carol", "dave", "erin"]);
  assert.equal(describeBody(first.room.body).kind, "room");
  const second = await alice.encryptToRoom("lobby", ["bob", "carol", "dave", "erin"], "two");
  assert.deepEqual(second.distributions, []);
});

Deno.test("when a member leaves, the others rotate their sender keys and the leaver cannot read what follows", async () => {
  const relay = roomOf(FIVE);
  for (const nick of FIVE) await relay.say(nick, "lobby", `before ${nick}`);
  for (const nick of FIVE) relay.receiveAll(nick);
  // Erin leaves; every remaining member is told and rotates.
  relay.leave("lobby", "erin");
  for (const nick of FIVE.slice(0, 4)) relay.party(nick).hush.removeMember("lobby", "erin");
  const erin = relay.party("erin").hush;
  const after: Uint8Array[] = [];
  for (const nick of FIVE.slice(0, 4)) {
    const before = relay.traffic.length;
    after.push(await relay.say(nick, "lobby", `after erin left, ${nick} says`));
    // Three new distributions (one per remaining member) and the room body.
    assert.equal(relay.traffic.length - before, 4);
  }
  for (const nick of FIVE.slice(0, 4)) {
    assert.equal(relay.receiveAll(nick).length, 3);
  }
  // Erin gets nothing from the relay, and a copy of every body is useless to her.
  assert.deepEqual(relay.drain("erin"), []);
  for (const [i, body] of after.entries()) {
    assertSessionError(() => erin.decryptRoom("lobby", FIVE[i]!, body), "NO_SENDER_KEY");
  }
  // Even granting Erin the new key id and signing key (both public), her old chain keys do
  // not open the new messages: the new chain is fresh randomness she never received.
  const erinStore = relay.party("erin").store;
  const bobStore = relay.party("bob").store;
  const fresh = JSON.parse(bobStore.get("room/lobby/in/alice") as string)[0];
  const old = JSON.parse(erinStore.get("room/lobby/in/alice") as string)[0];
  assert.notEqual(fresh.keyId, old.keyId);
  assert.notEqual(fresh.chainKey, old.chainKey);
  const { InboundSenderKey, decodeRoomMessage } = await import("../../sessions/mod.ts");
  const attempt = InboundSenderKey.fromJSON({
    ...old,
    keyId: fresh.keyId,
    signingKey: fresh.signingKey,
    iteration: 0,
    skipped: [],
  });
  assertSessionError(
    () => attempt.decrypt(decodeRoomMessage(after[0]!), { room: "lobby" }),
    "DECRYPT_FAILED",
  );
});

Deno.test("a member missing from the members list triggers a rotation even without removeMember()", async () => {
  const relay = roomOf(["alice", "bob", "carol"]);
  const alice = relay.party("alice").hush;
  const one = await alice.encryptToRoom("lobby", ["bob", "carol"], "all three");
  const two = await alice.encryptToRoom("lobby", ["bob"], "carol is gone");
  assert.notEqual(describeKeyId(one.room.body), describeKeyId(two.room.body));
  assert.deepEqual(two.distributions.map((d) => d.to), ["bob"]);
});

function describeKeyId(body: Uint8Array): number {
  return new DataView(body.buffer, body.byteOffset).getUint32(3);
}

Deno.test("a member cannot forge another member's room message (BAD_ROOM_SIGNATURE)", async () => {
  const relay = roomOf(["alice", "bob", "mallory"]);
  await relay.say("alice", "lobby", "genuine");
  relay.receiveAll("bob");
  relay.receiveAll("mallory");
  // Mallory holds Alice's chain key, so she can encrypt under it, but not sign as Alice.
  const mallory = relay.party("mallory");
  const stolen = JSON.parse(mallory.store.get("room/lobby/in/alice") as string)[0];
  const forger = OutboundSenderKey.fromJSON({
    keyId: stolen.keyId,
    chainKey: stolen.chainKey,
    iteration: stolen.iteration,
    signingSeed: "00".repeat(32),
  });
  const { getCipherSuite, fromHex } = await import("../../crypto/mod.ts");
  const forged = forger.encrypt(Uint8Array.of(0x01, ...new TextEncoder().encode("send me money")), {
    room: "lobby",
    senderIdentityKey: fromHex(stolen.senderIdentityKey),
    suite: getCipherSuite("aes-256-gcm"),
  });
  const bob = relay.party("bob");
  const before = dumpStore(bob.store);
  assertSessionError(() => bob.hush.decryptRoom("lobby", "alice", forged), "BAD_ROOM_SIGNATURE");
  assert.equal(dumpStore(bob.store), before);
  // Claiming Mallory's own genuine message came from Alice does not work either.
  const own = await relay.say("mallory", "lobby", "mallory speaking");
  assertSessionError(() => bob.hush.decryptRoom("lobby", "alice", own), "NO_SENDER_KEY");
  // Nor does replaying Alice's message into another room.
  const genuine = await relay.say("alice", "lobby", "for lobby only");
  assertSessionError(() => bob.hush.decryptRoom("other", "alice", genuine), "NO_SENDER_KEY");
});

Deno.test("every single-bit change at every byte of a room message is refused, state unchanged", async () => {
  const relay = roomOf(["alice", "bob"]);
  const body = await relay.say("alice", "lobby", "room tamper target");
  const [distribution] = relay.drain("bob").filter((e) => e.room === undefined);
  const bob = relay.party("bob");
  bob.hush.decryptFrom("alice", distribution!.body);
  const before = dumpStore(bob.store);
  for (let i = 0; i < body.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const tampered = body.slice();
      tampered[i]! ^= bit;
      assert.throws(
        () => bob.hush.decryptRoom("lobby", "alice", tampered),
        SessionError,
        `byte ${i}`,
      );
      assert.equal(dumpStore(bob.store), before);
    }
  }
  assert.equal(bob.hush.decryptRoom("lobby", "alice", body).text, "room tamper target");
});

Deno.test("room messages out of order open; a duplicate is refused with DUPLICATE_MESSAGE", async () => {
  const relay = roomOf(["alice", "bob"]);
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) bodies.push(await relay.say("alice", "lobby", `m${i}`));
  const bob = relay.party("bob").hush;
  for (const e of relay.drain("bob")) if (e.room === undefined) bob.decryptFrom("alice", e.body);
  for (const i of [4, 0, 2, 1, 3]) {
    assert.equal(bob.decryptRoom("lobby", "alice", bodies[i]!).text, `m${i}`);
  }
  assertSessionError(() => bob.decryptRoom("lobby", "alice", bodies[2]!), "DUPLICATE_MESSAGE");
});

Deno.test(`a room message skipping more than MAX_SKIP (${MAX_SKIP}) keys is refused with TOO_MANY_SKIPPED`, async () => {
  const relay = roomOf(["alice", "bob"]);
  const alice = relay.party("alice").hush;
  const first = await alice.encryptToRoom("lobby", ["bob"], "first");
  const bob = relay.party("bob").hush;
  bob.decryptFrom("alice", first.distributions[0]!.body);
  let last = first.room.body;
  for (let i = 0; i < MAX_SKIP + 1; i++) {
    last = (await alice.encryptToRoom("lobby", ["bob"], "x")).room.body;
  }
  assertSessionError(() => bob.decryptRoom("lobby", "alice", last), "TOO_MANY_SKIPPED");
  assert.equal(bob.decryptRoom("lobby", "alice", first.room.body).text, "first");
});

Deno.test("a room message that arrives before its sender key fails with NO_SENDER_KEY and opens later", async () => {
  const relay = roomOf(["alice", "bob"]);
  const body = await relay.say("alice", "lobby", "early bird");
  const queued = relay.drain("bob");
  const bob = relay.party("bob").hush;
  const room = queued.find((e) => e.room !== undefined)!;
  assertSessionError(() => bob.decryptRoom("lobby", "alice", room.body), "NO_SENDER_KEY");
  const distribution = queued.find((e) => e.room === undefined)!;
  const got = bob.decryptFrom("alice", distribution.body);
  assert.deepEqual(got.type === "sender-key" && got.room, "lobby");
  assert.equal(bob.decryptRoom("lobby", "alice", body).text, "early bird");
});

Deno.test("a member who joins later gets the current sender key and reads from then on", async () => {
  const relay = roomOf(["alice", "bob"]);
  await relay.say("alice", "lobby", "before carol");
  relay.receiveAll("bob");
  relay.addParty("carol");
  relay.join("lobby", "carol");
  await relay.say("alice", "lobby", "welcome carol");
  assert.deepEqual(relay.receiveAll("carol").map((m) => m.text), ["welcome carol"]);
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["welcome carol"]);
});

Deno.test("a Caesar room is marked insecure, while its sender keys still travel under AES-256-GCM", async () => {
  const relay = roomOf(["alice", "bob"]);
  const alice = relay.party("alice").hush;
  alice.setSuite("lobby", "caesar");
  alice.setSuite("bob", "caesar");
  const out = await alice.encryptToRoom("lobby", ["bob"], "Caesar in the room");
  assert.equal(out.room.insecure, true);
  assert.equal(out.distributions[0]!.suite.id, "aes-256-gcm");
  const bob = relay.party("bob").hush;
  const got = bob.decryptFrom("alice", out.distributions[0]!.body);
  assert.equal(got.insecure, false);
  const message = bob.decryptRoom("lobby", "alice", out.room.body);
  assert.equal(message.text, "Caesar in the room");
  assert.equal(message.suite, "caesar");
  assert.equal(message.insecure, true);
});

Deno.test("leaveRoom() forgets a room's keys", async () => {
  const relay = roomOf(["alice", "bob"]);
  const body = await relay.say("alice", "lobby", "then bob leaves");
  relay.receiveAll("bob");
  const bob = relay.party("bob");
  bob.hush.leaveRoom("lobby");
  assert.deepEqual(bob.store.keys("room/lobby/"), []);
  assertSessionError(() => bob.hush.decryptRoom("lobby", "alice", body), "NO_SENDER_KEY");
});

Deno.test("removeMember() during an encryptToRoom() waiting on a bundle still forces the rotation", async () => {
  const relay = roomOf(["alice", "bob", "carol"]);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const alice = relay.restart("alice", {
    fetchBundle: async (nick) => {
      if (nick === "carol") await gate;
      return relay.fetch(nick);
    },
  }).hush;
  const first = await alice.encryptToRoom("lobby", ["bob"], "to bob only");
  const pending = alice.encryptToRoom("lobby", ["bob", "carol"], "carol joins");
  await new Promise((resolve) => setTimeout(resolve, 0));
  alice.removeMember("lobby", "bob"); // the LEAVE notice arrives while the fetch is pending
  release();
  const second = await pending;
  assert.equal(describeKeyId(second.room.body), describeKeyId(first.room.body));
  // A stale member list still containing bob: the rotation happens anyway.
  const third = await alice.encryptToRoom("lobby", ["bob", "carol"], "after bob left");
  assert.notEqual(describeKeyId(third.room.body), describeKeyId(first.room.body));
});

Deno.test("random says, leaves and joins: members read everything, leavers nothing that follows (property)", async () => {
  const nicks = ["ann", "ben", "cat", "dan"];
  type Action = { op: "say" | "leave" | "join"; who: number };
  const action: fc.Arbitrary<Action> = fc.record({
    op: fc.constantFrom("say" as const, "say" as const, "leave" as const, "join" as const),
    who: fc.nat({ max: nicks.length - 1 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 14 }), async (actions) => {
      const relay = roomOf(nicks.slice(0, 3));
      relay.addParty("dan");
      const members = new Set(nicks.slice(0, 3));
      const departed = new Map<string, Uint8Array[]>(); // leaver -> room bodies sent since
      let serial = 0;
      for (const { op, who } of actions) {
        const nick = nicks[who]!;
        if (op === "join" && !members.has(nick)) {
          members.add(nick);
          relay.join("lobby", nick);
          departed.delete(nick);
          relay.drain(nick);
        } else if (op === "leave" && members.has(nick) && members.size > 1) {
          members.delete(nick);
          relay.leave("lobby", nick);
          relay.party(nick).hush.leaveRoom("lobby");
          for (const other of members) relay.party(other).hush.removeMember("lobby", nick);
          departed.set(nick, []);
        } else if (op === "say" && members.has(nick)) {
          const text = `line ${serial++} by ${nick}`;
          const body = await relay.say(nick, "lobby", text);
          for (const list of departed.values()) list.push(body);
          for (const member of members) {
            if (member === nick) continue;
            assert.deepEqual(relay.receiveAll(member).map((m) => m.text), [text]);
          }
        }
      }
      for (const [leaver, bodies] of departed) {
        assert.deepEqual(relay.drain(leaver), [], `${leaver} got envelopes after leaving`);
        for (const body of bodies) {
          const from = nicks.find((n) => {
            try {
              relay.party(leaver).hush.decryptRoom("lobby", n, body);
              return true;
            } catch (error) {
              assert.ok(error instanceof SessionError);
              return false;
            }
          });
          assert.equal(from, undefined, `${leaver} opened a message sent after leaving`);
        }
      }
    }),
    { numRuns: runs(30, 300) },
  );
});

Deno.test("rotateRoomKeys(room) gives that room a new sender key, distributed again to every member", async () => {
  const relay = roomOf(["alice", "bob", "carol"]);
  relay.join("side", "alice");
  relay.join("side", "bob");
  const alice = relay.party("alice").hush;
  const lobby = await alice.encryptToRoom("lobby", ["bob", "carol"], "one");
  const side = await alice.encryptToRoom("side", ["bob"], "one");
  alice.rotateRoomKeys("lobby");
  const lobbyAfter = await alice.encryptToRoom("lobby", ["bob", "carol"], "two");
  assert.notEqual(describeKeyId(lobbyAfter.room.body), describeKeyId(lobby.room.body));
  assert.deepEqual(lobbyAfter.distributions.map((d) => d.to), ["bob", "carol"]);
  // Other rooms keep their key.
  const sideAfter = await alice.encryptToRoom("side", ["bob"], "two");
  assert.equal(describeKeyId(sideAfter.room.body), describeKeyId(side.room.body));
  assert.deepEqual(sideAfter.distributions, []);
});

Deno.test("rotateRoomKeys() without a room rotates every room we hold a sender key for", async () => {
  const relay = roomOf(["alice", "bob"]);
  relay.join("side", "alice");
  relay.join("side", "bob");
  const before = [
    await relay.say("alice", "lobby", "one"),
    await relay.say("alice", "side", "one"),
  ];
  relay.receiveAll("bob");
  relay.party("alice").hush.rotateRoomKeys();
  const sent = relay.traffic.length;
  const after = [await relay.say("alice", "lobby", "two"), await relay.say("alice", "side", "two")];
  // Per room: a new distribution to bob, then the room body under a new key.
  assert.equal(relay.traffic.length - sent, 4);
  for (const [i, body] of after.entries()) {
    assert.notEqual(describeKeyId(body), describeKeyId(before[i]!));
  }
  assert.deepEqual(
    relay.receiveAll("bob").map((m) => `${m.room}:${m.text}`),
    ["lobby:two", "side:two"],
  );
});

Deno.test("rotateRoomKeys() on a room without a sender key of ours changes nothing", () => {
  const relay = roomOf(["alice", "bob"]);
  const alice = relay.party("alice");
  const before = dumpStore(alice.store);
  alice.hush.rotateRoomKeys("lobby");
  alice.hush.rotateRoomKeys();
  assert.equal(dumpStore(alice.store), before);
});

Deno.test("a room message sent before the sender shared its key with us is BEFORE_SENDER_KEY, not a duplicate", async () => {
  // The sender's roster did not show bob yet (he joined as it was sent): message 0 carries no
  // distribution for him; message 1 does, starting at iteration 1. The relay fanned both out.
  const relay = roomOf(["alice", "bob"]);
  const alice = relay.party("alice").hush;
  const bob = relay.party("bob").hush;
  const early = await alice.encryptToRoom("lobby", [], "before bob was in the roster");
  assert.deepEqual(early.distributions, []);
  const late = await alice.encryptToRoom("lobby", ["bob"], "after");
  assert.equal(late.distributions.length, 1);
  // Bob holds the early one (NO_SENDER_KEY), then the distribution arrives and he retries it.
  assertSessionError(() => bob.decryptRoom("lobby", "alice", early.room.body), "NO_SENDER_KEY");
  bob.decryptFrom("alice", late.distributions[0]!.body);
  const before = dumpStore(relay.party("bob").store);
  assertSessionError(
    () => bob.decryptRoom("lobby", "alice", early.room.body),
    "BEFORE_SENDER_KEY",
  );
  assert.equal(dumpStore(relay.party("bob").store), before);
  assert.equal(bob.decryptRoom("lobby", "alice", late.room.body).text, "after");
  // Still not a duplicate after the chain moved on; a real replay still is.
  assertSessionError(
    () => bob.decryptRoom("lobby", "alice", early.room.body),
    "BEFORE_SENDER_KEY",
  );
  assertSessionError(() => bob.decryptRoom("lobby", "alice", late.room.body), "DUPLICATE_MESSAGE");
});
