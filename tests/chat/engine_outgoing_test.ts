/**
 * The engine's sending side against the relay double: refused envelopes (`undelivered`, never
 * `sent`; retried or dropped), and room lines typed while the relay is down.
 */

import assert from "node:assert/strict";
import { type ChatClient, createChatClient } from "../../chat/engine.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { type EntryValue, MemoryHome } from "../../chat/home.ts";
import { OUTBOX_FILE, OUTBOX_KEY } from "../../chat/engine.ts";
import { OUTBOX_LAZY_SAVE_MS } from "../../chat/_outgoing.ts";
import { SESSIONS_ENTRIES } from "../../chat/home_session_store.ts";
import { encodeFrame } from "../../protocol/mod.ts";
import type { ChatClientOptions } from "../../chat/_options.ts";
import { fromHex, toBase64, toHex } from "../../crypto/mod.ts";
import { FakeRelay } from "./_fake_relay.ts";

async function client(
  relay: FakeRelay,
  nick: string,
  extra: Partial<ChatClientOptions> = {},
  home = new MemoryHome(),
) {
  const events: ChatEvent[] = [];
  const engine = await createChatClient({
    server: "tcp://fake:1",
    nick,
    home,
    connectTransport: relay.connect,
    backoff: { baseMs: 1, maxMs: 4, random: () => 0 },
    closeTimeoutMs: 200,
    requestTimeoutMs: 300,
    senderKeyWaitMs: 100,
    handshakeTimeoutMs: 100,
    retryDelayMs: 30,
    ...extra,
  });
  engine.on((event) => events.push(event));
  return { engine, events, home };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`Timed out: ${what}`);
}

function of<T extends ChatEvent["type"]>(events: ChatEvent[], type: T) {
  return events.filter((e) => e.type === type) as Extract<ChatEvent, { type: T }>[];
}

function received(events: ChatEvent[]): string[] {
  return of(events, "message").filter((e) => !e.own).map((e) => e.text);
}

async function closeAll(...engines: ChatClient[]) {
  for (const engine of engines) await engine.close();
}

async function pair(relay: FakeRelay, extra: Partial<ChatClientOptions> = {}) {
  const alice = await client(relay, "alice", extra);
  const bob = await client(relay, "bob", extra);
  await alice.engine.connect();
  await bob.engine.connect();
  return { alice, bob };
}

Deno.test("ChatClient reports a refused message as undelivered, never sent, and retries it until accepted", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay);
  try {
    let full = true;
    relay.refuse = (to) => to === "bob" && full ? "QUEUE_FULL" : undefined;
    const id = await alice.engine.sendPrivate("bob", "hello");
    assert.ok(id !== undefined);
    await until(() => of(alice.events, "undelivered").length > 0, "undelivered");
    assert.deepEqual(
      of(alice.events, "undelivered").map((e) => [e.id, e.to, e.code, e.retrying]),
      [[id, "bob", "QUEUE_FULL", true]],
    );
    assert.equal(of(alice.events, "sent").length, 0);
    assert.equal(alice.engine.unacknowledged, 1, "kept in the outbox");
    await until(() => relay.sends.length >= 2, "a retry");
    assert.equal(of(alice.events, "sent").length, 0, "a refused retry is not `sent` either");
    full = false;
    await until(() => of(alice.events, "sent").some((e) => e.id === id), "sent after a retry");
    await until(() => received(bob.events).includes("hello"), "bob gets it");
    assert.ok(relay.sends.every((s) => toHex(s.id) === id), "every retry is the same envelope");
    assert.equal(alice.engine.unacknowledged, 0);
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient drops a message refused with a final code (NO_SUCH_USER, relay not restarted)", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay);
  try {
    relay.refuse = (to) => to === "bob" ? "NO_SUCH_USER" : undefined;
    const id = await alice.engine.sendPrivate("bob", "gone");
    await until(() => of(alice.events, "undelivered").length > 0, "undelivered");
    const [event] = of(alice.events, "undelivered");
    assert.deepEqual([event?.id, event?.to, event?.code, event?.retrying], [
      id,
      "bob",
      "NO_SUCH_USER",
      false,
    ]);
    await until(() => alice.engine.unacknowledged === 0, "dropped from the outbox");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(relay.sends.length, 1, "not retried");
    assert.equal(of(alice.events, "sent").length, 0);
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient keeps later private messages to a peer behind a refused one (order kept)", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay, { retryDelayMs: 200 });
  try {
    let full = true;
    relay.refuse = (to) => to === "bob" && full ? "QUEUE_FULL" : undefined;
    await alice.engine.sendPrivate("bob", "one");
    await until(() => of(alice.events, "undelivered").length > 0, "undelivered");
    full = false;
    await alice.engine.sendPrivate("bob", "two");
    await until(() => received(bob.events).length === 2, "both arrive");
    assert.deepEqual(received(bob.events), ["one", "two"]);
    await until(() => of(alice.events, "sent").length === 2, "both sent");
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient retries a room message refused for one member; others drop the duplicate", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay);
  const carol = await client(relay, "carol");
  try {
    await carol.engine.connect();
    let full = true;
    relay.refuse = (to, envelope) =>
      to === "bob" && envelope.toKind === "room" && full ? "QUEUE_FULL" : undefined;
    const id = await alice.engine.sendRoom("to all");
    await until(() => of(alice.events, "undelivered").length > 0, "undelivered");
    assert.deepEqual(
      of(alice.events, "undelivered").map((e) => [e.id, e.to, e.retrying]),
      [[id, "bob", true]],
    );
    await until(() => received(carol.events).includes("to all"), "carol has it");
    assert.equal(of(alice.events, "sent").length, 0);
    full = false;
    await until(() => of(alice.events, "sent").some((e) => e.id === id), "sent after a retry");
    await until(() => received(bob.events).includes("to all"), "bob has it");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(received(carol.events), ["to all"], "carol shows it once");
  } finally {
    await closeAll(alice.engine, bob.engine, carol.engine);
  }
});

Deno.test("ChatClient retries a refused sender key, and the room message with it", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay, { senderKeyWaitMs: 5_000 });
  try {
    let full = true;
    // Only the sender-key distribution to bob is refused; the room message reaches him.
    relay.refuse = (to, envelope) =>
      to === "bob" && envelope.toKind === "nick" && full ? "QUEUE_FULL" : undefined;
    const id = await alice.engine.sendRoom("keyed");
    await until(() => of(alice.events, "undelivered").length > 0, "undelivered");
    assert.deepEqual(
      of(alice.events, "undelivered").map((e) => [e.id, e.to, e.code, e.retrying]),
      [[id, "bob", "QUEUE_FULL", true]],
      "the room message is reported, not the sender-key envelope",
    );
    const before = relay.sends.length;
    await until(() => relay.sends.length >= before + 2, "a retry");
    assert.equal(of(alice.events, "sent").length, 0, "no `sent` while bob lacks the key");
    full = false;
    await until(() => of(alice.events, "sent").some((e) => e.id === id), "sent");
    await until(() => received(bob.events).includes("keyed"), "bob reads it");
    const roomSends = relay.sends.filter((s) => s.toKind === "room");
    assert.ok(roomSends.length >= 2, "the room message went again after its sender key");
    assert.ok(roomSends.every((s) => toHex(s.id) === id), "with the same id");
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient close() does not wait for a refused envelope's retry", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay, { retryDelayMs: 60_000, closeTimeoutMs: 5_000 });
  try {
    relay.refuse = (to) => to === "bob" ? "QUEUE_FULL" : undefined;
    await alice.engine.sendPrivate("bob", "later");
    await until(() => of(alice.events, "undelivered").length > 0, "undelivered");
    const started = Date.now();
    await alice.engine.close();
    assert.ok(Date.now() - started < 2_000, "closed without waiting for the close timeout");
    assert.equal(alice.engine.unacknowledged, 1, "still in the outbox for the next start");
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient queues a room line typed while the relay is down and sends it after reconnecting", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay, { requestTimeoutMs: 100 });
  try {
    relay.down = true;
    relay.dropAll();
    await until(() => !alice.engine.connected, "alice disconnected");
    const first = await alice.engine.sendRoom("while down 1");
    const second = await alice.engine.sendRoom("while down 2");
    assert.ok(first !== undefined && second !== undefined);
    // Longer than any request timeout: the lines must still be there.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(of(alice.events, "error").filter((e) => e.code === "NOT_CONNECTED").length, 0);
    assert.equal(alice.engine.unacknowledged, 2);
    relay.down = false;
    await until(() => received(bob.events).length === 2, "bob gets both");
    assert.deepEqual(received(bob.events), ["while down 1", "while down 2"]);
    const ids = of(bob.events, "message").map((e) => e.id);
    assert.deepEqual(ids, [first, second], "with the ids the sender was told");
    await until(() => of(alice.events, "sent").length === 2, "both sent");
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient keeps queued room lines across a restart of the client", async () => {
  const relay = new FakeRelay();
  const { alice, bob } = await pair(relay, { requestTimeoutMs: 100 });
  const home = alice.home;
  try {
    // A session with bob exists, so a private line needs no key lookup while the relay is down.
    await alice.engine.sendPrivate("bob", "hi");
    await until(() => received(bob.events).includes("hi"), "bob has the first message");
    relay.down = true;
    relay.dropAll();
    await until(() => !alice.engine.connected, "alice disconnected");
    await alice.engine.sendRoom("room line");
    await alice.engine.sendPrivate("bob", "private line");
    await alice.engine.close();
    relay.down = false;
    const again = await client(relay, "alice", { requestTimeoutMs: 100 }, home);
    try {
      await again.engine.connect();
      await until(() => received(bob.events).length === 3, "bob gets both");
      assert.deepEqual(received(bob.events), ["hi", "room line", "private line"], "typed order");
    } finally {
      await again.engine.close();
    }
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient retries a room message refused with STORE_FAILED within seconds, and later room messages wait behind it", async () => {
  const relay = new FakeRelay();
  // The QUEUE_FULL retry is a minute away here: STORE_FAILED must not wait for it.
  const { alice, bob } = await pair(relay, { retryDelayMs: 60_000 });
  try {
    let locked = true;
    relay.refuse = (_to, envelope) =>
      envelope.toKind === "room" && locked ? "STORE_FAILED" : undefined;
    const first = await alice.engine.sendRoom("first");
    await until(() => of(alice.events, "undelivered").length > 0, "undelivered");
    assert.deepEqual(
      of(alice.events, "undelivered").map((e) => [e.id, e.code, e.retrying]),
      [[first, "STORE_FAILED", true]],
    );
    locked = false;
    const second = await alice.engine.sendRoom("second");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(received(bob.events), [], "the second waits behind the first");
    for (let i = 0; i < 100 && received(bob.events).length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(received(bob.events), ["first", "second"], "in order, within seconds");
    assert.deepEqual(
      of(alice.events, "sent").map((e) => e.id).sort(),
      [first, second].sort(),
    );
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

/** A home whose per-key stores record every commit (the keys it wrote). */
class RecordingHome extends MemoryHome {
  commits: string[][] = [];
  override async openEntries(name: string) {
    const inner = await super.openEntries(name);
    return {
      load: () => inner.load(),
      commit: (changes: ReadonlyMap<string, EntryValue | undefined>) => {
        this.commits.push([...changes.keys()]);
        return inner.commit(changes);
      },
    };
  }
}

Deno.test("ChatClient saves a message's envelope in the same commit as the ratchet step that encrypted it", async () => {
  const relay = new FakeRelay();
  const home = new RecordingHome();
  const alice = await client(relay, "alice", {}, home);
  const bob = await client(relay, "bob");
  try {
    await alice.engine.connect();
    await bob.engine.connect();
    for (const text of ["first", "second"]) {
      const before = home.commits.length;
      await alice.engine.sendPrivate("bob", text);
      await until(() => received(bob.events).includes(text), text);
      // The first commit after the call holds both: no commit of the ratchet alone before it
      // (a crash there is safe but costs a write) and no outbox saved without its ratchet.
      const first = home.commits[before];
      assert.ok(first !== undefined, `a commit for "${text}"`);
      assert.ok(first.includes(OUTBOX_KEY), `outbox in ${first}`);
      assert.ok(first.includes("session/bob"), `ratchet in ${first}`);
    }
    assert.equal(await home.read(OUTBOX_FILE), undefined, "no outbox file");
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});

Deno.test("ChatClient reads an older home's outbox.json, sends what it held, and keeps the outbox in the store", async () => {
  const relay = new FakeRelay();
  const home = new MemoryHome();
  // An envelope left by an older version: a SEND to bob (the relay does not read the body).
  const id = "0123456789abcdef0123456789abcdef";
  const frame = encodeFrame({
    type: "send",
    id: fromHex(id),
    cipher: 1,
    from: "alice",
    toKind: "nick",
    to: "bob",
    body: new Uint8Array([1, 2, 3]),
  });
  await home.write(
    OUTBOX_FILE,
    JSON.stringify([{ id, frame: toBase64(frame), meta: { from: "alice", to: "bob" } }]),
  );
  const again = await client(relay, "alice", {}, home);
  try {
    assert.equal(again.engine.unacknowledged, 1, "the file's envelope is in the outbox");
    await again.engine.connect();
    await until(() => again.engine.unacknowledged === 0, "accepted");
    assert.ok(relay.sends.some((f) => toHex(f.id) === id), "sent with its id");
  } finally {
    await again.engine.close();
  }
  // Saved in the store since: the next start removes the stale file and reads the store.
  const third = await client(relay, "alice", {}, home);
  try {
    assert.equal(await home.read(OUTBOX_FILE), undefined, "the old file is gone");
    assert.equal(third.engine.unacknowledged, 0);
  } finally {
    await third.engine.close();
  }
});

Deno.test("ChatClient saves what ACCEPTED took out of the outbox with a later commit, not one of its own at once", async () => {
  const relay = new FakeRelay();
  const home = new RecordingHome();
  const alice = await client(relay, "alice", {}, home);
  const bob = await client(relay, "bob");
  const stored = async () => {
    const entries = await (await home.openEntries(SESSIONS_ENTRIES)).load();
    return String(entries.get(OUTBOX_KEY));
  };
  try {
    await alice.engine.connect();
    await bob.engine.connect();
    await alice.engine.sendPrivate("bob", "first");
    await until(() => alice.engine.unacknowledged === 0, "accepted");
    const after = home.commits.length;
    assert.match(await stored(), /"frame"/, "still saved: a crash now sends it again");
    // Within the lazy delay the removal is committed, once, with what else waited (the sent log).
    await new Promise((resolve) => setTimeout(resolve, OUTBOX_LAZY_SAVE_MS + 100));
    assert.doesNotMatch(await stored(), /"frame"/);
    const later = home.commits.slice(after);
    assert.equal(later.length, 1, `one commit, not ${JSON.stringify(later)}`);
    assert.ok(later[0]!.includes(OUTBOX_KEY));
  } finally {
    await closeAll(alice.engine, bob.engine);
  }
});
