import assert from "node:assert/strict";
import { ChildClient, settle, WAIT_MS, withWorld } from "./_client_harness.ts";
import { selfSignedCert } from "./_tls_cert.ts";

Deno.test("client --json over tls:// and wss:// trusts a self-signed relay with --ca", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-tls-" });
  try {
    const { cert, key } = await selfSignedCert(dir);
    await withWorld(async (world) => {
      assert.match(world.relay.tcpUrl, /^tls:\/\//);
      const alice = await world.client("alice", { args: ["--ca", cert] });
      assert.match(world.relay.wsUrl, /^wss:\/\//);
      const bob = await world.client("bob", { ws: true, args: ["--ca", cert] });
      await alice.send("@bob over TLS, then end to end");
      const got = await bob.waitForType("message", (e) => e.text === "over TLS, then end to end", {
        timeoutMs: WAIT_MS,
      });
      assert.equal(got.from, "alice");

      // Without --ca the self-signed certificate is refused, with a hint naming --ca.
      const stranger = ChildClient.start({
        nick: "eve",
        server: world.relay.tcpUrl,
        home: `${world.dir}/eve`,
      });
      world.clients.push(stranger);
      const refused = await stranger.waitForType("disconnected", () => true, {
        timeoutMs: WAIT_MS,
      });
      assert.match(refused.reason, /certificate/);
      await settle();
      assert.equal(await stranger.end(), 1);
      assert.ok(stranger.stderr.some((l) => l.includes("hush: hint:") && l.includes("--ca FILE")));
    }, { args: ["--cert", cert, "--key", key] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
