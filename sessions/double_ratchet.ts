/**
 * The Double Ratchet (Signal's specification, without header encryption) over one X3DH shared
 * secret: a DH ratchet step on every change of speaker, symmetric sending and receiving chains,
 * message keys used once and deleted, and a bounded store of skipped message keys.
 *
 * - KDF_RK: `HKDF-SHA-256(ikm = DH output, salt = root key, info = "hush-ratchet-root-v1",
 *   length = 64)` split as `rootKey' || chainKey`.
 * - KDF_CK: `mk = HMAC-SHA-256(ck, 0x01)`, `ck' = HMAC-SHA-256(ck, 0x02)`.
 * - Per message: key and nonce (and a MAC key for tagless suites) from
 *   `HKDF(mk, info = "hush-message-keys-v1" || u8 suiteWireId)`; see `docs/E2E.md`.
 * - Associated data of every message: `AD || header` where `AD` (128 bytes) binds both Ed25519
 *   identity keys and both X25519 identity DH keys.
 *
 * Opening is transactional: all work happens on a copy of the state, committed only when the
 * message authenticates, so a tampered, replayed or refused message leaves the session unchanged.
 *
 * @module
 */
import {
  type CipherSuite,
  concatBytes,
  CryptoError,
  equalBytes,
  fromHex,
  generateX25519KeyPair,
  hkdf,
  toHex,
  type X25519KeyPair,
  x25519SharedSecret,
} from "../crypto/mod.ts";
import {
  LABEL_MESSAGE_KEYS,
  LABEL_RATCHET_ROOT,
  MAX_SKIP,
  MAX_STORED_SKIPPED,
} from "./constants.ts";
import { SessionError } from "./errors.ts";
import {
  chainStep,
  openWithMessageKey,
  sealWithMessageKey,
  suiteFromWireId,
} from "./_message_keys.ts";
import { encodeRatchetHeader, type RatchetMessage } from "./message.ts";

/** How many earlier remote ratchet keys are remembered to name a replay `DUPLICATE_MESSAGE`. */
const MAX_PREVIOUS_REMOTE_KEYS = 20;

/** JSON-safe form of a {@linkcode DoubleRatchet} (all bytes as lowercase hex). */
export interface DoubleRatchetJson {
  /** Format version (1). */
  v: 1;
  /** The 128-byte associated data. */
  ad: string;
  /** Root key RK. */
  rootKey: string;
  /** Our current ratchet key pair DHs. */
  dhSelf: { privateKey: string; publicKey: string };
  /** The peer's current ratchet key DHr (null before the first message received). */
  dhRemote: string | null;
  /** Sending chain key CKs. */
  sendChain: string | null;
  /** Receiving chain key CKr. */
  recvChain: string | null;
  /** Ns: messages sent in the current sending chain. */
  sendN: number;
  /** Nr: messages received in the current receiving chain. */
  recvN: number;
  /** PN: length of the previous sending chain. */
  previousCount: number;
  /** `[hex(ratchetKey) + ":" + n, hex(messageKey)]`, oldest first. */
  skipped: [string, string][];
  /** The peer's last ratchet keys (hex), to name a replay from an old chain. */
  previousRemoteKeys: string[];
}

/** Options of {@linkcode DoubleRatchet.prototype.decrypt}. */
export interface RatchetDecryptOptions {
  /** Refuse messages under an insecure suite (Caesar) with `INSECURE_SUITE_REFUSED`. */
  refuseInsecure?: boolean;
}

interface Working {
  rootKey: Uint8Array;
  dhSelf: X25519KeyPair;
  dhRemote: Uint8Array | null;
  sendChain: Uint8Array | null;
  recvChain: Uint8Array | null;
  sendN: number;
  recvN: number;
  previousCount: number;
}

/**
 * KDF_RK: `HKDF(ikm = dhOut, salt = rootKey, info = "hush-ratchet-root-v1", 64)`.
 *
 * @param rootKey The current root key.
 * @param dhOut The DH output.
 * @returns The next root key and a chain key.
 */
export function kdfRoot(rootKey: Uint8Array, dhOut: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdf(dhOut, { salt: rootKey, info: LABEL_RATCHET_ROOT, length: 64 });
  return [out.slice(0, 32), out.slice(32)];
}

function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return x25519SharedSecret(privateKey, publicKey);
  } catch (cause) {
    if (cause instanceof CryptoError) {
      throw new SessionError("DECRYPT_FAILED", "Cannot open message: unusable ratchet key", {
        cause,
      });
    }
    throw cause;
  }
}

function hexOrNull(b: Uint8Array | null): string | null {
  return b === null ? null : toHex(b);
}

function bytesOrNull(s: string | null): Uint8Array | null {
  return s === null ? null : fromHex(s);
}

/**
 * One Double Ratchet session state. Create it with {@linkcode DoubleRatchet.initiator} or
 * {@linkcode DoubleRatchet.responder} (normally through X3DH), or resume it with
 * {@linkcode DoubleRatchet.fromJSON}.
 */
export class DoubleRatchet {
  #ad: Uint8Array;
  #w: Working;
  #skipped: Map<string, Uint8Array>;
  #previousRemoteKeys: string[];

  private constructor(ad: Uint8Array, w: Working) {
    this.#ad = ad;
    this.#w = w;
    this.#skipped = new Map();
    this.#previousRemoteKeys = [];
  }

  /**
   * Starts the initiator's side (Alice): one DH ratchet step against the responder's signed
   * prekey, so she can send at once.
   *
   * @param sharedSecret The 32-byte X3DH secret.
   * @param options `remoteRatchetKey` (the responder's signed prekey) and `ad` (128 bytes).
   * @returns The ratchet.
   */
  static initiator(
    sharedSecret: Uint8Array,
    options: { remoteRatchetKey: Uint8Array; ad: Uint8Array },
  ): DoubleRatchet {
    const dhSelf = generateX25519KeyPair();
    const [rootKey, sendChain] = kdfRoot(
      sharedSecret,
      dh(dhSelf.privateKey, options.remoteRatchetKey),
    );
    return new DoubleRatchet(options.ad.slice(), {
      rootKey,
      dhSelf,
      dhRemote: options.remoteRatchetKey.slice(),
      sendChain,
      recvChain: null,
      sendN: 0,
      recvN: 0,
      previousCount: 0,
    });
  }

  /**
   * Starts the responder's side (Bob): his signed prekey is his first ratchet key; he can send
   * only after the first message arrives.
   *
   * @param sharedSecret The 32-byte X3DH secret.
   * @param options `ratchetKeyPair` (the signed prekey pair used) and `ad` (128 bytes).
   * @returns The ratchet.
   */
  static responder(
    sharedSecret: Uint8Array,
    options: { ratchetKeyPair: X25519KeyPair; ad: Uint8Array },
  ): DoubleRatchet {
    return new DoubleRatchet(options.ad.slice(), {
      rootKey: sharedSecret.slice(),
      dhSelf: {
        privateKey: options.ratchetKeyPair.privateKey.slice(),
        publicKey: options.ratchetKeyPair.publicKey.slice(),
      },
      dhRemote: null,
      sendChain: null,
      recvChain: null,
      sendN: 0,
      recvN: 0,
      previousCount: 0,
    });
  }

  /** Whether this side can send (false only for a responder before the first message). */
  get canSend(): boolean {
    return this.#w.sendChain !== null;
  }

  /** The associated-data prefix (128 bytes) bound into every message. */
  get ad(): Uint8Array {
    return this.#ad.slice();
  }

  /** How many skipped message keys are stored. */
  get skippedCount(): number {
    return this.#skipped.size;
  }

  /**
   * Encrypts one message: a ratchet body (type 0x02) = 43-byte header || sealed bytes.
   *
   * @param plaintext The plaintext bytes.
   * @param suite The cipher suite (its wire id goes in the authenticated header).
   * @returns The ratchet body.
   * @throws {SessionError} `NO_SESSION` if this side cannot send yet.
   */
  encrypt(plaintext: Uint8Array, suite: CipherSuite): Uint8Array {
    const w = this.#w;
    if (w.sendChain === null) {
      throw new SessionError("NO_SESSION", "Cannot send yet: waiting for the peer's first message");
    }
    const header = encodeRatchetHeader({
      suiteWireId: suite.wireId,
      ratchetKey: w.dhSelf.publicKey,
      previousCount: w.previousCount,
      n: w.sendN,
    });
    const { messageKey, next } = chainStep(w.sendChain);
    const sealed = sealWithMessageKey(messageKey, {
      suite,
      label: LABEL_MESSAGE_KEYS,
      plaintext,
      aad: concatBytes(this.#ad, header),
    });
    w.sendChain = next;
    w.sendN += 1;
    messageKey.fill(0);
    const body = new Uint8Array(header.length + sealed.length);
    body.set(header);
    body.set(sealed, header.length);
    return body;
  }

  /**
   * Decrypts one ratchet message. The state changes only if the message authenticates.
   *
   * @param message A parsed ratchet body.
   * @param options Policy (`refuseInsecure`).
   * @returns The plaintext and the suite it was sealed with.
   * @throws {SessionError} `INSECURE_SUITE_REFUSED`, `UNKNOWN_CIPHER_SUITE`, `DUPLICATE_MESSAGE`,
   *   `TOO_MANY_SKIPPED`, `DECRYPT_FAILED`; the state is then unchanged.
   */
  decrypt(
    message: RatchetMessage,
    options: RatchetDecryptOptions = {},
  ): { plaintext: Uint8Array; suite: CipherSuite } {
    const suite = suiteFromWireId(message.suiteWireId);
    if (suite.insecure && options.refuseInsecure === true) {
      // Refused only once it authenticates (on a copy: the state stays unchanged), so a relay
      // that flips the suite byte gets DECRYPT_FAILED, never a refusal pinned on the sender.
      DoubleRatchet.fromJSON(this.toJSON()).decrypt(message, { refuseInsecure: false });
      throw new SessionError(
        "INSECURE_SUITE_REFUSED",
        `Refused an authenticated message under an insecure cipher suite: "${suite.id}"`,
      );
    }
    const aad = concatBytes(this.#ad, message.header);
    const remoteHex = toHex(message.ratchetKey);
    const skippedId = `${remoteHex}:${message.n}`;
    const stored = this.#skipped.get(skippedId);
    if (stored !== undefined) {
      const plaintext = openWithMessageKey(stored, {
        suite,
        label: LABEL_MESSAGE_KEYS,
        sealed: message.ciphertext,
        aad,
      });
      this.#skipped.delete(skippedId);
      return { plaintext, suite };
    }

    const w: Working = { ...this.#w };
    const newSkipped: [string, Uint8Array][] = [];
    let retiredRemote: string | undefined;
    const skipUntil = (until: number): void => {
      if (w.recvChain === null || w.dhRemote === null) return;
      if (until - w.recvN > MAX_SKIP) {
        throw new SessionError(
          "TOO_MANY_SKIPPED",
          `Cannot open message: it would skip "${until - w.recvN}" keys (limit ${MAX_SKIP})`,
        );
      }
      const dhHex = toHex(w.dhRemote);
      while (w.recvN < until) {
        const { messageKey, next } = chainStep(w.recvChain);
        newSkipped.push([`${dhHex}:${w.recvN}`, messageKey]);
        w.recvChain = next;
        w.recvN += 1;
      }
    };

    const isNewChain = w.dhRemote === null || !equalBytes(message.ratchetKey, w.dhRemote);
    if (isNewChain) {
      if (this.#previousRemoteKeys.includes(remoteHex)) {
        throw new SessionError(
          "DUPLICATE_MESSAGE",
          `Message already received or its key expired: number "${message.n}"`,
        );
      }
      if (message.n > MAX_SKIP) {
        throw new SessionError(
          "TOO_MANY_SKIPPED",
          `Cannot open message: it would skip "${message.n}" keys (limit ${MAX_SKIP})`,
        );
      }
      skipUntil(message.previousCount);
      if (w.dhRemote !== null) retiredRemote = toHex(w.dhRemote);
      w.previousCount = w.sendN;
      w.sendN = 0;
      w.recvN = 0;
      w.dhRemote = message.ratchetKey.slice();
      [w.rootKey, w.recvChain] = kdfRoot(w.rootKey, dh(w.dhSelf.privateKey, w.dhRemote));
      w.dhSelf = generateX25519KeyPair();
      [w.rootKey, w.sendChain] = kdfRoot(w.rootKey, dh(w.dhSelf.privateKey, w.dhRemote));
    } else if (message.n < w.recvN) {
      throw new SessionError(
        "DUPLICATE_MESSAGE",
        `Message already received or its key expired: number "${message.n}"`,
      );
    }
    skipUntil(message.n);
    if (w.recvChain === null) {
      throw new SessionError("DECRYPT_FAILED", "Cannot open message: no receiving chain");
    }
    const { messageKey, next } = chainStep(w.recvChain);
    w.recvChain = next;
    w.recvN += 1;
    const plaintext = openWithMessageKey(messageKey, {
      suite,
      label: LABEL_MESSAGE_KEYS,
      sealed: message.ciphertext,
      aad,
    });
    messageKey.fill(0);

    // Commit.
    this.#w = w;
    for (const [id, key] of newSkipped) this.#skipped.set(id, key);
    while (this.#skipped.size > MAX_STORED_SKIPPED) {
      const oldest = this.#skipped.keys().next().value;
      if (oldest === undefined) break;
      this.#skipped.get(oldest)?.fill(0);
      this.#skipped.delete(oldest);
    }
    if (retiredRemote !== undefined) {
      this.#previousRemoteKeys.push(retiredRemote);
      if (this.#previousRemoteKeys.length > MAX_PREVIOUS_REMOTE_KEYS) {
        this.#previousRemoteKeys.shift();
      }
    }
    return { plaintext, suite };
  }

  /**
   * Serializes the whole state (secrets included: store it like a private key).
   *
   * @returns JSON-safe data; {@linkcode DoubleRatchet.fromJSON} resumes it.
   */
  toJSON(): DoubleRatchetJson {
    const w = this.#w;
    return {
      v: 1,
      ad: toHex(this.#ad),
      rootKey: toHex(w.rootKey),
      dhSelf: { privateKey: toHex(w.dhSelf.privateKey), publicKey: toHex(w.dhSelf.publicKey) },
      dhRemote: hexOrNull(w.dhRemote),
      sendChain: hexOrNull(w.sendChain),
      recvChain: hexOrNull(w.recvChain),
      sendN: w.sendN,
      recvN: w.recvN,
      previousCount: w.previousCount,
      skipped: [...this.#skipped].map(([id, key]) => [id, toHex(key)]),
      previousRemoteKeys: [...this.#previousRemoteKeys],
    };
  }

  /**
   * Resumes a serialized state.
   *
   * @param json Output of {@linkcode DoubleRatchet.prototype.toJSON}.
   * @returns The ratchet.
   * @throws {SessionError} `BAD_STATE` if the data is malformed.
   */
  static fromJSON(json: DoubleRatchetJson): DoubleRatchet {
    try {
      if (json.v !== 1) throw new TypeError(`Unknown ratchet state version: "${json.v}"`);
      const ratchet = new DoubleRatchet(fromHex(json.ad), {
        rootKey: fromHex(json.rootKey),
        dhSelf: {
          privateKey: fromHex(json.dhSelf.privateKey),
          publicKey: fromHex(json.dhSelf.publicKey),
        },
        dhRemote: bytesOrNull(json.dhRemote),
        sendChain: bytesOrNull(json.sendChain),
        recvChain: bytesOrNull(json.recvChain),
        sendN: json.sendN,
        recvN: json.recvN,
        previousCount: json.previousCount,
      });
      for (const [id, key] of json.skipped) ratchet.#skipped.set(id, fromHex(key));
      ratchet.#previousRemoteKeys = [...json.previousRemoteKeys];
      for (const n of [json.sendN, json.recvN, json.previousCount]) {
        if (!Number.isInteger(n) || n < 0) throw new TypeError(`Bad counter: "${n}"`);
      }
      return ratchet;
    } catch (cause) {
      if (cause instanceof SessionError) throw cause;
      throw new SessionError("BAD_STATE", "Cannot resume ratchet state: malformed data", {
        cause,
      });
    }
  }
}
