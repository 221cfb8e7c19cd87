/**
 * Issue 10 item 16: `refuseInsecure` refuses a message only once it authenticates; a suite byte
 * changed on the way fails as DECRYPT_FAILED (not INSECURE_SUITE_REFUSED), changing nothing.
 */
import assert from "node:assert/strict";
import { getCipherSuite } from "../../crypto/mod.ts";
import { RelayDouble } from "./_relay_double.ts";
import { assertSessionError, dumpStore } from "./_helpers.ts";

Deno.test("refuseInsecure: a flipped suite byte is DECRYPT_FAILED; a real caesar message is refused", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice");
  const bob = relay.addParty("bob", { refuseInsecure: true });
  const hello = await alice.hush.encryptTo("bob", "hello");
  bob.hush.decryptFrom("alice", hello.body);
  const reply = await bob.hush.encryptTo("alice", "hi");
  alice.hush.decryptFrom("bob", reply.body);

  const aes = await alice.hush.encryptTo("bob", "under aes");
  assert.equal(aes.kind, "ratchet");
  const flipped = aes.body.slice();
  flipped[2] = getCipherSuite("caesar").wireId;
  const before = dumpStore(bob.store);
  assertSessionError(() => bob.hush.decryptFrom("alice", flipped), "DECRYPT_FAILED");
  assert.equal(dumpStore(bob.store), before, "nothing changed");

  alice.hush.setSuite("bob", "caesar");
  const caesar = await alice.hush.encryptTo("bob", "really caesar");
  assertSessionError(() => bob.hush.decryptFrom("alice", caesar.body), "INSECURE_SUITE_REFUSED");
  assert.equal(dumpStore(bob.store), before, "a refusal changes nothing either");
  // The untouched AES message still opens.
  const got = bob.hush.decryptFrom("alice", aes.body);
  assert.equal(got.type === "text" && got.text, "under aes");
});
