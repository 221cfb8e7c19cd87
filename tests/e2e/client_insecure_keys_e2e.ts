/**
 * Item 2 of issue 9: a room key (sender-key distribution) sealed under Caesar is refused by a
 * real `client.ts --json` receiver. The sender here is what a broken or hostile client could
 * send (the reference client never seals key material under Caesar): a raw protocol client
 * driving the sessions library, over a real relay process and TCP.
 */
import assert from "node:assert/strict";
import { utf8Encode } from "../../crypto/bytes.ts";
import { getCipherSuite } from "../../crypto/mod.ts";
import { DEFAULT_ROOM } from "../../protocol/mod.ts";
import { encodeContent, MemorySessionStore } from "../../sessions/mod.ts";
import { settle, WAIT_MS, withWorld } from "./_client_harness.ts";
import { loggedIn } from "./_relay_harness.ts";
import { hushOver } from "./_raw_hush.ts";
import { caesarDistribution } from "../sessions/_insecure_distribution.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: a room key sealed under Caesar is refused with an error; the room message stays unread", async () => {
  await withWorld(async (world) => {
    const bob = await world.client("bob");
    const mallory = await loggedIn(world.relay.tcpUrl, "mallory");
    try {
      const store = new MemorySessionStore();
      const hush = hushOver(mallory, store);
      await mallory.send({ type: "join", room: DEFAULT_ROOM });
      await mallory.next("joined");
      // An ordinary private message first: bob shows it (the session works).
      const hello = await hush.encryptTo("bob", "hello bob");
      await mallory.sendEnvelope("bob", hello.body, { cipher: hello.suite.wireId });
      await bob.waitForType("message", (e) => e.text === "hello bob", wait);

      // Then a room key sealed under Caesar, and a room message under that key.
      const caesar = getCipherSuite("caesar");
      const { body, key } = caesarDistribution(store, "bob", DEFAULT_ROOM);
      await mallory.sendEnvelope("bob", body, { cipher: caesar.wireId });
      const roomBody = key.encrypt(
        encodeContent({ type: "text", body: utf8Encode("the relay can read this room") }),
        { room: DEFAULT_ROOM, senderIdentityKey: mallory.identity.publicKey, suite: caesar },
      );
      await mallory.sendEnvelope(DEFAULT_ROOM, roomBody, { toKind: "room", cipher: caesar.wireId });

      const error = await bob.waitForType(
        "error",
        (e) => e.code === "INSECURE_KEY_MATERIAL",
        wait,
      );
      assert.match(error.message, /mallory/);
      assert.match(error.message, /insecure suite "caesar"/);
      await settle(1_000);
      assert.equal(
        bob.events.some((e) => e.type === "message" && e.text === "the relay can read this room"),
        false,
        "the room message under a refused key must not be shown",
      );
    } finally {
      mallory.close();
    }
  });
});
