/**
 * Issue 10 item 11, last part: a file home keeps the session state per key (`sessions.sqlite`,
 * one SQLite transaction per save of the keys that changed), not one `sessions.json` snapshot
 * rewritten per batch. Real relay and `client.ts --json` processes, real SQLite files:
 * - after messages from many peers, bob's home has `sessions.sqlite` (0600) and no
 *   `sessions.json`, and the save of one more message rewrites a handful of rows, not all;
 * - an older home's `sessions.json` is imported at the next start (the session goes on) and
 *   removed;
 * - a receiver killed inside the SQLite commit of a delivery (rows written, `COMMIT` not run)
 *   keeps an intact file and shows the message exactly once after a restart.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type ChildClient, settle, WAIT_MS, withWorld, type World } from "./_client_harness.ts";
import { loggedIn, type TestClient } from "./_relay_harness.ts";
import { hushOver } from "./_raw_hush.ts";

const wait = { timeoutMs: WAIT_MS };

/** A raw protocol peer (the sessions library over the real relay) that sends bob messages. */
async function rawPeer(world: World, nick: string): Promise<{
  conn: TestClient;
  send: (to: string, text: string) => Promise<void>;
}> {
  const conn = await loggedIn(world.relay.tcpUrl, nick);
  const hush = hushOver(conn);
  return {
    conn,
    send: async (to, text) => {
      const sealed = await hush.encryptTo(to, text);
      await conn.sendEnvelope(to, sealed.body, { cipher: sealed.suite.wireId });
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a store file from the test process (the client may hold it open: WAL allows that). */
function query<T>(path: string, fn: (db: DatabaseSync) => T): T {
  Deno.statSync(path); // there (SQLite would create it)
  const db = new DatabaseSync(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function count(db: DatabaseSync, sql: string, ...args: number[]): number {
  return Number((db.prepare(sql).get(...args) as { n: number | bigint }).n);
}

/** Waits for the process to exit by itself, at most `ms`. */
async function exitedWithin(client: ChildClient, ms: number): Promise<number | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) =>
    timer = setTimeout(() => resolve(undefined), ms)
  );
  const status = await Promise.race([client.exited(), late]);
  clearTimeout(timer);
  return status?.code;
}

Deno.test("client --json: the home keeps session state per key, and a save writes only the keys that changed", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    const peers: Awaited<ReturnType<typeof rawPeer>>[] = [];
    try {
      for (let i = 0; i < 24; i++) {
        const peer = await rawPeer(world, `peer${i}`);
        peers.push(peer);
        await peer.send("bob", `hello from peer${i}`);
      }
      for (let i = 0; i < 24; i++) {
        await bob.waitForType("message", (e) => e.text === `hello from peer${i}`, wait);
      }
      await settle();
      const path = `${world.dir}/bob/sessions.sqlite`;
      assert.equal(await exists(path), true, "sessions.sqlite is there");
      assert.equal(await exists(`${world.dir}/bob/sessions.json`), false, "no snapshot");
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, "owner only");
      const before = query(path, (db) => ({
        rows: count(db, "SELECT count(*) AS n FROM entries"),
        seq: count(db, "SELECT max(seq) AS n FROM entries"),
      }));
      assert.ok(before.rows >= 48, `every peer's session and pin kept (${before.rows} rows)`);

      // One more message from one peer: its save touches that peer's session and the engine's
      // delivery entries, not the other peers' keys.
      await peers[5]!.send("bob", "one more");
      await bob.waitForType("message", (e) => e.text === "one more", wait);
      await settle();
      const after = query(path, (db) => ({
        rows: count(db, "SELECT count(*) AS n FROM entries"),
        rewritten: count(db, "SELECT count(*) AS n FROM entries WHERE seq > ?", before.seq),
        commits: count(db, "SELECT value AS n FROM meta WHERE key = 'commits'") - before.seq,
        untouched: count(
          db,
          "SELECT count(*) AS n FROM entries WHERE seq <= ? AND key LIKE '%peer1%'",
          before.seq,
        ),
        integrity: (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string })
          .integrity_check,
      }));
      assert.equal(after.integrity, "ok");
      assert.ok(after.commits >= 1, "the message was saved");
      assert.ok(
        after.rewritten <= 8,
        `${after.rewritten} of ${after.rows} rows rewritten by ${after.commits} commit(s)`,
      );
      assert.ok(after.untouched >= 2, "another peer's keys were not rewritten");
      assert.deepEqual(bob.eventsOf("error").map((e) => e.code), []);
    } finally {
      for (const peer of peers) peer.conn.close();
    }
  });
});

Deno.test("client --json: an older home's sessions.json is imported into sessions.sqlite and removed; the sessions go on", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const first = await world.client("bob");
    await alice.send("@bob before the upgrade");
    await first.waitForType("message", (e) => e.text === "before the upgrade", wait);
    await settle();
    assert.equal(await first.end(), 0);

    // Turn bob's home into an older one: its state as the snapshot an older client wrote.
    const dir = `${world.dir}/bob`;
    const entries: Record<string, { t: string } | { b: string }> = {};
    query(`${dir}/sessions.sqlite`, (db) => {
      for (const row of db.prepare("SELECT key, text, bytes FROM entries").all()) {
        const { key, text, bytes } = row as { key: string; text: string | null; bytes: null };
        assert.equal(bytes, null, "the engine stores text");
        entries[key] = { t: text! };
      }
    });
    const imported = Object.keys(entries).length;
    assert.ok(imported >= 4, `state to import (${imported} entries)`);
    assert.ok(entries["chat/seen"] !== undefined && entries["session/alice"] !== undefined);
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(`${dir}/sessions.sqlite${suffix}`).catch(() => {});
    }
    await Deno.writeTextFile(`${dir}/sessions.json`, JSON.stringify({ v: 1, entries }), {
      mode: 0o600,
    });

    const bob = await world.client("bob");
    await alice.send("@bob after the upgrade");
    await bob.waitForType("message", (e) => e.text === "after the upgrade", wait);
    await settle();
    assert.equal(await exists(`${dir}/sessions.json`), false, "the snapshot is removed");
    const rows = query(
      `${dir}/sessions.sqlite`,
      (db) => count(db, "SELECT count(*) AS n FROM entries"),
    );
    assert.ok(rows >= imported, `imported (${rows} rows)`);
    assert.deepEqual(bob.eventsOf("error").map((e) => e.code), [], "the session went on");
    assert.equal(
      bob.events.some((e) => e.type === "info" && /reset|restart/i.test(e.message)),
      false,
      "no session restarted",
    );
    assert.equal(bob.eventsOf("message").some((e) => e.text === "before the upgrade"), false);
  });
});

for (const kind of ["private", "room"] as const) {
  Deno.test(`client --json: a receiver killed inside the SQLite commit of a ${kind} delivery shows it once after restart`, async () => {
    await withWorld(async (world) => {
      const alice = await world.client("alice");
      const first = await world.client("bob", {
        env: { HUSH_TEST_CRASH_AFTER: "commit:chat/inbox" },
      });
      if (kind === "room") {
        await alice.waitForType("join", (e) => e.nick === "bob", wait).catch(() => {});
      }
      const text = `hello through a killed commit (${kind})`;
      await alice.send(kind === "private" ? `@bob ${text}` : text);
      assert.equal(await exitedWithin(first, WAIT_MS), 137, "bob died inside the commit");
      assert.equal(
        first.events.some((e) => e.type === "message" && e.text === text),
        false,
        "not shown before the crash",
      );
      const path = `${world.dir}/bob/sessions.sqlite`;
      assert.equal(
        query(path, (db) =>
          (db.prepare("PRAGMA integrity_check").get() as Record<string, string>)
            .integrity_check),
        "ok",
      );
      const bob = await world.client("bob");
      await bob.waitForType("message", (e) => e.text === text, wait);
      await alice.send(kind === "private" ? "@bob and after" : "and after");
      await bob.waitForType("message", (e) => e.text === "and after", wait);
      await settle();
      assert.equal(bob.eventsOf("message").filter((e) => e.text === text).length, 1);
      assert.deepEqual(bob.eventsOf("error").map((e) => e.code), [], "no error on the way");
    });
  });
}

Deno.test("client --json: a receiver SIGKILLed twice while messages stream in loses none, and its store stays intact", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const total = 60;
    const shown = new Map<string, number>();
    const note = (bob: ChildClient) => {
      for (const e of bob.eventsOf("message")) {
        // A copy flagged `repeat` (killed while writing its line) of one shown is said, not a
        // silent double.
        if (e.from !== "alice" || (e.repeat === true && shown.has(e.text))) continue;
        shown.set(e.text, (shown.get(e.text) ?? 0) + 1);
      }
    };
    let bob = await world.client("bob");
    await alice.send("@bob warm-up");
    await bob.waitForType("message", (e) => e.text === "warm-up", wait);
    for (let i = 0; i < total; i++) await alice.send(`@bob stream ${i}`);
    for (const after of [8, 30]) {
      // Killed (a real SIGKILL) while deliveries are being saved and shown.
      await bob.waitForType("message", (e) => e.text === `stream ${after}`, wait).catch(() => {});
      bob.kill();
      await bob.stop(); // waits for the exit and for every line it wrote before
      note(bob);
      const path = `${world.dir}/bob/sessions.sqlite`;
      assert.equal(
        query(path, (db) =>
          (db.prepare("PRAGMA integrity_check").get() as Record<string, string>)
            .integrity_check),
        "ok",
      );
      bob = await world.client("bob");
    }
    const seenNow = () => new Set([...shown.keys(), ...bob.eventsOf("message").map((e) => e.text)]);
    // Alice is a stranger to bob (PROTOCOL.md §8): past 50 queued envelopes from her while he is
    // down, hers are refused QUEUE_FULL and retried once he is back (2 s, 4 s, ...).
    const deadline = Date.now() + 2 * WAIT_MS;
    while (Date.now() < deadline && seenNow().size < total + 1) await settle(100);
    await settle();
    note(bob);
    const missing = Array.from({ length: total }, (_, i) => `stream ${i}`)
      .filter((text) => !shown.has(text));
    assert.deepEqual(missing, [], `every message shown (${shown.size} were)`);
    // A kill in the instant between a message's line and its note in the `shown` journal shows it
    // again flagged `repeat` (CLIENT.md, "Nothing shown twice"): never silently twice.
    const twice = [...shown].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], "no message shown twice unflagged");
    assert.deepEqual(bob.eventsOf("error").map((e) => e.code), []);
  });
});
