/**
 * `deno task web:build`: bundles the browser client (`web/main.ts` with `chat/`, `sessions/`,
 * `crypto/`, `protocol/` and the npm packages it uses) into `web/dist/bundle.json`:
 * `{ html, js, css, sha256, integrity }` (docs/WEB.md). The JavaScript comes from `deno bundle`
 * (esbuild inside Deno: minified, ES module, browser platform), with an import map that swaps
 * the two Deno-only transports of `chat/` for browser stand-ins (`web/_browser/`), so neither
 * `Deno.connect` nor the `ws` package reaches the page. Same sources, same bytes: the output is
 * committed and `tests/e2e/bundle_e2e.ts` checks it is fresh (`--check`).
 *
 * Usage: `deno task web:build`, or `deno run --allow-read --allow-write=web/dist --allow-run
 * web/build.ts [--check]`
 *
 * @module
 */

import { toBase64, toHex } from "../crypto/bytes.ts";

const ROOT = new URL("../", import.meta.url);
const OUT = new URL("web/dist/bundle.json", ROOT);

/** What `web/dist/bundle.json` holds (CONTRACT: the relay and `web/serve.ts` read it). */
export interface WebBundle {
  /** The page, with the script's and style sheet's Subresource Integrity. */
  html: string;
  /** The application script (an ES module). */
  js: string;
  /** The style sheet. */
  css: string;
  /** SHA-256 of `js` (UTF-8 bytes), hex: what the relay prints and the page shows. */
  sha256: string;
  /** `sha384-...` of `js`: the script tag's integrity attribute. */
  integrity: string;
}

/** Files `chat/` loads only under Deno, and their browser stand-ins. */
const STUBS: Record<string, string> = {
  "chat/_tcp_transport.ts": "web/_browser/tcp_transport.ts",
  "chat/_ws_deno_transport.ts": "web/_browser/ws_deno_transport.ts",
};

/**
 * Builds the bundle.
 *
 * @returns The bundle, not written.
 * @throws {Error} When `deno bundle` fails.
 */
export async function buildBundle(): Promise<WebBundle> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    imports: Record<string, string>;
  };
  const imports: Record<string, string> = {};
  for (const [name, target] of Object.entries(config.imports)) {
    imports[name] = target;
    if (target.startsWith("npm:")) imports[`${name}/`] = `${target}/`;
  }
  for (const [file, stub] of Object.entries(STUBS)) {
    imports[new URL(file, ROOT).href] = new URL(stub, ROOT).href;
  }
  // The import map goes inline (a data: URL): the build writes nothing but the bundle.
  const importMap = `data:application/json;base64,${
    toBase64(new TextEncoder().encode(JSON.stringify({ imports })))
  }`;
  // The IO worker first: its bundle goes, as a string, before the page's (`web/main.ts` starts
  // it from a blob: URL), so the script tag's integrity covers both.
  const worker = await denoBundle(importMap, "web/io_worker_main.ts");
  const page = await denoBundle(importMap, "web/main.ts");
  const js = `globalThis.HUSH_IO_WORKER=${JSON.stringify(worker)};\n${page}`;
  for (const banned of ["Deno.connect", "perMessageDeflate", 'from"node:']) {
    if (js.includes(banned)) throw new Error(`The browser bundle contains ${banned}`);
  }
  const css = minifyCss(await Deno.readTextFile(new URL("web/style.css", ROOT)));
  const sha256 = toHex(await digest("SHA-256", js));
  const integrity = `sha384-${toBase64(await digest("SHA-384", js))}`;
  const cssIntegrity = `sha384-${toBase64(await digest("SHA-384", css))}`;
  const html = (await Deno.readTextFile(new URL("web/index.html", ROOT)))
    .replace(/\{\{\s*INTEGRITY\s*\}\}/, integrity)
    .replace(/\{\{\s*CSS_INTEGRITY\s*\}\}/, cssIntegrity)
    .replace(/\{\{\s*SHA256\s*\}\}/, sha256);
  return { html, js, css, sha256, integrity };
}

/** One `deno bundle` run: minified ES module for the browser. */
async function denoBundle(importMap: string, entry: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--import-map",
      importMap,
      "--platform",
      "browser",
      "--format",
      "esm",
      "--minify",
      new URL(entry, ROOT).pathname,
    ],
    cwd: new URL(".", ROOT).pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const errors = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`deno bundle of ${entry} failed:\n${errors}`);
  return new TextDecoder().decode(out.stdout);
}

/** The bundle as `web/dist/bundle.json` holds it (fixed key order, one trailing newline). */
export function bundleText(bundle: WebBundle): string {
  const { html, js, css, sha256, integrity } = bundle;
  return JSON.stringify({ html, js, css, sha256, integrity }) + "\n";
}

/** Drops comments and the white space around punctuation: no change in meaning. */
function minifyCss(css: string): string {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\s+/g, " ")
    .replace(/\s*([{};,>])\s*/g, "$1")
    .replace(/:\s+/g, ":")
    .replace(/;}/g, "}")
    .trim() + "\n";
}

async function digest(algorithm: "SHA-256" | "SHA-384", text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, new TextEncoder().encode(text)));
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const text = bundleText(await buildBundle());
  if (check) {
    let current = "";
    try {
      current = await Deno.readTextFile(OUT);
    } catch {
      // missing: stale
    }
    if (current !== text) {
      console.error("web/dist/bundle.json is stale: run deno task web:build");
      Deno.exit(1);
    }
    console.log("web/dist/bundle.json is fresh");
  } else {
    await Deno.writeTextFile(OUT, text);
    const gz = await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    const data = JSON.parse(text) as WebBundle;
    console.log(
      `web/dist/bundle.json: js ${data.js.length} B, css ${data.css.length} B, ` +
        `html ${data.html.length} B; ${gz.byteLength} B gzipped; sha256 ${data.sha256}`,
    );
  }
}
