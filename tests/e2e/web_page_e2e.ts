/**
 * The web client's page in real Chromium: served by the relay (and by `web/serve.ts`), loaded
 * and used with no console error and no Content-Security-Policy violation, under a strict CSP
 * and Subresource Integrity.
 */

import assert from "node:assert/strict";
import { settle, WAIT_MS, webTest, withWebWorld } from "./_web_harness.ts";
import { ChildRelay } from "../../terminal/child_relay.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const wait = { timeoutMs: WAIT_MS };

/** The committed bundle (`deno task web:build`). */
async function bundle(): Promise<{ sha256: string; integrity: string; js: string }> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}web/dist/bundle.json`));
}

webTest(
  "web: the page served by the relay loads and connects with no console error and no CSP violation",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const alice = await web.user();
      const { sha256, integrity } = await bundle();

      // Served by the relay at GET / on its WebSocket port, under a strict CSP.
      const response = await fetch(web.pageUrl);
      const html = await response.text();
      assert.equal(response.status, 200);
      const csp = response.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src [^;]*'self'/, csp);
      const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? "";
      assert.doesNotMatch(scriptSrc, /unsafe-inline|unsafe-eval|\*/, csp);
      assert.match(csp, /default-src 'none'|default-src 'self'/, csp);
      const connectSrc = /connect-src ([^;]*)/.exec(csp)?.[1] ?? "";
      assert.doesNotMatch(connectSrc, /(^|\s)(\*|https?:|wss?:)(\s|$)/, `connect-src open: ${csp}`);
      // The script tag carries Subresource Integrity with the bundle's hash; no inline script.
      assert.match(html, new RegExp(`integrity="${integrity.replace(/[+/]/g, "\\$&")}"`));
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "an inline <script>");
      // The relay printed the bundle's SHA-256 at start-up.
      assert.ok(
        web.world.relay.output.some((l) => l.includes(sha256)),
        `relay output has no ${sha256}:\n${web.world.relay.output.join("\n")}`,
      );

      // Every accessible name of the contract is there before connecting.
      await alice.page.getByRole("button", { name: "Connect" }).waitFor();
      await alice.connect("alice");
      for (
        const [role, name] of [
          ["textbox", "Message"],
          ["button", "Send"],
          ["log", "Messages"],
          ["list", "Users"],
          ["list", "Rooms"],
          ["combobox", "Cipher"],
        ] as const
      ) {
        assert.equal(await alice.page.getByRole(role, { name }).count(), 1, `${role} "${name}"`);
      }
      const wire = alice.page.getByRole("checkbox", { name: "Wire view" }).or(
        alice.page.getByRole("switch", { name: "Wire view" }),
      );
      assert.equal(await wire.count(), 1, `checkbox or switch "Wire view"`);
      // The page shows the bundle's SHA-256.
      const body = await alice.page.locator("body").innerText();
      assert.ok(body.includes(sha256), "the page does not show the bundle's SHA-256");

      // Use it: a message each way, a command, the users list.
      await alice.say("hello from the browser");
      await bob.waitForType("message", (e) => e.text === "hello from the browser", wait);
      await bob.send("hello from the terminal");
      await alice.waitForMessage("hello from the terminal", "bob");
      await alice.say("/users");
      await alice.page.getByRole("list", { name: "Users" }).getByRole("listitem").filter({
        hasText: "bob",
      }).first().waitFor();
      await settle();

      assert.deepEqual(alice.pageErrors, []);
      assert.deepEqual(alice.consoleErrors, []);
      assert.deepEqual(await alice.cspViolations(), []);

      // The recorder works, and the CSP forbids inline script: injecting one is reported.
      await alice.page.evaluate(
        `(() => { const s = document.createElement("script"); s.textContent = "window.__x = 1"; document.body.append(s); })()`,
      );
      await alice.waitUntil(
        async () => (await alice.cspViolations()).length > 0,
        "the injected inline script to be reported",
        5_000,
      );
      assert.equal(await alice.page.evaluate(`typeof window.__x`), "undefined");
    });
  },
);

webTest("web: /app.js matches the SRI hash; --no-web serves no page", async () => {
  await withWebWorld(async (web) => {
    const { integrity, js } = await bundle();
    const response = await fetch(new URL("/app.js", web.pageUrl));
    assert.equal(response.status, 200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(new TextDecoder().decode(bytes), js);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", bytes));
    assert.equal(`sha384-${btoa(String.fromCharCode(...digest))}`, integrity);
  });
  const relay = await ChildRelay.start({ args: ["--no-web"] });
  try {
    const response = await fetch(`http://127.0.0.1:${relay.port}/`);
    await response.body?.cancel();
    assert.equal(response.status, 404);
  } finally {
    await relay.stop();
  }
});

webTest(
  "web: the page served by `deno task web` (web/serve.ts) talks to the relay given by --relay",
  async () => {
    await withWebWorld(async (web) => {
      const bob = await web.world.client("bob");
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const serve = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-net",
          "--allow-read",
          "web/serve.ts",
          "--port",
          String(port),
          "--relay",
          web.world.relay.wsUrl,
        ],
        cwd: ROOT,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      try {
        const url = `http://127.0.0.1:${port}/`;
        const deadline = Date.now() + WAIT_MS;
        for (;;) {
          const ok = await fetch(url).then(async (r) => {
            await r.body?.cancel();
            return r.ok;
          }).catch(() => false);
          if (ok) break;
          assert.ok(Date.now() < deadline, "web/serve.ts did not answer");
          await settle(200);
        }
        const alice = await web.user({ url });
        await alice.connect("alice");
        await alice.say("from a page served apart");
        await bob.waitForType("message", (e) => e.text === "from a page served apart", wait);
        assert.deepEqual(alice.consoleErrors, []);
        assert.deepEqual(await alice.cspViolations(), []);
      } finally {
        try {
          serve.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await serve.status;
        await serve.stderr.cancel().catch(() => {});
      }
    });
  },
);
