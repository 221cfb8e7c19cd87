/**
 * Issue 10 item 11: a peer cannot grow the victim's state with sender-key distributions for rooms
 * the victim is not in. A raw protocol client (the sessions library over a real relay and TCP)
 * sends a real `client.ts --json` bob 40 distributions for 40 rooms bob never joined, then one
 * for the room they share; bob's session store (`sessions.sqlite`, one row per key) keeps only
 * the last, and the room message under it is shown.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { encodeChatPayload } from "../../chat/content.ts";
import { DEFAULT_ROOM } from "../../protocol/mod.ts";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";
import { loggedIn } from "./_relay_harness.ts";
import { hushOver } from "./_raw_hush.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: sender keys for rooms bob is not in are not kept", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    const mallory = await loggedIn(world.relay.tcpUrl, "mallory");
    try {
      const hush = hushOver(mallory);
      await mallory.send({ type: "join", room: DEFAULT_ROOM });
      await mallory.next("joined");
      const hello = await hush.encryptTo("bob", "hello bob");
      await mallory.sendEnvelope("bob", hello.body, { cipher: hello.suite.wireId });
      await bob.waitForType("message", (e) => e.text === "hello bob", wait);
      for (let i = 0; i < 40; i++) {
        const send = await hush.encryptToRoom(`junk${i}`, ["bob"], new Uint8Array([1]));
        for (const d of send.distributions) {
          await mallory.sendEnvelope(d.to, d.body, { cipher: d.suite.wireId });
        }
      }
      // The shared room still works: its key is kept and its message shown.
      const payload = encodeChatPayload({ text: "in the lobby", ts: Date.now() });
      const send = await hush.encryptToRoom(DEFAULT_ROOM, ["bob"], payload);
      for (const d of send.distributions) {
        await mallory.sendEnvelope(d.to, d.body, { cipher: d.suite.wireId });
      }
      await mallory.sendEnvelope(DEFAULT_ROOM, send.room.body, {
        toKind: "room",
        cipher: send.room.suite.wireId,
      });
      await bob.waitForType("message", (e) => e.from === "mallory" && e.to === DEFAULT_ROOM, wait);
      await settle(500);
      const db = new DatabaseSync(`${world.dir}/bob/sessions.sqlite`);
      const keys = db.prepare("SELECT key FROM entries").all().map((row) => String(row.key));
      db.close();
      assert.equal(
        keys.some((k) => /room\/junk\d+\/in/.test(k)),
        false,
        "no key of a room bob is not in",
      );
      assert.ok(keys.includes("room/lobby/in/mallory"), keys.join(" "));
    } finally {
      mallory.close();
    }
  });
});
