import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: both sides of /verify show the same safety number; a match marks verified", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("bob");
    await alice.send("/verify bob");
    await bob.send("/verify alice");
    const a = await alice.waitForType("safety-number", (e) => e.peer === "bob", wait);
    const b = await bob.waitForType("safety-number", (e) => e.peer === "alice", wait);
    assert.match(a.safetyNumber, /^\d{60}$/);
    assert.equal(a.safetyNumber, b.safetyNumber);
    assert.deepEqual(a.words, b.words);
    assert.equal(a.verified, false);

    // A wrong number does not verify.
    const wrong = a.safetyNumber.replace(/^./, (d) => String((Number(d) + 1) % 10));
    let since = alice.events.length;
    await alice.send(`/verify bob ${wrong}`);
    const miss = await alice.waitForType("verified", (e) => e.peer === "bob", { since, ...wait });
    assert.equal(miss.match, false);

    // The right one, typed in groups with spaces as read aloud, does.
    since = alice.events.length;
    await alice.send(`/verify bob ${b.formatted.replace(/\n/g, " ")}`);
    const hit = await alice.waitForType("verified", (e) => e.peer === "bob", { since, ...wait });
    assert.equal(hit.match, true);
    since = alice.events.length;
    await alice.send("/whois bob");
    const whois = await alice.waitForType("whois", (e) => e.nick === "bob", { since, ...wait });
    assert.equal(whois.verified, true);
    assert.equal(whois.fingerprint, bob.eventsOf("ready")[0]?.fingerprint);

    // Messages from a verified peer are marked verified.
    await bob.send("@alice now you know it is me");
    const m = await alice.waitForType("message", (e) => e.text === "now you know it is me", wait);
    assert.equal(m.verified, true);
  });
});

Deno.test("client --json: a peer with a new identity triggers identity-changed; sending is blocked until /trust", async () => {
  // A relay without a store forgets nick bindings when restarted: a new identity can take "bob".
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    let bob = await world.client("bob");
    await alice.send("@bob first contact");
    await bob.waitForType("message", (e) => e.text === "first contact", wait);
    await bob.stop();

    const beforeRestart = alice.events.length;
    world.relay = await world.relay.restart();
    await alice.waitForType("ready", () => true, { since: beforeRestart, ...wait });
    bob = await world.client("bob", { home: "bob-reinstalled" });
    assert.equal(bob.eventsOf("ready")[0]?.nick, "bob");

    const since = alice.events.length;
    await bob.send("@alice I am the new bob");
    const changed = await alice.waitForType("identity-changed", (e) => e.peer === "bob", {
      since,
      ...wait,
    });
    assert.notEqual(changed.oldFingerprint, changed.newFingerprint);
    assert.equal(changed.newFingerprint, bob.eventsOf("ready")[0]?.fingerprint);
    // Held back, not shown, until alice accepts the new key.
    assert.ok(!alice.eventsOf("message").some((m) => m.text === "I am the new bob"));

    await alice.send("@bob are you still you?");
    const blocked = await alice.waitForType("error", (e) => e.code === "IDENTITY_CHANGED", {
      since,
      ...wait,
    });
    assert.match(blocked.message, /bob/);
    await settle();
    assert.ok(!bob.eventsOf("message").some((m) => m.text === "are you still you?"));

    await alice.send("/trust bob");
    await alice.waitForType("trusted", (e) => e.peer === "bob", { since, ...wait });
    await alice.waitForType("message", (e) => e.text === "I am the new bob", { since, ...wait });
    await alice.send("@bob trusted again");
    const got = await bob.waitForType("message", (e) => e.text === "trusted again", wait);
    assert.equal(got.from, "alice");
  });
});
