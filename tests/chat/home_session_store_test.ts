/**
 * The session store's saves (issue 10 item 11): with a per-key store, a flush commits only the
 * keys set or deleted since the last one, in one commit; an older home's `sessions.json` is
 * imported once; a fenced home refuses commits once stopped. Homes without a per-key store keep
 * the `sessions.json` snapshot.
 */
import assert from "node:assert/strict";
import {
  type ChatHome,
  type EntryStore,
  type EntryValue,
  FencedHome,
  MemoryHome,
} from "../../chat/home.ts";
import { HomeSessionStore, SESSIONS_FILE } from "../../chat/home_session_store.ts";
import { ChatError } from "../../chat/errors.ts";

type Changes = Map<string, EntryValue | undefined>;

/** A memory home that records every commit of its per-key stores and can hold or fail them. */
class RecordingHome extends MemoryHome {
  commits: Changes[] = [];
  /** Commits started (before the gate). */
  entered = 0;
  failNext: Error | undefined;
  /** When set, a commit waits for it before applying. */
  gate: Promise<void> | undefined;

  override async openEntries(name: string): Promise<EntryStore> {
    const store = await super.openEntries(name);
    return {
      load: () => store.load(),
      commit: async (changes) => {
        const copy: Changes = new Map(changes);
        this.entered++;
        if (this.gate !== undefined) await this.gate;
        if (this.failNext !== undefined) {
          const error = this.failNext;
          this.failNext = undefined;
          throw error;
        }
        this.commits.push(copy);
        await store.commit(changes);
      },
    };
  }
}

function snapshotOnly(home: MemoryHome): ChatHome {
  return {
    location: home.location,
    read: (name) => home.read(name),
    write: (name, text) => home.write(name, text),
    remove: (name) => home.remove(name),
  };
}

function sorted(changes: Changes | undefined): [string, EntryValue | undefined][] {
  return [...(changes ?? new Map())].sort(([a], [b]) => a < b ? -1 : 1);
}

Deno.test("HomeSessionStore with a per-key store: a flush commits only the keys changed since the last one", async () => {
  const home = new RecordingHome();
  const store = await HomeSessionStore.load(home);
  assert.equal(store.perKey, true);
  for (let i = 0; i < 100; i++) store.set(`room/r${i}/in/x`, `key ${i}`);
  store.set("session/bob", "v1");
  await store.flush();
  assert.equal(home.commits.length, 1);
  assert.equal(home.commits[0]!.size, 101, "the first save holds every key set");

  store.set("session/bob", "v2");
  store.set("chat/seen", "[1]");
  store.delete("room/r7/in/x");
  store.delete("never/there"); // not a change
  assert.equal(store.dirty, true);
  await store.flush();
  assert.equal(store.dirty, false);
  assert.deepEqual(sorted(home.commits[1]), [
    ["chat/seen", "[1]"],
    ["room/r7/in/x", undefined],
    ["session/bob", "v2"],
  ]);

  await store.flush();
  store.delete("never/there");
  await store.flush();
  assert.equal(home.commits.length, 2, "nothing changed: no commit");

  // Set then deleted before a flush: committed as a delete; the last value wins.
  store.set("tmp", "x");
  store.delete("tmp");
  store.set("session/bob", "v3");
  store.set("session/bob", "v4");
  await store.flush();
  assert.deepEqual(sorted(home.commits[2]), [["session/bob", "v4"], ["tmp", undefined]]);

  const again = await HomeSessionStore.load(home);
  assert.equal(again.get("session/bob"), "v4");
  assert.equal(again.get("room/r7/in/x"), undefined);
  assert.equal(again.get("room/r8/in/x"), "key 8");
  assert.equal(again.keys("room/").length, 99);
  assert.equal(await home.read(SESSIONS_FILE), undefined, "no snapshot written");
});

Deno.test("HomeSessionStore: a failed commit keeps its keys for the next flush, with their values then", async () => {
  const home = new RecordingHome();
  const store = await HomeSessionStore.load(home);
  store.set("a", "1");
  store.set("b", Uint8Array.of(1, 2));
  home.failNext = new ChatError("BAD_HOME", "disk full");
  await assert.rejects(() => store.flush(), (e: unknown) => (e as ChatError).code === "BAD_HOME");
  assert.equal(store.dirty, true);
  assert.equal(home.commits.length, 0);
  store.set("a", "2");
  store.set("c", "3");
  await store.flush();
  assert.deepEqual(sorted(home.commits[0]), [["a", "2"], ["b", Uint8Array.of(1, 2)], ["c", "3"]]);
  assert.equal(store.dirty, false);
});

Deno.test("HomeSessionStore: concurrent flushes are serialized, and each resolves after a commit covering its changes", async () => {
  const home = new RecordingHome();
  const store = await HomeSessionStore.load(home);
  let open!: () => void;
  home.gate = new Promise((resolve) => open = resolve);
  store.set("a", "1");
  const first = store.flush();
  for (let i = 0; i < 100 && home.entered === 0; i++) await Promise.resolve();
  assert.equal(home.entered, 1, "the first commit started");
  store.set("b", "1"); // while the first commit is in flight
  const second = store.flush();
  store.set("a", "2");
  const third = store.flush(); // covered by the second's successor, or its own commit
  let firstDone = false;
  void first.then(() => firstDone = true);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(firstDone, false, "held by the gate");
  assert.equal(home.entered, 1, "the second waits for the first");
  open();
  await Promise.all([first, second, third]);
  assert.deepEqual(sorted(home.commits[0]), [["a", "1"]]);
  assert.deepEqual(sorted(home.commits[1]), [["a", "2"], ["b", "1"]]);
  assert.equal(home.commits.length, 2, "the third found nothing left to commit");
});

Deno.test("HomeSessionStore imports an older home's sessions.json in one commit, then removes it", async () => {
  const home = new RecordingHome();
  await home.write(
    SESSIONS_FILE,
    JSON.stringify({ v: 1, entries: { "session/bob": { t: "old" }, raw: { b: "AQID" } } }),
  );
  const store = await HomeSessionStore.load(home);
  assert.equal(store.get("session/bob"), "old");
  assert.deepEqual(store.get("raw"), Uint8Array.of(1, 2, 3));
  assert.equal(home.commits.length, 1, "one commit");
  assert.deepEqual(sorted(home.commits[0]), [["raw", Uint8Array.of(1, 2, 3)], [
    "session/bob",
    "old",
  ]]);
  assert.equal(await home.read(SESSIONS_FILE), undefined);

  // A crash after the import, before the removal: the store is not imported into again (its
  // entries may be newer), and the leftover file is removed.
  store.set("session/bob", "newer");
  await store.flush();
  await home.write(
    SESSIONS_FILE,
    JSON.stringify({ v: 1, entries: { "session/bob": { t: "old" } } }),
  );
  const after = await HomeSessionStore.load(home);
  assert.equal(after.get("session/bob"), "newer");
  assert.equal(home.commits.length, 2, "no second import");
  assert.equal(await home.read(SESSIONS_FILE), undefined);
});

Deno.test("HomeSessionStore without a per-key store keeps the sessions.json snapshot", async () => {
  const memory = new MemoryHome();
  const home = snapshotOnly(memory);
  const store = await HomeSessionStore.load(home);
  assert.equal(store.perKey, false);
  store.set("session/bob", "v1");
  store.set("raw", Uint8Array.of(9));
  await store.flush();
  const saved = JSON.parse((await home.read(SESSIONS_FILE))!);
  assert.deepEqual(saved, { v: 1, entries: { "session/bob": { t: "v1" }, raw: { b: "CQ==" } } });
  assert.equal((await (await memory.openEntries("sessions")).load()).size, 0);
  const again = await HomeSessionStore.load(home);
  assert.equal(again.get("session/bob"), "v1");
});

Deno.test("MemoryHome per-key stores: commits apply together, bytes are copied, names are checked", async () => {
  const home = new MemoryHome();
  const store = await home.openEntries("sessions");
  const bytes = Uint8Array.of(1, 2, 3);
  await store.commit(new Map<string, EntryValue | undefined>([["a", "x"], ["b", bytes]]));
  bytes[0] = 9;
  const loaded = await (await home.openEntries("sessions")).load();
  assert.deepEqual(loaded.get("b"), Uint8Array.of(1, 2, 3));
  (loaded.get("b") as Uint8Array)[1] = 9;
  assert.deepEqual((await store.load()).get("b"), Uint8Array.of(1, 2, 3));
  await store.commit(new Map([["a", undefined], ["gone", undefined]]));
  assert.deepEqual([...(await store.load()).keys()], ["b"]);
  assert.equal((await (await home.openEntries("other")).load()).size, 0, "stores are apart");
  await assert.rejects(async () => await home.openEntries("../x"), RangeError);
});

Deno.test("FencedHome: commits of its per-key stores are refused once stopped; HOME_TAKEN_OVER stops it", async () => {
  assert.equal(new FencedHome(snapshotOnly(new MemoryHome())).openEntries, undefined);

  const inner = new RecordingHome();
  const fenced = new FencedHome(inner);
  const store = await fenced.openEntries!("sessions");
  await store.commit(new Map([["a", "1"]]));
  fenced.stop(new ChatError("SESSION_ENDED", "ended"));
  await assert.rejects(
    () => store.commit(new Map([["a", "2"]])),
    (e: unknown) => (e as ChatError).code === "SESSION_ENDED",
  );
  assert.equal((await store.load()).get("a"), "1", "loads still work; nothing more written");
  assert.equal(inner.commits.length, 1);

  const taken: Error[] = [];
  const inner2 = new RecordingHome();
  const fenced2 = new FencedHome(inner2, (error) => taken.push(error));
  const store2 = await fenced2.openEntries!("sessions");
  inner2.failNext = new ChatError("HOME_TAKEN_OVER", "another client started here");
  await assert.rejects(() => store2.commit(new Map([["a", "1"]])));
  assert.deepEqual(taken.map((e) => (e as ChatError).code), ["HOME_TAKEN_OVER"]);
  assert.equal((fenced2.stopped as ChatError).code, "HOME_TAKEN_OVER");
  await assert.rejects(() => fenced2.write("profile.json", "{}"), ChatError, "writes refused too");
  await assert.rejects(() => store2.commit(new Map([["a", "1"]])));
  assert.equal(taken.length, 1, "called once");
});
