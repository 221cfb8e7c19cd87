import assert from "node:assert/strict";
import { makeClient, startRelay, until } from "./_chat_harness.ts";

type Client = Awaited<ReturnType<typeof makeClient>>;

/**
 * Alice talks to bob; then bob reinstalls: a fresh home (new identity) takes the nick "bob" on a
 * restarted relay without a store (which forgets nick bindings), and alice reconnects. Runs
 * `fn` with both clients and closes everything after.
 */
async function withReinstalledBob(
  fn: (world: { alice: Client; bob: Client }) => Promise<void>,
): Promise<void> {
  let relay = await startRelay();
  const ports = { ws: Number(new URL(relay.ws).port), tcp: Number(new URL(relay.tcp).port) };
  const alice = await makeClient({ server: relay.tcp, nick: "alice" });
  let bob = await makeClient({ server: relay.tcp, nick: "bob" });
  try {
    await alice.client.connect();
    await bob.client.connect();
    await alice.client.sendPrivate("bob", "hello old bob");
    await bob.waitFor("message", (m) => !m.own);
    await bob.client.close();
    await relay.stop();
    relay = await startRelay({ ports });
    bob = await makeClient({ server: relay.tcp, nick: "bob" }); // fresh home: new identity
    await bob.client.connect();
    assert.equal((await bob.waitFor("ready")).nick, "bob");
    await until(() => alice.client.connected, "alice reconnects", 15_000);
    await fn({ alice, bob });
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
  }
}

Deno.test("ChatClient verify() shows the same safety number on both sides and marks verified", async () => {
  const relay = await startRelay();
  const alice = await makeClient({ server: relay.tcp, nick: "alice" });
  const bob = await makeClient({ server: relay.tcp, nick: "bob" });
  try {
    await alice.client.connect();
    await bob.client.connect();
    await alice.client.verify("bob");
    await bob.client.verify("alice");
    const a = await alice.waitFor("safety-number");
    const b = await bob.waitFor("safety-number");
    assert.equal(a.safetyNumber.length, 60);
    assert.equal(a.safetyNumber, b.safetyNumber);
    assert.equal(a.verified, false);

    const wrong = a.safetyNumber.slice(0, -1) + (a.safetyNumber.endsWith("0") ? "1" : "0");
    await alice.client.verify("bob", wrong);
    assert.equal((await alice.waitFor("verified")).match, false);
    await alice.client.verify("bob", b.formatted);
    assert.deepEqual(await alice.waitFor("verified"), {
      type: "verified",
      peer: "bob",
      match: true,
    });
    assert.equal((await alice.waitFor("safety-number", (s) => s.verified)).peer, "bob");

    await bob.client.sendPrivate("alice", "am I verified?");
    const got = await alice.waitFor("message", (m) => !m.own);
    assert.equal(got.verified, true);
    await alice.client.whois("bob");
    const whois = await alice.waitFor("whois");
    assert.equal(whois.verified, true);
    assert.equal(whois.fingerprint, bob.client.fingerprint);
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient blocks sending to a peer whose identity changed until trust()", async () => {
  await withReinstalledBob(async ({ alice, bob }) => {
    await bob.client.sendPrivate("alice", "I am the new bob");
    const changed = await alice.waitFor("identity-changed");
    assert.equal(changed.peer, "bob");
    assert.notEqual(changed.oldFingerprint, changed.newFingerprint);
    assert.deepEqual(alice.received(), []);

    assert.equal(await alice.client.sendPrivate("bob", "blocked?"), undefined);
    assert.equal(
      (await alice.waitFor("error", (e) => e.code === "IDENTITY_CHANGED")).code,
      "IDENTITY_CHANGED",
    );

    await alice.client.trust("bob");
    assert.equal((await alice.waitFor("trusted")).fingerprint, bob.client.fingerprint);
    // The held message is shown once the new key is accepted.
    assert.equal((await alice.waitFor("message", (m) => !m.own)).text, "I am the new bob");
    await alice.client.sendPrivate("bob", "welcome, new bob");
    assert.equal((await bob.waitFor("message", (m) => !m.own)).text, "welcome, new bob");
  });
});

Deno.test("ChatClient marks messages under the Caesar suite insecure", async () => {
  const relay = await startRelay();
  const alice = await makeClient({ server: relay.ws, nick: "alice", cipher: "caesar" });
  const bob = await makeClient({ server: relay.ws, nick: "bob" });
  try {
    await alice.client.connect();
    await bob.client.connect();
    assert.equal((await alice.waitFor("cipher")).insecure, true);
    await alice.client.sendPrivate("bob", "Attack at dawn");
    const got = await bob.waitFor("message", (m) => !m.own);
    assert.equal(got.text, "Attack at dawn");
    assert.equal(got.cipher, "caesar");
    assert.equal(got.insecure, true);
    await alice.client.setCipher("chacha20-poly1305");
    await alice.client.sendPrivate("bob", "now secure");
    const secure = await bob.waitFor("message", (m) => !m.own);
    assert.equal(secure.cipher, "chacha20-poly1305");
    assert.equal(secure.insecure, false);
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
  }
});

Deno.test("ChatClient notices a reinstalled peer before writing to its old session", async () => {
  await withReinstalledBob(async ({ alice, bob }) => {
    // Alice writes first, on her old session: the directory's key for "bob" differs.
    assert.equal(await alice.client.sendPrivate("bob", "still there?"), undefined);
    const changed = await alice.waitFor("identity-changed");
    assert.equal(changed.newFingerprint, bob.client.fingerprint);
    await alice.waitFor("error", (e) => e.code === "IDENTITY_CHANGED");
    await alice.client.trust("bob");
    await alice.client.sendPrivate("bob", "hello new bob");
    assert.equal((await bob.waitFor("message", (m) => !m.own)).text, "hello new bob");
    assert.deepEqual(bob.received(), ["hello new bob"]);
  });
});
