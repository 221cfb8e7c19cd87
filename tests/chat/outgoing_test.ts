/**
 * The sending half against a stub engine: what READY says of the relay's storage (protocol
 * version 2: `durable`, `epoch`), the unconfirmed list resent after an epoch change, and
 * `NO_SUCH_USER` right after one. (The relay double speaks version 1; the end-to-end test with a
 * real in-memory relay restarting comes with the relay's READY epoch.)
 */

import assert from "node:assert/strict";
import type { RelayLink } from "../../chat/_connection.ts";
import type { Directory } from "../../chat/_directory.ts";
import { Emitter } from "../../chat/_emitter.ts";
import {
  DRAIN_RETRY_DELAY_MS,
  EPOCH_GRACE_MS,
  Outgoing,
  type RelayMemory,
  RETRY_GIVE_UP_MS,
} from "../../chat/_outgoing.ts";
import type { Rooms } from "../../chat/_rooms.ts";
import type { ChatEvent } from "../../chat/events.ts";
import { Outbox } from "../../chat/outbox.ts";
import { fromHex, toHex } from "../../crypto/mod.ts";
import { decodeFrame, encodeFrame } from "../../protocol/mod.ts";
import type { Hush } from "../../sessions/mod.ts";

const EPOCH_A = Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1);
const EPOCH_B = Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2);

function envelope(n: number, to = "bob") {
  const id = n.toString(16).padStart(32, "0");
  const frame = encodeFrame({
    type: "send",
    id: fromHex(id),
    cipher: 1,
    from: "alice",
    toKind: "nick",
    to,
    body: Uint8Array.of(n),
  });
  return { id, frame, meta: { from: "alice", to, toKind: "nick", kind: "ratchet" } };
}

/** An engine as Outgoing sees it: one ready connection that records what is written. */
function harness(memory: RelayMemory = {}, outbox = new Outbox()) {
  const written: string[] = [];
  const events: ChatEvent[] = [];
  const emitter = new Emitter(() => ({ type: "info", message: "" }));
  emitter.on((event) => events.push(event));
  const clock = { now: 1_000_000 };
  const rotated: string[] = [];
  const files = new Map<string, string>();
  const online = new Set<string>();
  const link = {
    closed: false,
    connected: true,
    connection: {
      ready: true,
      transport: {
        send: (frame: Uint8Array) => {
          const decoded = decodeFrame(frame, { from: "client" });
          if (decoded.type === "send") written.push(toHex(decoded.id));
        },
      },
    },
  };
  const outgoing = new Outgoing({
    hush: () => ({ rotateRoomKeys: (room: string) => rotated.push(room) }) as unknown as Hush,
    emitter,
    now: () => clock.now,
    nick: () => "alice",
    persist: () => Promise.resolve(),
    link: link as unknown as RelayLink,
    directory: {} as Directory,
    rooms: { isOnline: (nick: string) => online.has(nick) } as unknown as Rooms,
    outbox,
    formerNicks: () => [],
    wire: () => false,
    stageOutbox: (json: string) => void files.set("outbox", json),
    writeUnconfirmed: (json: string) => Promise.resolve(void files.set("unconfirmed", json)),
    relayMemory: () => memory,
    retryDelayMs: 60_000,
  });
  /** A new connection: the outbox forgets what it handed out, READY, everything flushed. */
  const reconnect = (storage: { durable?: boolean; epoch?: Uint8Array }) => {
    outbox.resetConnection();
    outgoing.onReady(storage);
    outgoing.flush();
  };
  const sent = () => events.flatMap((e) => e.type === "sent" ? [e.id] : []);
  const undelivered = () =>
    events.flatMap((e) => e.type === "undelivered" ? [[e.id, e.code, e.retrying]] : []);
  return {
    outgoing,
    outbox,
    written,
    events,
    clock,
    memory,
    rotated,
    files,
    online,
    reconnect,
    sent,
    undelivered,
  };
}

function rejected(seq: number, id: string, code: string) {
  return {
    type: "rejected" as const,
    seq,
    id: fromHex(id),
    recipientKind: "nick" as const,
    recipient: "bob",
    code,
    detail: code,
  };
}

Deno.test("Outgoing keeps what a non-durable relay accepted and resends it after the relay's epoch changes", () => {
  const h = harness();
  try {
    h.reconnect({ durable: false, epoch: EPOCH_A });
    h.outbox.enqueue(envelope(1));
    h.outbox.enqueue(envelope(2));
    h.outgoing.flush();
    h.outgoing.onAccepted(2);
    assert.deepEqual(h.sent(), [envelope(1).id, envelope(2).id]);
    assert.equal(h.outbox.size, 0);
    assert.equal(h.outbox.unconfirmed.length, 2, "kept: the relay may lose them");

    // A reconnect to the same relay instance: nothing to resend.
    h.written.length = 0;
    h.reconnect({ durable: false, epoch: EPOCH_A });
    assert.deepEqual(h.written, []);

    // The relay restarted (a new epoch): both go again, same ids, in order, no second `sent`.
    h.reconnect({ durable: false, epoch: EPOCH_B });
    assert.deepEqual(h.written, [envelope(1).id, envelope(2).id]);
    assert.ok(h.events.some((e) => e.type === "info" && /restarted/.test(e.message)));
    h.outgoing.onAccepted(2);
    assert.deepEqual(h.sent(), [envelope(1).id, envelope(2).id], "no second `sent`");
    assert.equal(h.outbox.size, 0);
    assert.equal(h.memory.epoch, toHex(EPOCH_B));
    assert.equal(h.memory.epochChangedAt, h.clock.now);
    // Accepted again in the new epoch: kept for the next restart, not resent on this one.
    assert.deepEqual(h.outbox.unconfirmed.map((e) => e.meta?.epoch), [
      toHex(EPOCH_B),
      toHex(EPOCH_B),
    ]);
  } finally {
    h.outgoing.stop();
  }
});

Deno.test("Outgoing saves the unconfirmed list apart, lazily, not with every outbox save", async () => {
  const h = harness();
  try {
    h.reconnect({ durable: false, epoch: EPOCH_A });
    h.outbox.enqueue(envelope(1));
    h.outgoing.flush();
    h.outgoing.onAccepted(1);
    await h.outgoing.save();
    assert.equal(h.files.get("outbox"), "[]");
    assert.equal(h.files.get("unconfirmed"), undefined, "not yet");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.deepEqual(
      Outbox.fromJSON("[]", h.files.get("unconfirmed")).unconfirmed.map((e) => e.id),
      [envelope(1).id],
    );
  } finally {
    h.outgoing.stop();
  }
});

Deno.test("Outgoing keeps nothing for a durable relay, nor for one that names no epoch", () => {
  for (const storage of [{ durable: true, epoch: EPOCH_A }, {}]) {
    const h = harness();
    try {
      h.reconnect(storage);
      h.outbox.enqueue(envelope(1));
      h.outgoing.flush();
      h.outgoing.onAccepted(1);
      assert.deepEqual(h.sent(), [envelope(1).id]);
      assert.equal(h.outbox.unconfirmed.length, 0);
    } finally {
      h.outgoing.stop();
    }
  }
});

Deno.test("Outgoing resends the unconfirmed list after a client restart when the relay restarted too", async () => {
  const first = harness();
  first.reconnect({ durable: false, epoch: EPOCH_A });
  first.outbox.enqueue(envelope(1));
  first.outgoing.flush();
  first.outgoing.onAccepted(1);
  first.outgoing.stop();
  // Closing saves the unconfirmed list (otherwise saved within a second), the profile the epoch.
  await first.outgoing.save(true);
  const memory = JSON.parse(JSON.stringify(first.memory)) as RelayMemory;
  const restored = Outbox.fromJSON(first.files.get("outbox")!, first.files.get("unconfirmed"));
  const second = harness(memory, restored);
  try {
    second.reconnect({ durable: false, epoch: EPOCH_B });
    assert.deepEqual(second.written, [envelope(1).id]);
  } finally {
    second.outgoing.stop();
  }
});

Deno.test("Outgoing treats NO_SUCH_USER right after an epoch change as passing and retries when the peer is back", () => {
  const h = harness({ epoch: toHex(EPOCH_A) });
  try {
    h.reconnect({ durable: false, epoch: EPOCH_B });
    h.outbox.enqueue(envelope(1));
    h.outgoing.flush();
    h.outgoing.onRejected(rejected(1, envelope(1).id, "NO_SUCH_USER"));
    h.outgoing.onAccepted(1);
    assert.deepEqual(h.undelivered(), [[envelope(1).id, "NO_SUCH_USER", true]]);
    assert.deepEqual(h.sent(), []);
    assert.equal(h.outbox.size, 1, "kept");
    // Someone else coming back changes nothing; bob coming back sends it at once.
    h.written.length = 0;
    h.outgoing.peerBack("carol");
    assert.deepEqual(h.written, []);
    h.outgoing.peerBack("bob");
    assert.deepEqual(h.written, [envelope(1).id]);
    h.outgoing.onAccepted(2);
    assert.deepEqual(h.sent(), [envelope(1).id]);
    assert.equal(h.outbox.size, 0);

    // Long after the epoch change, NO_SUCH_USER is final again.
    h.clock.now += EPOCH_GRACE_MS + 1;
    h.outbox.enqueue(envelope(2));
    h.outgoing.flush();
    h.outgoing.onRejected(rejected(3, envelope(2).id, "NO_SUCH_USER"));
    h.outgoing.onAccepted(3);
    assert.deepEqual(h.undelivered().at(-1), [envelope(2).id, "NO_SUCH_USER", false]);
    assert.equal(h.outbox.size, 0);
  } finally {
    h.outgoing.stop();
  }
});

Deno.test("Outgoing treats NO_SUCH_USER for an envelope resent after an epoch change as passing", () => {
  const h = harness();
  try {
    h.reconnect({ durable: false, epoch: EPOCH_A });
    h.outbox.enqueue(envelope(1));
    h.outgoing.flush();
    h.outgoing.onAccepted(1);
    h.clock.now += EPOCH_GRACE_MS * 2; // however long ago: the relay lost bob's binding too
    h.reconnect({ durable: false, epoch: EPOCH_B });
    h.memory.epochChangedAt = 0; // only the envelope's own history counts here
    h.outgoing.onRejected(rejected(1, envelope(1).id, "NO_SUCH_USER"));
    h.outgoing.onAccepted(1);
    assert.deepEqual(h.undelivered(), [[envelope(1).id, "NO_SUCH_USER", true]]);
    assert.equal(h.outbox.size, 1);
  } finally {
    h.outgoing.stop();
  }
});

Deno.test("Outgoing retries a QUEUE_FULL envelope within seconds while its recipient is online, and brings an offline retry forward when the recipient comes back", () => {
  const h = harness();
  try {
    h.reconnect({ durable: true, epoch: EPOCH_A });
    // Bob away: the normal first wait (60 s in this harness).
    h.outbox.enqueue(envelope(1));
    h.outgoing.flush();
    h.outgoing.onRejected(rejected(1, envelope(1).id, "QUEUE_FULL"));
    h.outgoing.onAccepted(1);
    const away = h.outbox.entries[0]!;
    assert.equal(h.outbox.heldUntil(away), h.clock.now + 60_000);
    // Bob comes online: he reads his queue, the retry comes within 2 s.
    h.clock.now += 5_000;
    h.online.add("bob");
    h.outgoing.peerBack("bob");
    assert.equal(h.outbox.heldUntil(away), h.clock.now + DRAIN_RETRY_DELAY_MS);
    // Refused again while he is online: 2 s doubled, not 120 s.
    h.clock.now += DRAIN_RETRY_DELAY_MS;
    h.reconnect({ durable: true, epoch: EPOCH_A });
    h.outgoing.onRejected(rejected(1, envelope(1).id, "QUEUE_FULL"));
    h.outgoing.onAccepted(1);
    assert.equal(h.outbox.heldUntil(away), h.clock.now + 2 * DRAIN_RETRY_DELAY_MS);
    assert.match(
      String(h.events.findLast((e) => e.type === "undelivered")?.message),
      /retry in 4 s/,
    );
    // Someone else coming online changes nothing.
    h.outgoing.peerBack("carol");
    assert.equal(h.outbox.heldUntil(away), h.clock.now + 2 * DRAIN_RETRY_DELAY_MS);
  } finally {
    h.outgoing.stop();
  }
});

Deno.test("Outgoing gives up on a refused envelope after retrying for 7 days", () => {
  const h = harness();
  try {
    h.reconnect({ durable: true, epoch: EPOCH_A });
    h.outbox.enqueue(envelope(1));
    h.outgoing.flush();
    h.outgoing.onRejected(rejected(1, envelope(1).id, "QUEUE_FULL"));
    h.outgoing.onAccepted(1);
    assert.deepEqual(h.undelivered(), [[envelope(1).id, "QUEUE_FULL", true]]);
    h.clock.now += RETRY_GIVE_UP_MS;
    h.reconnect({ durable: true, epoch: EPOCH_A });
    h.outgoing.onRejected(rejected(1, envelope(1).id, "QUEUE_FULL"));
    h.outgoing.onAccepted(1);
    assert.deepEqual(h.undelivered().at(-1), [envelope(1).id, "QUEUE_FULL", false]);
    assert.equal(h.outbox.size, 0);
    assert.deepEqual(h.sent(), []);
  } finally {
    h.outgoing.stop();
  }
});

Deno.test("Outgoing rotates the room key when a sender key is refused for good", () => {
  const h = harness();
  try {
    h.reconnect({ durable: true, epoch: EPOCH_A });
    const key = envelope(1);
    const roomId = "ff".repeat(16);
    h.outbox.enqueue({
      ...key,
      meta: { ...key.meta, kind: "ratchet/sender-key", for: roomId, room: "lobby" },
    });
    h.outbox.enqueue({
      id: roomId,
      frame: encodeFrame({
        type: "send",
        id: fromHex(roomId),
        cipher: 1,
        from: "alice",
        toKind: "room",
        to: "lobby",
        body: Uint8Array.of(9),
      }),
      meta: { from: "alice", to: "lobby", toKind: "room", kind: "room" },
    });
    h.outgoing.flush();
    h.outgoing.onRejected(rejected(1, key.id, "NOT_IN_ROOM"));
    h.outgoing.onAccepted(2);
    assert.deepEqual(h.undelivered(), [[roomId, "NOT_IN_ROOM", false]]);
    assert.deepEqual(h.rotated, ["lobby"]);
    assert.deepEqual(h.sent(), [], "a member cannot read it: no `sent`");
    assert.equal(h.outbox.size, 0);
  } finally {
    h.outgoing.stop();
  }
});
