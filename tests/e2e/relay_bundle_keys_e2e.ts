/**
 * A signed bundle with an X25519 key no honest client makes (top bit set, u >= 2^255 - 19, small
 * order) is refused at PUBLISH_KEYS with a non-fatal ERROR `BAD_BUNDLE` and nothing stored: a real
 * `server.ts` process.
 */
import assert from "node:assert/strict";
import { x25519 } from "@noble/curves/ed25519.js";
import { fromHex } from "../../crypto/bytes.ts";
import { sign } from "../../crypto/ed25519.ts";
import { randomBytes } from "../../crypto/random.ts";
import {
  identityDhSignedMessage,
  type PublishKeysFrame,
  signedPrekeySignedMessage,
} from "../../protocol/mod.ts";
import { loggedIn, relayTest, startServer, type TestClient } from "./_relay_harness.ts";

const good = () => x25519.getPublicKey(randomBytes(32));

function bundle(
  c: TestClient,
  keys: { identityDh?: Uint8Array; signed?: Uint8Array; oneTime?: Uint8Array } = {},
): PublishKeysFrame {
  const identityDhKey = keys.identityDh ?? good();
  const signedPrekey = keys.signed ?? good();
  return {
    type: "publish-keys",
    replaceOneTimePrekeys: false,
    identityDhKey,
    identityDhSignature: sign(c.identity.privateKey, identityDhSignedMessage(identityDhKey)),
    signedPrekeyId: 7,
    signedPrekey,
    signedPrekeySignature: sign(c.identity.privateKey, signedPrekeySignedMessage(7, signedPrekey)),
    oneTimePrekeys: [{ id: 1, key: keys.oneTime ?? good() }],
  };
}

const topBit = () => {
  const k = good();
  k[31]! |= 0x80;
  return k;
};
const BAD: [string, () => Uint8Array, RegExp][] = [
  ["top bit set", topBit, /top bit set/],
  [
    "u = p",
    () => fromHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    /u >= 2\^255 - 19/,
  ],
  [
    "u = 2^255 - 1",
    () => fromHex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    /u >= 2\^255 - 19/,
  ],
  ["u = 0", () => new Uint8Array(32), /small order/],
  [
    "u = 1",
    () => fromHex("0100000000000000000000000000000000000000000000000000000000000000"),
    /small order/,
  ],
  [
    "an order-8 point",
    () => fromHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    /small order/,
  ],
];

relayTest(
  "PUBLISH_KEYS with an unusable X25519 key: ERROR BAD_BUNDLE, nothing stored",
  async () => {
    const server = await startServer();
    try {
      const bob = await loggedIn(server.tcp, "bob");
      const alice = await loggedIn(server.ws, "alice");
      let errors = 0;
      for (const [label, make, reason] of BAD) {
        for (const slot of ["identityDh", "signed", "oneTime"] as const) {
          await bob.send(bundle(bob, { [slot]: make() }));
          const err = await bob.next("error");
          errors++;
          assert.deepEqual([err.code, err.fatal], ["BAD_BUNDLE", false], `${label} as ${slot}`);
          assert.match(err.detail, reason, `${label} as ${slot}`);
          assert.match(
            err.detail,
            {
              identityDh: /identity DH key/,
              signed: /signed prekey 7/,
              oneTime: /one-time prekey 1/,
            }[
              slot
            ],
          );
        }
      }
      assert.equal(bob.frames.filter((f) => f.type === "error").length, errors);
      assert.equal(bob.frames.filter((f) => f.type === "prekey-count").length, 0);
      await alice.send({ type: "fetch-keys", nick: "bob" });
      assert.equal((await alice.next("keys")).status, "no-bundle");
      // Still connected; a good bundle goes through.
      await bob.send(bundle(bob));
      assert.equal((await bob.next("prekey-count")).count, 1);
      await alice.send({ type: "fetch-keys", nick: "bob" });
      assert.equal((await alice.next("keys")).status, "ok");
      bob.close();
      alice.close();
    } finally {
      await server.stop();
    }
  },
);
