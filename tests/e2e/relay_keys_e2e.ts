import assert from "node:assert/strict";
import { sign } from "../../crypto/ed25519.ts";
import { randomBytes } from "../../crypto/random.ts";
import { x25519 } from "@noble/curves/ed25519.js";
import {
  identityDhSignedMessage,
  type PublishKeysFrame,
  signedPrekeySignedMessage,
} from "../../protocol/mod.ts";
import { inProcessRelay, loggedIn, relayTest, type TestClient } from "./_relay_harness.ts";

function publicKey(): Uint8Array {
  return x25519.getPublicKey(randomBytes(32));
}

function bundleFor(c: TestClient, oneTime: number, firstId = 1): PublishKeysFrame {
  const identityDhKey = publicKey();
  const signedPrekey = publicKey();
  return {
    type: "publish-keys",
    replaceOneTimePrekeys: false,
    identityDhKey,
    identityDhSignature: sign(c.identity.privateKey, identityDhSignedMessage(identityDhKey)),
    signedPrekeyId: 42,
    signedPrekey,
    signedPrekeySignature: sign(c.identity.privateKey, signedPrekeySignedMessage(42, signedPrekey)),
    oneTimePrekeys: Array.from(
      { length: oneTime },
      (_, i) => ({ id: firstId + i, key: publicKey() }),
    ),
  };
}

relayTest("key directory: publish, fetch, each one-time prekey handed out once", async () => {
  const relay = await inProcessRelay();
  try {
    const bob = await loggedIn(relay.tcpUrl!, "bob");
    const alice = await loggedIn(relay.wsUrl, "alice");
    const carol = await loggedIn(relay.tcpUrl!, "carol");
    await alice.send({ type: "fetch-keys", nick: "bob" });
    const none = await alice.next("keys");
    assert.equal(none.status, "no-bundle");
    assert.deepEqual(none.status === "no-bundle" && none.identityKey, bob.identity.publicKey);
    const published = bundleFor(bob, 2);
    await bob.send(published);
    assert.equal((await bob.next("prekey-count")).count, 2);
    await alice.send({ type: "fetch-keys", nick: "bob" });
    await carol.send({ type: "fetch-keys", nick: "bob" });
    const a = await alice.next("keys");
    const c = await carol.next("keys");
    assert.ok(a.status === "ok" && c.status === "ok");
    assert.deepEqual(a.identityKey, bob.identity.publicKey);
    assert.deepEqual(a.bundle.signedPrekey, published.signedPrekey);
    assert.deepEqual(a.bundle.identityDhSignature, published.identityDhSignature);
    assert.equal(a.bundle.signedPrekeyId, 42);
    const ids = [a.oneTimePrekey?.id, c.oneTimePrekey?.id].sort();
    assert.deepEqual(ids, [1, 2]);
    // The owner hears how many are left.
    await bob.nextWhere("prekey-count", (f) => f.count === 0);
    await alice.send({ type: "fetch-keys", nick: "bob" });
    const empty = await alice.next("keys");
    assert.ok(empty.status === "ok" && empty.oneTimePrekey === null);
    await alice.send({ type: "fetch-keys", nick: "nobody" });
    assert.equal((await alice.next("keys")).status, "no-such-user");
    // READY tells a returning owner what is held.
    await bob.send({ ...bundleFor(bob, 3, 10), replaceOneTimePrekeys: true });
    assert.equal((await bob.next("prekey-count")).count, 3);
    bob.close();
    const again = await loggedIn(relay.tcpUrl!, "bob", { identity: bob.identity });
    const ready = again.frames.find((f) => f.type === "ready");
    assert.ok(ready?.type === "ready" && ready.hasBundle && ready.oneTimePrekeys === 3);
    for (const x of [again, alice, carol]) x.close();
  } finally {
    await relay.close();
  }
});

relayTest(
  "key directory: FETCH_IDENTITY answers KEYS without taking a one-time prekey",
  async () => {
    const relay = await inProcessRelay();
    try {
      const bob = await loggedIn(relay.tcpUrl!, "bob");
      const alice = await loggedIn(relay.wsUrl, "alice");
      await bob.send(bundleFor(bob, 1));
      assert.equal((await bob.next("prekey-count")).count, 1);
      for (let i = 0; i < 3; i++) {
        await alice.send({ type: "fetch-identity", nick: "bob" });
        const keys = await alice.next("keys");
        assert.ok(keys.status === "ok");
        assert.deepEqual(keys.identityKey, bob.identity.publicKey);
        assert.equal(keys.oneTimePrekey, null);
      }
      // The one-time prekey is still there for the next FETCH_KEYS.
      await alice.send({ type: "fetch-keys", nick: "bob" });
      const keys = await alice.next("keys");
      assert.ok(keys.status === "ok" && keys.oneTimePrekey?.id === 1);
      await alice.send({ type: "fetch-identity", nick: "nobody" });
      assert.equal((await alice.next("keys")).status, "no-such-user");
      for (const c of [bob, alice]) c.close();
    } finally {
      await relay.close();
    }
  },
);

relayTest("key directory refuses a bundle whose signature does not verify", async () => {
  const relay = await inProcessRelay();
  try {
    const bob = await loggedIn(relay.tcpUrl!, "bob");
    const mallory = await loggedIn(relay.tcpUrl!, "mallory");
    // Signed by mallory, published as bob: refused.
    const forged = bundleFor(mallory, 1);
    await bob.send(forged);
    const err = await bob.next("error");
    assert.deepEqual([err.code, err.fatal], ["BAD_SIGNATURE", false]);
    const tampered = bundleFor(bob, 0);
    tampered.signedPrekeyId = 43;
    await bob.send(tampered);
    assert.equal((await bob.next("error")).code, "BAD_SIGNATURE");
    await mallory.send({ type: "fetch-keys", nick: "bob" });
    assert.equal((await mallory.next("keys")).status, "no-bundle");
    // Too many one-time prekeys.
    await bob.send(bundleFor(bob, 100));
    await bob.send(bundleFor(bob, 100, 101));
    await bob.send(bundleFor(bob, 1, 201));
    assert.equal((await bob.next("error")).code, "TOO_MANY_PREKEYS");
    const counts = bob.frames.flatMap((f) => f.type === "prekey-count" ? [f.count] : []);
    assert.deepEqual(counts, [100, 200]);
    bob.close();
    mallory.close();
  } finally {
    await relay.close();
  }
});
