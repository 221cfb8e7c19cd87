import assert from "node:assert/strict";
import { bundleFromKeys, publishKeysFrame } from "../../chat/key_directory.ts";
import { generateIdentityKeyPair } from "../../crypto/mod.ts";
import { decodeFrame, encodeFrame } from "../../protocol/mod.ts";
import { Hush, MemorySessionStore } from "../../sessions/mod.ts";

function localBundle() {
  const hush = new Hush({ store: new MemorySessionStore(), identity: generateIdentityKeyPair() });
  hush.user.maintain();
  return { hush, bundle: hush.bundle() };
}

Deno.test("publishKeysFrame() with replace publishes the signed parts and up to 100 one-time prekeys", () => {
  const { bundle } = localBundle();
  const frame = publishKeysFrame(bundle, { replace: true });
  assert.equal(frame.replaceOneTimePrekeys, true);
  assert.deepEqual(frame.signedPrekey, bundle.signedPrekey);
  assert.ok(frame.oneTimePrekeys.length > 0 && frame.oneTimePrekeys.length <= 100);
  // The codec accepts it unchanged.
  assert.deepEqual(decodeFrame(encodeFrame(frame), { from: "client" }), frame);
});

Deno.test("publishKeysFrame() without replace adds only the named new prekeys", () => {
  const { hush } = localBundle();
  const ids = hush.user.addOneTimePrekeys(3);
  const frame = publishKeysFrame(hush.bundle(), { replace: false, ids });
  assert.equal(frame.replaceOneTimePrekeys, false);
  assert.deepEqual(frame.oneTimePrekeys.map((k) => k.id), ids);
  assert.deepEqual(publishKeysFrame(hush.bundle(), { replace: false }).oneTimePrekeys, []);
});

Deno.test("bundleFromKeys() gives the sessions library a bundle it can start a session from", () => {
  const bob = localBundle();
  const published = publishKeysFrame(bob.bundle, { replace: true });
  const oneTime = published.oneTimePrekeys[0] ?? null;
  const bundle = bundleFromKeys({
    type: "keys",
    nick: "bob",
    status: "ok",
    identityKey: bob.bundle.identityKey,
    bundle: published,
    oneTimePrekey: oneTime,
  });
  assert.deepEqual(bundle.oneTimePrekey, { id: oneTime!.id, publicKey: oneTime!.key });
  const alice = localBundle();
  alice.hush.startSession("bob", bundle);
  assert.equal(alice.hush.hasSession("bob"), true);
  const without = bundleFromKeys({
    type: "keys",
    nick: "bob",
    status: "ok",
    identityKey: bob.bundle.identityKey,
    bundle: published,
    oneTimePrekey: null,
  });
  assert.equal("oneTimePrekey" in without, false);
});
