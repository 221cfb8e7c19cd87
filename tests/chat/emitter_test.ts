import assert from "node:assert/strict";
import { HushError } from "../../crypto/mod.ts";
import { Emitter, escapeControls, messageEvent } from "../../chat/_emitter.ts";
import type { ChatEvent } from "../../chat/events.ts";

function recorder(): { emitter: Emitter; events: ChatEvent[] } {
  const events: ChatEvent[] = [];
  const emitter = new Emitter((nick) => ({
    type: "identity-changed",
    peer: nick,
    oldFingerprint: "old",
    newFingerprint: "new",
  }));
  emitter.on((event) => events.push(event));
  return { emitter, events };
}

Deno.test("Emitter delivers every event in order, past a listener that throws", () => {
  const { emitter, events } = recorder();
  const second: ChatEvent[] = [];
  emitter.on(() => {
    throw new Error("a buggy UI");
  });
  const off = emitter.on((event) => second.push(event));
  emitter.emit({ type: "info", message: "one" });
  off();
  emitter.emit({ type: "info", message: "two" });
  assert.deepEqual(events.map((e) => e.type === "info" && e.message), ["one", "two"]);
  assert.equal(second.length, 1);
});

Deno.test("Emitter.reportError() keeps a Hush error's code and calls anything else INTERNAL_ERROR", () => {
  const { emitter, events } = recorder();
  emitter.reportError(new HushError("NO_BUNDLE", "No keys"));
  emitter.reportError(new Error("boom"));
  emitter.reportError("text");
  assert.deepEqual(events, [
    { type: "error", code: "NO_BUNDLE", message: "No keys" },
    { type: "error", code: "INTERNAL_ERROR", message: "boom" },
    { type: "error", code: "INTERNAL_ERROR", message: "text" },
  ]);
});

Deno.test("Emitter.reportError() announces identity-changed before an IDENTITY_CHANGED error about a peer", () => {
  const { emitter, events } = recorder();
  emitter.reportError(new HushError("IDENTITY_CHANGED", "Changed"), "bob");
  emitter.reportError(new HushError("IDENTITY_CHANGED", "Changed"));
  assert.deepEqual(events.map((e) => e.type), ["identity-changed", "error", "error"]);
});

Deno.test("messageEvent() writes the fields in the order of the JSON schema", () => {
  const event = messageEvent(
    { ts: 5, text: "hi", private: true, to: "bob", from: "alice", id: "00" },
    { own: false, verified: true, insecure: false, cipher: "aes-256-gcm" },
  );
  assert.equal(
    JSON.stringify(event),
    '{"type":"message","id":"00","from":"alice","to":"bob","private":true,"text":"hi",' +
      '"cipher":"aes-256-gcm","insecure":false,"verified":true,"ts":5,"own":false}',
  );
});

Deno.test("escapeControls: a received text is one line without control characters", () => {
  assert.equal(
    escapeControls("a\nb\r\tc\x1b[2J\x7f\x85"),
    "a\u240ab\u240d\u2409c\u241b[2J\u2421\ufffd",
  );
  assert.equal(escapeControls("plain ünïcode"), "plain ünïcode");
});
