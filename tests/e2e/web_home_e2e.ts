/**
 * The browser's home (IndexedDB) across a reload, under a passphrase: the wrong passphrase opens
 * nothing, the right one brings back the same identity (the terminal peer sees no key change).
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, webTest, withWebWorld } from "./_web_harness.ts";

const wait = { timeoutMs: WAIT_MS };

webTest(
  "web: a passphrase-locked home survives a reload with the same identity; a wrong passphrase opens nothing",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const alice = await web.user();
      await alice.connect("alice", { passphrase: "correct horse battery staple" });
      await alice.say("@bob before the reload");
      const first = await bob.waitForType("message", (e) => e.text === "before the reload", wait);
      assert.equal(first.from, "alice");

      await alice.page.reload({ waitUntil: "load" });
      const page = alice.page;
      await page.getByRole("textbox", { name: "Nick" }).fill("alice");
      await page.getByRole("textbox", { name: "Passphrase" }).fill("wrong horse");
      await page.getByRole("button", { name: "Connect" }).click();
      await alice.waitUntil(
        async () =>
          (await page.getByRole("alert").allInnerTexts()).some((t) => /passphrase|lock/i.test(t)),
        "an alert about the wrong passphrase",
      );
      await settle(1_000);
      assert.ok(
        !/connected as/.test(await alice.connection.first().textContent().catch(() => "") ?? ""),
        "connected with a wrong passphrase",
      );

      const since = bob.events.length;
      await page.getByRole("textbox", { name: "Nick" }).fill("alice");
      await page.getByRole("textbox", { name: "Passphrase" }).fill("correct horse battery staple");
      await page.getByRole("button", { name: "Connect" }).click();
      await alice.waitConnected();
      await alice.say("@bob after the reload");
      const second = await bob.waitForType("message", (e) => e.text === "after the reload", {
        since,
        ...wait,
      });
      assert.equal(second.from, "alice");
      // The same identity: bob saw no key change for alice.
      assert.equal(
        bob.events.slice(since).filter((e) => e.type === "identity-changed").length,
        0,
        "bob saw alice's identity key change",
      );
      assert.deepEqual(alice.pageErrors, []);
    });
  },
);
