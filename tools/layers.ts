/**
 * The layering rule of the codebase, as data, and a checker over a `deno info --json` module
 * graph. Dependencies point one way: terminal UI -> chat engine -> sessions -> crypto, protocol;
 * relay -> protocol (and, from crypto, only Ed25519 verification, the X25519 public-key check by
 * comparison, errors, bytes and randomness).
 * The relay is blind by construction: no session or cipher-suite module is in its graph.
 *
 * @module
 */

/** Which top-level folders (or single files) each layer may import, besides itself. */
export const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  crypto: [],
  protocol: ["crypto/errors.ts", "crypto/bytes.ts", "crypto/random.ts"],
  relay: [
    "protocol",
    "crypto/errors.ts",
    "crypto/bytes.ts",
    "crypto/random.ts",
    "crypto/ed25519.ts",
    "crypto/dh_public_key.ts",
    // The web client's bundle as data (a JSON import): never web/ code.
    "web/dist/bundle.json",
  ],
  sessions: ["crypto", "protocol"],
  chat: ["sessions", "crypto", "protocol"],
  terminal: ["chat", "sessions", "crypto", "protocol"],
  // The browser client: the engine as the terminal uses it; `web/serve.ts` answers with the
  // relay's own page code (`relay/web.ts`), which holds no session or cipher code.
  web: ["chat", "sessions", "crypto", "protocol", "relay/web.ts"],
  "server.ts": ["relay"],
  "client.ts": ["terminal"],
};

/** One import that breaks the layering rule. */
export interface LayerViolation {
  /** The importing module, relative to the project root. */
  from: string;
  /** The imported module, relative to the project root. */
  to: string;
}

/** The part of `deno info --json` output this checker reads. */
export interface ModuleGraph {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
  }[];
}

/**
 * Names the layer of a project-relative path: its first folder, or the file itself at the top.
 *
 * @param path A path relative to the project root, with `/` separators.
 * @returns The layer name, e.g. `relay` or `server.ts`.
 */
export function layerOf(path: string): string {
  const slash = path.indexOf("/");
  return slash === -1 ? path : path.slice(0, slash);
}

function allowed(from: string, to: string): boolean {
  const fromLayer = layerOf(from);
  const toLayer = layerOf(to);
  if (fromLayer === toLayer) return true;
  const rules = ALLOWED_IMPORTS[fromLayer];
  if (rules === undefined) return true; // tests, tools, bench: free
  return rules.some((rule) => rule === toLayer || rule === to);
}

/**
 * Lists every project-internal import in a module graph that breaks {@linkcode ALLOWED_IMPORTS}.
 *
 * @param graph Parsed `deno info --json` output.
 * @param rootUrl The project root as a `file://` URL ending in `/`.
 * @returns The violations, empty when the graph respects the rule.
 */
export function findLayerViolations(graph: ModuleGraph, rootUrl: string): LayerViolation[] {
  const violations: LayerViolation[] = [];
  const local = (specifier: string) =>
    specifier.startsWith(rootUrl) ? specifier.slice(rootUrl.length) : undefined;
  for (const module of graph.modules) {
    const from = local(module.specifier);
    if (from === undefined) continue;
    for (const dependency of module.dependencies ?? []) {
      for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
        const to = target === undefined ? undefined : local(target);
        if (to !== undefined && !allowed(from, to)) violations.push({ from, to });
      }
    }
  }
  return violations;
}
