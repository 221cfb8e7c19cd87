/**
 * One home, one client, and no message key used twice (issue 9, item 1): real relay and
 * `client.ts --json` processes on real home directories.
 */

import assert from "node:assert/strict";
import { ChildClient, settle, WAIT_MS, withWorld, type World } from "./_client_harness.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { OUTBOX_KEY } from "../../chat/engine.ts";
import { DatabaseSync } from "node:sqlite";
import { fromHex, toHex } from "../../crypto/bytes.ts";
import {
  BODY_INITIAL,
  BODY_RATCHET,
  BODY_ROOM,
  decodeInitialMessage,
  decodeRatchetMessage,
  decodeRoomMessage,
} from "../../sessions/mod.ts";

const wait = { timeoutMs: WAIT_MS };

/** The outbox a home saved (its session store's entry), or "" when none. */
function savedOutbox(home: string): string {
  const db = new DatabaseSync(`${home}/sessions.sqlite`, { readOnly: true });
  try {
    const row = db.prepare("SELECT text FROM entries WHERE key = ?").get(OUTBOX_KEY) as
      | { text: string | null }
      | undefined;
    return row?.text ?? "";
  } finally {
    db.close();
  }
}
const ROOT = new URL("../../", import.meta.url).pathname;

/** What names a message key: the ratchet header (pairwise) or sender key and iteration (room). */
function keyName(from: string, to: string, bodyHex: string): string {
  const body = fromHex(bodyHex);
  if (body[0] === BODY_INITIAL || body[0] === BODY_RATCHET) {
    const m = body[0] === BODY_INITIAL
      ? decodeInitialMessage(body).message
      : decodeRatchetMessage(body);
    return `pair ${from}>${to} ${toHex(m.ratchetKey)} ${m.previousCount} ${m.n}`;
  }
  if (body[0] === BODY_ROOM) {
    const m = decodeRoomMessage(body);
    return `room ${from}>${to} ${m.keyId} ${m.iteration}`;
  }
  return `unknown ${bodyHex}`;
}

/** Asserts that no message key sealed two different bodies, in every `wire` event given. */
function assertNoKeyReuse(events: ChatEvent[]): number {
  const bodies = new Map<string, Set<string>>();
  for (const event of events) {
    if (event.type !== "wire") continue;
    const { from, to, bodyHex } = event.wire;
    const name = keyName(from, to, bodyHex);
    const set = bodies.get(name) ?? new Set<string>();
    set.add(bodyHex);
    bodies.set(name, set);
  }
  for (const [name, set] of bodies) {
    assert.equal(set.size, 1, `message key ${name} sealed ${set.size} different bodies`);
  }
  return bodies.size;
}

function start(world: World, nick: string, home: string, env?: Record<string, string>) {
  const client = ChildClient.start({
    nick,
    server: world.relay.tcpUrl,
    home: `${world.dir}/${home}`,
    ...(env === undefined ? {} : { env }),
  });
  world.clients.push(client);
  return client;
}

async function runFingerprint(home: string): Promise<{ code: number; out: string; err: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "client.ts", "fingerprint", "--nick", "alice", "--home", home],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, out: decode(output.stdout), err: decode(output.stderr) };
}

Deno.test("client --json: a second client on the same --home refuses and names the holder", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const ready = alice.eventsOf("ready")[0]!;
    const home = `${world.dir}/alice`;
    assert.ok(alice.events.some((e) => e.type === "info" && e.message === `Using home ${home}`));

    const second = start(world, "alice", "alice");
    assert.equal(await second.end(), 1);
    const err = second.stderr.join("\n");
    assert.match(err, /hush: error: The home ".*alice" is in use by another Hush client/);
    assert.match(err, new RegExp(`pid ${alice.pid} on host \\S+, started \\d{4}-`));
    assert.match(err, /hush: hint: quit the other client first/);
    assert.equal(second.events.filter((e) => e.type === "ready").length, 0);

    // `fingerprint` on a home in use reads the identity, never creates one.
    const fp = await runFingerprint(home);
    assert.equal(fp.code, 0, fp.err);
    assert.match(fp.out, new RegExp(`alice: ${ready.fingerprint}`));

    // The holder dies without cleaning up: the OS lock is gone, the next start takes over.
    alice.kill();
    await alice.end();
    const again = await world.client("alice");
    const note = await again.waitForType("info", (e) => /stale lock/.test(e.message), wait);
    assert.match(note.message, new RegExp(`left by pid ${alice.pid} on host`));
    assert.equal(again.eventsOf("ready")[0]?.fingerprint, ready.fingerprint);

    // A clean exit clears the lock: no note next time.
    assert.equal(await again.end(), 0);
    const third = await world.client("alice");
    assert.equal(
      third.events.some((e) => e.type === "info" && /stale lock/.test(e.message)),
      false,
    );
  });
});

Deno.test("client --json: two clients on one home (lock off) never seal two bodies under one message key", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    await bob.send("/wire on");
    await bob.waitForType("info", (e) => /Wire view on/.test(e.message), wait);
    const unlocked = { HUSH_TEST_NO_HOME_LOCK: "1" };
    const alice1 = start(world, "alice", "alice", unlocked);
    await alice1.waitForType("ready", () => true, wait);
    await alice1.send("@bob hello-1");
    await bob.waitForType("message", (e) => e.text === "hello-1", wait);
    await alice1.waitForType("sent", () => true, wait);

    // The same home again: it claims the home (generation) and the relay replaces alice1; or
    // alice1 sees the claim first, at its next commit (its prekey fill, a lazy outbox save).
    const alice2 = start(world, "alice", "alice", unlocked);
    await alice2.waitForType("ready", () => true, wait);
    await alice1.waitForType(
      "error",
      (e) => e.code === "REPLACED" || e.code === "HOME_TAKEN_OVER",
      wait,
    );
    await alice2.send("@bob from-2");
    await bob.waitForType("message", (e) => e.text === "from-2", wait);
    await alice2.waitForType("sent", () => true, wait);
    assert.equal(await alice2.end(), 0);

    // The replaced one is still running: what it is given now must not be encrypted.
    const since = alice1.events.length;
    await alice1.send("@bob from-1");
    const refused = await alice1.waitForType("error", (e) => e.code === "STOPPED", {
      since,
      ...wait,
    });
    assert.match(refused.message, /REPLACED|HOME_TAKEN_OVER/);
    assert.match(refused.message, /Nothing more is encrypted or saved/);
    await alice1.end();

    // The next start sends whatever the home holds, then a new message.
    const alice3 = await world.client("alice");
    await alice3.send("@bob after");
    await bob.waitForType("message", (e) => e.text === "after", wait);
    await settle(300);
    assert.equal(bob.events.some((e) => e.type === "message" && e.text === "from-1"), false);
    const keys = assertNoKeyReuse(bob.events);
    assert.ok(keys >= 3, `expected at least 3 envelopes from alice, saw ${keys}`);
  });
});

Deno.test("client --json: a copied home (another device) replaces the first, which stops encrypting", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    await bob.send("/wire on");
    await bob.waitForType("info", (e) => /Wire view on/.test(e.message), wait);
    const alice1 = await world.client("alice", { home: "laptop" });
    await alice1.send("/wire on");
    await alice1.waitForType("info", (e) => /Wire view on/.test(e.message), wait);
    await alice1.send("@bob hello-1");
    await bob.waitForType("message", (e) => e.text === "hello-1", wait);
    await alice1.waitForType("sent", () => true, wait);

    await settle(200);
    // Copy the home while alice1 runs: the copy is the same identity on another "device".
    await Deno.mkdir(`${world.dir}/desktop`, { mode: 0o700 });
    for await (const entry of Deno.readDir(`${world.dir}/laptop`)) {
      if (entry.isFile && !entry.name.includes(".tmp-")) {
        await Deno.copyFile(
          `${world.dir}/laptop/${entry.name}`,
          `${world.dir}/desktop/${entry.name}`,
        )
          .catch((error) => {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          });
      }
    }
    const replaced = alice1.events.length;
    const alice2 = start(world, "alice", "desktop");
    await alice2.send("/wire on");
    await alice2.waitForType("ready", () => true, wait);
    await alice1.waitForType("error", (e) => e.code === "REPLACED", wait);
    await alice1.waitForType("error", (e) => e.code === "STOPPED", { since: replaced, ...wait });

    const since = alice1.events.length;
    await alice1.send("@bob from-laptop");
    await alice1.waitForType("error", (e) => e.code === "STOPPED", { since, ...wait });
    await alice2.send("@bob from-desktop");
    await bob.waitForType("message", (e) => e.text === "from-desktop", wait);
    await settle(300);
    assert.equal(
      alice1.events.slice(replaced).some((e) => e.type === "wire" && e.wire.direction === "out"),
      false,
      "the replaced client encrypted after REPLACED",
    );
    await alice1.end();
    assert.doesNotMatch(savedOutbox(`${world.dir}/laptop`), /"frame"/);
    assert.equal(await alice2.end(), 0);

    // Back on the laptop: the desktop used the ratchet state saved here, so every session
    // restarts with fresh keys before anything is sent.
    const alice3 = start(world, "alice", "laptop");
    await alice3.send("/wire on");
    await alice3.waitForType("ready", () => true, wait);
    await alice3.waitForType("info", (e) => /starts again with fresh keys/.test(e.message), wait);
    await alice3.send("@bob from-laptop-again");
    await alice3.waitForType("sent", () => true, wait);
    await settle(300);
    assertNoKeyReuse([...bob.events, ...alice1.events, ...alice2.events, ...alice3.events]);
    await bob.waitForType("message", (e) => e.text === "from-laptop-again", wait);
  });
});
