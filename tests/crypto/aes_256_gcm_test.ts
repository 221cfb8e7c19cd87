import assert from "node:assert/strict";
import { fromHex, getCipherSuite, listBackends, toHex } from "../../crypto/mod.ts";
import gcmSpec from "../vectors/gcm_spec_aes_256_gcm.json" with { type: "json" };
import wycheproof from "../vectors/wycheproof/aes_gcm_test.json" with { type: "json" };
import { type AeadFile, runWycheproofAead } from "./_helpers.ts";

const backends = listBackends("aes-256-gcm");

Deno.test("aes-256-gcm has a node:crypto and a noble backend here", () => {
  assert.deepEqual(backends.map((suite) => suite.backend).sort(), ["noble", "node:crypto"]);
  const suite = getCipherSuite("aes-256-gcm");
  assert.equal(suite.wireId, 0x01);
  assert.equal(suite.keyLength, 32);
  assert.equal(suite.nonceLength, 12);
  assert.equal(suite.tagLength, 16);
  assert.equal(suite.insecure, false);
});

for (const suite of backends) {
  Deno.test(`aes-256-gcm (${suite.backend}) matches GCM spec test cases 13-16`, () => {
    assert.equal(gcmSpec.cases.length, 4);
    for (const v of gcmSpec.cases) {
      const key = fromHex(v.key);
      const nonce = fromHex(v.nonce);
      const aad = fromHex(v.aad);
      const sealed = suite.seal(key, nonce, fromHex(v.plaintext), aad);
      assert.equal(toHex(sealed), v.ciphertext + v.tag, v.section);
      assert.equal(toHex(suite.open(key, nonce, sealed, aad)), v.plaintext, v.section);
    }
  });

  Deno.test(`aes-256-gcm (${suite.backend}) passes every Wycheproof 256-bit key case`, () => {
    const report = runWycheproofAead(suite, wycheproof as unknown as AeadFile);
    assert.deepEqual(report.failures, []);
    // The 96-bit IV / 128-bit tag group with 256-bit keys: 39 valid + 27 invalid (modified
    // tags), all run.
    assert.equal(report.valid, 39);
    assert.equal(report.invalid, 27);
    // 256-bit key groups with other IV sizes (0, 8, ..., 2056 bits): valid GCM, but Hush's
    // suite takes 96-bit nonces only, so each must be refused with BAD_NONCE_LENGTH.
    assert.equal(report.wrongNonce, 39);
    // Skipped: AES-128 and AES-192 groups (Hush's suite is AES-256 only).
    assert.deepEqual(report.skipped, { "keySize 128": 108, "keySize 192": 103 });
    assert.equal(
      report.valid + report.invalid + report.wrongNonce + 108 + 103,
      wycheproof.numberOfTests,
    );
  });
}
