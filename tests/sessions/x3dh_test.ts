import assert from "node:assert/strict";
import {
  equalBytes,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  randomBytes,
} from "../../crypto/mod.ts";
import {
  decodeInitialMessage,
  LocalUser,
  MemorySessionStore,
  type PrekeyBundle,
  SessionError,
  verifyBundle,
  x3dhInitiate,
  x3dhRespond,
} from "../../sessions/mod.ts";
import { RelayDouble } from "./_relay_double.ts";

const NICKS = { initiator: "alice", responder: "bob" };

function userWithBundle(): { user: LocalUser; bundle: PrekeyBundle } {
  const user = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
  const published = user.bundle();
  const { oneTimePrekeys, ...rest } = published;
  return { user, bundle: { ...rest, oneTimePrekey: oneTimePrekeys[0]! } };
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SessionError, `expected SessionError, got ${error}`);
    assert.equal(error.code, code);
    return true;
  });
}

async function assertRejectsCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SessionError, `expected SessionError, got ${error}`);
    assert.equal(error.code, code);
    return true;
  });
}

for (const withOneTime of [true, false]) {
  Deno.test(`x3dhInitiate() and x3dhRespond() derive the same secret and associated data (one-time prekey: ${withOneTime})`, () => {
    const alice = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
    const { user: bob, bundle: full } = userWithBundle();
    const { oneTimePrekey, ...withoutOneTime } = full;
    const bundle = withOneTime ? full : withoutOneTime;
    const init = x3dhInitiate(alice.x3dhKeys, bundle, NICKS);
    assert.equal(init.sharedSecret.length, 32);
    assert.equal(init.ad.length, 128 + 1 + 5 + 1 + 3);
    assert.equal(init.fields.oneTimePrekeyId, withOneTime ? oneTimePrekey!.id : undefined);
    const signedPrekey = bob.signedPrekey(init.fields.signedPrekeyId)!;
    const oneTime = withOneTime ? bob.oneTimePrekey(oneTimePrekey!.id)! : undefined;
    const resp = x3dhRespond(
      { ...bob.x3dhKeys, signedPrekey, ...(oneTime ? { oneTimePrekey: oneTime } : {}) },
      init.fields,
      NICKS,
    );
    assert.ok(equalBytes(init.sharedSecret, resp.sharedSecret));
    assert.ok(equalBytes(init.ad, resp.ad));
    // Both Ed25519 identities lead the associated data.
    assert.ok(equalBytes(init.ad.subarray(0, 32), alice.identity.publicKey));
    assert.ok(equalBytes(init.ad.subarray(32, 64), bob.identity.publicKey));
  });
}

Deno.test("x3dhInitiate() gives a different secret each time (fresh ephemeral key)", () => {
  const alice = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
  const { bundle } = userWithBundle();
  const one = x3dhInitiate(alice.x3dhKeys, bundle, NICKS);
  const two = x3dhInitiate(alice.x3dhKeys, bundle, NICKS);
  assert.ok(!equalBytes(one.sharedSecret, two.sharedSecret));
  assert.ok(!equalBytes(one.fields.baseKey, two.fields.baseKey));
});

Deno.test("x3dhRespond() with the wrong one-time prekey derives a different secret", () => {
  const alice = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
  const { user: bob, bundle } = userWithBundle();
  const init = x3dhInitiate(alice.x3dhKeys, bundle, NICKS);
  const wrong = bob.oneTimePrekey(bundle.oneTimePrekey!.id + 1)!;
  const resp = x3dhRespond(
    {
      ...bob.x3dhKeys,
      signedPrekey: bob.signedPrekey(bundle.signedPrekeyId)!,
      oneTimePrekey: wrong,
    },
    init.fields,
    NICKS,
  );
  assert.ok(!equalBytes(init.sharedSecret, resp.sharedSecret));
});

Deno.test("verifyBundle() accepts a genuine bundle", () => {
  verifyBundle(userWithBundle().bundle);
});

Deno.test("verifyBundle() refuses a forged signed prekey with BAD_BUNDLE_SIGNATURE", () => {
  const { bundle } = userWithBundle();
  assertCode(
    () => verifyBundle({ ...bundle, signedPrekey: generateX25519KeyPair().publicKey }),
    "BAD_BUNDLE_SIGNATURE",
  );
  assertCode(
    () => verifyBundle({ ...bundle, signedPrekeyId: bundle.signedPrekeyId + 1 }),
    "BAD_BUNDLE_SIGNATURE",
  );
  const sig = bundle.signedPrekeySignature.slice();
  sig[10]! ^= 1;
  assertCode(() => verifyBundle({ ...bundle, signedPrekeySignature: sig }), "BAD_BUNDLE_SIGNATURE");
});

Deno.test("verifyBundle() refuses a forged identity DH key with BAD_BUNDLE_SIGNATURE", () => {
  const { bundle } = userWithBundle();
  assertCode(
    () => verifyBundle({ ...bundle, identityDhKey: generateX25519KeyPair().publicKey }),
    "BAD_BUNDLE_SIGNATURE",
  );
});

Deno.test("verifyBundle() refuses a field of the wrong length with BAD_BUNDLE", () => {
  const { bundle } = userWithBundle();
  assertCode(() => verifyBundle({ ...bundle, signedPrekey: randomBytes(31) }), "BAD_BUNDLE");
  assertCode(
    () => verifyBundle({ ...bundle, oneTimePrekey: { id: 1, publicKey: randomBytes(33) } }),
    "BAD_BUNDLE",
  );
  const nonCanonical = bundle.signedPrekey.slice();
  nonCanonical[31]! |= 0x80;
  assertCode(() => verifyBundle({ ...bundle, signedPrekey: nonCanonical }), "BAD_BUNDLE");
});

Deno.test("encryptTo() refuses a bundle whose prekey a malicious relay replaced, and pins nothing", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice");
  relay.addParty("bob");
  const mallory = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair()).bundle();
  relay.onFetch = (_nick, bundle) => ({ ...bundle, signedPrekey: mallory.signedPrekey });
  await assertRejectsCode(alice.hush.encryptTo("bob", "secret plan"), "BAD_BUNDLE_SIGNATURE");
  await assert.rejects(alice.hush.encryptTo("bob", "secret plan"), /^SessionError: bob: /);
  assert.equal(alice.hush.hasSession("bob"), false);
  assert.equal(alice.hush.trust.get("bob"), undefined);
  assert.equal(relay.traffic.length, 2 * 3, "nothing but the two published bundles was sent");
});

Deno.test("a bundle swapped for another identity's bundle shows as IDENTITY_CHANGED for a known nick", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice");
  relay.addParty("bob");
  relay.addParty("mallory");
  await relay.pm("alice", "bob", "first contact");
  relay.receiveAll("bob");
  alice.hush.resetSession("bob"); // e.g. state lost: Alice must fetch Bob's bundle again
  relay.onFetch = (nick, bundle) => nick === "bob" ? relay.fetch("mallory") : bundle;
  await assertRejectsCode(alice.hush.encryptTo("bob", "are you there"), "IDENTITY_CHANGED");
  assert.ok(alice.hush.trust.get("bob")?.changed, "the change is recorded");
  // And sending stays blocked until the user accepts.
  relay.onFetch = undefined;
  await assertRejectsCode(alice.hush.encryptTo("bob", "still blocked"), "IDENTITY_CHANGED");
});

Deno.test("a bundle swapped for an unknown nick is pinned, but the safety numbers then disagree", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice");
  const bob = relay.addParty("bob");
  relay.addParty("mallory");
  relay.onFetch = (nick, bundle) => nick === "bob" ? relay.fetch("mallory") : bundle;
  await relay.pm("alice", "bob", "hello");
  const aliceView = alice.hush.trust.safetyNumber("bob").digits;
  // Bob computes his number over the real keys: the comparison exposes the swap.
  bob.hush.trust.observe("alice", alice.identity.publicKey);
  assert.notEqual(bob.hush.trust.safetyNumber("alice").digits, aliceView);
  assert.equal(
    alice.hush.trust.markVerified("bob", bob.hush.trust.safetyNumber("alice").digits),
    false,
  );
  // Bob cannot even open the message meant for Mallory's keys.
  assert.throws(() => relay.receiveAll("bob"), SessionError);
});

Deno.test("a one-time prekey is used once: its private key is deleted and it leaves the bundle", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice");
  const bob = relay.addParty("bob");
  const envelope = await relay.pm("alice", "bob", "hi bob");
  const id = decodeInitialMessage(envelope.body).oneTimePrekeyId!;
  assert.ok(bob.hush.user.oneTimePrekey(id) !== undefined);
  const before = bob.hush.user.oneTimePrekeyCount;
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["hi bob"]);
  assert.equal(bob.hush.user.oneTimePrekey(id), undefined);
  assert.equal(bob.hush.user.oneTimePrekeyCount, before - 1);
  assert.ok(!bob.hush.bundle().oneTimePrekeys.some((k) => k.id === id));
});

Deno.test("a second initial message naming a used one-time prekey is refused with UNKNOWN_PREKEY", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice");
  relay.addParty("carol");
  const bob = relay.addParty("bob");
  // A malicious relay hands Bob's first one-time prekey to both Alice and Carol.
  const first = relay.fetch("bob");
  relay.onFetch = (nick, bundle) => nick === "bob" ? first : bundle;
  await relay.pm("alice", "bob", "from alice");
  await relay.pm("carol", "bob", "from carol");
  const [fromAlice, fromCarol] = relay.drain("bob");
  assert.equal(bob.hush.decryptFrom("alice", fromAlice!.body).type, "text");
  assert.throws(
    () => bob.hush.decryptFrom("carol", fromCarol!.body),
    (e: unknown) => e instanceof SessionError && e.code === "UNKNOWN_PREKEY",
  );
});

Deno.test("the relay directory hands each one-time prekey to one initiator only", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice");
  relay.addParty("carol");
  relay.addParty("bob");
  const a = await relay.pm("alice", "bob", "one");
  const c = await relay.pm("carol", "bob", "two");
  const idA = decodeInitialMessage(a.body).oneTimePrekeyId;
  const idC = decodeInitialMessage(c.body).oneTimePrekeyId;
  assert.ok(idA !== undefined && idC !== undefined && idA !== idC);
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["one", "two"]);
});

Deno.test("an initial message whose identity DH signature does not verify is refused with BAD_INITIAL_SIGNATURE", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice");
  const bob = relay.addParty("bob");
  const envelope = await relay.pm("alice", "bob", "hi");
  const forged = envelope.body.slice();
  forged[2 + 32 + 32 + 5]! ^= 0x40; // inside the identity DH signature
  assert.throws(
    () => bob.hush.decryptFrom("alice", forged),
    (e: unknown) => e instanceof SessionError && e.code === "BAD_INITIAL_SIGNATURE",
  );
  assert.equal(bob.hush.decryptFrom("alice", envelope.body).type, "text");
});

Deno.test("an initiator repeats the X3DH fields until the first reply, so a lost first message does not break the session", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice");
  relay.addParty("bob");
  await relay.pm("alice", "bob", "lost one");
  relay.drain("bob"); // lost
  const second = await relay.pm("alice", "bob", "second");
  assert.equal(second.body[0], 0x01, "still an initial message");
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["second"]);
  await relay.pm("bob", "alice", "reply");
  assert.deepEqual(relay.receiveAll("alice").map((m) => m.text), ["reply"]);
  const third = await relay.pm("alice", "bob", "third");
  assert.equal(third.body[0], 0x02, "a plain ratchet message once a reply arrived");
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["third"]);
});

Deno.test("simultaneous session starts from both sides converge", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice");
  relay.addParty("bob");
  await relay.pm("alice", "bob", "a1");
  await relay.pm("bob", "alice", "b1");
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["a1"]);
  assert.deepEqual(relay.receiveAll("alice").map((m) => m.text), ["b1"]);
  for (let i = 0; i < 3; i++) {
    await relay.pm("alice", "bob", `a${i + 2}`);
    await relay.pm("bob", "alice", `b${i + 2}`);
    assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), [`a${i + 2}`]);
    assert.deepEqual(relay.receiveAll("alice").map((m) => m.text), [`b${i + 2}`]);
  }
});

Deno.test("a bundle with an unusable X25519 key fails with BAD_BUNDLE naming the peer", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice");
  relay.addParty("bob");
  const top = (k: Uint8Array) => {
    const copy = k.slice();
    copy[31]! |= 0x80;
    return copy;
  };
  relay.onFetch = (_nick, bundle) => ({ ...bundle, signedPrekey: top(bundle.signedPrekey) });
  await assert.rejects(alice.hush.encryptTo("bob", "hi"), (e: unknown) => {
    assert.ok(e instanceof SessionError);
    assert.equal(e.code, "BAD_BUNDLE");
    assert.match(e.message, /^bob: Malformed prekey bundle/);
    return true;
  });
  assert.equal(alice.hush.hasSession("bob"), false);
});
