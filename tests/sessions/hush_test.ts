import assert from "node:assert/strict";
import { generateIdentityKeyPair } from "../../crypto/mod.ts";
import { Hush, type SessionStore, type StoredValue } from "../../sessions/mod.ts";
import { RelayDouble } from "./_relay_double.ts";

Deno.test("peersWithSessions() lists the peers with a pairwise session, from either side", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice").hush;
  relay.addParty("bob");
  relay.addParty("carol");
  relay.addParty("d ave-ü"); // a nick needing escaping in the store key
  assert.deepEqual(alice.peersWithSessions(), []);
  await relay.pm("alice", "bob", "hi bob");
  await relay.pm("carol", "alice", "hi alice");
  relay.receiveAll("alice");
  await relay.pm("alice", "d ave-ü", "hi");
  assert.deepEqual(alice.peersWithSessions().sort(), ["bob", "carol", "d ave-ü"]);
  assert.deepEqual(relay.party("bob").hush.peersWithSessions(), []);
});

Deno.test("peersWithSessions() forgets a peer after resetSession()", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice").hush;
  relay.addParty("bob");
  relay.addParty("carol");
  await relay.pm("alice", "bob", "hi");
  await relay.pm("alice", "carol", "hi");
  alice.resetSession("bob");
  assert.deepEqual(alice.peersWithSessions(), ["carol"]);
});

Deno.test("peersWithSessions() is empty with a store that cannot list its keys", async () => {
  const map = new Map<string, StoredValue>();
  const store: SessionStore = {
    get: (key) => map.get(key),
    set: (key, value) => void map.set(key, value),
    delete: (key) => void map.delete(key),
  };
  const relay = new RelayDouble();
  relay.addParty("bob");
  const alice = new Hush({
    store,
    identity: generateIdentityKeyPair(),
    fetchBundle: (nick) => Promise.resolve(relay.fetch(nick)),
  });
  await alice.encryptTo("bob", "hi");
  assert.ok(alice.hasSession("bob"));
  assert.deepEqual(alice.peersWithSessions(), []);
});
