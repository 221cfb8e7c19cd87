/**
 * The fault bench's ledger: how client events become sent / refused / lost / doubled / out of
 * order. Run: `deno test bench/fault/`.
 */

import assert from "node:assert/strict";
import { Ledger, messageText, type Planned } from "./report.ts";

function planned(seq: number, from: string, to: string, recipients: string[]): Planned {
  return { seq, from, to, kind: to === "lobby" ? "room" : "private", recipients };
}

function own(ledger: Ledger, p: Planned, id: string): void {
  ledger.typed(p.seq);
  ledger.onEvent(p.from, {
    type: "message",
    id,
    from: p.from,
    to: p.to,
    private: p.kind === "private",
    text: messageText(p.seq, p),
    cipher: "aes-256-gcm",
    insecure: false,
    verified: false,
    ts: 0,
    own: true,
  });
}

function shown(
  ledger: Ledger,
  nick: string,
  p: Planned,
  id: string,
  repeat = false,
  late = false,
): void {
  ledger.onEvent(nick, {
    ...(repeat ? { repeat: true as const } : {}),
    ...(late ? { late: true as const } : {}),
    type: "message",
    id,
    from: p.from,
    to: p.to,
    private: p.kind === "private",
    text: messageText(p.seq, p),
    cipher: "aes-256-gcm",
    insecure: false,
    verified: false,
    ts: 0,
    own: false,
  });
}

Deno.test("ledger: sent, delivered, lost, doubled, refused and out of order", () => {
  const ledger = new Ledger();
  const m0 = planned(0, "alice", "bob", ["bob"]);
  const m1 = planned(1, "alice", "lobby", ["bob", "carol"]);
  const m2 = planned(2, "alice", "bob", ["bob"]);
  const m3 = planned(3, "bob", "alice", ["alice"]);
  const m4 = planned(4, "bob", "alice", ["alice"]);
  const m5 = planned(5, "carol", "lobby", ["alice", "bob"]);
  for (const m of [m0, m1, m2, m3, m4, m5]) ledger.plan(m);

  own(ledger, m0, "aa000000");
  ledger.onEvent("alice", { type: "sent", id: "aa000000" });
  own(ledger, m1, "bb000000");
  ledger.onEvent("alice", { type: "sent", id: "bb000000" });
  own(ledger, m2, "cc000000");
  ledger.onEvent("alice", { type: "sent", id: "cc000000" });
  // m3: refused by the relay although `sent` came too (a refusal wins).
  own(ledger, m3, "dd000000");
  ledger.onEvent("bob", {
    type: "error",
    code: "QUEUE_FULL",
    message: 'Message dd000000 to "alice" refused by the relay: full',
  });
  ledger.onEvent("bob", { type: "sent", id: "dd000000" });
  // m4: an error instead of the echo.
  ledger.typed(4);
  ledger.lineError(4, "NOT_CONNECTED");
  // m5: echoed, never acknowledged.
  own(ledger, m5, "ee000000");

  shown(ledger, "bob", m0, "aa000000");
  shown(ledger, "bob", m2, "cc000000");
  shown(ledger, "bob", m0, "aa000000"); // doubled
  shown(ledger, "bob", m2, "cc000000", true); // flagged repeat of a shown id: said, not doubled
  shown(ledger, "carol", m1, "bb000000"); // bob never shows m1: lost
  shown(ledger, "alice", m5, "ee000000"); // delivered though unconfirmed

  const s = ledger.summary();
  assert.deepEqual(
    {
      messages: s.messages,
      sent: s.sent,
      refused: s.refused,
      unconfirmed: s.unconfirmed,
      expected: s.expected,
      delivered: s.delivered,
      lost: s.lost,
      doubled: s.doubled,
      deliveredUnsent: s.deliveredUnsent,
      refusedCodes: s.refusedCodes,
      clientErrors: s.clientErrors,
      lostMessages: s.lostMessages,
    },
    {
      messages: 6,
      sent: 3,
      refused: 2,
      unconfirmed: 1,
      expected: 4,
      delivered: 3,
      lost: 1,
      doubled: 1,
      deliveredUnsent: 1,
      refusedCodes: { QUEUE_FULL: 1, NOT_CONNECTED: 1 },
      clientErrors: { "bob:QUEUE_FULL": 1 },
      lostMessages: "1",
    },
  );
  assert.deepEqual(s.outOfOrder, 0);
  assert.deepEqual(s.repeated, 1);
  assert.deepEqual(ledger.complete(), false);
});

Deno.test("ledger: out of order per conversation; a retrying undelivered is not a refusal", () => {
  const ledger = new Ledger();
  const m = [0, 1, 2].map((seq) => planned(seq, "alice", "bob", ["bob"]));
  for (const p of m) ledger.plan(p);
  m.forEach((p, i) => own(ledger, p, `f${i}000000`));
  ledger.onEvent("alice", {
    type: "undelivered",
    id: "f1000000",
    code: "STORE_FAILED",
    retrying: true,
  } as never);
  for (let i = 0; i < 3; i++) ledger.onEvent("alice", { type: "sent", id: `f${i}000000` });
  shown(ledger, "bob", m[0]!, "f0000000");
  shown(ledger, "bob", m[2]!, "f2000000", true); // flagged, yet its first showing: delivered
  shown(ledger, "bob", m[1]!, "f1000000", false, true); // older than one shown; flagged late
  const s = ledger.summary();
  assert.deepEqual(
    [s.sent, s.refused, s.lost, s.doubled, s.repeated, s.outOfOrder, s.outOfOrderLate],
    [3, 0, 0, 0, 0, 1, 1],
  );
  assert.deepEqual(ledger.complete(), true);

  const final = new Ledger();
  final.plan(m[0]!);
  own(final, m[0]!, "f0000000");
  final.onEvent("alice", {
    type: "undelivered",
    id: "f0000000",
    code: "EXPIRED",
    retrying: false,
  } as never);
  assert.deepEqual(final.summary().refusedCodes, { EXPIRED: 1 });
  assert.deepEqual(final.complete(), true);
});

Deno.test("ledger: a sender killed before its echo: not taken, or taken and sent by its next incarnation", () => {
  const ledger = new Ledger();
  const m0 = planned(0, "alice", "bob", ["bob"]);
  const m1 = planned(1, "alice", "lobby", ["bob", "carol"]);
  for (const m of [m0, m1]) ledger.plan(m);
  // A warm-up message outside the plan: its `sent` is not waited for.
  ledger.onEvent("alice", {
    type: "message",
    id: "9900aa00",
    from: "alice",
    to: "bob",
    private: true,
    text: "warm-0-0",
    cipher: "aes-256-gcm",
    insecure: false,
    verified: false,
    ts: 0,
    own: true,
  });
  ledger.onEvent("alice", { type: "sent", id: "9900aa00" });
  // m0 died with the process; m1 was saved before the kill and is sent by the next incarnation.
  for (const m of [m0, m1]) {
    ledger.typed(m.seq);
    ledger.senderDied(m.seq);
  }
  assert.deepEqual(ledger.complete(), true, "nothing is known to be on its way yet");
  ledger.onEvent("alice", { type: "sent", id: "a1000000" });
  assert.deepEqual(ledger.complete(), false, "a `sent` nobody has shown yet is waited for");
  shown(ledger, "bob", m1, "a1000000");
  shown(ledger, "carol", m1, "a1000000");
  assert.deepEqual(ledger.complete(), true);
  const s = ledger.summary();
  assert.deepEqual(
    [s.messages, s.sent, s.notTaken, s.unconfirmed, s.expected, s.delivered, s.lost, s.doubled],
    [2, 1, 1, 0, 2, 2, 0, 0],
  );
});
