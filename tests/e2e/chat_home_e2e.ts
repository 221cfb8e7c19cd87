import assert from "node:assert/strict";
import { ChatError } from "../../chat/errors.ts";
import { homeFingerprint, openFileHome } from "../../chat/file_home.ts";
import type { EntryValue } from "../../chat/home.ts";
import { DatabaseSync } from "node:sqlite";

Deno.test("FileHome writes owner-only files atomically and reads them back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-filehome-" });
  try {
    const home = await openFileHome(`${dir}/nested/home`);
    assert.equal(((await Deno.stat(`${dir}/nested/home`)).mode ?? 0) & 0o777, 0o700);
    assert.equal(await home.read("profile.json"), undefined);
    await home.write("profile.json", '{"nick":"bob"}');
    await home.write("profile.json", '{"nick":"bob_1"}');
    assert.equal(await home.read("profile.json"), '{"nick":"bob_1"}');
    assert.equal(((await Deno.stat(`${dir}/nested/home/profile.json`)).mode ?? 0) & 0o777, 0o600);
    const names = [];
    for await (const entry of Deno.readDir(`${dir}/nested/home`)) names.push(entry.name);
    assert.deepEqual(names, ["profile.json"]);
    await home.remove("profile.json");
    await home.remove("profile.json");
    assert.equal(await home.read("profile.json"), undefined);
    await assert.rejects(() => home.write("../escape", "x"), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openFileHome() refuses a path that is a file with BAD_HOME", async () => {
  const file = await Deno.makeTempFile({ prefix: "hush-chat-notadir-" });
  try {
    await assert.rejects(
      () => openFileHome(file),
      (error: unknown) => error instanceof ChatError && error.code === "BAD_HOME",
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("homeFingerprint() creates the identity once and then reads the same one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-fp-" });
  try {
    const first = await homeFingerprint(dir);
    const again = await homeFingerprint(dir);
    assert.equal(first.created, true);
    assert.equal(again.created, false);
    assert.equal(again.fingerprint, first.fingerprint);
    assert.equal(((await Deno.stat(`${dir}/identity`)).mode ?? 0) & 0o777, 0o600);
    await Deno.writeTextFile(`${dir}/identity`, "garbage");
    await assert.rejects(
      () => homeFingerprint(dir),
      (error: unknown) => error instanceof ChatError && error.code === "BAD_HOME",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileHome lock: a second open is refused with HOME_LOCKED naming the holder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-lock-" });
  try {
    const first = await openFileHome(dir, { lock: true });
    await assert.rejects(
      () => openFileHome(dir, { lock: true }),
      (error: unknown) =>
        error instanceof ChatError && error.code === "HOME_LOCKED" &&
        error.message.includes(`pid ${Deno.pid} on host `),
    );
    await first.close();
    const again = await openFileHome(dir, { lock: true });
    assert.equal(again.lockNote, undefined);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileHome generation: after a newer claim, the older home writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-gen-" });
  try {
    const older = await openFileHome(dir, { claim: true });
    await older.write("sessions.json", "old-1");
    const newer = await openFileHome(dir, { claim: true });
    assert.equal(newer.generation, (older.generation ?? 0) + 1);
    await newer.write("sessions.json", "new-1");
    await assert.rejects(
      () => older.write("sessions.json", "old-2"),
      (error: unknown) => error instanceof ChatError && error.code === "HOME_TAKEN_OVER",
    );
    await assert.rejects(() => older.remove("sessions.json"), ChatError);
    assert.equal(await newer.read("sessions.json"), "new-1");
    await newer.write("outbox.json", "[]");
    assert.equal(await Deno.readTextFile(`${dir}/generation`), `${newer.generation}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileHome per-key store: sessions.sqlite 0600 in WAL mode, atomic commits, same entries after reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-entries-" });
  try {
    const home = await openFileHome(dir, { lock: true, claim: true });
    const store = await home.openEntries("sessions");
    assert.equal(await home.openEntries("sessions"), store, "one store per name while open");
    await store.commit(
      new Map<string, EntryValue | undefined>([["a", "1"], ["b", Uint8Array.of(7, 8)]]),
    );
    assert.equal(((await Deno.stat(`${dir}/sessions.sqlite`)).mode ?? 0) & 0o777, 0o600);
    for (const suffix of ["-wal", "-shm"]) {
      assert.equal(((await Deno.stat(`${dir}/sessions.sqlite${suffix}`)).mode ?? 0) & 0o777, 0o600);
    }
    // A commit that fails half-way keeps nothing of it.
    const bad = new Map<string, EntryValue | undefined>([
      ["a", "2"],
      ["c", { not: "bindable" } as unknown as string],
    ]);
    await assert.rejects(
      () => store.commit(bad),
      (error: unknown) => error instanceof ChatError && error.code === "BAD_HOME",
    );
    await store.commit(new Map([["b", undefined], ["missing", undefined]]));
    assert.deepEqual([...(await store.load())], [["a", "1"]]);
    await store.commit(new Map<string, EntryValue | undefined>([["bytes", Uint8Array.of(1, 2)]]));
    // A deleted or replaced value is zeroed in the file (secure_delete), not left in free space.
    const marker = "old-ratchet-state-" + "x".repeat(200);
    await store.commit(new Map([["session/gone", marker], ["session/kept", marker + "1"]]));
    await store.commit(new Map([["session/gone", undefined], ["session/kept", "new state"]]));
    await store.commit(new Map([["session/kept", undefined]]));
    await home.close();
    const bytes = new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/sessions.sqlite`));
    assert.equal(await exists(`${dir}/sessions.sqlite-wal`), false, "checkpointed at close");
    assert.equal(bytes.includes("old-ratchet-state"), false, "no old value left in the file");
    await assert.rejects(
      () => store.commit(new Map([["a", "3"]])),
      (error: unknown) => error instanceof ChatError && error.code === "CLOSED",
    );
    await assert.rejects(() => home.openEntries("sessions"), ChatError);

    const again = await openFileHome(dir, { lock: true, claim: true });
    const loaded = await (await again.openEntries("sessions")).load();
    assert.deepEqual([...loaded], [["a", "1"], ["bytes", Uint8Array.of(1, 2)]]);
    const db = new DatabaseSync(`${dir}/sessions.sqlite`);
    assert.equal(
      (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    db.close();
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileHome per-key store: after a newer claim, the older home commits nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-entries-gen-" });
  try {
    const older = await openFileHome(dir, { claim: true });
    const olderStore = await older.openEntries("sessions");
    await olderStore.commit(new Map([["session/bob", "old-1"]]));
    const newer = await openFileHome(dir, { claim: true });
    const newerStore = await newer.openEntries("sessions");
    await newerStore.commit(new Map([["session/bob", "new-1"]]));
    await assert.rejects(
      () => olderStore.commit(new Map([["session/bob", "old-2"], ["chat/seen", "old"]])),
      (error: unknown) => error instanceof ChatError && error.code === "HOME_TAKEN_OVER",
    );
    await assert.rejects(() => olderStore.commit(new Map([["x", "y"]])), ChatError);
    assert.deepEqual([...(await newerStore.load())], [["session/bob", "new-1"]]);
    await older.close();
    await newer.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
