import assert from "node:assert/strict";
import { makeClient, startRelay, until, untilMembers } from "./_chat_harness.ts";

Deno.test("ChatClient loses and doubles nothing when the relay is killed and restarted with --store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-restart-" });
  const store = `${dir}/relay.sqlite`;
  let relay = await startRelay({ store });
  const ports = {
    ws: Number(new URL(relay.ws).port),
    tcp: Number(new URL(relay.tcp).port),
  };
  const alice = await makeClient({ server: relay.tcp, nick: "alice" });
  const bob = await makeClient({ server: relay.ws, nick: "bob" });
  try {
    await alice.client.connect();
    await bob.client.connect();
    await untilMembers(alice, "lobby", 2);
    const expected: string[] = [];
    for (let i = 0; i < 5; i++) {
      expected.push(`before ${i}`);
      await alice.client.sendPrivate("bob", `before ${i}`);
    }
    await until(() => bob.received().length === 5, "bob got the first five");
    // Messages in flight when the relay dies, and more while it is down.
    for (let i = 0; i < 5; i++) {
      expected.push(`during ${i}`);
      const sending = alice.client.sendPrivate("bob", `during ${i}`);
      if (i === 1) await relay.kill();
      await sending;
    }
    await alice.waitFor("disconnected");
    assert.ok(alice.client.unacknowledged > 0, "something waits in the outbox");
    relay = await startRelay({ store, ports });
    await alice.waitFor("reconnecting");
    await until(() => alice.client.connected && bob.client.connected, "both reconnect", 15_000);
    for (let i = 0; i < 3; i++) {
      expected.push(`after ${i}`);
      await alice.client.sendPrivate("bob", `after ${i}`);
    }
    await alice.client.sendRoom("room after restart");
    await until(() => bob.received().length >= 14, "bob got everything", 15_000);
    // Give a duplicate the chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(bob.received(), [...expected, "room after restart"]);
    assert.equal(alice.client.unacknowledged, 0);
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
