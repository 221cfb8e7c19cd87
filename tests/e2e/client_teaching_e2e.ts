import assert from "node:assert/strict";
import { WAIT_MS, withWorld } from "./_client_harness.ts";
import { toHex, utf8Encode } from "../../crypto/bytes.ts";

const wait = { timeoutMs: WAIT_MS };

Deno.test("client --json: Caesar conversations are flagged insecure on both sides", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice", { cipher: "caesar" });
    const bob = await world.client("bob");
    await alice.send("@bob Attack at dawn");
    const got = await bob.waitForType("message", (e) => e.text === "Attack at dawn", wait);
    assert.equal(got.cipher, "caesar");
    assert.equal(got.insecure, true);
    const own = await alice.waitForType("message", (e) => e.text === "Attack at dawn", wait);
    assert.equal(own.insecure, true);

    await alice.send("/cipher aes-256-gcm");
    await alice.waitForType("cipher", (e) => e.cipher === "aes-256-gcm" && !e.insecure, wait);
    await alice.send("@bob Now properly sealed");
    const sealed = await bob.waitForType("message", (e) => e.text === "Now properly sealed", wait);
    assert.equal(sealed.insecure, false);
  });
});

Deno.test("client --json --refuse-insecure: a Caesar message is refused, not shown", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice", { cipher: "caesar" });
    const bob = await world.client("bob", { args: ["--refuse-insecure"] });
    await alice.send("@bob Attack at dawn");
    const error = await bob.waitForType("error", (e) => e.code === "INSECURE_SUITE_REFUSED", wait);
    assert.match(error.message, /caesar/i);
    await alice.send("/cipher aes-256-gcm");
    await alice.waitForType("cipher", (e) => e.cipher === "aes-256-gcm", wait);
    await alice.send("@bob Now properly sealed");
    const sealed = await bob.waitForType("message", (e) => e.text === "Now properly sealed", wait);
    assert.equal(sealed.insecure, false);
    assert.equal(
      bob.events.some((e) => e.type === "message" && e.text === "Attack at dawn"),
      false,
    );
  });
});

Deno.test("client --json: /wire shows what the relay sees, ciphertext and never the plaintext", async () => {
  await withWorld(async (world) => {
    const alice = await world.client("alice");
    const bob = await world.client("bob");
    await alice.send("/wire on");
    await bob.send("/wire on");
    await alice.waitForType("info", (e) => /Wire view on/.test(e.message), wait);
    const text = "The eagle lands at midnight, bring the blue folder";
    const since = alice.events.length;
    await alice.send(`@bob ${text}`);
    const message = await bob.waitForType("message", (e) => e.text === text, wait);
    const out = await alice.waitForType(
      "wire",
      (e) => e.wire.direction === "out" && e.wire.to === "bob",
      { since, ...wait },
    );
    const inbound = await bob.waitForType("wire", (e) => e.wire.id === message.id, wait);
    for (const { wire } of [out, inbound]) {
      assert.equal(wire.from, "alice");
      assert.equal(wire.toKind, "nick");
      assert.equal(wire.cipher, "aes-256-gcm");
      assert.match(wire.bodyHex, /^[0-9a-f]+$/);
      assert.ok(wire.size > wire.bodyHex.length / 2, "the frame is larger than its body");
      assert.ok(!wire.bodyHex.includes(toHex(utf8Encode("eagle"))), "plaintext in the body");
      assert.ok(!JSON.stringify(wire).includes("eagle"), "plaintext in the wire view");
    }
    assert.equal(
      inbound.wire.bodyHex,
      out.wire.bodyHex,
      "the relay forwards the body byte for byte",
    );
  });
});
