import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

relayGraphTest();

function relayGraphTest(): void {
  Deno.test("the relay is blind by construction: server.ts's graph has no session or cipher code", async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "server.ts"],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string }[];
      npmPackages?: Record<string, unknown>;
    };
    const local = graph.modules
      .map((m) => m.specifier)
      .filter((s) => s.startsWith(root.href))
      .map((s) => s.slice(root.href.length));
    // It is the relay's graph: the routing code and the codec are in it.
    for (const must of ["server.ts", "relay/relay.ts", "protocol/envelope.ts"]) {
      assert.ok(local.includes(must), `${must} is in the graph`);
    }
    const forbidden = local.filter((p) =>
      /^(sessions|chat|terminal)\//.test(p) ||
      /^crypto\/(cipher_suite|aes_|chacha|xchacha|caesar|x25519|hkdf|fingerprint|_cipher_backend|_node_crypto)/
        .test(p)
    );
    assert.deepEqual(forbidden, []);
    const crypto = local.filter((p) => p.startsWith("crypto/")).sort();
    // dh_public_key.ts: the X25519 public-key check at PUBLISH_KEYS, by byte comparison only.
    assert.deepEqual(crypto, [
      "crypto/bytes.ts",
      "crypto/dh_public_key.ts",
      "crypto/ed25519.ts",
      "crypto/errors.ts",
      "crypto/random.ts",
    ]);
    // No cipher library either: the only npm module is Ed25519 from @noble/curves.
    const npm = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith("npm:"));
    assert.equal(npm.length, 1, npm.join(", "));
    assert.match(npm[0]!, /^npm:\/@noble\/curves@[^/]+\/ed25519\.js$/);
  });
}
