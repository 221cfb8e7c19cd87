import assert from "node:assert/strict";
import { findLayerViolations, layerOf } from "../../tools/layers.ts";

const root = "file:///project/";
function graph(edges: [string, string][]) {
  const modules = new Map<
    string,
    { specifier: string; dependencies: { code: { specifier: string } }[] }
  >();
  for (const [from, to] of edges) {
    const specifier = root + from;
    const module = modules.get(specifier) ?? { specifier, dependencies: [] };
    module.dependencies.push({ code: { specifier: to.startsWith("npm:") ? to : root + to } });
    modules.set(specifier, module);
  }
  return { modules: [...modules.values()] };
}

Deno.test("layerOf() names the first folder or the top-level file", () => {
  assert.equal(layerOf("relay/relay.ts"), "relay");
  assert.equal(layerOf("server.ts"), "server.ts");
});

Deno.test("findLayerViolations() accepts the arrows the design allows", () => {
  const ok = graph([
    ["server.ts", "relay/mod.ts"],
    ["relay/mod.ts", "protocol/mod.ts"],
    ["relay/auth.ts", "crypto/ed25519.ts"],
    ["protocol/decode.ts", "crypto/errors.ts"],
    ["terminal/mod.ts", "chat/mod.ts"],
    ["chat/engine.ts", "sessions/mod.ts"],
    ["sessions/x3dh.ts", "crypto/mod.ts"],
    ["crypto/x25519.ts", "npm:/@noble/curves@2.4.0/ed25519.js"],
    ["tests/anything_test.ts", "relay/relay.ts"],
  ]);
  assert.deepEqual(findLayerViolations(ok, root), []);
});

Deno.test("findLayerViolations() reports a relay that imports a cipher suite or a session", () => {
  const bad = graph([
    ["relay/relay.ts", "crypto/aes_256_gcm.ts"],
    ["relay/relay.ts", "sessions/mod.ts"],
    ["crypto/hkdf.ts", "protocol/mod.ts"],
    ["sessions/x3dh.ts", "terminal/render.ts"],
  ]);
  assert.deepEqual(findLayerViolations(bad, root), [
    { from: "relay/relay.ts", to: "crypto/aes_256_gcm.ts" },
    { from: "relay/relay.ts", to: "sessions/mod.ts" },
    { from: "crypto/hkdf.ts", to: "protocol/mod.ts" },
    { from: "sessions/x3dh.ts", to: "terminal/render.ts" },
  ]);
});
