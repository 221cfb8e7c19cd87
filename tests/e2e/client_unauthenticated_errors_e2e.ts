/**
 * Issue 10 item 16: an error raised before a message authenticates is not pinned on the sender the
 * envelope names. A real `client.ts --json --refuse-insecure` bob receives, from a raw protocol
 * client "alice" over a real relay: a message whose suite byte was flipped to Caesar on the way
 * (what a relay can do), and then a genuine Caesar message. Only the genuine one is refused as
 * alice's (`INSECURE_SUITE_REFUSED`); the flipped one fails to authenticate and says so.
 */
import assert from "node:assert/strict";
import { encodeChatPayload } from "../../chat/content.ts";
import { getCipherSuite } from "../../crypto/mod.ts";
import { INITIAL_PREFIX_LENGTH } from "../../sessions/message.ts";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";
import { loggedIn } from "./_relay_harness.ts";
import { hushOver } from "./_raw_hush.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: a suite byte flipped to caesar on the way is not blamed on the sender", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob", { args: ["--refuse-insecure"] });
    const alice = await loggedIn(world.relay.tcpUrl, "alice");
    try {
      const hush = hushOver(alice);
      const payload = (text: string) => encodeChatPayload({ text, ts: Date.now() });
      const hello = await hush.encryptTo("bob", payload("hello bob"));
      await alice.sendEnvelope("bob", hello.body, { cipher: hello.suite.wireId });
      await bob.waitForType("message", (e) => e.text === "hello bob", wait);

      // A genuine Caesar message: it authenticates, then is refused as alice's.
      const caesar = getCipherSuite("caesar");
      hush.setSuite("bob", "caesar");
      const genuine = await hush.encryptTo("bob", payload("really caesar"));
      await alice.sendEnvelope("bob", genuine.body, { cipher: caesar.wireId });
      const refused = await bob.waitForType(
        "error",
        (e) => e.code === "INSECURE_SUITE_REFUSED",
        wait,
      );
      assert.match(refused.message, /from "alice"/);
      assert.doesNotMatch(refused.message, /unauthenticated/);

      // An AES message whose authenticated suite byte was flipped to Caesar on the way: it does
      // not authenticate, so it is not refused as alice's Caesar message.
      hush.setSuite("bob", "aes-256-gcm");
      const second = await hush.encryptTo("bob", payload("second"));
      const at = second.kind === "initial" ? INITIAL_PREFIX_LENGTH + 2 : 2;
      const flipped = second.body.slice();
      flipped[at] = caesar.wireId;
      const before = bob.events.length;
      await alice.sendEnvelope("bob", flipped, { cipher: caesar.wireId });
      await settle(2_000);
      const after = bob.events.slice(before);
      assert.equal(
        after.some((e) => e.type === "error" && e.code === "INSECURE_SUITE_REFUSED"),
        false,
        `the tampered message is blamed on alice: ${JSON.stringify(after)}`,
      );
      for (const e of after) {
        if (e.type === "error" && e.message.includes("Cannot open")) {
          assert.match(e.message, /unauthenticated/);
        }
      }
      assert.equal(
        bob.events.some((e) => e.type === "message" && /caesar|second/.test(e.text)),
        false,
      );
    } finally {
      alice.close();
    }
  });
});
