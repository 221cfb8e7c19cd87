import assert from "node:assert/strict";
import { ChatError } from "../../chat/errors.ts";
import { homeFingerprint, openFileHome } from "../../chat/file_home.ts";

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
