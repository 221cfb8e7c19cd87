/**
 * Issue 10 item 14: a first message cannot be relabelled. Both nicks are bound into the X3DH
 * associated data (docs/E2E.md), so a body frank wrote arrives at a real `client.ts --json`
 * bob as unreadable when the envelope says it is from "zed" (what a relay relabelling the sender
 * field does), and bob pins nothing to "zed". One identity that writes first messages under two
 * nicks is named in a `same-identity` event.
 *
 * The sender is a raw protocol client driving the sessions library over a real relay process
 * and TCP: logged in as "zed", it sends a body bound to "frank" (byte for byte what a relay
 * relabelling frank's envelope would deliver).
 */
import assert from "node:assert/strict";
import { publishKeysFrame } from "../../chat/key_directory.ts";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";
import { loggedIn } from "./_relay_harness.ts";
import { hushOver } from "./_raw_hush.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: frank's first message delivered as from zed does not open; zed's own does", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    const zed = await loggedIn(world.relay.tcpUrl, "zed");
    try {
      let bound = "frank";
      const hush = hushOver(zed, undefined, () => bound);
      const relabelled = await hush.encryptTo("bob", "frank's words, shown as zed's");
      assert.equal(relabelled.kind, "initial");
      await zed.sendEnvelope("bob", relabelled.body, { cipher: relabelled.suite.wireId });
      await settle(1_500);
      assert.equal(
        bob.events.some((e) => e.type === "message" && e.from === "zed"),
        false,
        "a first message bound to frank must not be shown as from zed",
      );
      // The same sender writing as itself: a new X3DH bound to "zed" (the unanswered session
      // bound to "frank" is not reused), shown normally.
      bound = "zed";
      const honest = await hush.encryptTo("bob", "zed speaking");
      assert.equal(honest.kind, "initial");
      await zed.sendEnvelope("bob", honest.body, { cipher: honest.suite.wireId });
      const shown = await bob.waitForType("message", (e) => e.text === "zed speaking", wait);
      assert.equal(shown.from, "zed");
      assert.equal(
        bob.events.some((e) => e.type === "message" && e.text === "frank's words, shown as zed's"),
        false,
      );
    } finally {
      zed.close();
    }
  });
});

Deno.test("client --json: one identity writing first messages as frank and as zed gets a same-identity event", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    const frank = await loggedIn(world.relay.tcpUrl, "frank");
    const zed = await loggedIn(world.relay.tcpUrl, "zed", { identity: frank.identity });
    try {
      const asFrank = hushOver(frank, undefined, () => "frank");
      const first = await asFrank.encryptTo("bob", "hello from frank");
      await frank.sendEnvelope("bob", first.body, { cipher: first.suite.wireId });
      await bob.waitForType("message", (e) => e.text === "hello from frank", wait);
      assert.equal(
        bob.events.some((e) => e.type === "same-identity"),
        false,
      );

      const asZed = hushOver(zed, undefined, () => "zed");
      const second = await asZed.encryptTo("bob", "hello from zed");
      await zed.sendEnvelope("bob", second.body, { cipher: second.suite.wireId });
      const warning = await bob.waitForType("same-identity", (e) => e.nick === "zed", wait);
      assert.deepEqual(warning.others, ["frank"]);
      assert.match(warning.message, /"zed" uses the same identity key as "frank"/);
      await bob.waitForType("message", (e) => e.text === "hello from zed", wait);
    } finally {
      frank.close();
      zed.close();
    }
  });
});

Deno.test("client --json: writing to a nick whose published key is another pinned nick's shows a same-identity event first", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    const frank = await loggedIn(world.relay.tcpUrl, "frank");
    const zed = await loggedIn(world.relay.tcpUrl, "zed", { identity: frank.identity });
    try {
      const asFrank = hushOver(frank, undefined, () => "frank");
      const first = await asFrank.encryptTo("bob", "hello from frank");
      await frank.sendEnvelope("bob", first.body, { cipher: first.suite.wireId });
      await bob.waitForType("message", (e) => e.text === "hello from frank", wait);
      // zed publishes a bundle under frank's identity; bob writes to zed.
      const asZed = hushOver(zed, undefined, () => "zed");
      await zed.send(publishKeysFrame(asZed.bundle(), { replace: true, ids: [] }));
      await bob.send("/pm zed who are you?");
      const warning = await bob.waitForType("same-identity", (e) => e.nick === "zed", wait);
      assert.deepEqual(warning.others, ["frank"]);
      assert.equal(warning.fingerprint, bob.eventsOf("same-identity")[0]!.fingerprint);
    } finally {
      frank.close();
      zed.close();
    }
  });
});
