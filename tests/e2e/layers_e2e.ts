import assert from "node:assert/strict";
import { ALLOWED_IMPORTS, findLayerViolations, type ModuleGraph } from "../../tools/layers.ts";

const root = new URL("../../", import.meta.url);

async function moduleGraph(entry: string): Promise<ModuleGraph> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

async function entryPoints(): Promise<string[]> {
  const entries: string[] = [];
  for (const layer of Object.keys(ALLOWED_IMPORTS)) {
    const path = layer.endsWith(".ts") ? layer : `${layer}/mod.ts`;
    try {
      await Deno.stat(new URL(path, root));
      entries.push(path);
    } catch {
      // A layer that has no face yet has nothing to check.
    }
  }
  return entries;
}

Deno.test("every module graph respects the layering rule", async () => {
  const entries = await entryPoints();
  assert.ok(entries.includes("crypto/mod.ts"), "crypto/mod.ts is checked");
  for (const entry of entries) {
    const violations = findLayerViolations(await moduleGraph(entry), root.href);
    assert.deepEqual(violations, [], `${entry} imports against the layering rule`);
  }
});

Deno.test("the relay's module graph holds no session or cipher-suite module", async () => {
  const graph = await moduleGraph("server.ts");
  const local = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith(root.href))
    .map((s) => s.slice(root.href.length));
  assert.ok(local.some((path) => path.startsWith("relay/")), "server.ts reaches relay/");
  const forbidden = local.filter((path) =>
    path.startsWith("sessions/") || path.startsWith("chat/") || path.startsWith("terminal/") ||
    // The web client's bundle is data to the relay; no web/ code is in its graph.
    (path.startsWith("web/") && path !== "web/dist/bundle.json") ||
    /^crypto\/(cipher_suite|aes_|chacha|xchacha|caesar|hkdf|x25519|fingerprint)/.test(path)
  );
  assert.deepEqual(forbidden, []);
});
