import assert from "node:assert/strict";
import { contentSecurityPolicy, WEB_BUNDLE, webAnswer } from "../../relay/web.ts";
import { mentions } from "../../web/app.ts";
import { relayUrlFor } from "../../web/relay_url.ts";

async function digest(algorithm: string, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, new TextEncoder().encode(text)));
}

Deno.test("the bundle's hashes are those of its script; the page pins them", async () => {
  const sha256 = Array.from(
    await digest("SHA-256", WEB_BUNDLE.js),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.equal(WEB_BUNDLE.sha256, sha256);
  const sha384 = btoa(String.fromCharCode(...await digest("SHA-384", WEB_BUNDLE.js)));
  assert.equal(WEB_BUNDLE.integrity, `sha384-${sha384}`);
  assert.ok(WEB_BUNDLE.html.includes(`integrity="${WEB_BUNDLE.integrity}"`));
  assert.ok(WEB_BUNDLE.html.includes(WEB_BUNDLE.sha256), "the page shows the SHA-256");
  assert.ok(!/<script(?![^>]*\bsrc=)/.test(WEB_BUNDLE.html), "no inline script");
  assert.ok(!/<style|\sstyle=/.test(WEB_BUNDLE.html), "no inline style");
  assert.ok(!WEB_BUNDLE.js.includes("Deno.connect"), "no Deno-only transport in the page");
});

Deno.test("GET /, /app.js, /app.css carry a strict policy; other paths are not the page's", () => {
  const page = webAnswer("GET", "/", { host: "127.0.0.1:4874" })!;
  assert.equal(page.status, 200);
  assert.equal(page.contentType, "text/html; charset=utf-8");
  const csp = page.headers["content-security-policy"]!;
  for (
    const part of [
      "default-src 'none'",
      "script-src 'self'",
      "worker-src blob:;",
      "style-src 'self'",
      "connect-src 'self' ws://127.0.0.1:4874",
      "frame-ancestors 'none'",
    ]
  ) assert.ok(csp.includes(part), `${part} in ${csp}`);
  assert.ok(!csp.includes("unsafe"), "no unsafe-inline, no unsafe-eval");
  assert.equal(page.headers["x-content-type-options"], "nosniff");
  assert.equal(page.headers["referrer-policy"], "no-referrer");
  assert.equal(webAnswer("GET", "/app.js")!.body, WEB_BUNDLE.js);
  assert.equal(webAnswer("GET", "/app.css")!.body, WEB_BUNDLE.css);
  assert.equal(webAnswer("GET", "/healthz"), null);
  assert.equal(webAnswer("POST", "/"), null);
});

Deno.test("deno task web names its relay in the page and in connect-src", () => {
  const page = webAnswer("GET", "/", { relay: "ws://127.0.0.1:4874/" })!;
  assert.ok(page.body.includes('<meta name="hush-relay" content="ws://127.0.0.1:4874/">'));
  assert.ok(
    page.headers["content-security-policy"]!.includes("connect-src 'self' ws://127.0.0.1:4874;"),
  );
  assert.equal(
    contentSecurityPolicy(["javascript:alert(1)", "wss://relay.example:443/x"]).match(
      /connect-src [^;]*/,
    )![0],
    "connect-src 'self' wss://relay.example",
  );
  const hostile = webAnswer("GET", "/", { host: "evil\r\nx: y" })!;
  assert.ok(hostile.headers["content-security-policy"]!.includes("connect-src 'self';"));
});

Deno.test("the page finds its relay: ?relay=, then the meta tag, then its own origin", () => {
  assert.equal(
    relayUrlFor(new URL("http://127.0.0.1:4880/?relay=ws://127.0.0.1:9/"), "ws://other/"),
    "ws://127.0.0.1:9/",
  );
  assert.equal(
    relayUrlFor(new URL("http://127.0.0.1:4880/"), "ws://127.0.0.1:4874/"),
    "ws://127.0.0.1:4874/",
  );
  assert.equal(relayUrlFor(new URL("http://127.0.0.1:4874/"), ""), "ws://127.0.0.1:4874/");
  assert.equal(relayUrlFor(new URL("https://chat.example/"), ""), "wss://chat.example/");
});

Deno.test("mentions: the nick as a word, with or without @, any case", () => {
  assert.ok(mentions("hi alice!", "alice"));
  assert.ok(mentions("@Alice look", "alice"));
  assert.ok(!mentions("malice", "alice"));
  assert.ok(!mentions("alice_1 here", "alice"));
  assert.ok(!mentions("anything", ""));
});
