import assert from "node:assert/strict";
import { wireView } from "../../chat/wire_view.ts";

const frame = {
  type: "send" as const,
  id: Uint8Array.from({ length: 16 }, (_, i) => i),
  cipher: 0x01,
  from: "alice",
  toKind: "nick" as const,
  to: "bob",
  // A ratchet body: type 0x02, version 1, suite 0x01, ratchet key (u = 9), pn, n, ciphertext.
  body: Uint8Array.from([0x02, 0x01, 0x01, 9, ...new Array(31 + 8 + 17).fill(0)]),
};

Deno.test("wireView() shows the clear header and the body as hex, nothing else", () => {
  assert.deepEqual(wireView("out", frame, 99), {
    direction: "out",
    id: "000102030405060708090a0b0c0d0e0f",
    from: "alice",
    to: "bob",
    toKind: "nick",
    cipher: "aes-256-gcm",
    bodyHex: "02010109" + "00".repeat(56),
    size: 99,
    kind: "ratchet",
  });
});

Deno.test("wireView() keeps a kind the sender knows and names unknown suites and bodies", () => {
  assert.equal(wireView("out", frame, 1, "ratchet/sender-key").kind, "ratchet/sender-key");
  const odd = wireView("in", { ...frame, cipher: 0x7e, body: Uint8Array.of(0x99) }, 1);
  assert.equal(odd.cipher, "0x7e");
  assert.equal(odd.kind, "unknown");
  assert.equal(wireView("in", { ...frame, cipher: 0xca }, 1).cipher, "caesar");
});
