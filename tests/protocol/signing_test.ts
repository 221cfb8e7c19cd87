import assert from "node:assert/strict";
import { toHex } from "../../crypto/bytes.ts";
import { identityFromSeed, sign, verify } from "../../crypto/ed25519.ts";
import {
  authTranscript,
  identityDhSignedMessage,
  signedPrekeySignedMessage,
} from "../../protocol/mod.ts";

const challenge = new Uint8Array(32).fill(0x11);
const key = new Uint8Array(32).fill(0x22);

Deno.test("authTranscript() is label, version, challenge, key, nick length and nick", () => {
  const t = authTranscript({ version: 1, challenge, identityKey: key, nick: "bob" });
  assert.equal(
    toHex(t),
    "687573682d617574682d7631" + "0001" + "11".repeat(32) + "22".repeat(32) + "03" + "626f62",
  );
});

Deno.test("authTranscript() rejects a short challenge and a bad nick", () => {
  assert.throws(
    () =>
      authTranscript({ version: 1, challenge: new Uint8Array(31), identityKey: key, nick: "a" }),
    RangeError,
  );
  assert.throws(
    () => authTranscript({ version: 1, challenge, identityKey: key, nick: "a b" }),
    RangeError,
  );
});

Deno.test("bundle signature messages carry their labels and a big-endian prekey id", () => {
  assert.equal(
    toHex(identityDhSignedMessage(key)),
    toHex(new TextEncoder().encode("hush-identity-dh-v1")) + "22".repeat(32),
  );
  assert.equal(
    toHex(signedPrekeySignedMessage(0x01020304, key)),
    toHex(new TextEncoder().encode("hush-signed-prekey-v1")) + "01020304" + "22".repeat(32),
  );
});

Deno.test("a transcript signed by an identity verifies only for that transcript", () => {
  const id = identityFromSeed(new Uint8Array(32).fill(7));
  const t = authTranscript({ version: 1, challenge, identityKey: id.publicKey, nick: "bob" });
  const sig = sign(id.privateKey, t);
  assert.ok(verify(id.publicKey, t, sig));
  const other = authTranscript({ version: 1, challenge, identityKey: id.publicKey, nick: "bob2" });
  assert.ok(!verify(id.publicKey, other, sig));
});
