/**
 * One interface for every cipher suite, and the registry that looks suites up.
 *
 * | id                   | wire id | key | nonce | tag | insecure | backends              |
 * | -------------------- | ------- | --- | ----- | --- | -------- | --------------------- |
 * | `aes-256-gcm`        | `0x01`  | 32  | 12    | 16  | no       | node:crypto, noble    |
 * | `chacha20-poly1305`  | `0x02`  | 32  | 12    | 16  | no       | node:crypto, noble    |
 * | `xchacha20-poly1305` | `0x03`  | 32  | 24    | 16  | no       | node:crypto, noble    |
 * | `caesar`             | `0xCA`  | 32  | 0     | 0   | YES      | hush                  |
 *
 * The interface is synchronous (WebCrypto, being async, is only benchmarked for comparison).
 * The registry checks argument types and key/nonce lengths once for every suite and turns any
 * failure inside a backend's `open` into `CryptoError` `DECRYPT_FAILED`, so no backend's own
 * exception type ever leaks.
 *
 * Default backend of each suite, chosen by measurement (`deno bench --allow-read --allow-env
 * bench/crypto_bench.ts`, Deno 2.9.6, 2-core AMD EPYC, average per call; full table in
 * docs/CRYPTO.md):
 *
 * | suite / backend                  | seal+open 256 B | seal 1 MiB         |
 * | -------------------------------- | --------------- | ------------------ |
 * | aes-256-gcm node:crypto          | 16.9 µs         | 12.8 ms (82 MB/s)  |
 * | aes-256-gcm noble                | 53.7 µs         | 53.4 ms (20 MB/s)  |
 * | chacha20-poly1305 node:crypto    | 14.6 µs         | 1.8 ms (0.58 GB/s) |
 * | chacha20-poly1305 noble          | 32.3 µs         | 10.5 ms (100 MB/s) |
 * | xchacha20-poly1305 node:crypto   | 22.6 µs         | 2.6 ms (0.40 GB/s) |
 * | xchacha20-poly1305 noble         | 37.1 µs         | 10.7 ms (98 MB/s)  |
 * | (WebCrypto AES-GCM, async; bench only) | 50.8 µs   | 2.7 ms (0.39 GB/s) |
 *
 * So `node:crypto` is the default of all three AEADs: 2-3x faster than noble on small
 * messages and 4-6x on large ones. Where `node:crypto` is missing (a browser) every suite
 * falls back to `noble`.
 *
 * @module
 */
import { loadNodeCrypto } from "./_node_crypto.ts";
import { buildRegistry, SUITE_IDS } from "./_registry.ts";
import { CryptoError } from "./errors.ts";

/** The id of a cipher suite. */
export type CipherSuiteId = "aes-256-gcm" | "chacha20-poly1305" | "xchacha20-poly1305" | "caesar";

/**
 * A cipher suite: data plus two functions. Every suite behind this interface behaves the same
 * way: `seal` returns `ciphertext || tag` (tag last, `tagLength` bytes), `open` reverses it and
 * throws `CryptoError` `DECRYPT_FAILED` if anything was tampered with (Caesar excepted: it has
 * no tag and cannot detect anything).
 */
export interface CipherSuite {
  /** Suite id, e.g. `"aes-256-gcm"`. */
  readonly id: CipherSuiteId;
  /** The u8 on the wire: 0x01 aes-256-gcm, 0x02 chacha20-poly1305, 0x03 xchacha20-poly1305, 0xCA caesar. */
  readonly wireId: number;
  /** Key length in bytes. */
  readonly keyLength: number;
  /** Nonce length in bytes (0 for Caesar). */
  readonly nonceLength: number;
  /** Authentication tag length in bytes, appended by `seal` (0 for Caesar). */
  readonly tagLength: number;
  /** `true` for a suite that must never protect real data (Caesar). */
  readonly insecure: boolean;
  /** The implementation: `"node:crypto"`, `"noble"` or `"hush"` (Caesar). */
  readonly backend: string;
  /**
   * Encrypts and authenticates.
   *
   * @param key `keyLength` bytes.
   * @param nonce `nonceLength` bytes; never reuse one with the same key.
   * @param plaintext Any length.
   * @param aad Additional authenticated data (authenticated, not encrypted); default empty.
   * @returns `ciphertext || tag`, `plaintext.length + tagLength` bytes.
   * @throws {CryptoError} `BAD_KEY_LENGTH` / `BAD_NONCE_LENGTH` for wrong lengths.
   * @throws {TypeError} If an argument is not a Uint8Array.
   */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /**
   * Verifies and decrypts.
   *
   * @param key `keyLength` bytes.
   * @param nonce `nonceLength` bytes, the one used to seal.
   * @param ciphertext `ciphertext || tag` as returned by `seal`.
   * @param aad The same AAD given to `seal`; default empty.
   * @returns The plaintext.
   * @throws {CryptoError} `DECRYPT_FAILED` if the tag does not verify (tampered or truncated
   *   data, wrong key, nonce or AAD); `BAD_KEY_LENGTH` / `BAD_NONCE_LENGTH` for wrong lengths.
   * @throws {TypeError} If an argument is not a Uint8Array.
   */
  open(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array;
}

/** The suite new sessions use unless told otherwise. */
export const DEFAULT_CIPHER_SUITE: CipherSuiteId = "aes-256-gcm";

/** Every suite and backend available in this runtime, wrapped with the checks. */
const REGISTRY = buildRegistry(loadNodeCrypto());

function isSuiteId(id: string): id is CipherSuiteId {
  return (SUITE_IDS as readonly string[]).includes(id);
}

/**
 * Looks a cipher suite up by id.
 *
 * @param id A {@link CipherSuiteId}.
 * @param options `backend`: ask for one backend (`"node:crypto"`, `"noble"`, `"hush"`);
 *   default: the measured fastest available.
 * @returns The suite (lengths checked, errors typed).
 * @throws {CryptoError} `UNKNOWN_CIPHER_SUITE` for an unknown id or a backend this suite does
 *   not have here.
 */
export function getCipherSuite(id: string, options: { backend?: string } = {}): CipherSuite {
  if (!isSuiteId(id)) {
    throw new CryptoError(
      "UNKNOWN_CIPHER_SUITE",
      `Unknown cipher suite "${id}": expected one of ${SUITE_IDS.join(", ")}`,
    );
  }
  if (options.backend === undefined) return REGISTRY.defaultOf(id);
  const list = REGISTRY.backends(id);
  const found = list.find((suite) => suite.backend === options.backend);
  if (!found) {
    throw new CryptoError(
      "UNKNOWN_CIPHER_SUITE",
      `Unknown backend "${options.backend}" for cipher suite ${id}: available here: ${
        list.map((suite) => suite.backend).join(", ")
      }`,
    );
  }
  return found;
}

/**
 * Looks a cipher suite (default backend) up by the u8 id it has on the wire.
 *
 * @param wireId 0x01, 0x02, 0x03 or 0xCA.
 * @returns The suite.
 * @throws {CryptoError} `UNKNOWN_CIPHER_SUITE` for any other value.
 */
export function getCipherSuiteByWireId(wireId: number): CipherSuite {
  for (const id of SUITE_IDS) {
    const suite = REGISTRY.defaultOf(id);
    if (suite.wireId === wireId) return suite;
  }
  throw new CryptoError("UNKNOWN_CIPHER_SUITE", `Unknown cipher suite wire id "${wireId}"`);
}

/**
 * Lists every suite once, each with its default backend, in wire-id order.
 *
 * @returns aes-256-gcm, chacha20-poly1305, xchacha20-poly1305, caesar.
 */
export function listCipherSuites(): CipherSuite[] {
  return SUITE_IDS.map((id) => REGISTRY.defaultOf(id));
}

/**
 * Lists every backend of one suite available in this runtime (for tests and benchmarks).
 *
 * @param id A {@link CipherSuiteId}.
 * @returns One suite object per backend, `node:crypto` (where present) before `noble`.
 * @throws {CryptoError} `UNKNOWN_CIPHER_SUITE` for an unknown id.
 */
export function listBackends(id: CipherSuiteId): CipherSuite[] {
  if (!isSuiteId(id)) {
    throw new CryptoError("UNKNOWN_CIPHER_SUITE", `Unknown cipher suite "${id}"`);
  }
  return [...REGISTRY.backends(id)];
}
