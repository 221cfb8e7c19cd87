import assert from "node:assert/strict";
import {
  type ControlContent,
  decodeChatContent,
  encodeChatPayload,
  encodeControlPayload,
  MAX_RETRY_IDS,
} from "../../chat/content.ts";
import { MemorySessionStore } from "../../sessions/mod.ts";
import {
  SENT_LOG_MAX,
  SENT_LOG_MAX_AGE_MS,
  SENT_LOG_MAX_TEXT,
  SentLog,
} from "../../chat/sent_log.ts";

const ID = "ab".repeat(16);

Deno.test("recovery payloads round-trip; text stays text", () => {
  for (
    const content of [
      { type: "retry", ids: [ID] },
      { type: "retry-failed", ids: [ID], reason: "gone" },
      { type: "resend", id: ID, room: "lobby", text: "hi", ts: 5 },
      { type: "resend", id: ID, room: null, text: "hi", ts: 5 },
    ] as ControlContent[]
  ) {
    assert.deepEqual(decodeChatContent(encodeControlPayload(content), 1), content);
  }
  assert.deepEqual(decodeChatContent(encodeChatPayload({ text: "plain", ts: 3 }), 1), {
    type: "text",
    text: "plain",
    ts: 3,
  });
});

Deno.test("malformed recovery payloads are read as text, never as control", () => {
  const enc = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  for (
    const bad of [
      { v: 1, type: "retry", ids: [] },
      { v: 1, type: "retry", ids: ["not-hex"] },
      { v: 1, type: "retry", ids: Array(MAX_RETRY_IDS + 1).fill(ID) },
      { v: 2, type: "retry", ids: [ID] },
      { v: 1, type: "resend", id: ID, room: 3, text: "x" },
    ]
  ) {
    assert.equal(decodeChatContent(enc(bad), 1).type, "text", JSON.stringify(bad));
  }
});

Deno.test("the sent log keeps the newest messages within 7 days, in the store", () => {
  let now = 1_000_000_000_000;
  const store = new MemorySessionStore();
  const log = new SentLog(store, () => now);
  const entry = (i: number) => ({
    id: i.toString(16).padStart(32, "0"),
    to: "bob",
    toKind: "nick" as const,
    recipients: ["bob"],
    text: `m${i}`,
    ts: now,
  });
  for (let i = 0; i < SENT_LOG_MAX + 3; i++) log.record(entry(i));
  assert.equal(log.size, SENT_LOG_MAX);
  assert.equal(log.get(entry(0).id), undefined, "oldest pushed out");
  assert.equal(log.get(entry(SENT_LOG_MAX + 2).id)?.text, `m${SENT_LOG_MAX + 2}`);
  // Reloaded from the store.
  assert.equal(new SentLog(store, () => now).get(entry(10).id)?.text, "m10");
  now += SENT_LOG_MAX_AGE_MS + 1;
  assert.equal(log.get(entry(10).id), undefined, "older than 7 days");
  assert.equal(log.size, 0);
  log.record({ ...entry(7), to: "lobby", toKind: "room", ts: now, keyIds: [ID] });
  assert.equal(log.keyEntry(ID)?.id, entry(7).id);
  assert.equal(log.keyEntry("ff".repeat(16)), undefined);
});

Deno.test("the sent log keeps at most SENT_LOG_MAX_TEXT of text, dropping the oldest", () => {
  const log = new SentLog(new MemorySessionStore(), () => 1);
  const big = "x".repeat(16_000);
  for (let i = 0; i < 100; i++) {
    log.record({
      id: i.toString(16).padStart(32, "0"),
      to: "bob",
      toKind: "nick",
      recipients: ["bob"],
      text: big,
      ts: 1,
    });
  }
  assert.equal(log.size, Math.floor(SENT_LOG_MAX_TEXT / big.length));
  assert.equal(log.get((99).toString(16).padStart(32, "0"))?.text, big);
});
