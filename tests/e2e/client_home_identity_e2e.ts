/**
 * A home belongs to an identity, not to a nick (issue 9, item 10, client side): real relay and
 * `client.ts --json` processes using their default homes (no --home; XDG_CONFIG_HOME points into
 * the test's directory).
 */

import assert from "node:assert/strict";
import { ChildClient, WAIT_MS, withWorld, type World } from "./_client_harness.ts";

const wait = { timeoutMs: WAIT_MS };

async function startDefault(world: World, nick: string): Promise<ChildClient> {
  const client = ChildClient.start({
    nick,
    server: world.relay.tcpUrl,
    env: { XDG_CONFIG_HOME: `${world.dir}/config` },
  });
  world.clients.push(client);
  await client.waitForType("ready", () => true, wait);
  return client;
}

async function homes(world: World): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${world.dir}/config/hush`)) names.push(entry.name);
  return names.sort();
}

Deno.test("client --json: after /nick robert, --nick Bob and --nick robert both use Bob's home and stay robert", async () => {
  await withWorld(async (world) => {
    const home = `${world.dir}/config/hush/Bob`;
    const first = await startDefault(world, "Bob");
    const fingerprint = first.eventsOf("ready")[0]!.fingerprint;
    assert.ok(first.events.some((e) => e.type === "info" && e.message === `Using home ${home}`));
    // (Not /nick bob: a look-alike of one's own nick keeps the relay's spelling, "Bob".)
    await first.send("/nick robert");
    await first.waitForType("nick", (e) => e.old === "Bob" && e.new === "robert", wait);
    assert.equal(await first.end(), 0);

    // The old nick on the command line: the same home, the current nick kept, the user told.
    const again = await startDefault(world, "Bob");
    const ready = again.eventsOf("ready")[0]!;
    assert.equal(ready.nick, "robert");
    assert.equal(ready.fingerprint, fingerprint);
    assert.ok(
      again.events.some((e) =>
        e.type === "info" && e.message.startsWith(`Using home ${home} (`) &&
        /had the nick Bob before a \/nick/.test(e.message)
      ),
    );
    const kept = again.events.find((e) =>
      e.type === "info" && /former nick of this identity/.test(e.message)
    );
    assert.ok(kept, "the user is told the current nick is kept");
    assert.match(kept.type === "info" ? kept.message : "", /keeping its current nick "robert"/);
    assert.equal(await again.end(), 0);

    // The new nick on the command line finds the same home: no new identity, no robert_1.
    const byNew = await startDefault(world, "robert");
    const readyNew = byNew.eventsOf("ready")[0]!;
    assert.equal(readyNew.nick, "robert");
    assert.equal(readyNew.fingerprint, fingerprint);
    assert.ok(
      byNew.events.some((e) =>
        e.type === "info" && e.message === `Using home ${home} (the identity with the nick robert)`
      ),
    );
    assert.deepEqual(await homes(world), ["Bob"]);

    // And it works as robert: a peer's private message arrives.
    const alice = await world.client("alice");
    await alice.send("@robert still you?");
    await byNew.waitForType("message", (e) => e.text === "still you?" && e.from === "alice", wait);
  });
});
