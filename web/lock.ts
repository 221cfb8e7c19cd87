/**
 * The passphrase lock of a browser home: every file of a locked home is sealed with
 * XChaCha20-Poly1305 (`crypto/`'s suite, noble in a browser) under a 32-byte key stretched from
 * the passphrase with scrypt (`@noble/hashes`). The salt and the scrypt cost are stored with the
 * home, with a sealed check value so a wrong passphrase is told at once. Each file's name is the
 * AEAD's associated data: a sealed file cannot be swapped for another of the same home.
 *
 * @module
 */

import { scryptAsync } from "@noble/hashes/scrypt.js";
import {
  fromHex,
  getCipherSuite,
  randomBytes,
  toHex,
  utf8Decode,
  utf8Encode,
} from "../crypto/mod.ts";
import { ChatError } from "../chat/errors.ts";

/** The AEAD that seals a locked home's files. */
export const LOCK_SUITE = "xchacha20-poly1305";

/**
 * scrypt cost: N = 2^16, r = 8, p = 1 (64 MiB, about 1 s in Chromium on a 2-core machine, see
 * docs/WEB.md). Stored with each home, so it can be raised later without locking anyone out.
 */
export const DEFAULT_SCRYPT = Object.freeze({ logN: 16, r: 8, p: 1 });

/** What a locked home stores in the clear to open again. */
export interface LockParams {
  /** KDF name. */
  kdf: "scrypt";
  /** Cost: N = 2^logN. */
  logN: number;
  r: number;
  p: number;
  /** 16 random bytes, hex. */
  salt: string;
  /** The sealed check value, hex (nonce || ciphertext). */
  check: string;
}

/** A sealed value: nonce then ciphertext with tag. */
export type Sealed = Uint8Array;

const CHECK_TEXT = "hush-home-lock-v1";

/** A key derived from a passphrase, ready to seal and open a home's files. */
export class HomeLock {
  readonly #key: Uint8Array;
  readonly #home: string;

  private constructor(key: Uint8Array, home: string) {
    this.#key = key;
    this.#home = home;
  }

  /**
   * Creates the lock of a new home: new salt, default cost.
   *
   * @param passphrase The passphrase (not empty).
   * @param home The home's name (bound into every seal).
   * @param cost scrypt cost (tests use a small one).
   * @returns The lock and the parameters to store.
   */
  static async create(
    passphrase: string,
    home: string,
    cost: { logN: number; r: number; p: number } = DEFAULT_SCRYPT,
  ): Promise<{ lock: HomeLock; params: LockParams }> {
    const salt = randomBytes(16);
    const key = await stretch(passphrase, salt, cost);
    const lock = new HomeLock(key, home);
    const check = toHex(lock.seal("lock", CHECK_TEXT));
    return {
      lock,
      params: { kdf: "scrypt", ...cost, salt: toHex(salt), check },
    };
  }

  /**
   * Opens the lock of an existing home.
   *
   * @param passphrase The passphrase typed.
   * @param home The home's name.
   * @param params What {@linkcode HomeLock.create} stored.
   * @returns The lock.
   * @throws {ChatError} `WRONG_PASSPHRASE` when the check value does not open.
   */
  static async open(passphrase: string, home: string, params: LockParams): Promise<HomeLock> {
    if (params.kdf !== "scrypt" || params.logN < 10 || params.logN > 22) {
      throw new ChatError("BAD_HOME", "This home's lock parameters are not understood");
    }
    const key = await stretch(passphrase, fromHex(params.salt), params);
    const lock = new HomeLock(key, home);
    let text: string | undefined;
    try {
      text = lock.open("lock", fromHex(params.check));
    } catch {
      text = undefined;
    }
    if (text !== CHECK_TEXT) {
      throw new ChatError("WRONG_PASSPHRASE", `Wrong passphrase for the home of "${home}"`);
    }
    return lock;
  }

  /**
   * Seals one file.
   *
   * @param name The file name (associated data).
   * @param text The contents.
   * @returns nonce || ciphertext || tag.
   */
  seal(name: string, text: string): Sealed {
    return this.#sealBytes(name, utf8Encode(text));
  }

  /**
   * Opens one file.
   *
   * @param name The file name it was sealed under.
   * @param sealed What {@linkcode HomeLock.seal} returned.
   * @returns The contents.
   * @throws {Error} `DECRYPT_FAILED` when it was changed or sealed under another name or key.
   */
  open(name: string, sealed: Sealed): string {
    return utf8Decode(this.#openBytes(name, sealed), { fatal: true });
  }

  /**
   * Seals one entry of a per-key store; a first byte tells text (0) from bytes (1).
   *
   * @param name `STORE/KEY` (associated data).
   * @param value Text or bytes.
   * @returns nonce || ciphertext || tag.
   */
  sealEntry(name: string, value: string | Uint8Array): Sealed {
    const body = typeof value === "string" ? utf8Encode(value) : value;
    const tagged = new Uint8Array(body.length + 1);
    tagged[0] = typeof value === "string" ? 0 : 1;
    tagged.set(body, 1);
    return this.#sealBytes(`entry\n${name}`, tagged);
  }

  /**
   * Opens one entry.
   *
   * @param name `STORE/KEY` it was sealed under.
   * @param sealed What {@linkcode HomeLock.sealEntry} returned.
   * @returns The text or bytes.
   * @throws {Error} When it was changed or sealed under another name or key.
   */
  openEntry(name: string, sealed: Sealed): string | Uint8Array {
    const tagged = this.#openBytes(`entry\n${name}`, sealed);
    const body = tagged.slice(1);
    if (tagged[0] === 0) return utf8Decode(body, { fatal: true });
    if (tagged[0] === 1) return body;
    throw new ChatError("BAD_HOME", `Entry "${name}" has an unknown type`);
  }

  #sealBytes(name: string, bytes: Uint8Array): Sealed {
    const suite = getCipherSuite(LOCK_SUITE);
    const nonce = randomBytes(suite.nonceLength);
    const sealed = suite.seal(this.#key, nonce, bytes, this.#aad(name));
    const out = new Uint8Array(nonce.length + sealed.length);
    out.set(nonce);
    out.set(sealed, nonce.length);
    return out;
  }

  #openBytes(name: string, sealed: Sealed): Uint8Array {
    const suite = getCipherSuite(LOCK_SUITE);
    const nonce = sealed.subarray(0, suite.nonceLength);
    return suite.open(this.#key, nonce, sealed.subarray(suite.nonceLength), this.#aad(name));
  }

  #aad(name: string): Uint8Array {
    return utf8Encode(`hush-home\n${this.#home}\n${name}`);
  }
}

async function stretch(
  passphrase: string,
  salt: Uint8Array,
  cost: { logN: number; r: number; p: number },
): Promise<Uint8Array> {
  return await scryptAsync(utf8Encode(passphrase.normalize("NFC")), salt, {
    N: 2 ** cost.logN,
    r: cost.r,
    p: cost.p,
    dkLen: 32,
    maxmem: 2 ** 28,
  });
}
