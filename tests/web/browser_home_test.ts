import assert from "node:assert/strict";
import {
  findHomeName,
  MemoryKeyValue,
  noteGrantedNick,
  openBrowserHome,
  type SyncStore,
} from "../../web/browser_home.ts";
import { HomeLock } from "../../web/lock.ts";
import { MemoryHome } from "../../chat/home.ts";
import { createChatClient } from "../../chat/engine.ts";

/** A small scrypt cost: the tests check the logic, not the cost. */
const COST = { logN: 10, r: 8, p: 1 };

class MapStorage implements SyncStore {
  map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

Deno.test("an unlocked home keeps text files per home name", async () => {
  const store = new MemoryKeyValue();
  const alice = await openBrowserHome({ name: "alice", store });
  const bob = await openBrowserHome({ name: "bob", store });
  await alice.write("profile.json", '{"nick":"alice"}');
  assert.equal(await alice.read("profile.json"), '{"nick":"alice"}');
  assert.equal(await bob.read("profile.json"), undefined);
  assert.equal(await store.get("files", "alice/profile.json"), '{"nick":"alice"}');
  await alice.remove("profile.json");
  assert.equal(await alice.read("profile.json"), undefined);
  await assert.rejects(alice.write("../x", "no"), RangeError);
  assert.equal(alice.locked, false);
});

Deno.test("a locked home seals every file; the passphrase is needed and checked", async () => {
  const store = new MemoryKeyValue();
  const home = await openBrowserHome({
    name: "alice",
    passphrase: "correct horse",
    store,
    cost: COST,
  });
  assert.equal(home.locked, true);
  await home.write("identity", "hush-identity-v1:SECRET");
  const raw = await store.get("files", "alice/identity");
  assert.ok(raw instanceof Uint8Array, "stored sealed");
  assert.ok(!new TextDecoder().decode(raw).includes("SECRET"), "no plaintext at rest");
  const again = await openBrowserHome({ name: "alice", passphrase: "correct horse", store });
  assert.equal(await again.read("identity"), "hush-identity-v1:SECRET");
  await assert.rejects(
    openBrowserHome({ name: "alice", passphrase: "wrong", store }),
    (e: Error & { code?: string }) => e.code === "WRONG_PASSPHRASE",
  );
  await assert.rejects(
    openBrowserHome({ name: "alice", store }),
    (e: Error & { code?: string }) => e.code === "HOME_LOCKED",
  );
});

Deno.test("a sealed file moved to another name does not open", async () => {
  const store = new MemoryKeyValue();
  const home = await openBrowserHome({ name: "alice", passphrase: "pw", store, cost: COST });
  await home.write("identity", "secret");
  await store.put("files", "alice/profile.json", await store.get("files", "alice/identity"));
  await assert.rejects(
    home.read("profile.json"),
    (e: Error & { code?: string }) => e.code === "BAD_HOME",
  );
});

Deno.test("a passphrase for a home made without one is refused (nothing is half-locked)", async () => {
  const store = new MemoryKeyValue();
  const plain = await openBrowserHome({ name: "alice", store });
  await plain.write("identity", "x");
  await assert.rejects(
    openBrowserHome({ name: "alice", passphrase: "late", store, cost: COST }),
    (e: Error & { code?: string }) => e.code === "HOME_NOT_LOCKED",
  );
});

Deno.test("the shown journal goes to the synchronous store", async () => {
  const store = new MemoryKeyValue();
  const sync = new MapStorage();
  const home = await openBrowserHome({ name: "alice", store, sync });
  home.appendSync!("shown", "a\n");
  home.appendSync!("shown", "b\n");
  assert.equal(await home.read("shown"), "a\nb\n");
  home.writeSync!("shown", "");
  assert.equal(sync.map.get("hush/alice/shown"), "");
  const without = await openBrowserHome({ name: "bob", store });
  assert.equal(without.appendSync, undefined);
});

Deno.test("HomeLock: the default cost is stored with the home and reopens", async () => {
  const { lock, params } = await HomeLock.create("pw", "h", COST);
  assert.equal(params.kdf, "scrypt");
  assert.equal(params.logN, 10);
  assert.equal(params.salt.length, 32);
  const sealed = lock.seal("f", "text ✓");
  const reopened = await HomeLock.open("pw", "h", params);
  assert.equal(reopened.open("f", sealed), "text ✓");
});

Deno.test("the engine runs on a locked browser home and finds its identity again", async () => {
  const store = new MemoryKeyValue();
  const open = () => openBrowserHome({ name: "alice", passphrase: "pw", store, cost: COST });
  const first = await createChatClient({
    server: "ws://127.0.0.1:1/",
    nick: "alice",
    home: await open(),
  });
  const fingerprint = first.fingerprint;
  await first.close();
  const second = await createChatClient({
    server: "ws://127.0.0.1:1/",
    nick: "alice",
    home: await open(),
  });
  assert.equal(second.fingerprint, fingerprint);
  await second.close();
  const other = await createChatClient({
    server: "ws://127.0.0.1:1/",
    nick: "alice",
    home: new MemoryHome(),
  });
  assert.notEqual(other.fingerprint, fingerprint);
  await other.close();
});

Deno.test("per-key entries: one batch per commit, text and bytes, per home and name", async () => {
  const store = new MemoryKeyValue();
  const home = await openBrowserHome({ name: "alice", store });
  const entries = await home.openEntries("sessions");
  await entries.commit(
    new Map<string, string | Uint8Array | undefined>([
      ["session/bob", '{"k":1}'],
      ["blob", new Uint8Array([1, 2, 3])],
    ]),
  );
  await entries.commit(new Map([["session/bob", undefined], ["session/carol", "c"]]));
  const loaded = await (await home.openEntries("sessions")).load();
  assert.deepEqual([...loaded.keys()].sort(), ["blob", "session/carol"]);
  assert.deepEqual(loaded.get("blob"), new Uint8Array([1, 2, 3]));
  assert.equal((await (await home.openEntries("other")).load()).size, 0);
  const bob = await openBrowserHome({ name: "bob", store });
  assert.equal((await (await bob.openEntries("sessions")).load()).size, 0);
});

Deno.test("per-key entries of a locked home are sealed and bound to their key", async () => {
  const store = new MemoryKeyValue();
  const home = await openBrowserHome({ name: "alice", passphrase: "pw", store, cost: COST });
  const entries = await home.openEntries("sessions");
  await entries.commit(
    new Map<string, string | Uint8Array | undefined>([
      ["session/bob", "SECRET-STATE"],
      ["raw", new Uint8Array([9, 9])],
    ]),
  );
  const raw = await store.get("entries", "alice/sessions/session/bob");
  assert.ok(raw instanceof Uint8Array && !new TextDecoder().decode(raw).includes("SECRET"));
  const again = await openBrowserHome({ name: "alice", passphrase: "pw", store });
  const loaded = await (await again.openEntries("sessions")).load();
  assert.equal(loaded.get("session/bob"), "SECRET-STATE");
  assert.deepEqual(loaded.get("raw"), new Uint8Array([9, 9]));
  await store.put("entries", "alice/sessions/session/carol", raw);
  await assert.rejects(
    (await again.openEntries("sessions")).load(),
    (e: Error & { code?: string }) => e.code === "BAD_HOME",
  );
});

Deno.test("a home is found by the nick the relay granted it (after /nick, or bob_1)", async () => {
  const store = new MemoryKeyValue();
  assert.equal(await findHomeName(store, "bob"), "bob", "nothing yet: a new home of that name");
  const bob = await openBrowserHome({ name: "bob", store });
  await bob.write("identity", "x");
  await noteGrantedNick(store, "bob", "bob_1");
  await noteGrantedNick(store, "bob", "robert");
  assert.equal(await findHomeName(store, "bob"), "bob");
  assert.equal(await findHomeName(store, "bob_1"), "bob");
  assert.equal(await findHomeName(store, "robert"), "bob");
  const robert = await openBrowserHome({ name: "robert", store });
  await robert.write("identity", "y");
  assert.equal(await findHomeName(store, "robert"), "robert", "a home of that name wins");
});
