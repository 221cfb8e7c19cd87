import assert from "node:assert/strict";
import { fromHex } from "../../crypto/bytes.ts";
import { X25519_SMALL_ORDER_HEX, x25519PublicKeyProblem } from "../../crypto/dh_public_key.ts";
import { generateX25519KeyPair, x25519SharedSecret } from "../../crypto/x25519.ts";

Deno.test("x25519PublicKeyProblem: honest keys pass", () => {
  for (let i = 0; i < 50; i++) {
    assert.equal(x25519PublicKeyProblem(generateX25519KeyPair().publicKey), null);
  }
  assert.equal(x25519PublicKeyProblem(fromHex("09".padEnd(64, "0"))), null);
  // p - 2, the largest reduced u that is not of small order
  assert.equal(
    x25519PublicKeyProblem(
      fromHex("ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ),
    null,
  );
});

Deno.test("x25519PublicKeyProblem: the small-order list is what X25519 itself refuses", () => {
  const mine = generateX25519KeyPair().privateKey;
  for (const hex of X25519_SMALL_ORDER_HEX) {
    const key = fromHex(hex);
    assert.equal(x25519PublicKeyProblem(key), "small order", hex);
    assert.throws(() => x25519SharedSecret(mine, key), { code: "LOW_ORDER_PUBLIC_KEY" });
  }
});

Deno.test("x25519PublicKeyProblem: non-reduced and top-bit encodings, wrong length", () => {
  for (const low of ["ed", "ee", "f0", "ff"]) {
    const key = fromHex(low + "ff".repeat(30) + "7f");
    assert.equal(x25519PublicKeyProblem(key), "u >= 2^255 - 19", low);
  }
  const top = generateX25519KeyPair().publicKey;
  top[31]! |= 0x80;
  assert.equal(x25519PublicKeyProblem(top), "top bit set");
  assert.equal(x25519PublicKeyProblem(new Uint8Array(31)), "not 32 bytes");
});
