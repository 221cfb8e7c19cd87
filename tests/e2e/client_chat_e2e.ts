import assert from "node:assert/strict";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";

Deno.test("client --json: broadcast, private messages, /list, join and leave notices, nick suffixes", async (t) => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("bob", { ws: true });
    const carol = await world.client("carol");
    const wait = { timeoutMs: WAIT_MS };

    await t.step(
      "a room message reaches every other member once, and echoes to the sender",
      async () => {
        // Everyone is in the lobby once each has seen the others join.
        await alice.waitForType("join", (e) => e.nick === "carol", wait);
        const text = "hello everyone 👋🏽 ünïcödé";
        await alice.send(text);
        const atBob = await bob.waitForType("message", (e) => e.text === text, wait);
        const atCarol = await carol.waitForType("message", (e) => e.text === text, wait);
        const own = await alice.waitForType("message", (e) => e.text === text, wait);
        for (const m of [atBob, atCarol]) {
          assert.equal(m.from, "alice");
          assert.equal(m.to, "lobby");
          assert.equal(m.private, false);
          assert.equal(m.own, false);
          assert.equal(m.insecure, false);
          assert.equal(m.cipher, "aes-256-gcm");
          assert.equal(m.id, own.id);
        }
        assert.equal(own.own, true);
        await settle();
        for (const c of [alice, bob, carol]) {
          assert.equal(c.eventsOf("message").filter((m) => m.text === text).length, 1, c.nick);
        }
      },
    );

    await t.step("/pm, /msg and @nick reach only the addressee", async () => {
      await alice.send("/pm bob secret for bob");
      await alice.send("@carol secret for carol");
      await bob.send("/msg carol from bob to carol");
      const toBob = await bob.waitForType("message", (e) => e.text === "secret for bob", wait);
      assert.equal(toBob.private, true);
      assert.equal(toBob.from, "alice");
      assert.equal(toBob.to, "bob");
      await carol.waitForType("message", (e) => e.text === "secret for carol", wait);
      await carol.waitForType("message", (e) => e.text === "from bob to carol", wait);
      await settle();
      const texts = (nick: string) =>
        [alice, bob, carol].find((c) => c.nick === nick)?.eventsOf("message").filter((m) => !m.own)
          .map((m) => m.text) ?? [];
      assert.ok(!texts("carol").includes("secret for bob"));
      assert.ok(!texts("bob").includes("secret for carol"));
      assert.ok(!texts("alice").includes("from bob to carol"));
      assert.ok(!texts("alice").includes("secret for bob"));
    });

    await t.step("/list shows who is online", async () => {
      const since = alice.events.length;
      await alice.send("/list");
      const users = await alice.waitForType("users", (e) => e.room === null, { since, ...wait });
      const online = users.users.filter((u) => u.online).map((u) => u.nick).sort();
      for (const nick of ["bob", "carol"]) assert.ok(online.includes(nick), `${nick} not listed`);
    });

    await t.step("/join and /leave notify the other members", async () => {
      await bob.send("/join dev");
      await bob.waitForType("room", (e) => e.current === "dev", wait);
      const since = bob.events.length;
      await carol.send("/join dev");
      await bob.waitForType("join", (e) => e.nick === "carol" && e.room === "dev", {
        since,
        ...wait,
      });
      await carol.send("in dev only");
      await bob.waitForType("message", (e) => e.text === "in dev only" && e.to === "dev", wait);
      await carol.send("/leave dev");
      await bob.waitForType("leave", (e) => e.nick === "carol" && e.room === "dev", {
        since,
        ...wait,
      });
      await settle();
      assert.ok(!alice.eventsOf("message").some((m) => m.text === "in dev only"));
    });

    await t.step("a second identity asking for a taken nick gets a suffix", async () => {
      const other = await world.client("alice", { home: "alice-other" });
      const ready = other.eventsOf("ready")[0];
      assert.equal(ready?.nick, "alice_1");
      assert.notEqual(ready?.fingerprint, alice.eventsOf("ready")[0]?.fingerprint);
    });

    await t.step("stdin closing ends the client with exit code 0 after its sends", async () => {
      const text = "last words before stdin closes";
      await carol.send(text);
      assert.equal(await carol.end(), 0);
      await alice.waitForType("message", (e) => e.text === text, wait);
    });
  });
});

Deno.test("client --json --room starts in that room; its messages stay there", async () => {
  await withWorld(async (world) => {
    const lobby = await world.client("lou");
    const dana = await world.client("dana", { room: "dev" });
    const eli = await world.client("eli", { room: "dev", ws: true });
    assert.equal(dana.eventsOf("ready")[0]?.room, "dev");
    await dana.waitForType("join", (e) => e.nick === "eli" && e.room === "dev", {
      timeoutMs: WAIT_MS,
    });
    await dana.send("only for dev");
    const got = await eli.waitForType("message", (e) => e.text === "only for dev", {
      timeoutMs: WAIT_MS,
    });
    assert.equal(got.to, "dev");
    await settle();
    assert.ok(!lobby.eventsOf("message").some((m) => m.text === "only for dev"));
  });
});
