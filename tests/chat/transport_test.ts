import assert from "node:assert/strict";
import { ChatError } from "../../chat/errors.ts";
import { isSecureUrl, parseServerUrl } from "../../chat/transport.ts";

Deno.test("parseServerUrl() reads every supported scheme", () => {
  assert.deepEqual(parseServerUrl("tcp://127.0.0.1:4875"), {
    scheme: "tcp",
    hostname: "127.0.0.1",
    port: 4875,
  });
  assert.equal(parseServerUrl("tls://relay.example:443").scheme, "tls");
  assert.equal(parseServerUrl("tcp+tls://relay.example:443").scheme, "tls");
  assert.deepEqual(parseServerUrl("ws://[::1]:4874/"), {
    scheme: "ws",
    hostname: "::1",
    port: 4874,
  });
  assert.equal(parseServerUrl("wss://relay.example/").port, 443);
  assert.equal(parseServerUrl("ws://relay.example/chat").port, 80);
});

Deno.test("parseServerUrl() refuses unknown schemes, missing ports and garbage with BAD_SERVER_URL", () => {
  for (const url of ["http://x:1", "tcp://x", "tls://x", "not a url", "tcp://:5"]) {
    assert.throws(
      () => parseServerUrl(url),
      (error: unknown) => error instanceof ChatError && error.code === "BAD_SERVER_URL",
      url,
    );
  }
});

Deno.test("isSecureUrl() is true only for TLS transports", () => {
  assert.equal(isSecureUrl("tls://x:1"), true);
  assert.equal(isSecureUrl("tcp+tls://x:1"), true);
  assert.equal(isSecureUrl("wss://x/"), true);
  assert.equal(isSecureUrl("tcp://x:1"), false);
  assert.equal(isSecureUrl("ws://x:1/"), false);
});
