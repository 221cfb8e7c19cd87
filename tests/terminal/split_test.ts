import assert from "node:assert/strict";
import { fitsOneMessage, splitText, textBytes } from "../../terminal/split.ts";
import { MAX_TEXT_BYTES } from "../../chat/mod.ts";
import { runLine } from "../../terminal/dispatch.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { FakeEngine } from "./_fake_engine.ts";

Deno.test("splitText() cuts at spaces, never inside a character, and loses nothing", () => {
  const text = "héllo wörld 👋 ".repeat(3000);
  assert.ok(!fitsOneMessage(text));
  const parts = splitText(text);
  assert.ok(parts.length >= 2);
  assert.equal(parts.join(""), text);
  for (const part of parts) assert.ok(textBytes(part) <= MAX_TEXT_BYTES, `${textBytes(part)}`);
  for (const part of parts.slice(0, -1)) assert.ok(part.endsWith(" "));
  const quotes = '"'.repeat(MAX_TEXT_BYTES); // each one is two bytes escaped
  assert.equal(splitText(quotes).length, 2);
});

Deno.test("a line over the limit is offered in parts and sent on /split", async () => {
  const engine = new FakeEngine();
  const events: ChatEvent[] = [];
  const context = { engine, emit: (e: ChatEvent) => events.push(e), cipher: () => "aes-256-gcm" };
  const long = "x".repeat(MAX_TEXT_BYTES + 10);
  await runLine(long, context);
  assert.deepEqual(engine.calls, []);
  const offer = events[0] as { code: string; message: string };
  assert.equal(offer.code, "MESSAGE_TOO_LONG");
  assert.match(
    offer.message,
    /at most 16384 bytes \(16 KiB\)\. Type \/split to send it as 2 messages/,
  );
  await runLine("/split", context);
  assert.deepEqual(engine.calls.map((c) => c[0]), ["sendRoom", "sendRoom"]);
  assert.equal(engine.calls.map((c) => c[1]).join(""), long);
  await runLine(`@bob ${long}`, context);
  await runLine("/split", context);
  assert.deepEqual(engine.calls.slice(2).map((c) => [c[0], c[1]]), [
    ["sendPrivate", "bob"],
    ["sendPrivate", "bob"],
  ]);
  await runLine("/split", context);
  assert.match((events[events.length - 1] as { message: string }).message, /Nothing to split/);
});
