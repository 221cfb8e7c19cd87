import assert from "node:assert/strict";
import { ChildClient, settle, WAIT_MS, withWorld } from "./_client_harness.ts";

/** Makes a self-signed certificate for 127.0.0.1 with openssl; returns the PEM paths. */
async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return { cert, key };
}

Deno.test("client --json over tls:// and wss:// trusts a self-signed relay with --ca", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-tls-" });
  try {
    const { cert, key } = await selfSigned(dir);
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
