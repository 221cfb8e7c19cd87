/**
 * Shared helpers of the crypto tests: typed-error assertions and the Wycheproof AEAD runner.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type CipherSuite,
  CryptoError,
  type CryptoErrorCode,
  equalBytes,
  fromHex,
  toHex,
} from "../../crypto/mod.ts";

/** Number of fast-check runs: small by default, larger with `SLOW=1`. */
export function propertyRuns(): number {
  let slow = false;
  try {
    slow = Deno.env.get("SLOW") === "1";
  } catch {
    slow = false; // no --allow-env: the default run count
  }
  return slow ? 2_000 : 200;
}

/** Asserts that `fn` throws a `CryptoError` with exactly `code`. */
export function assertCryptoError(fn: () => unknown, code: CryptoErrorCode, label = ""): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CryptoError, `${label} expected a CryptoError, got ${error}`);
    assert.equal(error.code, code, `${label} wrong error code`);
    return true;
  });
}

/** The outcome of a call: its value or the code of the `CryptoError` it threw. */
export function outcome<T>(fn: () => T): { ok: true; value: T } | { ok: false; code: string } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (error instanceof CryptoError) return { ok: false, code: error.code };
    return { ok: false, code: `NOT_A_CRYPTO_ERROR: ${error}` };
  }
}

/** One Wycheproof AEAD test (aead_test_schema_v1). */
export interface AeadTest {
  tcId: number;
  comment: string;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: string;
}

/** One Wycheproof AEAD test group. */
export interface AeadGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: AeadTest[];
}

/** A Wycheproof AEAD file. */
export interface AeadFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: AeadGroup[];
}

/** What {@link runWycheproofAead} did. */
export interface AeadReport {
  /** `valid` cases that sealed to exactly ct||tag and opened to msg. */
  valid: number;
  /** `invalid` cases that `open` rejected with DECRYPT_FAILED. */
  invalid: number;
  /** Cases with a nonce length the suite does not take, refused with BAD_NONCE_LENGTH. */
  wrongNonce: number;
  /** Cases not run, by reason (`"keySize 128"` ...), with counts. */
  skipped: Record<string, number>;
  /** Failures, each labelled with its tcId. Must be empty. */
  failures: string[];
}

/**
 * Runs every test of a Wycheproof AEAD file through one backend of one suite. Groups whose
 * key size or tag size the suite does not have are skipped (and counted by reason). Groups
 * whose nonce size differs from the suite's must be refused with BAD_NONCE_LENGTH.
 */
export function runWycheproofAead(suite: CipherSuite, file: AeadFile): AeadReport {
  const report: AeadReport = { valid: 0, invalid: 0, wrongNonce: 0, skipped: {}, failures: [] };
  for (const group of file.testGroups) {
    if (group.keySize !== suite.keyLength * 8) {
      const reason = `keySize ${group.keySize}`;
      report.skipped[reason] = (report.skipped[reason] ?? 0) + group.tests.length;
      continue;
    }
    if (group.tagSize !== suite.tagLength * 8) {
      const reason = `tagSize ${group.tagSize}`;
      report.skipped[reason] = (report.skipped[reason] ?? 0) + group.tests.length;
      continue;
    }
    for (const t of group.tests) {
      const label = `${file.algorithm} ${suite.backend} tcId ${t.tcId} (${t.comment || t.flags})`;
      const key = fromHex(t.key);
      const nonce = fromHex(t.iv);
      const aad = fromHex(t.aad);
      const msg = fromHex(t.msg);
      const sealed = fromHex(t.ct + t.tag);
      if (group.ivSize !== suite.nonceLength * 8) {
        const s = outcome(() => suite.seal(key, nonce, msg, aad));
        const o = outcome(() => suite.open(key, nonce, sealed, aad));
        if (s.ok || s.code !== "BAD_NONCE_LENGTH" || o.ok || o.code !== "BAD_NONCE_LENGTH") {
          report.failures.push(`${label}: a ${group.ivSize}-bit nonce was not refused`);
        } else report.wrongNonce++;
        continue;
      }
      if (t.result === "valid") {
        const s = outcome(() => suite.seal(key, nonce, msg, aad));
        const o = outcome(() => suite.open(key, nonce, sealed, aad));
        if (!s.ok) report.failures.push(`${label}: seal threw ${s.code}`);
        else if (!equalBytes(s.value, sealed)) {
          report.failures.push(`${label}: seal gave ${toHex(s.value)}`);
        } else if (!o.ok) report.failures.push(`${label}: open threw ${o.code}`);
        else if (!equalBytes(o.value, msg)) report.failures.push(`${label}: open gave wrong text`);
        else report.valid++;
      } else if (t.result === "invalid") {
        const o = outcome(() => suite.open(key, nonce, sealed, aad));
        if (o.ok) report.failures.push(`${label}: invalid case was accepted`);
        else if (o.code !== "DECRYPT_FAILED") {
          report.failures.push(`${label}: rejected with ${o.code}, expected DECRYPT_FAILED`);
        } else report.invalid++;
      } else {
        report.failures.push(`${label}: unexpected result "${t.result}"`);
      }
    }
  }
  return report;
}
