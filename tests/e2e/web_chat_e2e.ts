/**
 * A browser user (real Chromium, the page served by the relay) and a terminal user
 * (`client.ts --json`) talk: room and private messages both ways, and both show the same safety
 * number, which verifies on both sides.
 */

import assert from "node:assert/strict";
import { WAIT_MS, webTest, withWebWorld } from "./_web_harness.ts";

const wait = { timeoutMs: WAIT_MS };

/** Whether a users-list item's text marks the user verified (not "unverified", "not verified"). */
function isVerified(text: string): boolean {
  return /(^|[^a-z])verified/i.test(text) && !/(not |un)verified/i.test(text);
}

webTest(
  "web: a browser user and a terminal user exchange room and private messages both ways",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const alice = await web.user();
      await alice.connect("alice");
      // Both are in #lobby.
      await alice.page.getByRole("list", { name: "Rooms" }).getByRole("listitem").filter({
        hasText: "#lobby",
      }).first().waitFor();

      // Room, browser -> terminal; the own message goes from pending to sent.
      await alice.say("room hello from the browser 🌍");
      const inRoom = await bob.waitForType(
        "message",
        (e) => e.text === "room hello from the browser 🌍",
        wait,
      );
      assert.equal(inRoom.from, "alice");
      assert.equal(inRoom.private, false);
      assert.equal(inRoom.to, "lobby");
      const own = await alice.waitForMessage("room hello from the browser 🌍", "alice");
      await alice.waitUntil(
        async () => (await own.getAttribute("data-state")) === "sent",
        `data-state "sent" on the own message`,
      );

      // Room, terminal -> browser.
      await bob.send("room hello from the terminal, ünïcödé ✓");
      const fromBob = await alice.waitForMessage("room hello from the terminal, ünïcödé ✓", "bob");
      assert.equal(
        await fromBob.getAttribute("data-state"),
        null,
        "a received message has no state",
      );

      // Private, browser -> terminal.
      await alice.say("/pm bob a private word from the browser");
      const pm = await bob.waitForType(
        "message",
        (e) => e.text === "a private word from the browser",
        wait,
      );
      assert.equal(pm.from, "alice");
      assert.equal(pm.private, true);

      // Private, terminal -> browser, while the browser shows the room: an unread count, then the
      // message in the conversation.
      await alice.openRoom("lobby");
      await bob.send("@alice a private word from the terminal");
      const conversation = alice.page.getByRole("list", { name: "Conversations" })
        .getByRole("listitem").filter({ hasText: "bob" }).first();
      await alice.waitUntil(
        async () => /\b1 unread\b/.test(await conversation.textContent().catch(() => "") ?? ""),
        `"1 unread" on bob in the list "Conversations"`,
      );
      await alice.openConversation("bob");
      await alice.waitForMessage("a private word from the terminal", "bob");
      await alice.waitUntil(
        async () => !/\bunread\b/.test(await conversation.textContent() ?? ""),
        "the unread count to clear once the conversation is open",
      );
      // The private message did not land in the room's timeline: back in #lobby it is not shown.
      await alice.openRoom("lobby");
      await alice.waitForMessage("room hello from the terminal, ünïcödé ✓", "bob");
      assert.equal(await alice.messages("a private word from the terminal").count(), 0);
      // And the terminal did not get the private one as a room message.
      assert.equal(
        bob.eventsOf("message").filter((e) => e.text === "a private word from the browser").length,
        1,
      );
      assert.deepEqual(alice.pageErrors, []);
      assert.deepEqual(alice.consoleErrors, []);
    });
  },
);

webTest(
  "web: the browser's safety number dialog and the terminal's /verify show the same number; both verify",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const alice = await web.user();
      await alice.connect("alice");
      await alice.say("@bob hi, let us compare numbers");
      await bob.waitForType("message", (e) => e.text === "hi, let us compare numbers", wait);

      await bob.send("/verify alice");
      const theirs = await bob.waitForType("safety-number", (e) => e.peer === "alice", wait);
      assert.match(theirs.safetyNumber, /^\d{60}$/);

      await alice.say("/verify bob");
      const page = alice.page;
      const dialog = page.getByRole("dialog", { name: "Safety number" }).or(
        page.getByRole("region", { name: "Safety number" }),
      ).first();
      await dialog.waitFor({ state: "visible" });
      const text = (await dialog.innerText()).replace(/\s+/g, " ");
      const groups = /\b\d{5}(?: \d{5}){11}\b/.exec(text)?.[0];
      assert.ok(groups, `no 12 groups of 5 digits in the dialog: ${text}`);
      assert.equal(groups.replace(/ /g, ""), theirs.safetyNumber);
      for (const word of theirs.words) {
        assert.ok(text.includes(word), `word ${word} missing: ${text}`);
      }
      const qr = dialog.getByRole("img", { name: "QR code" }).or(dialog.getByLabel("QR code"));
      assert.ok(await qr.count() >= 1, "no QR code in the dialog");
      assert.ok(
        await dialog.locator("svg, canvas").count() >= 1,
        "the QR code is neither <svg> nor <canvas>",
      );

      // Alice types the number bob reads out (with spaces, as read aloud): bob is verified.
      await dialog.getByRole("textbox", { name: "Their number" }).fill(
        theirs.formatted.replace(/\s+/g, " "),
      );
      const bobItem = page.getByRole("list", { name: "Users" }).getByRole("listitem").filter({
        hasText: "bob",
      }).first();
      assert.ok(!isVerified(await bobItem.textContent() ?? ""), "bob shown verified too early");
      await dialog.getByRole("button", { name: "Verify" }).click();
      await alice.waitUntil(
        async () => isVerified(await bobItem.textContent() ?? ""),
        `"verified" on bob in the list "Users"`,
      );

      // Bob types the number shown in the browser: a match on his side too.
      const since = bob.events.length;
      await bob.send(`/verify alice ${groups}`);
      const verified = await bob.waitForType("verified", (e) => e.peer === "alice", {
        since,
        ...wait,
      });
      assert.equal(verified.match, true);
      assert.deepEqual(alice.pageErrors, []);
    });
  },
);

webTest(
  "web: keyboard only, and the cipher picker: a message under Caesar is marked insecure on both sides",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const alice = await web.user();
      // Keyboard only: type the nick, Enter connects; type a line, Enter sends.
      await alice.page.getByRole("textbox", { name: "Nick" }).focus();
      await alice.page.keyboard.type("alice");
      alice.nick = "alice";
      await alice.page.keyboard.press("Enter");
      await alice.waitConnected();
      await alice.messageBox.focus();
      await alice.page.keyboard.type("typed, not clicked");
      await alice.page.keyboard.press("Enter");
      await bob.waitForType("message", (e) => e.text === "typed, not clicked", wait);

      const picker = alice.page.getByRole("combobox", { name: "Cipher" });
      const options = await picker.getByRole("option").allInnerTexts();
      for (const suite of ["aes-256-gcm", "chacha20-poly1305", "caesar"]) {
        assert.ok(options.some((o) => o.includes(suite)), `option ${suite} in ${options}`);
      }
      await picker.selectOption({ value: "caesar" }).catch(() =>
        picker.selectOption({ label: "caesar" })
      );
      await alice.say("@bob shifted, not secret");
      const got = await bob.waitForType("message", (e) => e.text === "shifted, not secret", wait);
      assert.equal(got.cipher, "caesar");
      assert.equal(got.insecure, true);
      const own = await alice.waitForMessage("shifted, not secret", "alice");
      assert.match(await own.innerText(), /insecure/i);

      await bob.send("/cipher caesar");
      await bob.waitForType("cipher", (e) => e.cipher === "caesar", wait);
      await bob.send("@alice shifted back");
      const back = await alice.waitForMessage("shifted back", "bob");
      assert.match(await back.innerText(), /insecure/i);
      // A message under AES-256-GCM is not marked.
      await picker.selectOption({ value: "aes-256-gcm" }).catch(() =>
        picker.selectOption({ label: "aes-256-gcm" })
      );
      await alice.say("@bob sealed again");
      await bob.waitForType("message", (e) => e.text === "sealed again" && !e.insecure, wait);
      const sealed = await alice.waitForMessage("sealed again", "alice");
      assert.doesNotMatch(await sealed.innerText(), /insecure/i);
      assert.deepEqual(alice.pageErrors, []);
    });
  },
);
