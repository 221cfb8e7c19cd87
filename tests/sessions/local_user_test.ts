import assert from "node:assert/strict";
import { generateIdentityKeyPair } from "../../crypto/mod.ts";
import {
  LocalUser,
  MemorySessionStore,
  ONE_TIME_PREKEY_FIRST,
  ONE_TIME_PREKEY_LOW_WATER,
  ONE_TIME_PREKEY_TARGET,
  SIGNED_PREKEY_MAX_AGE_MS,
  SIGNED_PREKEYS_KEPT,
  verifyBundle,
} from "../../sessions/mod.ts";
import { RelayDouble } from "./_relay_double.ts";

Deno.test("a new LocalUser publishes a verifiable bundle with its first one-time prekeys", () => {
  const user = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
  const bundle = user.bundle();
  assert.equal(bundle.oneTimePrekeys.length, ONE_TIME_PREKEY_FIRST);
  assert.equal(new Set(bundle.oneTimePrekeys.map((k) => k.id)).size, ONE_TIME_PREKEY_FIRST);
  const { oneTimePrekeys, ...rest } = bundle;
  verifyBundle({ ...rest, oneTimePrekey: oneTimePrekeys[0]! });
});

Deno.test("LocalUser keeps its keys across instances over the same store", () => {
  const store = new MemorySessionStore();
  const identity = generateIdentityKeyPair();
  const one = new LocalUser(store, identity).bundle();
  const two = new LocalUser(store, identity).bundle();
  assert.deepEqual(two, one);
});

Deno.test("maintain() rotates an old signed prekey and tops up one-time prekeys below the low-water mark", () => {
  let now = 1_000_000;
  const user = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair(), {
    now: () => now,
  });
  assert.deepEqual(user.maintain(), { rotated: false, added: 0, changed: false });
  const firstId = user.bundle().signedPrekeyId;
  const held = user.oneTimePrekeyCount;
  for (
    const { id } of user.bundle().oneTimePrekeys.slice(0, held - ONE_TIME_PREKEY_LOW_WATER + 1)
  ) {
    user.consumeOneTimePrekey(id);
  }
  now += SIGNED_PREKEY_MAX_AGE_MS + 1;
  const result = user.maintain();
  assert.equal(result.rotated, true);
  assert.equal(result.added, ONE_TIME_PREKEY_TARGET - ONE_TIME_PREKEY_LOW_WATER + 1);
  assert.equal(user.oneTimePrekeyCount, ONE_TIME_PREKEY_TARGET);
  assert.notEqual(user.bundle().signedPrekeyId, firstId);
  assert.ok(user.signedPrekey(firstId) !== undefined, "the previous signed prekey is kept");
});

Deno.test(`only the ${SIGNED_PREKEYS_KEPT} newest signed prekeys are kept`, () => {
  const user = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
  const ids = [user.bundle().signedPrekeyId];
  for (let i = 0; i < SIGNED_PREKEYS_KEPT; i++) ids.push(user.rotateSignedPrekey());
  assert.equal(user.signedPrekey(ids[0]!), undefined);
  for (const id of ids.slice(1)) assert.ok(user.signedPrekey(id) !== undefined);
});

Deno.test("an initial message made with the previous signed prekey still opens after a rotation", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice");
  const bob = relay.addParty("bob");
  const envelope = await relay.pm("alice", "bob", "sent before bob rotated");
  bob.hush.user.rotateSignedPrekey();
  relay.publish("bob", bob.hush.bundle());
  const got = bob.hush.decryptFrom("alice", envelope.body);
  assert.equal(got.type === "text" && got.text, "sent before bob rotated");
});
