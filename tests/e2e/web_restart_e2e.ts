/**
 * A relay restart (with `--store`) under a browser user and a terminal user: messages sent just
 * before, during and after the restart, in the room and privately, appear exactly once on both
 * sides.
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, webTest, type WebUser, withWebWorld } from "./_web_harness.ts";
import type { ChildClient } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

/** How many times the terminal client showed `text` (received or its own echo). */
function terminalCount(client: ChildClient, text: string): number {
  return client.eventsOf("message").filter((e) => e.text === text).length;
}

/** How many listitems of the current timeline hold exactly this message text. */
async function browserCount(user: WebUser, text: string): Promise<number> {
  const texts = await user.messages(text).allInnerTexts();
  return texts.length;
}

webTest(
  "web: a relay restart with --store loses and doubles nothing (browser and terminal)",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const alice = await web.user();
      await alice.connect("alice");
      // Sessions both ways, room and private.
      await alice.say("warm up room");
      await bob.waitForType("message", (e) => e.text === "warm up room", wait);
      await bob.send("warm up room back");
      await alice.waitForMessage("warm up room back", "bob");
      await alice.say("@bob warm up private");
      await bob.waitForType("message", (e) => e.text === "warm up private", wait);
      await bob.send("@alice warm up private back");
      await alice.openConversation("bob");
      await alice.waitForMessage("warm up private back", "bob");
      await alice.openRoom("lobby");

      const room = { alice: [] as string[], bob: [] as string[] };
      const pm = { alice: [] as string[], bob: [] as string[] };
      // Plain text goes to the open conversation and "@bob ..." opens bob's: back to #lobby first.
      const round = async (tag: string) => {
        await alice.openRoom("lobby");
        await alice.say(`room ${tag} from alice`);
        room.alice.push(`room ${tag} from alice`);
        await bob.send(`room ${tag} from bob`);
        room.bob.push(`room ${tag} from bob`);
        await alice.say(`@bob pm ${tag} from alice`);
        pm.alice.push(`pm ${tag} from alice`);
        await bob.send(`@alice pm ${tag} from bob`);
        pm.bob.push(`pm ${tag} from bob`);
      };

      // Just before the stop (in flight when the relay goes), while it is down, and after.
      await round("just-before");
      const bobBefore = bob.events.length;
      await web.world.relay.stop();
      await alice.waitUntil(
        async () => /reconnecting/i.test(await alice.connection.first().textContent() ?? ""),
        `status "Connection" to say "reconnecting"`,
      );
      await round("during");
      web.world.relay = await web.world.relay.restart();
      await alice.waitConnected();
      await bob.waitForType("ready", () => true, { since: bobBefore, ...wait });
      await round("after");

      // Everything arrives on both sides...
      for (const text of [...room.alice, ...pm.alice]) {
        await bob.waitForType("message", (e) => e.text === text && e.from === "alice", wait);
      }
      await alice.openRoom("lobby");
      for (const text of room.bob) await alice.waitForMessage(text, "bob");
      for (const text of room.alice) await alice.waitForMessage(text, "alice");
      await alice.openConversation("bob");
      for (const text of [...pm.bob, ...pm.alice]) await alice.waitForMessage(text);
      await settle(2_000);

      // ...exactly once.
      for (const text of [...room.alice, ...room.bob, ...pm.alice, ...pm.bob]) {
        const mine = room.bob.includes(text) || pm.bob.includes(text);
        // The terminal shows its own lines once (echo) and the other's once.
        assert.equal(
          terminalCount(bob, text),
          1,
          `terminal shows "${text}" ${mine ? "(own) " : ""}`,
        );
      }
      for (const text of [...pm.alice, ...pm.bob]) {
        assert.equal(await browserCount(alice, text), 1, `browser conversation shows "${text}"`);
      }
      await alice.openRoom("lobby");
      await alice.waitForMessage(room.bob.at(-1)!, "bob");
      for (const text of [...room.alice, ...room.bob]) {
        assert.equal(await browserCount(alice, text), 1, `browser room shows "${text}"`);
      }
      // Nothing of alice's is left pending.
      for (const text of room.alice) {
        assert.equal(await alice.messages(text).first().getAttribute("data-state"), "sent", text);
      }
      assert.deepEqual(alice.pageErrors, []);
    }, { store: true });
  },
);
