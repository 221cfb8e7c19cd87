/**
 * A peer's new identity key, seen in the browser: a banner with the old and new fingerprints,
 * sending to that peer refused (nothing goes on the wire) until "Accept new key".
 */

import assert from "node:assert/strict";
import { decodeFrame } from "../../protocol/mod.ts";
import { settle, WAIT_MS, webTest, withWebWorld, type WsFrame } from "./_web_harness.ts";

const wait = { timeoutMs: WAIT_MS };

/** The `send` frames to `nick` among these frames the page sent (one frame per WebSocket message). */
function sendsTo(frames: readonly WsFrame[], nick: string): number {
  let n = 0;
  for (const f of frames) {
    if (f.dir !== "sent") continue;
    try {
      const frame = decodeFrame(f.bytes, { maxFrameBytes: 1 << 24, from: "client" });
      if (frame.type === "send" && frame.to === nick) n++;
    } catch {
      // Not one whole frame: not counted.
    }
  }
  return n;
}

const compact = (s: string) => s.replace(/\s+/g, "").toLowerCase();

webTest("web: a peer's new identity key blocks sending in the browser until accepted", async () => {
  // A relay without a store forgets nick bindings when restarted: a new identity can take "bob".
  await withWebWorld(async (web) => {
    let bob = await web.world.client("bob");
    const oldFingerprint = bob.eventsOf("ready")[0]!.fingerprint;
    const alice = await web.user();
    await alice.connect("alice");
    await alice.say("@bob first contact");
    await bob.waitForType("message", (e) => e.text === "first contact", wait);
    await bob.send("@alice hello back");
    await alice.openConversation("bob");
    await alice.waitForMessage("hello back", "bob");
    // Sends to bob are visible on the wire (the check below is not vacuous).
    assert.ok(
      sendsTo(alice.frames, "bob") >= 1,
      "no send frame to bob decoded from the page's frames",
    );
    await bob.stop();

    web.world.relay = await web.world.relay.restart();
    await alice.waitConnected();
    bob = await web.world.client("bob", { home: "bob-reinstalled" });
    const newFingerprint = bob.eventsOf("ready")[0]!.fingerprint;
    assert.equal(bob.eventsOf("ready")[0]?.nick, "bob");
    assert.notEqual(newFingerprint, oldFingerprint);

    await bob.send("@alice I am the new bob");
    const banner = alice.page.getByRole("alert").filter({ hasText: /identity key changed/i })
      .first();
    await banner.waitFor({ state: "visible" });
    const bannerText = compact(await banner.innerText());
    assert.ok(
      bannerText.includes(compact(oldFingerprint)),
      `old fingerprint missing: ${bannerText}`,
    );
    assert.ok(
      bannerText.includes(compact(newFingerprint)),
      `new fingerprint missing: ${bannerText}`,
    );

    // Sending to bob is refused, visibly, and nothing goes on the wire.
    // A refusal is an alert of its own (not the banner, which holds the "Accept new key" button).
    const alerts = alice.page.getByRole("alert").filter({
      hasNot: alice.page.getByRole("button", { name: "Accept new key" }),
    });
    const shownBefore = new Set(await alerts.allInnerTexts());
    const before = alice.frames.length;
    await alice.say("@bob are you still you?");
    await alice.waitUntil(
      async () => (await alerts.allInnerTexts()).some((t) => !shownBefore.has(t) && /bob/.test(t)),
      `a new visible error (role alert) refusing the send to bob (shown before: ${
        [
          ...shownBefore,
        ].join(" | ")
      })`,
    );
    await settle(1_000);
    assert.equal(sendsTo(alice.frames.slice(before), "bob"), 0, "a send to bob went on the wire");
    assert.ok(!bob.eventsOf("message").some((m) => m.text === "are you still you?"));

    // Accept: sending works again.
    await banner.getByRole("button", { name: "Accept new key" }).or(
      alice.page.getByRole("button", { name: "Accept new key" }),
    ).first().click();
    await alice.say("@bob welcome back");
    const got = await bob.waitForType("message", (e) => e.text === "welcome back", wait);
    assert.equal(got.from, "alice");
    assert.equal(
      await alice.page.getByRole("alert").filter({ hasText: /identity key changed/i })
        .count(),
      0,
      "the banner stays after accepting",
    );
    assert.deepEqual(alice.pageErrors, []);
  });
});
