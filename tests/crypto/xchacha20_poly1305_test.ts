import assert from "node:assert/strict";
import { fromHex, getCipherSuite, listBackends, toHex } from "../../crypto/mod.ts";
import wycheproof from "../vectors/wycheproof/xchacha20_poly1305_test.json" with { type: "json" };
import { type AeadFile, runWycheproofAead } from "./_helpers.ts";

const backends = listBackends("xchacha20-poly1305");

Deno.test("xchacha20-poly1305 has a node:crypto and a noble backend here", () => {
  assert.deepEqual(backends.map((suite) => suite.backend).sort(), ["noble", "node:crypto"]);
  const suite = getCipherSuite("xchacha20-poly1305");
  assert.equal(suite.wireId, 0x03);
  assert.equal(suite.keyLength, 32);
  assert.equal(suite.nonceLength, 24);
  assert.equal(suite.tagLength, 16);
  assert.equal(suite.insecure, false);
});

for (const suite of backends) {
  Deno.test(`xchacha20-poly1305 (${suite.backend}) matches the XChaCha draft AEAD example (Wycheproof tcId 1)`, () => {
    // Wycheproof tcId 1 is the draft's AEAD example; checked here on its own so a failure
    // names the known-answer test.
    const v = wycheproof.testGroups[0]!.tests[0]!;
    assert.equal(v.tcId, 1);
    const sealed = suite.seal(fromHex(v.key), fromHex(v.iv), fromHex(v.msg), fromHex(v.aad));
    assert.equal(toHex(sealed), v.ct + v.tag);
  });

  Deno.test(`xchacha20-poly1305 (${suite.backend}) passes every Wycheproof case`, () => {
    const report = runWycheproofAead(suite, wycheproof as unknown as AeadFile);
    assert.deepEqual(report.failures, []);
    assert.equal(report.valid, 246);
    assert.equal(report.invalid, 60);
    // InvalidNonceSize cases (0..256-bit nonces other than 192): refused with BAD_NONCE_LENGTH.
    assert.equal(report.wrongNonce, 9);
    assert.deepEqual(report.skipped, {});
    assert.equal(report.valid + report.invalid + report.wrongNonce, wycheproof.numberOfTests);
  });
}
