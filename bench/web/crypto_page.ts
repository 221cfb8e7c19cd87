/// <reference lib="dom" />
/**
 * Per-primitive crypto speed inside the browser: the project's own primitives (`crypto/`, which
 * in a browser have no `node:crypto` and run on noble) next to the browser's WebCrypto for the
 * same operation where WebCrypto has one. Bundled for the browser by `bench/web/run.ts`
 * (`deno bundle --platform browser`) and run in the page; it sets
 * `globalThis.hushCryptoBench`, an async function returning one row per measurement.
 *
 * @module
 */

import {
  getCipherSuite,
  hkdf,
  hmacSha256,
  randomBytes,
  safetyNumber,
  sha256,
  sign,
  verify,
  x25519SharedSecret,
} from "../../crypto/mod.ts";
import { generateIdentityKeyPair } from "../../crypto/ed25519.ts";
import { generateX25519KeyPair } from "../../crypto/x25519.ts";

/** One measurement. */
export interface CryptoRow {
  primitive: string;
  backend: string;
  /** Microseconds per operation (mean over the run). */
  usPerOp: number;
  ops: number;
}

async function time(
  primitive: string,
  backend: string,
  op: () => unknown,
  minMs: number,
): Promise<CryptoRow> {
  // Warm up (JIT, lazy tables), then run for at least minMs.
  for (let i = 0; i < 5; i++) await op();
  let ops = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < minMs || ops < 10) {
    for (let i = 0; i < 10; i++) await op();
    ops += 10;
    elapsed = performance.now() - t0;
  }
  return { primitive, backend, usPerOp: Math.round((elapsed * 1000 / ops) * 10) / 10, ops };
}

/** Copies into a fresh ArrayBuffer-backed array (WebCrypto's BufferSource). */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/**
 * Runs every measurement.
 *
 * @param minMs Minimum time per measurement.
 * @returns The rows.
 */
export async function runCryptoBench(minMs = 300): Promise<CryptoRow[]> {
  const rows: CryptoRow[] = [];
  const subtle = globalThis.crypto.subtle;
  const message = randomBytes(1024);
  const aad = randomBytes(24);

  // AEADs, 1 KiB.
  for (const id of ["aes-256-gcm", "chacha20-poly1305"] as const) {
    const suite = getCipherSuite(id);
    const key = randomBytes(suite.keyLength);
    const nonce = randomBytes(suite.nonceLength);
    rows.push(
      await time(`${id} seal 1 KiB`, suite.backend, () => {
        suite.seal(key, nonce, message, aad);
      }, minMs),
    );
  }
  const aesKey = await subtle.importKey("raw", buf(randomBytes(32)), "AES-GCM", false, [
    "encrypt",
  ]);
  const iv = buf(randomBytes(12));
  rows.push(
    await time("aes-256-gcm seal 1 KiB", "WebCrypto", () =>
      subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: buf(aad) },
        aesKey,
        buf(message),
      ), minMs),
  );

  // Hashes.
  rows.push(await time("sha-256 1 KiB", "noble", () => sha256(message), minMs));
  rows.push(
    await time("sha-256 1 KiB", "WebCrypto", () => subtle.digest("SHA-256", buf(message)), minMs),
  );
  const macKey = randomBytes(32);
  rows.push(await time("hmac-sha-256 1 KiB", "noble", () => hmacSha256(macKey, message), minMs));
  const hmacKey = await subtle.importKey(
    "raw",
    buf(macKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  rows.push(
    await time(
      "hmac-sha-256 1 KiB",
      "WebCrypto",
      () => subtle.sign("HMAC", hmacKey, buf(message)),
      minMs,
    ),
  );
  const ikm = randomBytes(32);
  rows.push(
    await time(
      "hkdf-sha-256 64 B",
      "noble",
      () => hkdf(ikm, { info: "bench", length: 64 }),
      minMs,
    ),
  );
  const hkdfKey = await subtle.importKey("raw", buf(ikm), "HKDF", false, ["deriveBits"]);
  rows.push(
    await time("hkdf-sha-256 64 B", "WebCrypto", () =>
      subtle.deriveBits(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new Uint8Array(32),
          info: new TextEncoder().encode("bench"),
        },
        hkdfKey,
        512,
      ), minMs),
  );

  // X25519.
  const a = generateX25519KeyPair();
  const b = generateX25519KeyPair();
  rows.push(
    await time(
      "x25519 shared secret",
      "noble",
      () => x25519SharedSecret(a.privateKey, b.publicKey),
      minMs,
    ),
  );
  try {
    const wa = await subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]) as CryptoKeyPair;
    const wb = await subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]) as CryptoKeyPair;
    rows.push(
      await time("x25519 shared secret", "WebCrypto", () =>
        subtle.deriveBits(
          { name: "X25519", public: wb.publicKey } as unknown as AlgorithmIdentifier,
          wa.privateKey,
          256,
        ), minMs),
    );
  } catch (error) {
    rows.push({
      primitive: "x25519 shared secret",
      backend: `WebCrypto (${error})`,
      usPerOp: NaN,
      ops: 0,
    });
  }

  // Ed25519.
  const id = generateIdentityKeyPair();
  const signed = randomBytes(64);
  const signature = sign(id.privateKey, signed);
  rows.push(await time("ed25519 sign 64 B", "noble", () => sign(id.privateKey, signed), minMs));
  rows.push(
    await time(
      "ed25519 verify 64 B",
      "noble",
      () => verify(id.publicKey, signed, signature),
      minMs,
    ),
  );
  try {
    const wk = await subtle.generateKey({ name: "Ed25519" }, false, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const wsig = await subtle.sign("Ed25519", wk.privateKey, buf(signed));
    rows.push(
      await time(
        "ed25519 sign 64 B",
        "WebCrypto",
        () => subtle.sign("Ed25519", wk.privateKey, buf(signed)),
        minMs,
      ),
    );
    rows.push(
      await time(
        "ed25519 verify 64 B",
        "WebCrypto",
        () => subtle.verify("Ed25519", wk.publicKey, wsig, buf(signed)),
        minMs,
      ),
    );
  } catch (error) {
    rows.push({
      primitive: "ed25519 sign 64 B",
      backend: `WebCrypto (${error})`,
      usPerOp: NaN,
      ops: 0,
    });
  }

  // The safety number (5,200 SHA-512 iterations per identity), fresh keys each time (cache-free).
  const keys = Array.from({ length: 40 }, () => generateIdentityKeyPair().publicKey);
  let k = 0;
  rows.push(
    await time("safety number (2 fresh keys)", "noble", () => {
      const i = k++ % 20;
      safetyNumber(keys[i]!, keys[i + 20]!);
    }, 0),
  );
  // Not crypto, but on the path of every message: one IndexedDB commit of 1 KiB.
  for (const durability of ["strict", "relaxed"] as const) {
    const db = await openDb(`hush-bench-${durability}`);
    let n = 0;
    rows.push(
      await time(
        `indexeddb commit 1 KiB (${durability})`,
        "IndexedDB",
        () =>
          new Promise<void>((resolve, reject) => {
            const tx = db.transaction("kv", "readwrite", { durability });
            tx.objectStore("kv").put(message, `k${n++ % 16}`);
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
          }),
        minMs,
      ),
    );
    db.close();
  }
  return rows;
}

function openDb(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("kv");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

(globalThis as { hushCryptoBench?: typeof runCryptoBench }).hushCryptoBench = runCryptoBench;
