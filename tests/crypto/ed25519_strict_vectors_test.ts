import assert from "node:assert/strict";
import { fromHex } from "../../crypto/bytes.ts";
import { ED25519_BACKENDS, verify } from "../../crypto/ed25519.ts";
import strict from "../vectors/ed25519_strict.json" with { type: "json" };

Deno.test("ed25519_strict.json: every crafted case gives its answer through verify() and every backend", () => {
  assert.equal(strict.cases.length, 58);
  for (const c of strict.cases) {
    const args = [fromHex(c.publicKey), fromHex(c.message), fromHex(c.signature)] as const;
    assert.equal(verify(...args), c.valid, c.comment);
    for (const backend of ED25519_BACKENDS) {
      assert.equal(backend.verify(...args), c.valid, `${backend.backend}: ${c.comment}`);
    }
  }
  // Only the honest signature and the seven torsion-in-R signatures verify.
  assert.equal(strict.cases.filter((c) => c.valid).length, 8);
});

Deno.test("ed25519_strict.json: public key 01 00..00 with R = identity and S = 0 is refused", () => {
  const identity = "01" + "00".repeat(31);
  const cases = strict.cases.filter((c) =>
    c.publicKey === identity && c.signature === identity + "00".repeat(32)
  );
  assert.equal(cases.length, 3);
  for (const c of cases) {
    assert.equal(c.valid, false);
    assert.equal(verify(fromHex(c.publicKey), fromHex(c.message), fromHex(c.signature)), false);
  }
});

Deno.test("ed25519_strict.json is what tools/gen_ed25519_vectors.ts writes", async () => {
  const { buildVectors } = await import("../../tools/gen_ed25519_vectors.ts");
  assert.deepEqual(buildVectors(), strict.cases);
});
