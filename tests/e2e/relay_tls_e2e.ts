import assert from "node:assert/strict";
import { loggedIn, relayTest, startServer } from "./_relay_harness.ts";
import { selfSignedCert } from "./_tls_cert.ts";

const HARNESS = new URL("./_relay_harness.ts", import.meta.url).href;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

relayTest(
  "TLS: tls:// and wss:// clients with a test certificate talk through the relay",
  async () => {
    const dir = await Deno.makeTempDir();
    const { cert, key } = await selfSignedCert(dir);
    const server = await startServer(
      ["--cert", cert, "--key", key],
      ["--allow-net", `--allow-read=${dir}`],
    );
    try {
      assert.match(server.ws, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
      assert.match(server.tcp, /^tls:\/\/127\.0\.0\.1:\d+$/);
      const caCerts = [await Deno.readTextFile(cert)];
      const alice = await loggedIn(server.tcp, "alice", { caCerts });
      // The wss client runs in its own process, trusting the test certificate with --cert.
      const script = `${dir}/wss_client.ts`;
      await Deno.writeTextFile(
        script,
        `import { loggedIn } from ${JSON.stringify(HARNESS)};
const c = await loggedIn(Deno.args[0], "bob");
await c.sendEnvelope("alice", new TextEncoder().encode("over wss"));
const d = await c.next("deliver", 10000);
console.log(new TextDecoder().decode(d.body));
c.close();
Deno.exit(0);
`,
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--config",
          CONFIG,
          "--allow-net",
          "--allow-read",
          "--cert",
          cert,
          script,
          server.ws,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const fromBob = await alice.next("deliver", 15000);
      assert.equal(new TextDecoder().decode(fromBob.body), "over wss");
      await alice.sendEnvelope("bob", new TextEncoder().encode("over tls"));
      const out = await child.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout).trim(), "over tls");
      // A client that does not trust the certificate cannot connect.
      await assert.rejects(() => loggedIn(server.tcp, "eve"));
      alice.close();
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
