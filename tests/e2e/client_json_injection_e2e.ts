/**
 * Issue 10 item 12: JSON mode is not injectable. A bot that writes received text back to its own
 * stdin (a real `client.ts --json` process, the test plays its echo loop) gets a peer's text with
 * a newline and "/cipher caesar" after it. The engine escapes control characters in received
 * text, so the echo is one line and no command runs; and a structured command
 * (`{"cmd":"send","text":...}`) never reads its text as a command.
 */
import assert from "node:assert/strict";
import { encodeChatPayload } from "../../chat/content.ts";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";
import { loggedIn } from "./_relay_harness.ts";
import { hushOver } from "./_raw_hush.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: a received newline cannot make an echoing bot run /cipher caesar", async () => {
  await withWorld(async (world) => {
    const bot = await world.client("bot");
    const watcher = await world.client("watcher");
    const mallory = await loggedIn(world.relay.tcpUrl, "mallory");
    try {
      const hush = hushOver(mallory);
      const text = "echo me\n/cipher caesar";
      const out = await hush.encryptTo("bot", encodeChatPayload({ text: text, ts: Date.now() }));
      await mallory.sendEnvelope("bot", out.body, { cipher: out.suite.wireId });
      const got = await bot.waitForType("message", (e) => e.from === "mallory", wait);
      assert.equal(got.text.includes("\n"), false, "no newline reaches the bot");
      assert.equal(got.text, "echo me\u240a/cipher caesar");
      // The bot's echo loop: received text back to its stdin.
      await bot.send(got.text);
      await watcher.waitForType("message", (e) => e.from === "bot", wait);
      // Structured input: the text is sent as it is, never run as a command.
      await bot.send(JSON.stringify({ cmd: "send", text: "/cipher caesar" }));
      const literal = await watcher.waitForType(
        "message",
        (e) => e.from === "bot" && e.text === "/cipher caesar",
        wait,
      );
      assert.equal(literal.cipher, "aes-256-gcm");
      await bot.send(JSON.stringify({ cmd: "send", to: "watcher", text: "private, structured" }));
      const pm = await watcher.waitForType("message", (e) => e.private && e.from === "bot", wait);
      assert.equal(pm.text, "private, structured");
      await settle(500);
      assert.equal(bot.eventsOf("cipher").length, 0, "no /cipher ran");
      assert.equal(
        watcher.events.some((e) => e.type === "message" && e.insecure),
        false,
        "nothing went out under caesar",
      );
    } finally {
      mallory.close();
    }
  });
});
