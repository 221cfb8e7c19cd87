import assert from "node:assert/strict";
import { createChatClient } from "../../chat/engine.ts";
import { MemoryHome } from "../../chat/home.ts";
import { FakeRelay } from "./_fake_relay.ts";

function client(relay: FakeRelay, nick: string) {
  return createChatClient({
    server: "tcp://fake:1",
    nick,
    home: new MemoryHome(),
    connectTransport: relay.connect,
    backoff: { baseMs: 1, maxMs: 4, random: () => 0 },
    closeTimeoutMs: 200,
    requestTimeoutMs: 1000,
    handshakeTimeoutMs: 100,
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`Timed out: ${what}`);
}

Deno.test("canonicalNick(): a typed look-alike becomes the one known spelling; exact wins; ambiguity stays as typed", async () => {
  const relay = new FakeRelay();
  const alice = await client(relay, "alice");
  const bob = await client(relay, "Bob");
  const engines = [alice, bob];
  try {
    await alice.connect();
    await bob.connect();
    await until(() => alice.canonicalNick("bob") === "Bob", "alice sees Bob");
    assert.equal(alice.canonicalNick("BOB"), "Bob");
    assert.equal(alice.canonicalNick("b0b_"), "Bob");
    assert.equal(alice.canonicalNick("ALICE"), "alice", "our own nick");
    assert.equal(alice.canonicalNick("bob_1"), "bob_1", "a suffix is another person");
    assert.equal(alice.canonicalNick("carol"), "carol", "unknown: as typed");
    assert.equal(alice.canonicalNick("not a nick"), "not a nick");
    // Two known look-alikes (an old relay store may hold both): exact spellings only.
    const other = await client(relay, "bob");
    engines.push(other);
    await other.connect();
    await until(() => alice.canonicalNick("BOB") === "BOB", "alice sees bob too");
    assert.equal(alice.canonicalNick("bob"), "bob");
    assert.equal(alice.canonicalNick("Bob"), "Bob");
  } finally {
    for (const e of engines) await e.close();
  }
});
