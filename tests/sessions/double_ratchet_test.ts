import assert from "node:assert/strict";
import fc from "fast-check";
import {
  generateIdentityKeyPair,
  generateX25519KeyPair,
  getCipherSuite,
  randomBytes,
} from "../../crypto/mod.ts";
import {
  decodeRatchetMessage,
  DoubleRatchet,
  Hush,
  MAX_SKIP,
  MAX_STORED_SKIPPED,
  MemorySessionStore,
  SessionError,
} from "../../sessions/mod.ts";
import { chainStep, openWithMessageKey } from "../../sessions/_message_keys.ts";
import { containsBytes, RelayDouble } from "./_relay_double.ts";
import { assertSessionError, dumpStore, runs } from "./_helpers.ts";

const AES = getCipherSuite("aes-256-gcm");

/** Two ratchets over one shared secret (X3DH is tested elsewhere). */
function pair(): { alice: DoubleRatchet; bob: DoubleRatchet } {
  const secret = randomBytes(32);
  const ad = randomBytes(128);
  const bobKey = generateX25519KeyPair();
  return {
    alice: DoubleRatchet.initiator(secret, { remoteRatchetKey: bobKey.publicKey, ad }),
    bob: DoubleRatchet.responder(secret, { ratchetKeyPair: bobKey, ad }),
  };
}

const text = (s: string) => new TextEncoder().encode(s);
const untext = (b: Uint8Array) => new TextDecoder().decode(b);

function send(from: DoubleRatchet, s: string): Uint8Array {
  return from.encrypt(text(s), AES);
}

function open(to: DoubleRatchet, body: Uint8Array): string {
  return untext(to.decrypt(decodeRatchetMessage(body)).plaintext);
}

async function established(): Promise<RelayDouble> {
  const relay = new RelayDouble();
  relay.addParty("alice");
  relay.addParty("bob");
  await relay.pm("alice", "bob", "hello bob");
  relay.receiveAll("bob");
  await relay.pm("bob", "alice", "hello alice");
  relay.receiveAll("alice");
  return relay;
}

Deno.test("a long conversation in order both ways decrypts every message", () => {
  const { alice, bob } = pair();
  let count = 0;
  for (let round = 0; round < 60; round++) {
    const burstA = 1 + (round % 4);
    for (let i = 0; i < burstA; i++) {
      const s = `a-${round}-${i}`;
      assert.equal(open(bob, send(alice, s)), s);
      count++;
    }
    const burstB = 1 + ((round * 7) % 3);
    for (let i = 0; i < burstB; i++) {
      const s = `b-${round}-${i}`;
      assert.equal(open(alice, send(bob, s)), s);
      count++;
    }
  }
  assert.ok(count > 200);
  assert.equal(alice.skippedCount + bob.skippedCount, 0);
});

Deno.test("interleaved conversations with reordering and loss decrypt exactly what was sent (property)", async () => {
  type Action =
    | { op: "send"; from: 0 | 1 }
    | { op: "deliver"; to: 0 | 1; pick: number }
    | { op: "drop"; to: 0 | 1; pick: number };
  const action: fc.Arbitrary<Action> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("send" as const),
        from: fc.constantFrom(0 as const, 1 as const),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("deliver" as const),
        to: fc.constantFrom(0 as const, 1 as const),
        pick: fc.nat(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("drop" as const),
        to: fc.constantFrom(0 as const, 1 as const),
        pick: fc.nat(),
      }),
    },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(action, { minLength: 1, maxLength: 40 }),
      fc.nat(),
      async (actions, seed) => {
        const relay = new RelayDouble();
        const nicks = ["alice", "bob"] as const;
        relay.addParty("alice");
        relay.addParty("bob");
        const pending: { text: string; body: Uint8Array }[][] = [[], []];
        let serial = 0;
        const deliver = (to: 0 | 1, pick: number) => {
          const queue = pending[to]!;
          if (queue.length === 0) return;
          const [item] = queue.splice(pick % queue.length, 1);
          const got = relay.party(nicks[to]).hush.decryptFrom(nicks[1 - to]!, item!.body);
          assert.equal(got.type === "text" ? got.text : "", item!.text);
        };
        for (const a of [{ op: "send", from: 0 } as Action, ...actions]) {
          if (a.op === "send") {
            const s = `msg ${serial++} from ${nicks[a.from]}`;
            const out = await relay.party(nicks[a.from]).hush.encryptTo(nicks[1 - a.from]!, s);
            relay.traffic.push(out.body);
            pending[1 - a.from]!.push({ text: s, body: out.body });
          } else if (a.op === "deliver") {
            deliver(a.to, a.pick);
          } else {
            const queue = pending[a.to]!;
            if (queue.length > 0) queue.splice(a.pick % queue.length, 1);
          }
        }
        let pick = seed;
        while (pending[0]!.length + pending[1]!.length > 0) {
          deliver(pending[0]!.length > 0 ? 0 : 1, pick++);
          deliver(1, pick * 31);
        }
        // A fresh exchange still works both ways after all that.
        await relay.pm("alice", "bob", "final a");
        await relay.pm("bob", "alice", "final b");
        assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["final a"]);
        assert.deepEqual(relay.receiveAll("alice").map((m) => m.text), ["final b"]);
        for (let i = 0; i < serial; i++) {
          const needle = text(`msg ${i} from`);
          assert.ok(!relay.traffic.some((b) => containsBytes(b, needle)));
        }
      },
    ),
    { numRuns: runs(60, 600) },
  );
});

Deno.test("out-of-order delivery across several chains decrypts every message", () => {
  const { alice, bob } = pair();
  const a1 = send(alice, "a1");
  const a2 = send(alice, "a2");
  const a3 = send(alice, "a3");
  assert.equal(open(bob, a3), "a3");
  const b1 = send(bob, "b1");
  assert.equal(open(alice, b1), "b1");
  const a4 = send(alice, "a4"); // new chain
  assert.equal(open(bob, a4), "a4");
  assert.equal(bob.skippedCount, 2);
  assert.equal(open(bob, a1), "a1");
  assert.equal(open(bob, a2), "a2");
  assert.equal(bob.skippedCount, 0);
});

Deno.test("lost messages do not stop later ones, and their keys wait in the skipped store", () => {
  const { alice, bob } = pair();
  for (let i = 0; i < 10; i++) send(alice, `lost ${i}`);
  assert.equal(open(bob, send(alice, "arrives")), "arrives");
  assert.equal(bob.skippedCount, 10);
  assert.equal(open(alice, send(bob, "reply")), "reply");
  send(alice, "lost again");
  assert.equal(open(bob, send(alice, "arrives again")), "arrives again");
  assert.equal(bob.skippedCount, 11);
});

Deno.test("a replayed message is refused with DUPLICATE_MESSAGE and leaves the state unchanged", async () => {
  const relay = await established();
  const bob = relay.party("bob");
  const first = await relay.pm("alice", "bob", "once only");
  relay.receiveAll("bob");
  const before = dumpStore(bob.store);
  assertSessionError(() => bob.hush.decryptFrom("alice", first.body), "DUPLICATE_MESSAGE");
  assert.equal(dumpStore(bob.store), before);
  // The initial message too.
  const relay2 = new RelayDouble();
  relay2.addParty("alice");
  const bob2 = relay2.addParty("bob");
  const initial = await relay2.pm("alice", "bob", "first");
  relay2.receiveAll("bob");
  const before2 = dumpStore(bob2.store);
  assertSessionError(() => bob2.hush.decryptFrom("alice", initial.body), "DUPLICATE_MESSAGE");
  assert.equal(dumpStore(bob2.store), before2);
});

Deno.test("a replayed message from an earlier chain is refused with DUPLICATE_MESSAGE", () => {
  const { alice, bob } = pair();
  const old = send(alice, "old chain");
  open(bob, old);
  open(alice, send(bob, "turn"));
  open(bob, send(alice, "new chain"));
  const before = JSON.stringify(bob.toJSON());
  assert.throws(
    () => open(bob, old),
    (e: unknown) => e instanceof SessionError && e.code === "DUPLICATE_MESSAGE",
  );
  assert.equal(JSON.stringify(bob.toJSON()), before);
});

Deno.test("a skipped message replayed after it was opened is refused", () => {
  const { alice, bob } = pair();
  const m0 = send(alice, "m0");
  open(bob, send(alice, "m1"));
  assert.equal(open(bob, m0), "m0");
  assert.throws(
    () => open(bob, m0),
    (e: unknown) => e instanceof SessionError && e.code === "DUPLICATE_MESSAGE",
  );
});

for (
  const [label, setup] of [
    [
      "a ratchet message",
      async (relay: RelayDouble) => await relay.pm("alice", "bob", "tamper target"),
    ],
    ["a later initial message (session already started)", async (relay: RelayDouble) => {
      relay.party("bob").hush.resetSession("alice");
      relay.party("alice").hush.resetSession("bob");
      await relay.pm("alice", "bob", "starts the session");
      relay.receiveAll("bob");
      return await relay.pm("alice", "bob", "tamper target");
    }],
    ["an initial message", async (relay: RelayDouble) => {
      relay.party("bob").hush.resetSession("alice");
      relay.party("alice").hush.resetSession("bob");
      return await relay.pm("alice", "bob", "tamper target");
    }],
  ] as const
) {
  Deno.test(`every single-bit change at every byte of ${label} is refused and leaves the state unchanged`, async () => {
    const relay = await established();
    const bob = relay.party("bob");
    const envelope = await setup(relay);
    const before = dumpStore(bob.store);
    const codes = new Set<string>();
    for (let i = 0; i < envelope.body.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const tampered = envelope.body.slice();
        tampered[i]! ^= bit;
        assert.throws(
          () => bob.hush.decryptFrom("alice", tampered),
          (e: unknown) => {
            assert.ok(e instanceof SessionError, `byte ${i} bit ${bit}: ${e}`);
            codes.add(e.code);
            return true;
          },
        );
        assert.equal(dumpStore(bob.store), before, `state changed by byte ${i} bit ${bit}`);
      }
    }
    // Truncations and extensions too.
    for (const cut of [1, 16, envelope.body.length - 1]) {
      assert.throws(
        () => bob.hush.decryptFrom("alice", envelope.body.slice(0, envelope.body.length - cut)),
        SessionError,
      );
    }
    assert.throws(
      () => bob.hush.decryptFrom("alice", new Uint8Array([...envelope.body, 0])),
      SessionError,
    );
    assert.equal(dumpStore(bob.store), before);
    assert.ok(codes.has("DECRYPT_FAILED"));
    const got = bob.hush.decryptFrom("alice", envelope.body);
    assert.equal(got.type === "text" && got.text, "tamper target");
  });
}

Deno.test(`opening a message that skips more than MAX_SKIP (${MAX_SKIP}) keys fails with TOO_MANY_SKIPPED, state unchanged`, () => {
  const { alice, bob } = pair();
  open(bob, send(alice, "start")); // n = 0
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < MAX_SKIP + 2; i++) bodies.push(send(alice, `m${i}`)); // n = 1 ..
  const before = JSON.stringify(bob.toJSON());
  assert.throws(
    () => open(bob, bodies[MAX_SKIP + 1]!), // skips MAX_SKIP + 1 keys
    (e: unknown) => e instanceof SessionError && e.code === "TOO_MANY_SKIPPED",
  );
  assert.equal(JSON.stringify(bob.toJSON()), before);
  assert.equal(open(bob, bodies[MAX_SKIP]!), `m${MAX_SKIP}`); // skips exactly MAX_SKIP
  assert.equal(bob.skippedCount, MAX_SKIP);
  assert.equal(open(bob, bodies[0]!), "m0");
});

Deno.test(`the skipped-key store keeps at most MAX_STORED_SKIPPED (${MAX_STORED_SKIPPED}) keys, oldest dropped first`, () => {
  const { alice, bob } = pair();
  const oldest = send(alice, "oldest");
  const chains = Math.ceil(MAX_STORED_SKIPPED / MAX_SKIP) + 1;
  for (let c = 0; c < chains; c++) {
    for (let i = 0; i < MAX_SKIP - 1; i++) send(alice, "skipped");
    open(bob, send(alice, `chain ${c} end`));
    open(alice, send(bob, `turn ${c}`));
  }
  assert.equal(bob.skippedCount, MAX_STORED_SKIPPED);
  assert.throws(
    () => open(bob, oldest),
    (e: unknown) => e instanceof SessionError && e.code === "DUPLICATE_MESSAGE",
  );
});

Deno.test("a session resumes from serialized state mid-conversation (restart)", async () => {
  const relay = await established();
  await relay.pm("alice", "bob", "before restart 1");
  await relay.pm("alice", "bob", "before restart 2");
  const [first] = relay.drain("bob");
  assert.equal(relay.party("bob").hush.decryptFrom("alice", first!.body).type, "text");
  relay.send({
    ...first!,
    body: (await relay.party("alice").hush.encryptTo("bob", "queued")).body,
  });
  // Both restart from their stores; a message in flight and a skipped one still open.
  relay.restart("alice");
  relay.restart("bob");
  await relay.pm("bob", "alice", "after restart");
  assert.deepEqual(relay.receiveAll("alice").map((m) => m.text), ["after restart"]);
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["queued"]);
  // The DoubleRatchet itself round-trips through JSON text.
  const { alice, bob } = pair();
  open(bob, send(alice, "x"));
  const skippedBody = send(alice, "skipped");
  open(bob, send(alice, "y"));
  const resumed = DoubleRatchet.fromJSON(JSON.parse(JSON.stringify(bob.toJSON())));
  assert.equal(open(resumed, skippedBody), "skipped");
  assert.equal(open(alice, send(resumed, "z")), "z");
});

Deno.test("DoubleRatchet.fromJSON() refuses malformed state with BAD_STATE", () => {
  const { bob } = pair();
  const json = bob.toJSON();
  assertSessionError(() => DoubleRatchet.fromJSON({ ...json, rootKey: "zz" }), "BAD_STATE");
  assertSessionError(() => DoubleRatchet.fromJSON({ ...json, sendN: -1 }), "BAD_STATE");
});

Deno.test("forward secrecy: the current state cannot open an old ciphertext", () => {
  const { alice, bob } = pair();
  const old = send(alice, "old secret");
  open(bob, old);
  for (let i = 0; i < 3; i++) {
    open(alice, send(bob, `b${i}`));
    open(bob, send(alice, `a${i}`));
  }
  const state = bob.toJSON();
  // Behaviour: refused.
  assert.throws(() => open(DoubleRatchet.fromJSON(state), old), SessionError);
  // Stronger: no secret in the whole state, used as a message key or chain key, opens it.
  const message = decodeRatchetMessage(old);
  const aad = new Uint8Array([...bob.ad, ...message.header]);
  const candidates = [
    state.rootKey,
    state.dhSelf.privateKey,
    state.sendChain,
    state.recvChain,
    ...state.skipped.map(([, key]) => key),
  ].filter((s): s is string => s !== null).map((hex) =>
    Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16))
  );
  let tried = 0;
  for (const secret of candidates) {
    let chain: Uint8Array = secret;
    for (let step = 0; step < 5; step++) {
      for (const key of [chain, chainStep(chain).messageKey]) {
        tried++;
        assert.throws(() =>
          openWithMessageKey(key, {
            suite: AES,
            label: "hush-message-keys-v1",
            sealed: message.ciphertext,
            aad,
          })
        );
      }
      chain = chainStep(chain).next;
    }
  }
  assert.ok(tried >= 40);
});

Deno.test("post-compromise recovery: a state stolen before a DH step cannot open messages after it", async () => {
  const relay = await established();
  const bob = relay.party("bob");
  const thief = new Hush({ store: bob.store.clone(), identity: bob.identity });
  const a1 = await relay.pm("alice", "bob", "still exposed");
  // The compromise is real: the stolen state opens the message of the current chain.
  const stolen = thief.decryptFrom("alice", a1.body);
  assert.equal(stolen.type === "text" && stolen.text, "still exposed");
  relay.receiveAll("bob");
  await relay.pm("bob", "alice", "fresh DH from bob");
  relay.receiveAll("alice");
  const a2 = await relay.pm("alice", "bob", "healed");
  const a3 = await relay.pm("alice", "bob", "still healed");
  for (const envelope of [a2, a3]) {
    assert.throws(
      () => thief.decryptFrom("alice", envelope.body),
      (e: unknown) => e instanceof SessionError && e.code === "DECRYPT_FAILED",
    );
  }
  assert.deepEqual(relay.receiveAll("bob").map((m) => m.text), ["healed", "still healed"]);
});

Deno.test("each message has its own key and nonce: equal plaintexts give unrelated ciphertexts", () => {
  const { alice } = pair();
  const one = decodeRatchetMessage(send(alice, "same text")).ciphertext;
  const two = decodeRatchetMessage(send(alice, "same text")).ciphertext;
  assert.notDeepEqual(one, two);
  assert.equal(one.length, "same text".length + AES.tagLength);
});

for (const suiteId of ["chacha20-poly1305", "xchacha20-poly1305"] as const) {
  Deno.test(`a conversation under ${suiteId} works and reports its suite`, async () => {
    const relay = await established();
    relay.party("alice").hush.setSuite("bob", suiteId);
    const envelope = await relay.pm("alice", "bob", `over ${suiteId}`);
    assert.equal(envelope.suiteWireId, getCipherSuite(suiteId).wireId);
    const got = relay.party("bob").hush.decryptFrom("alice", envelope.body);
    assert.equal(got.suite, suiteId);
    assert.equal(got.insecure, false);
    assert.equal(got.type === "text" && got.text, `over ${suiteId}`);
  });
}

Deno.test("Caesar sessions work, are marked insecure, and hide nothing from the relay", async () => {
  const relay = new RelayDouble();
  const alice = relay.addParty("alice", { suite: "caesar" });
  relay.addParty("bob");
  const plaintext = "Meet me at the old mill";
  const envelope = await relay.pm("alice", "bob", plaintext);
  assert.equal(envelope.suiteWireId, 0xca);
  const [got] = relay.receiveAll("bob");
  assert.deepEqual(got, { from: "alice", text: plaintext, insecure: true });
  await relay.pm("bob", "alice", "Bob answers under AES");
  const [reply] = relay.receiveAll("alice");
  assert.equal(reply!.insecure, false);
  const more = await alice.hush.encryptTo("bob", "Second caesar line");
  assert.equal(more.insecure, true);
  const opened = relay.party("bob").hush.decryptFrom("alice", more.body);
  assert.equal(opened.suite, "caesar");
  assert.equal(opened.insecure, true);
  // The relay never sees the plaintext as such, but one of 25 shifts of the body reveals it.
  const needle = new TextEncoder().encode(plaintext);
  assert.ok(!relay.traffic.some((b) => containsBytes(b, needle)));
  const shifts = Array.from(
    { length: 26 },
    (_, s) =>
      envelope.body.map((c) =>
        c >= 65 && c <= 90
          ? 65 + (c - 65 + s) % 26
          : c >= 97 && c <= 122
          ? 97 + (c - 97 + s) % 26
          : c
      ),
  );
  assert.ok(shifts.some((b) => containsBytes(b, needle)), "Caesar is readable by the relay");
});

Deno.test("a tampered Caesar message is refused by the session MAC and leaves the state unchanged", async () => {
  const relay = await established();
  relay.party("alice").hush.setSuite("bob", "caesar");
  const envelope = await relay.pm("alice", "bob", "Pay Bob ten coins");
  const bob = relay.party("bob");
  const before = dumpStore(bob.store);
  const tampered = envelope.body.slice();
  tampered[43]! ^= 0x01; // first ciphertext byte: a letter becomes another letter
  assertSessionError(() => bob.hush.decryptFrom("alice", tampered), "DECRYPT_FAILED");
  assert.equal(dumpStore(bob.store), before);
  const got = bob.hush.decryptFrom("alice", envelope.body);
  assert.equal(got.type === "text" && got.text, "Pay Bob ten coins");
});

Deno.test("a peer with refuseInsecure refuses Caesar messages with INSECURE_SUITE_REFUSED, state unchanged", async () => {
  const relay = new RelayDouble();
  relay.addParty("alice", { suite: "caesar" });
  const bob = relay.addParty("bob", { refuseInsecure: true });
  const envelope = await relay.pm("alice", "bob", "insecure hello");
  const before = dumpStore(bob.store);
  assertSessionError(() => bob.hush.decryptFrom("alice", envelope.body), "INSECURE_SUITE_REFUSED");
  assert.equal(dumpStore(bob.store), before);
});

Deno.test("a responder cannot send before the first message arrives", () => {
  const { bob } = pair();
  assert.equal(bob.canSend, false);
  assert.throws(
    () => send(bob, "too early"),
    (e: unknown) => e instanceof SessionError && e.code === "NO_SESSION",
  );
});

Deno.test("decryptFrom() refuses a ratchet message from a nick without a session with NO_SESSION", async () => {
  const relay = await established();
  const carol = relay.addParty("carol");
  const envelope = await relay.pm("alice", "bob", "not for carol");
  assertSessionError(() => carol.hush.decryptFrom("alice", envelope.body), "NO_SESSION");
  assertSessionError(() => carol.hush.decryptFrom("alice", new Uint8Array()), "BAD_MESSAGE");
  assertSessionError(() => carol.hush.decryptFrom("alice", Uint8Array.of(0x09, 1)), "BAD_MESSAGE");
});

Deno.test("a store from another identity is refused with BAD_STATE", () => {
  const store = new MemorySessionStore();
  new Hush({ store, identity: generateIdentityKeyPair() });
  assertSessionError(() => new Hush({ store, identity: generateIdentityKeyPair() }), "BAD_STATE");
});

Deno.test("an authenticated message with an unknown content type is refused with BAD_MESSAGE, state unchanged", async () => {
  const relay = await established();
  const alice = relay.party("alice");
  const bob = relay.party("bob");
  const [session] = JSON.parse(alice.store.get("session/bob") as string);
  const ratchet = DoubleRatchet.fromJSON(session.ratchet);
  const body = ratchet.encrypt(Uint8Array.of(0x09, 1, 2, 3), AES);
  const before = dumpStore(bob.store);
  assertSessionError(() => bob.hush.decryptFrom("alice", body), "BAD_MESSAGE");
  assert.equal(dumpStore(bob.store), before);
});
