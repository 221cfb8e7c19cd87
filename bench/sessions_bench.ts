/**
 * Benchmarks of the end-to-end layer: `deno bench bench/sessions_bench.ts`.
 *
 * Aims (issue 4): full handshake under 5 ms; ratchet encrypt+decrypt of 256 bytes under 100 µs.
 *
 * @module
 */
import { generateIdentityKeyPair, getCipherSuite, randomBytes } from "../crypto/mod.ts";
import {
  decodeRatchetMessage,
  decodeRoomMessage,
  DoubleRatchet,
  Hush,
  InboundSenderKey,
  LocalUser,
  MemorySessionStore,
  OutboundSenderKey,
  type PrekeyBundle,
  x3dhInitiate,
  x3dhRespond,
} from "../sessions/mod.ts";

const NICKS = { initiator: "alice", responder: "bob" };

const AES = getCipherSuite("aes-256-gcm");
const MESSAGE_256 = randomBytes(256);

function bundleOf(user: LocalUser): PrekeyBundle {
  const { oneTimePrekeys, ...rest } = user.bundle();
  return { ...rest, oneTimePrekey: oneTimePrekeys[0]! };
}

// --- Handshake -----------------------------------------------------------------------------

const alice = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
const bob = new LocalUser(new MemorySessionStore(), generateIdentityKeyPair());
const bobBundle = bundleOf(bob);
const bobSigned = bob.signedPrekey(bobBundle.signedPrekeyId)!;
const bobOneTime = bob.oneTimePrekey(bobBundle.oneTimePrekey!.id)!;

Deno.bench({
  name: "handshake: bundle verify + X3DH both sides + first message (256 B)",
  group: "handshake",
  baseline: true,
  fn() {
    const init = x3dhInitiate(alice.x3dhKeys, bobBundle, NICKS);
    const sender = DoubleRatchet.initiator(init.sharedSecret, {
      remoteRatchetKey: init.remoteRatchetKey,
      ad: init.ad,
    });
    const body = sender.encrypt(MESSAGE_256, AES);
    const resp = x3dhRespond(
      { ...bob.x3dhKeys, signedPrekey: bobSigned, oneTimePrekey: bobOneTime },
      init.fields,
      NICKS,
    );
    const receiver = DoubleRatchet.responder(resp.sharedSecret, {
      ratchetKeyPair: bobSigned,
      ad: resp.ad,
    });
    receiver.decrypt(decodeRatchetMessage(body));
  },
});

// The facade, store (JSON) included: Alice starts a session and Bob opens the first message.
const facadeStoreBob = new MemorySessionStore();
const hushBob = new Hush({ store: facadeStoreBob, identity: generateIdentityKeyPair() });
const { oneTimePrekeys: _unused, ...hushBobBundle } = hushBob.bundle();
const hushAlice = new Hush({
  store: new MemorySessionStore(),
  identity: generateIdentityKeyPair(),
  fetchBundle: () => Promise.resolve(hushBobBundle),
});

Deno.bench({
  name: "handshake via Hush facade (JSON store, no one-time prekey)",
  group: "handshake",
  async fn() {
    hushAlice.resetSession("bob");
    const out = await hushAlice.encryptTo("bob", MESSAGE_256);
    hushBob.decryptFrom("alice", out.body);
    hushBob.resetSession("alice");
  },
});

// --- Ratchet -------------------------------------------------------------------------------

function ratchetPair(): { a: DoubleRatchet; b: DoubleRatchet } {
  const init = x3dhInitiate(alice.x3dhKeys, bobBundle, NICKS);
  const a = DoubleRatchet.initiator(init.sharedSecret, {
    remoteRatchetKey: init.remoteRatchetKey,
    ad: init.ad,
  });
  const resp = x3dhRespond(
    { ...bob.x3dhKeys, signedPrekey: bobSigned, oneTimePrekey: bobOneTime },
    init.fields,
    NICKS,
  );
  const b = DoubleRatchet.responder(resp.sharedSecret, { ratchetKeyPair: bobSigned, ad: resp.ad });
  b.decrypt(decodeRatchetMessage(a.encrypt(MESSAGE_256, AES)));
  return { a, b };
}

const sameChain = ratchetPair();
Deno.bench({
  name: "ratchet encrypt+decrypt 256 B (same speaker: symmetric step)",
  group: "ratchet",
  baseline: true,
  fn() {
    sameChain.b.decrypt(decodeRatchetMessage(sameChain.a.encrypt(MESSAGE_256, AES)));
  },
});

const turns = ratchetPair();
let turn = 0;
Deno.bench({
  name: "ratchet encrypt+decrypt 256 B (speaker changes every message: DH step)",
  group: "ratchet",
  fn() {
    const [from, to] = turn++ % 2 === 0 ? [turns.b, turns.a] : [turns.a, turns.b];
    to.decrypt(decodeRatchetMessage(from.encrypt(MESSAGE_256, AES)));
  },
});

for (const id of ["chacha20-poly1305", "caesar"] as const) {
  const suite = getCipherSuite(id);
  const pair = ratchetPair();
  Deno.bench({
    name: `ratchet encrypt+decrypt 256 B under ${id}`,
    group: "ratchet",
    fn() {
      pair.b.decrypt(decodeRatchetMessage(pair.a.encrypt(MESSAGE_256, suite)));
    },
  });
}

// Facade: session state read from and written to the store as JSON on every call.
const facadeA = new MemorySessionStore();
const facadeB = new MemorySessionStore();

const hushB = new Hush({ store: facadeB, identity: generateIdentityKeyPair() });
const facadeBundle: PrekeyBundle = (() => {
  const { oneTimePrekeys, ...rest } = hushB.bundle();
  return { ...rest, oneTimePrekey: oneTimePrekeys[0]! };
})();
const hushA = new Hush({
  store: facadeA,
  identity: generateIdentityKeyPair(),
  fetchBundle: () => Promise.resolve(facadeBundle),
});
hushB.decryptFrom("a", (await hushA.encryptTo("b", "start")).body);
hushA.decryptFrom("b", (await hushB.encryptTo("a", "reply")).body);
Deno.bench({
  name: "ratchet encrypt+decrypt 256 B via Hush facade (JSON store)",
  group: "ratchet",
  async fn() {
    hushB.decryptFrom("a", (await hushA.encryptTo("b", MESSAGE_256)).body);
  },
});

// --- Rooms ---------------------------------------------------------------------------------

const ROOM = "bench";
const MEMBERS = 50;
const senderIdentity = generateIdentityKeyPair();
const outbound = OutboundSenderKey.create();
const inbound = InboundSenderKey.fromDistribution(
  outbound.distribution(ROOM),
  senderIdentity.publicKey,
);

Deno.bench({
  name: "room message, sender: encrypt + sign 256 B (one body for all 50 members)",
  group: "room",
  baseline: true,
  fn() {
    outbound.encrypt(MESSAGE_256, {
      room: ROOM,
      senderIdentityKey: senderIdentity.publicKey,
      suite: AES,
    });
  },
});

const outbound2 = OutboundSenderKey.create();
const inbound2 = InboundSenderKey.fromDistribution(
  outbound2.distribution(ROOM),
  senderIdentity.publicKey,
);
Deno.bench({
  name: "room message, one receiver: verify + decrypt 256 B",
  group: "room",
  fn(b) {
    const body = outbound2.encrypt(MESSAGE_256, {
      room: ROOM,
      senderIdentityKey: senderIdentity.publicKey,
      suite: AES,
    });
    const message = decodeRoomMessage(body);
    b.start();
    inbound2.decrypt(message, { room: ROOM });
    b.end();
  },
});
void inbound;

// The facade with 50 members (49 others), in steady state (everyone already has our key).
const roomStores = new Map<string, Hush>();
const memberNicks = Array.from({ length: MEMBERS - 1 }, (_, i) => `m${i}`);
for (const nick of memberNicks) {
  roomStores.set(
    nick,
    new Hush({ store: new MemorySessionStore(), identity: generateIdentityKeyPair() }),
  );
}
const roomSender = new Hush({
  store: new MemorySessionStore(),
  identity: generateIdentityKeyPair(),
  fetchBundle: (nick) => {
    const { oneTimePrekeys, ...rest } = roomStores.get(nick)!.bundle();
    return Promise.resolve({ ...rest, oneTimePrekey: oneTimePrekeys[0]! });
  },
});
const firstRoom = await roomSender.encryptToRoom(ROOM, memberNicks, MESSAGE_256);
for (const d of firstRoom.distributions) roomStores.get(d.to)!.decryptFrom("sender", d.body);
const firstReceiver = roomStores.get("m0")!;

Deno.bench({
  name: "room message via Hush, sender, 50 members (steady state)",
  group: "room",
  async fn() {
    await roomSender.encryptToRoom(ROOM, memberNicks, MESSAGE_256);
  },
});

// Its own room, so the sender bench above leaves no gap (skipped keys) in this chain.
const RECEIVER_ROOM = "bench-receiver";
const receiverFirst = await roomSender.encryptToRoom(RECEIVER_ROOM, memberNicks, MESSAGE_256);
for (const d of receiverFirst.distributions) roomStores.get(d.to)!.decryptFrom("sender", d.body);

Deno.bench({
  name: "room message via Hush, one receiver",
  group: "room",
  async fn(b) {
    const out = await roomSender.encryptToRoom(RECEIVER_ROOM, memberNicks, MESSAGE_256);
    b.start();
    firstReceiver.decryptRoom(RECEIVER_ROOM, "sender", out.room.body);
    b.end();
  },
});

Deno.bench({
  name: "room: first message to 50 members (49 X3DH sessions + distributions)",
  group: "room-setup",
  n: 5,
  warmup: 1,
  async fn(b) {
    const sender = new Hush({
      store: new MemorySessionStore(),
      identity: generateIdentityKeyPair(),
      fetchBundle: (nick) => {
        const { oneTimePrekeys: _o, ...rest } = roomStores.get(nick)!.bundle();
        return Promise.resolve(rest);
      },
    });
    b.start();
    await sender.encryptToRoom(ROOM, memberNicks, MESSAGE_256);
    b.end();
  },
});
