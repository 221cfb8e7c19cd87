import assert from "node:assert/strict";
import { fromHex, getCipherSuite, listBackends, toHex } from "../../crypto/mod.ts";
import rfc8439 from "../vectors/rfc8439_chacha20_poly1305.json" with { type: "json" };
import wycheproof from "../vectors/wycheproof/chacha20_poly1305_test.json" with { type: "json" };
import { type AeadFile, runWycheproofAead } from "./_helpers.ts";

const backends = listBackends("chacha20-poly1305");

Deno.test("chacha20-poly1305 has a node:crypto and a noble backend here", () => {
  assert.deepEqual(backends.map((suite) => suite.backend).sort(), ["noble", "node:crypto"]);
  const suite = getCipherSuite("chacha20-poly1305");
  assert.equal(suite.wireId, 0x02);
  assert.equal(suite.keyLength, 32);
  assert.equal(suite.nonceLength, 12);
  assert.equal(suite.tagLength, 16);
  assert.equal(suite.insecure, false);
});

for (const suite of backends) {
  Deno.test(`chacha20-poly1305 (${suite.backend}) matches RFC 8439 section 2.8.2`, () => {
    assert.equal(rfc8439.cases.length, 1);
    for (const v of rfc8439.cases) {
      const key = fromHex(v.key);
      const nonce = fromHex(v.nonce);
      const aad = fromHex(v.aad);
      const sealed = suite.seal(key, nonce, fromHex(v.plaintext), aad);
      assert.equal(toHex(sealed), v.ciphertext + v.tag, v.section);
      assert.equal(toHex(suite.open(key, nonce, sealed, aad)), v.plaintext, v.section);
    }
  });

  Deno.test(`chacha20-poly1305 (${suite.backend}) passes every Wycheproof case`, () => {
    const report = runWycheproofAead(suite, wycheproof as unknown as AeadFile);
    assert.deepEqual(report.failures, []);
    assert.equal(report.valid, 256);
    assert.equal(report.invalid, 60);
    // InvalidNonceSize cases (0..256-bit nonces): refused with BAD_NONCE_LENGTH.
    assert.equal(report.wrongNonce, 9);
    assert.deepEqual(report.skipped, {});
    assert.equal(report.valid + report.invalid + report.wrongNonce, wycheproof.numberOfTests);
  });
}
