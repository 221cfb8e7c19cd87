import assert from "node:assert/strict";
import { fingerprint, formatSafetyNumber } from "../../crypto/mod.ts";
import { MemorySessionStore, TrustStore } from "../../sessions/mod.ts";
import { RelayDouble } from "./_relay_double.ts";
import { assertRejectsSession, assertSessionError } from "./_helpers.ts";

async function talking(): Promise<RelayDouble> {
  const relay = new RelayDouble();
  relay.addParty("alice");
  relay.addParty("bob");
  await relay.pm("alice", "bob", "hi bob");
  relay.receiveAll("bob");
  await relay.pm("bob", "alice", "hi alice");
  relay.receiveAll("alice");
  return relay;
}

Deno.test("the first identity seen for a nick is pinned (trust on first use)", async () => {
  const relay = await talking();
  const alice = relay.party("alice");
  const bob = relay.party("bob");
  const pinned = alice.hush.trust.get("bob");
  assert.ok(pinned);
  assert.deepEqual(pinned.identityKey, bob.identity.publicKey);
  assert.equal(pinned.fingerprint, fingerprint(bob.identity.publicKey));
  assert.equal(pinned.verified, false);
  assert.equal(pinned.changed, undefined);
  assert.deepEqual(bob.hush.trust.get("alice")?.identityKey, alice.identity.publicKey);
});

Deno.test("TrustStore.observe() pins, recognises, and records a change per local user", () => {
  const mine = new Uint8Array(32).fill(1);
  const first = new Uint8Array(32).fill(2);
  const second = new Uint8Array(32).fill(3);
  const storeA = new MemorySessionStore();
  const trustA = new TrustStore(storeA, mine);
  assert.equal(trustA.observe("bob", first), "new");
  assert.equal(trustA.observe("bob", first), "known");
  assert.equal(trustA.observe("bob", second), "changed");
  assertSessionError(() => trustA.assertSendable("bob"), "IDENTITY_CHANGED");
  // Another local user's pins are separate.
  const trustB = new TrustStore(new MemorySessionStore(), mine);
  assert.equal(trustB.observe("bob", second), "new");
  trustB.assertSendable("bob");
  assert.equal(trustA.accept("bob"), true);
  assert.equal(trustA.observe("bob", second), "known");
  assert.equal(trustA.accept("bob"), false);
});

Deno.test("a changed identity key raises IDENTITY_CHANGED, blocks sending, and acceptIdentity() unblocks and opens held messages", async () => {
  const relay = await talking();
  const alice = relay.party("alice");
  // Bob reinstalls: same nick, new identity.
  relay.addParty("bob");
  const envelope = await relay.pm("bob", "alice", "it is me, new phone");
  assertSessionError(() => alice.hush.decryptFrom("bob", envelope.body), "IDENTITY_CHANGED");
  const status = alice.hush.trust.get("bob")!;
  assert.ok(status.changed);
  assert.deepEqual(status.changed.newIdentityKey, relay.party("bob").identity.publicKey);
  await assertRejectsSession(alice.hush.encryptTo("bob", "blocked"), "IDENTITY_CHANGED");
  const room = await alice.hush.encryptToRoom("lobby", ["bob"], "room while blocked");
  assert.deepEqual(room.skipped.map((s) => s.code), ["IDENTITY_CHANGED"]);
  assert.deepEqual(room.distributions, []);
  // The user accepts the new key: held message shown, sending works again.
  const held = alice.hush.acceptIdentity("bob");
  assert.deepEqual(held.map((m) => m.type === "text" && m.text), ["it is me, new phone"]);
  assert.equal(alice.hush.trust.get("bob")?.changed, undefined);
  await relay.pm("alice", "bob", "welcome back");
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["welcome back"]);
});

Deno.test("the safety number is the same on both sides and markVerified() accepts only a match", async () => {
  const relay = await talking();
  const alice = relay.party("alice").hush;
  const bob = relay.party("bob").hush;
  const fromAlice = alice.trust.safetyNumber("bob");
  const fromBob = bob.trust.safetyNumber("alice");
  assert.equal(fromAlice.digits, fromBob.digits);
  assert.match(fromAlice.digits, /^\d{60}$/);
  assert.equal(fromAlice.formatted, formatSafetyNumber(fromAlice.digits));
  assert.deepEqual(fromAlice.words, fromBob.words);
  const wrong = (fromBob.digits[0] === "1" ? "2" : "1") + fromBob.digits.slice(1);
  assert.equal(alice.trust.markVerified("bob", wrong), false);
  assert.equal(alice.trust.isVerified("bob"), false);
  assert.equal(alice.trust.markVerified("bob", fromBob.formatted), true); // spaces and newlines ok
  assert.equal(alice.trust.isVerified("bob"), true);
  await relay.pm("bob", "alice", "verified now");
  const got = alice.decryptFrom("bob", relay.drain("alice")[0]!.body);
  assert.equal(got.verified, true);
});

Deno.test("verified status is lost when the key changes", async () => {
  const relay = await talking();
  const alice = relay.party("alice").hush;
  assert.equal(
    alice.trust.markVerified("bob", relay.party("bob").hush.trust.safetyNumber("alice").digits),
    true,
  );
  relay.addParty("bob");
  const envelope = await relay.pm("bob", "alice", "new key");
  assertSessionError(() => alice.decryptFrom("bob", envelope.body), "IDENTITY_CHANGED");
  assert.equal(alice.trust.isVerified("bob"), false);
  assertSessionError(() => alice.trust.markVerified("bob", "0".repeat(60)), "IDENTITY_CHANGED");
  alice.acceptIdentity("bob");
  assert.equal(alice.trust.isVerified("bob"), false);
  assert.equal(alice.trust.get("bob")?.verified, false);
  const fresh = relay.party("bob").hush.trust.safetyNumber("alice").digits;
  assert.equal(alice.trust.markVerified("bob", fresh), true);
});

Deno.test("safetyNumber() and markVerified() of an unknown nick fail with NO_IDENTITY", () => {
  const trust = new TrustStore(new MemorySessionStore(), new Uint8Array(32).fill(7));
  assertSessionError(() => trust.safetyNumber("nobody"), "NO_IDENTITY");
  assertSessionError(() => trust.markVerified("nobody", "1".repeat(60)), "NO_IDENTITY");
});

Deno.test("after accepting a changed identity, our room sender key is sent to the new identity", async () => {
  const relay = await talking();
  relay.join("lobby", "alice");
  relay.join("lobby", "bob");
  await relay.say("alice", "lobby", "before the change");
  relay.receiveAll("bob");
  relay.addParty("bob");
  const envelope = await relay.pm("bob", "alice", "new device");
  assertSessionError(
    () => relay.party("alice").hush.decryptFrom("bob", envelope.body),
    "IDENTITY_CHANGED",
  );
  relay.party("alice").hush.acceptIdentity("bob");
  await relay.say("alice", "lobby", "after the change");
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["after the change"]);
});

Deno.test("a session cannot be started without a bundle fetcher (NO_BUNDLE_FETCHER)", async () => {
  const { Hush } = await import("../../sessions/mod.ts");
  const { generateIdentityKeyPair } = await import("../../crypto/mod.ts");
  const hush = new Hush({ store: new MemorySessionStore(), identity: generateIdentityKeyPair() });
  await assertRejectsSession(hush.encryptTo("bob", "hello"), "NO_BUNDLE_FETCHER");
});

Deno.test("acceptIdentity() without a pending change keeps the sessions", async () => {
  const relay = await talking();
  const alice = relay.party("alice");
  assert.deepEqual(alice.hush.acceptIdentity("bob"), []);
  assert.equal(alice.hush.hasSession("bob"), true);
  await relay.pm("alice", "bob", "same session");
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["same session"]);
});

Deno.test("held messages keep the caller's tag; a held body that no longer opens is reported, not dropped", async () => {
  const relay = await talking();
  const alice = relay.party("alice");
  relay.addParty("bob"); // reinstalled
  const first = await relay.pm("bob", "alice", "first");
  const second = await relay.pm("bob", "alice", "second");
  assertSessionError(
    () => alice.hush.decryptFrom("bob", first.body, { tag: "id-1" }),
    "IDENTITY_CHANGED",
  );
  assertSessionError(
    () => alice.hush.decryptFrom("bob", second.body, { tag: "id-2" }),
    "IDENTITY_CHANGED",
  );
  // A tampered copy is refused, not held; a second copy of the first is held and cannot open
  // once the first did (its key is used): reported with its tag.
  const bad = first.body.slice();
  bad[bad.length - 1]! ^= 1;
  assertSessionError(() => alice.hush.decryptFrom("bob", bad, { tag: "id-bad" }), "DECRYPT_FAILED");
  assertSessionError(
    () => alice.hush.decryptFrom("bob", first.body, { tag: "id-copy" }),
    "IDENTITY_CHANGED",
  );
  const failures: string[] = [];
  const held = alice.hush.acceptIdentity(
    "bob",
    (error, tag) => failures.push(`${tag}:${error.code}`),
  );
  assert.deepEqual(
    held.map((m) => [m.tag, m.type === "text" ? m.text : m.type]),
    [["id-1", "first"], ["id-2", "second"]],
  );
  assert.deepEqual(failures, ["id-copy:DUPLICATE_MESSAGE"]);
});

Deno.test("beyond 200 held messages the oldest is dropped, and the error says so", async () => {
  const relay = await talking();
  const alice = relay.party("alice");
  relay.addParty("bob"); // reinstalled
  for (let i = 0; i < 201; i++) {
    const envelope = await relay.pm("bob", "alice", `m${i}`);
    assert.throws(
      () => alice.hush.decryptFrom("bob", envelope.body, { tag: `t${i}` }),
      (error: unknown) =>
        error instanceof Error && /IDENTITY_CHANGED|changed/.test(error.message) &&
        (i < 200) === !/oldest was dropped/.test(error.message),
    );
  }
  const held = alice.hush.acceptIdentity("bob");
  assert.equal(held.length, 200);
  assert.equal(held[0]?.tag, "t1");
});
