/**
 * The web client's bundle and its two servers, with real processes: `web/dist/bundle.json` is
 * what `web/build.ts` makes from today's sources; `server.ts` (with `--allow-net` only) serves
 * it at `GET /` with its policy headers and prints the script's SHA-256; `--no-web` turns it
 * off; `web/serve.ts` (`deno task web`) serves the same bundle pointed at a given relay.
 * (The browser itself is driven by tests/e2e/web_*_e2e.ts.)
 */

import assert from "node:assert/strict";
import { startServer } from "./_relay_harness.ts";
import { toHex } from "../../crypto/bytes.ts";

const ROOT = new URL("../../", import.meta.url);

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

Deno.test("web/dist/bundle.json is fresh (deno task web:build leaves it unchanged)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "web/build.ts", "--check"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  assert.match(text, /bundle\.json is fresh/);
});

Deno.test("the relay serves the web client with SRI and a strict policy, and prints its hash", async () => {
  const relay = await startServer(["--tcp-port", "off"]);
  try {
    const origin = relay.ws.replace(/^ws/, "http");
    const page = await fetch(origin);
    const html = await page.text();
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /worker-src blob:(;|$)/); // the IO worker, from the bundle's own source
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, new RegExp(`connect-src 'self' ${relay.ws.replace(/\/$/, "")}(;|$)`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("referrer-policy"), "no-referrer");

    const script = await fetch(`${origin}app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
    const js = new Uint8Array(await script.arrayBuffer());
    const sha = await sha256Hex(js);
    const sri = `sha384-${
      btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-384", js))))
    }`;
    assert.ok(html.includes(`src="/app.js" integrity="${sri}"`), "the script tag pins the script");
    assert.ok(html.includes(sha), "the page shows the script's SHA-256");
    const printed = relay.lines.find((l) => l.startsWith("hush relay web client:"));
    assert.ok(printed?.includes(sha), `the relay prints the SHA-256: ${relay.lines.join("\n")}`);
    const css = await fetch(`${origin}app.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    await css.body?.cancel();
    const missing = await fetch(`${origin}nothing.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await relay.stop();
  }
});

Deno.test("--no-web: GET / is 404 and nothing about the web client is printed", async () => {
  const relay = await startServer(["--tcp-port", "off", "--no-web"]);
  try {
    const origin = relay.ws.replace(/^ws/, "http");
    for (const path of ["", "app.js", "app.css"]) {
      const response = await fetch(`${origin}${path}`);
      assert.equal(response.status, 404, path);
      await response.body?.cancel();
    }
    const health = await fetch(`${origin}healthz`);
    assert.equal(await health.text(), "ok\n");
    assert.ok(!relay.lines.some((l) => l.includes("web client")));
  } finally {
    await relay.stop();
  }
});

Deno.test("deno task web serves the same bundle, pointed at the relay it is given", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "web/serve.ts", "--port", "0", "--relay", "ws://127.0.0.1:4999/"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    const deadline = Date.now() + 15_000;
    while (!/on (http:\S+)/.test(out) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const url = /on (http:\S+)/.exec(out)?.[1];
    assert.ok(url !== undefined, out);
    const page = await fetch(url);
    const html = await page.text();
    assert.ok(html.includes('<meta name="hush-relay" content="ws://127.0.0.1:4999/">'));
    assert.match(
      page.headers.get("content-security-policy") ?? "",
      /connect-src 'self' ws:\/\/127\.0\.0\.1:4999(;|$)/,
    );
    const js = new Uint8Array(await (await fetch(`${url}app.js`)).arrayBuffer());
    assert.ok(out.includes(await sha256Hex(js)), "it prints the script's SHA-256");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel().catch(() => {});
  }
});
