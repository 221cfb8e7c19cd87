import assert from "node:assert/strict";
import { ChatError } from "../../chat/errors.ts";
import { createChatClient } from "../../chat/engine.ts";
import { MemoryHome } from "../../chat/home.ts";
import { makeClient, startRelay } from "./_chat_harness.ts";
import { selfSignedCert } from "./_tls_cert.ts";

Deno.test("ChatClient talks over tls:// and wss:// to a relay with a self-signed certificate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hush-chat-tls-" });
  const { cert, key } = await selfSignedCert(dir);
  const relay = await startRelay({ args: ["--cert", cert, "--key", key] });
  assert.match(relay.tcp, /^tls:\/\//);
  assert.match(relay.ws, /^wss:\/\//);
  const caCerts = [await Deno.readTextFile(cert)];
  const alice = await makeClient({
    server: relay.tcp,
    nick: "alice",
    caCerts,
    requireSecure: true,
  });
  const bob = await makeClient({ server: relay.ws, nick: "bob", caCerts, requireSecure: true });
  try {
    await alice.client.connect();
    await bob.client.connect();
    await alice.client.sendPrivate("bob", "over TLS");
    assert.equal((await bob.waitFor("message", (m) => !m.own)).text, "over TLS");
    await bob.client.sendPrivate("alice", "over WSS");
    assert.equal((await alice.waitFor("message", (m) => !m.own)).text, "over WSS");

    // Without the CA the certificate is refused.
    const stranger = await createChatClient({
      server: relay.tcp,
      nick: "stranger",
      home: new MemoryHome(),
    });
    await assert.rejects(
      () => stranger.connect(),
      (error: unknown) => error instanceof ChatError && error.code === "CONNECT_FAILED",
    );
    await stranger.close();
  } finally {
    await alice.client.close();
    await bob.client.close();
    await relay.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createChatClient() with requireSecure refuses a plain tcp:// or ws:// relay", async () => {
  for (const server of ["tcp://127.0.0.1:1", "ws://127.0.0.1:1/"]) {
    await assert.rejects(
      () => createChatClient({ server, nick: "x", home: new MemoryHome(), requireSecure: true }),
      (error: unknown) => error instanceof ChatError && error.code === "INSECURE_TRANSPORT",
    );
  }
});
