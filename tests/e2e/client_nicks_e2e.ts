/**
 * Issue 11 and issue 10 item 7 (client side): nicks are one person whatever their case or
 * look-alike spelling. Real relay and `client.ts --json` processes over TCP: `Bob` online, a
 * newcomer asking `bob` is granted `bob_1`, `/whois bob` and `/whois BOB` find `Bob`, `/pm BOB`
 * and `@b0b` reach `Bob`, and everything is keyed by the relay's spelling (one peer, one session).
 *
 * @module
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: /whois bob finds Bob, /pm BOB reaches Bob, a newcomer asking bob is bob_1", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("Bob");
    const bobReady = bob.eventsOf("ready")[0]!;
    assert.equal(bobReady.nick, "Bob");
    const other = await world.client("bob", { home: "other-bob" });
    const otherReady = other.eventsOf("ready")[0]!;
    assert.equal(otherReady.nick, "bob_1");
    await alice.waitForType("join", (e) => e.nick === "bob_1", wait);

    for (const typed of ["bob", "BOB"]) {
      const since = alice.events.length;
      await alice.send(`/whois ${typed}`);
      const whois = await alice.waitForType("whois", () => true, { since, ...wait });
      assert.equal(whois.nick, "Bob", typed);
      assert.equal(whois.fingerprint, bobReady.fingerprint, typed);
      assert.equal(whois.online, true, typed);
    }

    await alice.send("/pm BOB hello in capitals");
    const first = await bob.waitForType("message", (e) => e.text === "hello in capitals", wait);
    assert.equal(first.from, "alice");
    assert.equal(first.private, true);
    await alice.send("@b0b and with a zero");
    await bob.waitForType("message", (e) => e.text === "and with a zero", wait);
    await alice.send("@Bob as the relay spells it");
    await bob.waitForType("message", (e) => e.text === "as the relay spells it", wait);

    // One peer: the safety number asked as "bob" is Bob's, and verifying it marks Bob verified.
    let since = alice.events.length;
    await alice.send("/verify bob");
    const mine = await alice.waitForType("safety-number", () => true, { since, ...wait });
    assert.equal(mine.peer, "Bob");
    await bob.send("/verify alice");
    const theirs = await bob.waitForType("safety-number", (e) => e.peer === "alice", wait);
    assert.equal(mine.safetyNumber, theirs.safetyNumber);
    since = alice.events.length;
    await alice.send(`/verify BOB ${theirs.safetyNumber}`);
    const verified = await alice.waitForType("verified", () => true, { since, ...wait });
    assert.deepEqual([verified.peer, verified.match], ["Bob", true]);
    await bob.send("@alice reply");
    const reply = await alice.waitForType("message", (e) => e.text === "reply", wait);
    assert.equal(reply.from, "Bob");
    assert.equal(reply.verified, true);

    // bob_1 got none of it, and nobody saw an identity change or an error.
    await settle();
    assert.equal(other.eventsOf("message").length, 0);
    for (const c of [alice, bob]) {
      assert.deepEqual(c.eventsOf("identity-changed"), []);
      assert.deepEqual(c.eventsOf("error"), [], JSON.stringify(c.eventsOf("error")));
    }
  });
});
