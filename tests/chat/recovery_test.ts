import assert from "node:assert/strict";
import { Recovery, type RecoveryHost } from "../../chat/_recovery.ts";
import { Emitter } from "../../chat/_emitter.ts";
import { decodeChatContent } from "../../chat/content.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { SeenIds } from "../../chat/seen_ids.ts";
import { SentLog } from "../../chat/sent_log.ts";
import {
  type Hush,
  MemorySessionStore,
  type ReceivedText,
  SessionError,
} from "../../sessions/mod.ts";

const A = "aa".repeat(16);
const B = "bb".repeat(16);

const KEY_11 = new Uint8Array(32).fill(0x11);

function world(members: string[] = []) {
  const store = new MemorySessionStore();
  const sent: { to: string; payload: ReturnType<typeof decodeChatContent> }[] = [];
  const emitted: ChatEvent[] = [];
  const emitter = new Emitter(() => ({ type: "info", message: "" }));
  emitter.on((event) => emitted.push(event));
  const redistributed: string[] = [];
  const reset: string[] = [];
  const hushStub = {
    redistributeTo: (nick: string) => redistributed.push(nick),
    resetSession: (nick: string) => reset.push(nick),
    // bob's pinned identity key is 0x11..11 (see the identity test below)
    trust: { get: (nick: string) => nick === "bob" ? { identityKey: KEY_11 } : undefined },
  };
  const host: RecoveryHost = {
    hush: () => hushStub as unknown as Hush,
    emitter,
    now: () => 1_000_000,
    nick: () => "me",
    persist: () => Promise.resolve(),
    store,
    seen: new SeenIds(),
    sentLog: new SentLog(store, () => 1_000_000),
    sendPayload: (to, payload) => {
      sent.push({ to, payload: decodeChatContent(payload, 0) });
      return Promise.resolve(`${sent.length}`.padStart(32, "c"));
    },
    roomMembers: () => Promise.resolve(members),
  };
  return { host, recovery: new Recovery(host), sent, emitted, redistributed, reset };
}

function from(nick: string): ReceivedText {
  return {
    type: "text",
    from: nick,
    plaintext: new Uint8Array(),
    text: "",
    suite: "aes-256-gcm",
    insecure: false,
    verified: false,
    kind: "ratchet",
  };
}

const frame = (id: string, fromNick: string, room?: string) => ({
  type: "deliver" as const,
  id: Uint8Array.from(id.match(/../g)!.map((h) => parseInt(h, 16))),
  cipher: 1,
  from: fromNick,
  toKind: room === undefined ? "nick" as const : "room" as const,
  to: room ?? "me",
  body: new Uint8Array(),
});

Deno.test("Recovery asks once per id, shows an asked resend once, ignores an unasked one", async () => {
  const { recovery, sent, host, reset } = world();
  const events: ChatEvent[] = [];
  const noSession = new SessionError("NO_SESSION", "No session");
  assert.equal(recovery.cannotOpen(frame(A, "alice"), noSession, events), true);
  assert.equal(recovery.cannotOpen(frame(A, "alice"), noSession, events), true, "again: quiet");
  assert.equal(
    recovery.cannotOpen(frame(B, "alice"), new SessionError("BAD_MESSAGE", "x"), events),
    false,
    "not for want of a session",
  );
  assert.equal(
    recovery.cannotOpen(
      frame(B, "alice", "lobby"),
      new SessionError("DECRYPT_FAILED", "x"),
      events,
    ),
    false,
    "a room body that does not authenticate: no session would help",
  );
  assert.deepEqual(reset, [], "NO_SESSION: nothing to drop");
  assert.equal(
    recovery.cannotOpen(frame(B, "alice"), new SessionError("DECRYPT_FAILED", "x"), events),
    true,
    "a pairwise session that no longer matches",
  );
  assert.deepEqual(reset, ["alice"], "the stale session is dropped: the request starts anew");
  assert.equal(events.length, 2);
  recovery.flush();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(sent, [{ to: "alice", payload: { type: "retry", ids: [A, B] } }]);
  // Survives a restart (the store), then the resend arrives.
  const again = new Recovery(host);
  const shown: ChatEvent[] = [];
  again.onControl(from("mallory"), { type: "resend", id: A, room: null, text: "t", ts: 1 }, shown);
  again.onControl(from("alice"), { type: "resend", id: A, room: "lobby", text: "t", ts: 1 }, shown);
  assert.deepEqual(shown.map((e) => e.type), ["info", "info"], "wrong sender, wrong room: ignored");
  again.onControl(from("alice"), { type: "resend", id: A, room: null, text: "t", ts: 1 }, shown);
  again.onControl(from("alice"), { type: "resend", id: A, room: null, text: "t", ts: 1 }, shown);
  const messages = shown.filter((e) => e.type === "message");
  assert.equal(messages.length, 1);
  assert.equal(messages[0]?.type === "message" && messages[0].id, A);
});

Deno.test("Recovery answers a retry from its sent log, only to those who could read each message", async () => {
  const { recovery, host, sent, emitted, redistributed } = world(["carol"]);
  host.sentLog.record({
    id: A,
    to: "bob",
    toKind: "nick",
    recipients: ["bob"],
    text: "pm",
    ts: 1e6,
  });
  host.sentLog.record({
    id: B,
    to: "lobby",
    toKind: "room",
    recipients: ["bob"],
    text: "room",
    ts: 1e6,
  });
  recovery.onControl(from("bob"), { type: "retry", ids: [A, B] }, []);
  recovery.onControl(from("carol"), { type: "retry", ids: [A, B] }, []);
  recovery.flush();
  for (let i = 0; i < 20 && sent.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(sent, [
    { to: "bob", payload: { type: "resend", id: A, room: null, text: "pm", ts: 1e6 } },
    { to: "bob", payload: { type: "resend", id: B, room: "lobby", text: "room", ts: 1e6 } },
    // carol is in the room now and the message is recent: the room message only.
    { to: "carol", payload: { type: "resend", id: B, room: "lobby", text: "room", ts: 1e6 } },
    {
      to: "carol",
      payload: {
        type: "retry-failed",
        ids: [A],
        reason: "not in the sender's sent log (older than 7 days, beyond the last 500, or " +
          "not addressed to you, or to another identity key)",
      },
    },
  ]);
  assert.deepEqual(redistributed, ["bob", "carol"]);
  assert.equal(emitted.filter((e) => e.type === "info").length, 3);
});

Deno.test("Recovery re-sends a message to the same identity under a new nick, and a lost key of ours", async () => {
  const { recovery, host, sent, redistributed } = world();
  const K = "cc".repeat(16);
  host.sentLog.record({
    id: A,
    to: "lobby",
    toKind: "room",
    recipients: ["bob"],
    text: "room",
    ts: 1e6,
    keyIds: [K],
    identities: { bob: "11".repeat(32) },
  });
  // "bobby" is pinned to bob's key (0x11..): bob under a new nick.
  const hush = host.hush() as unknown as { trust: { get: (n: string) => unknown } };
  hush.trust.get = (nick) => nick === "bobby" ? { identityKey: KEY_11 } : undefined;
  recovery.onControl(from("bobby"), { type: "retry", ids: [K, A] }, []);
  recovery.flush();
  for (let i = 0; i < 20 && sent.length < 1; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(sent, [
    { to: "bobby", payload: { type: "resend", id: A, room: "lobby", text: "room", ts: 1e6 } },
  ]);
  assert.deepEqual(redistributed, ["bobby"]);
});

Deno.test("Recovery re-sends a message only to the identity key it was written for", async () => {
  const { recovery, host, sent } = world();
  const base = { toKind: "nick" as const, to: "bob", recipients: ["bob"], ts: 1e6 };
  host.sentLog.record({
    ...base,
    id: A,
    text: "to bob's pinned key",
    identities: { bob: "11".repeat(32) },
  });
  host.sentLog.record({
    ...base,
    id: B,
    text: "to an older bob",
    identities: { bob: "22".repeat(32) },
  });
  recovery.onControl(from("bob"), { type: "retry", ids: [A, B] }, []);
  recovery.flush();
  for (let i = 0; i < 20 && sent.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(
    sent.map((s) => [
      s.payload.type,
      s.payload.type === "resend"
        ? s.payload.id
        : s.payload.type === "retry-failed"
        ? s.payload.ids
        : null,
    ]),
    [
      ["resend", A],
      ["retry-failed", [B]],
    ],
  );
});

Deno.test("Recovery sends one of its own recovery payloads again when its reader asks for it, to the same identity only", async () => {
  const { recovery, host, sent, emitted } = world();
  host.sentLog.record({
    id: A,
    to: "bob",
    toKind: "nick",
    recipients: ["bob"],
    text: "pm",
    ts: 1e6,
    identities: { bob: "11".repeat(32) },
  });
  recovery.onControl(from("bob"), { type: "retry", ids: [A] }, []);
  recovery.flush();
  for (let i = 0; i < 20 && sent.length < 1; i++) await new Promise((r) => setTimeout(r, 5));
  const resend = { type: "resend", id: A, room: null, text: "pm", ts: 1e6 };
  assert.deepEqual(sent, [{ to: "bob", payload: resend }]);
  // bob could not open that resend (it came on a session bob had just dropped): he asks for its
  // id, which is in no sent log; its content goes again. carol asking for it gets nothing of it.
  const resendId = "1".padStart(32, "c");
  recovery.onControl(from("bob"), { type: "retry", ids: [resendId] }, []);
  recovery.onControl(from("carol"), { type: "retry", ids: [resendId] }, []);
  recovery.flush();
  for (let i = 0; i < 20 && sent.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(sent.slice(1, 2), [{ to: "bob", payload: resend }]);
  assert.equal(sent[2]?.to, "carol");
  assert.equal(sent[2]?.payload.type, "retry-failed");
  assert.equal(sent.length, 3);
  // Kept with the state: a restarted engine answers the same.
  const again = new Recovery(host);
  again.onControl(from("bob"), { type: "retry", ids: [resendId] }, []);
  again.flush();
  for (let i = 0; i < 20 && sent.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(sent.slice(3), [{ to: "bob", payload: resend }]);
  assert.equal(emitted.filter((e) => e.type === "error").length, 0);
});
