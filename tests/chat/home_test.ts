import assert from "node:assert/strict";
import { defaultHomeDir, MemoryHome } from "../../chat/home.ts";
import { adoptProfile, keptNickNote } from "../../chat/_profile.ts";
import { HomeSessionStore, SESSIONS_FILE } from "../../chat/home_session_store.ts";
import { ChatError } from "../../chat/errors.ts";

Deno.test("MemoryHome reads back what it wrote and forgets removed files", async () => {
  const home = new MemoryHome();
  assert.equal(await home.read("identity"), undefined);
  await home.write("identity", "x");
  assert.equal(await home.read("identity"), "x");
  await home.remove("identity");
  await home.remove("identity");
  assert.equal(await home.read("identity"), undefined);
});

Deno.test("MemoryHome refuses names that could escape the directory", async () => {
  const home = new MemoryHome();
  await assert.rejects(async () => await home.write("../x", "y"), RangeError);
  await assert.rejects(async () => await home.read(".."), RangeError);
  await assert.rejects(async () => await home.read("a/b"), RangeError);
});

Deno.test("defaultHomeDir() prefers an absolute XDG_CONFIG_HOME, then HOME/.config", () => {
  assert.equal(defaultHomeDir("bob", { XDG_CONFIG_HOME: "/x/", HOME: "/h" }), "/x/hush/bob");
  assert.equal(
    defaultHomeDir("bob", { XDG_CONFIG_HOME: "rel", HOME: "/h" }),
    "/h/.config/hush/bob",
  );
  assert.equal(defaultHomeDir("b/../o", { HOME: "/h" }), "/h/.config/hush/b_.._o");
  assert.throws(() => defaultHomeDir("bob", {}), RangeError);
});

Deno.test("HomeSessionStore persists text and bytes through flush() and load()", async () => {
  const home = new MemoryHome();
  const store = await HomeSessionStore.load(home);
  store.set("session/bob", '{"a":1}');
  store.set("prekeys/raw", Uint8Array.of(1, 2, 3));
  store.set("gone", "x");
  store.delete("gone");
  assert.equal(store.dirty, true);
  await store.flush();
  assert.equal(store.dirty, false);
  const again = await HomeSessionStore.load(home);
  assert.equal(again.get("session/bob"), '{"a":1}');
  assert.deepEqual(again.get("prekeys/raw"), Uint8Array.of(1, 2, 3));
  assert.equal(again.get("gone"), undefined);
  assert.deepEqual(again.keys("session/"), ["session/bob"]);
});

Deno.test("HomeSessionStore.load() reports a corrupt file as BAD_HOME", async () => {
  const home = new MemoryHome();
  await home.write(SESSIONS_FILE, "{not json");
  await assert.rejects(
    () => HomeSessionStore.load(home),
    (error: unknown) => error instanceof ChatError && error.code === "BAD_HOME",
  );
});

Deno.test("adoptProfile() keeps the current nick when a former nick of the identity is given", () => {
  const renamed = () => ({ nick: "bob", requested: "bob", granted: "bob", former: ["Bob"] });
  assert.match(keptNickNote(renamed(), "Bob") ?? "", /keeping its current nick "bob"/);
  assert.deepEqual(adoptProfile(renamed(), "Bob"), renamed());
  assert.equal(keptNickNote(renamed(), "bob"), undefined);
  assert.deepEqual(adoptProfile(renamed(), "bob"), renamed());
  // A nick this identity never had is a rename.
  assert.equal(keptNickNote(renamed(), "robert"), undefined);
  assert.equal(adoptProfile(renamed(), "robert").nick, "robert");
  assert.equal(keptNickNote({}, "bob"), undefined);
});
