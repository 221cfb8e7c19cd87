/**
 * Issue 10 item 7 and issue 11 (relay side): nicks are unique by skeleton (case and look-alikes
 * folded), one identity holds at most --max-nicks-per-identity nicks, and a store written before
 * skeletons with two look-alikes of two identities still loads. Real `server.ts` processes over
 * TCP and a real SQLite file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { equalBytes } from "../../crypto/bytes.ts";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { randomBytes } from "../../crypto/random.ts";
import { loggedIn, relayTest, sleep, startServer, TestClient } from "./_relay_harness.ts";

relayTest(
  "Bob and bob are one person: another identity gets a suffix, look-alikes too",
  async () => {
    const server = await startServer(["--heartbeat", "60000"]);
    try {
      const first = generateIdentityKeyPair();
      const bob = await loggedIn(server.tcp, "Bob", { identity: first });
      assert.equal(bob.nick, "Bob");
      const other = await loggedIn(server.tcp, "bob");
      assert.equal(other.nick, "bob_1", "another identity asking bob when Bob is bound");
      for (
        const [asked, granted] of [
          ["B0B", "B0B_2"], // B0B_1 looks like bob_1
          ["bob_", "bob__3"],
          ["BOB", "BOB_4"],
        ]
      ) {
        const c = await loggedIn(server.tcp, asked!);
        assert.equal(c.nick, granted, asked);
        c.close();
      }
      const alice = await loggedIn(server.tcp, "alice");
      for (
        const [asked, granted] of [
          ["Alice", "Alice_1"],
          ["aIice", "aIice_2"],
          ["a1ice", "a1ice_3"],
        ]
      ) {
        const c = await loggedIn(server.tcp, asked!);
        assert.equal(c.nick, granted, asked);
        c.close();
      }
      // The same identity asking another spelling gets its binding, spelled as stored.
      const again = await loggedIn(server.tcp, "bOb", { identity: first });
      assert.equal(again.nick, "Bob");
      assert.equal(await bob.expectFatal(), "REPLACED");
      // Routing is by exact spelling: a look-alike is refused, naming the bound spelling.
      const id = randomBytes(16);
      await alice.sendEnvelope("BOB", new Uint8Array([7]), { id });
      const rejected = await alice.next("rejected");
      assert.equal(rejected.code, "NO_SUCH_USER");
      assert.equal(rejected.recipient, "BOB");
      assert.match(rejected.detail, /"Bob" is bound/);
      await alice.sendEnvelope("Bob", new Uint8Array([8]));
      const got = await again.next("deliver");
      assert.equal(got.to, "Bob");
      assert.deepEqual([...got.body], [8]);
      // KEYS for a look-alike: no such user (the key directory is exact too).
      await alice.send({ type: "fetch-identity", nick: "bob" });
      assert.equal((await alice.next("keys")).status, "no-such-user");
      for (const c of [again, other, alice]) c.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest(
  "--max-nicks-per-identity: a new nick beyond it releases the least recently used one, or is refused",
  async () => {
    const server = await startServer(["--max-nicks-per-identity", "2", "--heartbeat", "60000"]);
    try {
      const me = generateIdentityKeyPair();
      const watcher = await loggedIn(server.tcp, "watcher");
      for (const nick of ["n1", "n2"]) {
        const c = await loggedIn(server.tcp, nick, { identity: me });
        assert.equal(c.nick, nick);
        c.close();
        await c.waitClosed();
        await sleep(20);
      }
      const n3 = await loggedIn(server.tcp, "n3", { identity: me });
      assert.equal(n3.nick, "n3");
      await watcher.send({ type: "fetch-identity", nick: "n1" });
      assert.equal((await watcher.next("keys")).status, "no-such-user", "n1 released");
      await watcher.send({ type: "fetch-identity", nick: "n2" });
      const keys = await watcher.next("keys");
      assert.ok(keys.status !== "no-such-user" && equalBytes(keys.identityKey, me.publicKey));
      // n2 and n3 both connected: a third nick is refused, naming them.
      const n2 = await loggedIn(server.tcp, "n2", { identity: me });
      const n4 = await TestClient.connect(server.tcp);
      await n4.login("n4", { identity: me }).catch(() => null);
      await n4.waitClosed();
      const error = n4.frames.find((f) => f.type === "error");
      assert.ok(error?.type === "error" && error.code === "NICK_UNAVAILABLE", n4.describe());
      assert.match(error.detail, /holds 2 nicks/);
      assert.match(error.detail, /n2/);
      // Squatting bob, bob_1, ... bob_5 from one identity leaves it holding the last 2: a newcomer
      // asking bob gets bob.
      const squatter = generateIdentityKeyPair();
      for (let i = 0; i <= 5; i++) {
        const nick = i === 0 ? "bob" : `bob_${i}`;
        const c = await loggedIn(server.tcp, nick, { identity: squatter });
        assert.equal(c.nick, nick);
        c.close();
        await c.waitClosed();
        await sleep(20);
      }
      const newcomer = await loggedIn(server.tcp, "bob");
      assert.equal(newcomer.nick, "bob");
      newcomer.close();
      for (const c of [watcher, n2, n3]) c.close();
    } finally {
      await server.stop();
    }
  },
);

relayTest(
  "a store with look-alikes of two identities (written before skeletons) loads; both keep theirs",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hush-nicks-" });
    const path = `${dir}/relay.sqlite`;
    const perms = ["--allow-net", `--allow-read=${dir}`, `--allow-write=${dir}`];
    const one = generateIdentityKeyPair();
    const two = generateIdentityKeyPair();
    try {
      let server = await startServer(["--store", path], perms);
      (await loggedIn(server.tcp, "bob", { identity: one })).close();
      await server.stop();
      // What an older relay could have written: "Bob" bound to another identity.
      const db = new DatabaseSync(path);
      db.prepare("INSERT INTO bindings (nick, identity_key, last_used) VALUES (?, ?, ?)")
        .run("Bob", two.publicKey, Date.now());
      db.close();
      server = await startServer(["--store", path, "--heartbeat", "60000"], perms);
      const a = await loggedIn(server.tcp, "bob", { identity: one });
      const b = await loggedIn(server.tcp, "Bob", { identity: two });
      assert.deepEqual([a.nick, b.nick], ["bob", "Bob"]);
      const third = await loggedIn(server.tcp, "BOB");
      assert.equal(third.nick, "BOB_1");
      // Exact spellings route to their own holders.
      await third.sendEnvelope("Bob", new Uint8Array([2]));
      assert.equal((await b.next("deliver")).to, "Bob");
      await third.sendEnvelope("bob", new Uint8Array([1]));
      assert.equal((await a.next("deliver")).to, "bob");
      for (const c of [a, b, third]) c.close();
      await server.stop();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
