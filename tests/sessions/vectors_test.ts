import assert from "node:assert/strict";
import data from "../vectors/sessions_kdf.json" with { type: "json" };
import { fromHex, getCipherSuite, toHex } from "../../crypto/mod.ts";
import {
  decodeInitialMessage,
  decodeRoomMessage,
  Hush,
  InboundSenderKey,
  MemorySessionStore,
  SessionError,
  x3dhRespond,
} from "../../sessions/mod.ts";
import { kdfRoot } from "../../sessions/double_ratchet.ts";
import { chainStep, deriveMessageKeys } from "../../sessions/_message_keys.ts";
import { identityFromSeed } from "../../crypto/mod.ts";
import { buildVectors } from "./_vectors.ts";

const x = data.x3dh;
const responderIdentity = identityFromSeed(fromHex(x.responder.identitySeed));

/** A responder whose store holds the fixed keys of the vectors. */
function responder(): Hush {
  const store = new MemorySessionStore();
  store.set(
    "local/identity",
    JSON.stringify({
      identityKey: x.responder.identityKey,
      dhPrivateKey: x.responder.identityDhPrivate,
      dhPublicKey: x.responder.identityDhKey,
      dhSignature: "00".repeat(64),
    }),
  );
  store.set(
    "local/signed-prekeys",
    JSON.stringify([{
      id: x.responder.signedPrekeyId,
      privateKey: x.responder.signedPrekeyPrivate,
      publicKey: x.responder.signedPrekey,
      signature: "00".repeat(64),
      createdAt: Date.now(),
    }]),
  );
  store.set(
    "local/one-time-prekeys",
    JSON.stringify({
      nextId: 1000,
      keys: [[
        x.responder.oneTimePrekeyId,
        x.responder.oneTimePrekeyPrivate,
        x.responder.oneTimePrekey,
      ]],
    }),
  );
  return new Hush({ store, identity: responderIdentity, nick: x.responderNick });
}

Deno.test("the committed vectors are exactly what _vectors.ts generates", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(buildVectors())), data);
});

Deno.test("vectors: KDF_CK and KDF_RK", () => {
  const step = chainStep(fromHex(data.kdf_ck.chainKey));
  assert.equal(toHex(step.messageKey), data.kdf_ck.messageKey);
  assert.equal(toHex(step.next), data.kdf_ck.nextChainKey);
  const [rootKey, chainKey] = kdfRoot(fromHex(data.kdf_rk.rootKey), fromHex(data.kdf_rk.dhOutput));
  assert.equal(toHex(rootKey), data.kdf_rk.nextRootKey);
  assert.equal(toHex(chainKey), data.kdf_rk.chainKey);
});

for (const v of data.message_keys) {
  Deno.test(`vectors: message key expansion for ${v.suite}`, () => {
    const suite = getCipherSuite(v.suite);
    for (
      const [label, expected] of [
        ["hush-message-keys-v1", v.pairwise],
        ["hush-sender-message-keys-v1", v.room],
      ] as const
    ) {
      const got = deriveMessageKeys(fromHex(v.messageKey), suite, label);
      assert.equal(toHex(got.key), expected.key);
      assert.equal(toHex(got.nonce), expected.nonce);
      assert.equal(toHex(got.macKey ?? new Uint8Array()), expected.macKey);
    }
  });
}

Deno.test("vectors: X3DH responder secret and associated data", () => {
  const fields = decodeInitialMessage(fromHex(data.pairwise[0]!.hex));
  assert.equal(toHex(fields.baseKey), x.initiator.ephemeralKey);
  const keys = {
    identity: responderIdentity,
    identityDh: {
      privateKey: fromHex(x.responder.identityDhPrivate),
      publicKey: fromHex(x.responder.identityDhKey),
    },
    signedPrekey: {
      privateKey: fromHex(x.responder.signedPrekeyPrivate),
      publicKey: fromHex(x.responder.signedPrekey),
    },
  };
  const oneTimePrekey = {
    privateKey: fromHex(x.responder.oneTimePrekeyPrivate),
    publicKey: fromHex(x.responder.oneTimePrekey),
  };
  const nicks = { initiator: x.initiatorNick, responder: x.responderNick };
  const withOpk = x3dhRespond({ ...keys, oneTimePrekey }, fields, nicks);
  assert.equal(toHex(withOpk.sharedSecret), x.sharedSecret);
  assert.equal(toHex(withOpk.ad), x.associatedData);
  const { oneTimePrekeyId: _id, ...withoutId } = fields;
  assert.equal(
    toHex(x3dhRespond(keys, withoutId, nicks).sharedSecret),
    x.sharedSecretWithoutOneTimePrekey,
  );
});

for (const [i, v] of data.pairwise.entries()) {
  Deno.test(`vectors: pairwise #${i} ${v.comment} -> ${v.expect}`, () => {
    const hush = responder();
    if ("after" in v && v.after !== undefined) {
      hush.decryptFrom("alice", fromHex(data.pairwise[v.after]!.hex));
    }
    const from = "from" in v && v.from !== undefined ? v.from : x.initiatorNick;
    const to = "to" in v && v.to !== undefined ? v.to : x.responderNick;
    const open = () => hush.decryptFrom(from, fromHex(v.hex), { to });
    if (v.expect === "ok") {
      const got = open();
      assert.equal(got.type, "text");
      assert.equal(got.type === "text" && toHex(got.plaintext), v.content!.slice(2));
    } else {
      assert.throws(open, (e: unknown) => e instanceof SessionError && e.code === v.expect);
    }
  });
}

Deno.test("vectors: room messages in order of the file", () => {
  const d = data.room.distribution;
  const key = InboundSenderKey.fromDistribution(
    {
      room: data.room.name,
      keyId: d.keyId,
      iteration: d.iteration,
      chainKey: fromHex(d.chainKey),
      signingKey: fromHex(d.signingKey),
    },
    fromHex(data.room.senderIdentityKey),
  );
  for (const v of data.room.messages) {
    const open = () => key.decrypt(decodeRoomMessage(fromHex(v.hex)), { room: data.room.name });
    if (v.expect === "ok") {
      assert.equal(toHex(open().plaintext), v.content, v.comment);
    } else {
      assert.throws(
        open,
        (e: unknown) => e instanceof SessionError && e.code === v.expect,
        v.comment,
      );
    }
  }
});
