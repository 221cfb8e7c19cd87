import assert from "node:assert/strict";
import { identityFromSeed, sign } from "../../crypto/ed25519.ts";
import { authTranscript } from "../../protocol/mod.ts";
import { grantNick, MemoryStore, nickCandidate, verifyAuth } from "../../relay/mod.ts";
import { Directory } from "../../relay/mod.ts";

const key = (n: number) => new Uint8Array(32).fill(n);

Deno.test("nickCandidate() appends _N and cuts the nick to stay within 32 bytes", () => {
  assert.equal(nickCandidate("bob", 0), "bob");
  assert.equal(nickCandidate("bob", 1), "bob_1");
  assert.equal(nickCandidate("a".repeat(32), 12), "a".repeat(29) + "_12");
});

Deno.test("grantNick() grants free nicks, skips others' and returns one's own", () => {
  const owners = new Map([["bob", key(1)], ["bob_1", key(2)]]);
  const lookup = (n: string) => owners.get(n);
  assert.deepEqual(grantNick("bob", key(1), lookup), { nick: "bob", isNew: false });
  assert.deepEqual(grantNick("bob", key(2), lookup), { nick: "bob_1", isNew: false });
  assert.deepEqual(grantNick("bob", key(3), lookup), { nick: "bob_2", isNew: true });
  assert.deepEqual(grantNick("eve", key(3), lookup), { nick: "eve", isNew: true });
});

Deno.test("grantNick() returns null when every suffix is taken", () => {
  assert.equal(grantNick("bob", key(9), () => key(1)), null);
});

Deno.test("verifyAuth() accepts the transcript signature and nothing else", () => {
  const id = identityFromSeed(key(4));
  const challenge = key(5);
  const hello = { version: 1, nick: "bob", identityKey: id.publicKey };
  const sig = sign(id.privateKey, authTranscript({ ...hello, challenge }));
  assert.ok(verifyAuth(hello, challenge, sig));
  assert.ok(!verifyAuth(hello, key(6), sig));
  assert.ok(!verifyAuth({ ...hello, nick: "bob2" }, challenge, sig));
  assert.ok(!verifyAuth(hello, challenge, new Uint8Array(64)));
});

Deno.test("Directory tracks members both ways and writes through to the store", () => {
  const store = new MemoryStore();
  const d = new Directory(store);
  assert.ok(d.join("club", "bob"));
  assert.ok(!d.join("club", "bob"));
  d.join("club", "amy");
  assert.deepEqual([...d.members("club")], ["bob", "amy"]);
  assert.deepEqual([...d.roomsOf("bob")], ["club"]);
  assert.ok(d.leave("club", "bob"));
  assert.ok(!d.leave("club", "bob"));
  d.bind("bob", key(1));
  const reloaded = new Directory(store);
  assert.deepEqual([...reloaded.members("club")], ["amy"]);
  assert.deepEqual(reloaded.ownerOf("bob"), key(1));
});

Deno.test("grantNick() with look-alikes: a skeleton belongs to one identity, which keeps its spelling", () => {
  const store = new MemoryStore();
  const d = new Directory(store);
  d.bind("bob", key(1));
  const grant = (nick: string, k: Uint8Array) =>
    grantNick(nick, k, (n) => d.ownerOf(n), (n) => d.lookAlikes(n));
  assert.deepEqual(grant("Bob", key(1)), { nick: "bob", isNew: false });
  assert.deepEqual(grant("B0B", key(1)), { nick: "bob", isNew: false });
  assert.deepEqual(grant("Bob", key(2)), { nick: "Bob_1", isNew: true });
  assert.deepEqual(grant("b0b", key(2)), { nick: "b0b_1", isNew: true });
  d.bind("Bob_1", key(2));
  assert.deepEqual(grant("bob", key(2)), { nick: "Bob_1", isNew: false });
  assert.deepEqual(grant("bob_", key(3)), { nick: "bob__2", isNew: true });
  assert.deepEqual(grant("bob_1", key(3)), { nick: "bob_1_1", isNew: true });
  assert.deepEqual(grant("carol", key(3)), { nick: "carol", isNew: true });
});

Deno.test("Directory loads look-alikes of two identities (an old store) and keeps both", () => {
  const store = new MemoryStore();
  store.bindNick("bob", key(1));
  store.bindNick("Bob", key(2));
  const d = new Directory(store);
  assert.deepEqual(d.collisions(), [["bob", "Bob"]]);
  assert.deepEqual([...d.lookAlikes("BOB")], ["bob", "Bob"]);
  const grant = (nick: string, k: Uint8Array) =>
    grantNick(nick, k, (n) => d.ownerOf(n), (n) => d.lookAlikes(n));
  assert.deepEqual(grant("Bob", key(2)), { nick: "Bob", isNew: false });
  assert.deepEqual(grant("bob", key(2)), { nick: "Bob", isNew: false });
  assert.deepEqual(grant("BOB", key(1)), { nick: "bob", isNew: false });
  assert.deepEqual(grant("BOB", key(3)), { nick: "BOB_1", isNew: true });
  d.forget("Bob");
  assert.deepEqual(d.collisions(), []);
  assert.deepEqual([...d.lookAlikes("BOB")], ["bob"]);
});
