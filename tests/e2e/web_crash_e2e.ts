/**
 * The browser tab crashes (its renderer killed through the DevTools protocol: page and IO worker
 * die at once) while it sends a burst of private messages, its IndexedDB writes slowed to 150 ms
 * each (a slow disk, by a test-only prelude in the worker) so that some are still pending. The IO worker lets a frame leave only
 * once the writes before it are committed (docs/WEB.md, "The IO worker"), so after the user comes
 * back in the same profile: no message key is used twice (the terminal peer opens every later
 * message, with no error), nothing is shown twice, and what reached the peer is a prefix of what
 * was typed (a message whose outbox entry was saved is sent again; none is skipped).
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, webTest, WebUser, withTimeout, withWebWorld } from "./_web_harness.ts";

const wait = { timeoutMs: WAIT_MS };

webTest(
  "web: a tab that crashes mid-burst reuses no message key, skips and doubles nothing",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      // Each IndexedDB write takes 150 ms here (a slow disk): when the tab dies, writes are still
      // waiting, and the frames sealed with their state must not have left.
      const alice = await web.user({ slowIndexedDbMs: 150 });
      await alice.connect("alice");
      await alice.say("@bob hello");
      await bob.waitForType("message", (e) => e.text === "hello", wait);
      await bob.send("@alice hi");
      await alice.openConversation("bob");
      await alice.waitForMessage("hi", "bob");

      // A burst typed as fast as the driver types, then the renderer dies mid-stream.
      const burst = Array.from({ length: 20 }, (_, i) => `burst ${i}`);
      for (const text of burst) await alice.say(text);
      await withTimeout(alice.cdp.send("Page.crash"), 2_000).catch(() => {}); // no answer: it died
      const crashedAt = bob.events.length;

      // The same user, same profile, a new tab.
      const back = await WebUser.onContext(alice.context);
      web.users.push(back);
      await back.open(web.pageUrl);
      await back.connect("alice");
      const after = Array.from({ length: 5 }, (_, i) => `after ${i}`);
      // The new tab shows no history: "@bob ..." opens the conversation, the rest goes to it.
      for (const [i, text] of after.entries()) await back.say(i === 0 ? `@bob ${text}` : text);
      for (const text of after) {
        await bob.waitForType("message", (e) => e.text === text && e.from === "alice", wait);
      }
      await bob.send("@alice still there");
      await back.waitForMessage("still there", "bob");
      await settle(500);

      const shown = bob.eventsOf("message").filter((e) => e.from === "alice").map((e) => e.text);
      const count = (text: string) => shown.filter((t) => t === text).length;
      for (const text of [...burst, ...after]) {
        assert.ok(count(text) <= 1, `"${text}" shown ${count(text)} times by bob`);
      }
      for (const text of after) assert.equal(count(text), 1, `"${text}" reached bob once`);
      const reached = burst.filter((text) => count(text) === 1);
      assert.ok(reached.length >= 1, "some of the burst left before the crash");
      // Lines whose writes were still pending died with the tab, never shown as sent: the crash
      // came while writes waited (else this test proves nothing).
      assert.ok(reached.length < burst.length, "the crash came with writes pending");
      assert.deepEqual(
        reached,
        burst.slice(0, reached.length),
        `a prefix of the burst reached bob: ${reached.join(", ")}`,
      );
      // A reused message key would be refused by bob's ratchet (an error, a recovery request).
      const errors = bob.eventsOf("error");
      assert.deepEqual(errors, [], `bob reported errors: ${JSON.stringify(errors)}`);
      assert.ok(bob.events.length > crashedAt);
    });
  },
);

webTest(
  "web: when IndexedDB refuses a write, nothing more leaves the page and the user is told",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const alice = await web.user({ failableIndexedDb: true });
      await alice.connect("alice");
      await alice.say("@bob hello");
      await bob.waitForType("message", (e) => e.text === "hello", wait);

      await alice.failWrites(); // a full disk, from now on
      const sentBefore = alice.frames.filter((f) => f.dir === "sent").length;
      await alice.say("doomed");
      const alert = alice.page.getByRole("alert").filter({ hasText: /write to the home failed/i });
      await alert.first().waitFor({ state: "visible" });
      await alice.waitUntil(
        async () => /stopped|disconnected/.test(await alice.connection.first().textContent() ?? ""),
        `status "Connection" to say the page stopped`,
      );
      await settle(1_000);
      // The message sealed with state that was never saved did not leave: no SEND did (a request
      // that rests on no write, such as the FETCH_IDENTITY before sealing, may).
      const after = alice.frames.filter((f) => f.dir === "sent").slice(sentBefore);
      assert.deepEqual(
        after.filter((f) => f.bytes[0] === 0x10).map((f) => `SEND ${f.bytes.length} B`),
        [],
        "a SEND left after the failed write",
      );
      assert.equal(bob.eventsOf("message").filter((e) => e.text === "doomed").length, 0);
      assert.match(await alice.connection.first().textContent() ?? "", /write to the home failed/i);
    });
  },
);
