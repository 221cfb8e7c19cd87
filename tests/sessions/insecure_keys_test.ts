import assert from "node:assert/strict";
import { getCipherSuite } from "../../crypto/mod.ts";
import { encodeContent } from "../../sessions/mod.ts";
import { RelayDouble } from "./_relay_double.ts";
import { assertSessionError, dumpStore } from "./_helpers.ts";
import { caesarDistribution } from "./_insecure_distribution.ts";

function pair(): RelayDouble {
  const relay = new RelayDouble();
  relay.addParty("alice");
  relay.addParty("bob");
  return relay;
}

for (const first of [true, false]) {
  Deno.test(
    `a sender-key distribution sealed under Caesar is refused (${
      first ? "initial" : "ratchet"
    } body), nothing stored`,
    async () => {
      const relay = pair();
      const alice = relay.party("alice");
      const bob = relay.party("bob");
      if (!first) {
        await relay.pm("alice", "bob", "hi");
        relay.receiveAll("bob");
        await relay.pm("bob", "alice", "hi back");
        relay.receiveAll("alice");
      } else {
        // A session on alice's side only: the distribution travels in the initial message.
        await alice.hush.encryptTo("bob", "never delivered");
        relay.drain("bob");
      }
      const { body, key } = caesarDistribution(alice.store, "bob", "lobby");
      const before = dumpStore(bob.store);
      assertSessionError(() => bob.hush.decryptFrom("alice", body), "INSECURE_KEY_MATERIAL");
      assert.equal(dumpStore(bob.store), before, "a refused distribution changes no state");
      // The room runs on no chain key the relay could read: its messages stay unreadable.
      const roomBody = key.encrypt(encodeContent({ type: "text", body: new Uint8Array([104]) }), {
        room: "lobby",
        senderIdentityKey: alice.identity.publicKey,
        suite: getCipherSuite("caesar"),
      });
      assertSessionError(() => bob.hush.decryptRoom("lobby", "alice", roomBody), "NO_SENDER_KEY");
      assert.throws(() => bob.hush.decryptFrom("alice", body), /insecure suite "caesar"/);
    },
  );
}

Deno.test("a distribution from a Caesar conversation still travels under a secure suite and is accepted", async () => {
  const relay = pair();
  relay.party("alice").hush.setSuite("bob", "caesar");
  relay.party("alice").hush.setSuite("lobby", "caesar");
  relay.join("lobby", "alice");
  relay.join("lobby", "bob");
  await relay.say("alice", "lobby", "hello room");
  const shown = relay.receiveAll("bob");
  assert.deepEqual(shown, [{ from: "alice", room: "lobby", text: "hello room", insecure: true }]);
});
