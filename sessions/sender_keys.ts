/**
 * Sender keys for rooms (the scheme Signal and WhatsApp use for groups). Each member owns an
 * outbound sender key per room: a random u32 key id, a symmetric chain (KDF_CK as in the Double
 * Ratchet) and an Ed25519 signing key pair. Its distribution (chain key at the current iteration,
 * signing public key) goes to every other member over the pairwise sessions; a room message is
 * then one ciphertext, signed, that the relay fans out.
 *
 * - Per message: `mk` from the chain; key and nonce from `HKDF(mk, info =
 *   "hush-sender-message-keys-v1" || u8 suiteWireId)`.
 * - Associated data: `u16 len(room) || room (UTF-8) || senderIdentityKey(32) || header(11)`.
 * - Signature: `Ed25519(signingKey, "hush-room-message-v1" || u16 len(room) || room ||
 *   body[0 .. len-64])`, appended as the last 64 bytes.
 *
 * Receivers check the signature first (forgery refused with `BAD_ROOM_SIGNATURE`), then ratchet
 * the chain forward (skipping at most `MAX_SKIP`), transactionally.
 *
 * @module
 */
import {
  type CipherSuite,
  concatBytes,
  fromHex,
  generateIdentityKeyPair,
  identityFromSeed,
  type IdentityKeyPair,
  randomBytes,
  sign,
  toHex,
  verify,
} from "../crypto/mod.ts";
import { ByteWriter } from "./_codec.ts";
import {
  LABEL_ROOM_SIGNATURE,
  LABEL_SENDER_MESSAGE_KEYS,
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
import { encodeRoomHeader, type RoomMessage, type SenderKeyDistribution } from "./message.ts";

const encoder = new TextEncoder();

function roomBytes(room: string): Uint8Array {
  const bytes = encoder.encode(room);
  return new ByteWriter().bytes16(bytes).finish();
}

/**
 * The associated data of a room message.
 *
 * @param room Room name.
 * @param senderIdentityKey Sender's Ed25519 identity key.
 * @param header The 11-byte room header.
 * @returns `u16 len(room) || room || senderIdentityKey || header`.
 */
export function roomAssociatedData(
  room: string,
  senderIdentityKey: Uint8Array,
  header: Uint8Array,
): Uint8Array {
  return concatBytes(roomBytes(room), senderIdentityKey, header);
}

/**
 * The bytes a room message's signature covers.
 *
 * @param room Room name.
 * @param signed The body without its last 64 bytes.
 * @returns `"hush-room-message-v1" || u16 len(room) || room || signed`.
 */
export function roomSignedBytes(room: string, signed: Uint8Array): Uint8Array {
  return concatBytes(encoder.encode(LABEL_ROOM_SIGNATURE), roomBytes(room), signed);
}

/** JSON-safe form of an {@linkcode OutboundSenderKey}. */
export interface OutboundSenderKeyJson {
  /** Sender key id (u32). */
  keyId: number;
  /** Chain key at `iteration` (hex). */
  chainKey: string;
  /** Next iteration to send. */
  iteration: number;
  /** Ed25519 signing seed (hex, secret). */
  signingSeed: string;
}

/** Our own sender key for one room. */
export class OutboundSenderKey {
  #keyId: number;
  #chainKey: Uint8Array;
  #iteration: number;
  #signing: IdentityKeyPair;

  private constructor(
    keyId: number,
    chainKey: Uint8Array,
    iteration: number,
    signing: IdentityKeyPair,
  ) {
    this.#keyId = keyId;
    this.#chainKey = chainKey;
    this.#iteration = iteration;
    this.#signing = signing;
  }

  /**
   * Creates a fresh sender key: random key id, random chain key, new signing key pair.
   *
   * @returns The key.
   */
  static create(): OutboundSenderKey {
    const id = new DataView(randomBytes(4).buffer).getUint32(0);
    return new OutboundSenderKey(id, randomBytes(32), 0, generateIdentityKeyPair());
  }

  /** The key id (u32). */
  get keyId(): number {
    return this.#keyId;
  }

  /** The next iteration to be used. */
  get iteration(): number {
    return this.#iteration;
  }

  /**
   * The distribution for other members: they can read from the current iteration on.
   *
   * @param room The room name.
   * @returns The distribution.
   */
  distribution(room: string): SenderKeyDistribution {
    return {
      room,
      keyId: this.#keyId,
      iteration: this.#iteration,
      chainKey: this.#chainKey.slice(),
      signingKey: this.#signing.publicKey.slice(),
    };
  }

  /**
   * Encrypts and signs one room message, then advances the chain.
   *
   * @param plaintext Plaintext bytes.
   * @param options Room name, our identity key, suite.
   * @returns The room body (type 0x03).
   */
  encrypt(
    plaintext: Uint8Array,
    options: { room: string; senderIdentityKey: Uint8Array; suite: CipherSuite },
  ): Uint8Array {
    const header = encodeRoomHeader({
      suiteWireId: options.suite.wireId,
      keyId: this.#keyId,
      iteration: this.#iteration,
    });
    const { messageKey, next } = chainStep(this.#chainKey);
    const sealed = sealWithMessageKey(messageKey, {
      suite: options.suite,
      label: LABEL_SENDER_MESSAGE_KEYS,
      plaintext,
      aad: roomAssociatedData(options.room, options.senderIdentityKey, header),
    });
    messageKey.fill(0);
    this.#chainKey = next;
    this.#iteration += 1;
    const signed = concatBytes(header, sealed);
    const signature = sign(this.#signing.privateKey, roomSignedBytes(options.room, signed));
    return concatBytes(signed, signature);
  }

  /**
   * Serializes the state (it holds secrets).
   *
   * @returns JSON-safe state.
   */
  toJSON(): OutboundSenderKeyJson {
    return {
      keyId: this.#keyId,
      chainKey: toHex(this.#chainKey),
      iteration: this.#iteration,
      signingSeed: toHex(this.#signing.privateKey),
    };
  }

  /**
   * Resumes a serialized state.
   *
   * @param json Output of `toJSON`.
   * @returns The key.
   */
  static fromJSON(json: OutboundSenderKeyJson): OutboundSenderKey {
    return new OutboundSenderKey(
      json.keyId,
      fromHex(json.chainKey),
      json.iteration,
      identityFromSeed(fromHex(json.signingSeed)),
    );
  }
}

/** JSON-safe form of an {@linkcode InboundSenderKey}. */
export interface InboundSenderKeyJson {
  /** Sender key id (u32). */
  keyId: number;
  /** Chain key at `iteration` (hex). */
  chainKey: string;
  /** Next iteration expected. */
  iteration: number;
  /**
   * The iteration the distribution started at: messages below it were sent before the sender
   * shared this key with us (absent in older stores: 0).
   */
  first?: number;
  /** The sender's Ed25519 signing public key (hex). */
  signingKey: string;
  /** The sender's Ed25519 identity key (hex), bound into the associated data. */
  senderIdentityKey: string;
  /** Skipped message keys: `[iteration, hex(messageKey)]`, oldest first. */
  skipped: [number, string][];
}

/** Another member's sender key for one room, as received in a distribution. */
export class InboundSenderKey {
  #keyId: number;
  #chainKey: Uint8Array;
  #iteration: number;
  #first: number;
  #signingKey: Uint8Array;
  #senderIdentityKey: Uint8Array;
  #skipped: Map<number, Uint8Array>;

  private constructor(json: InboundSenderKeyJson) {
    this.#keyId = json.keyId;
    this.#chainKey = fromHex(json.chainKey);
    this.#iteration = json.iteration;
    this.#first = json.first ?? 0;
    this.#signingKey = fromHex(json.signingKey);
    this.#senderIdentityKey = fromHex(json.senderIdentityKey);
    this.#skipped = new Map(json.skipped.map(([n, key]) => [n, fromHex(key)]));
  }

  /**
   * Creates the receiving state from a distribution.
   *
   * @param distribution A distribution received over the pairwise session with the sender.
   * @param senderIdentityKey The sender's Ed25519 identity (from that pairwise session).
   * @returns The receiving state.
   */
  static fromDistribution(
    distribution: SenderKeyDistribution,
    senderIdentityKey: Uint8Array,
  ): InboundSenderKey {
    return new InboundSenderKey({
      keyId: distribution.keyId,
      chainKey: toHex(distribution.chainKey),
      iteration: distribution.iteration,
      first: distribution.iteration,
      signingKey: toHex(distribution.signingKey),
      senderIdentityKey: toHex(senderIdentityKey),
      skipped: [],
    });
  }

  /** The key id (u32). */
  get keyId(): number {
    return this.#keyId;
  }

  /** The next iteration expected. */
  get iteration(): number {
    return this.#iteration;
  }

  /**
   * Verifies and decrypts one room message; the state changes only on success.
   *
   * @param message A parsed room body with this key's id.
   * @param options Room name and policy.
   * @returns Plaintext and suite.
   * @throws {SessionError} `BAD_ROOM_SIGNATURE`, `INSECURE_SUITE_REFUSED`,
   *   `UNKNOWN_CIPHER_SUITE`, `BEFORE_SENDER_KEY` (sent before the distribution we hold: its key
   *   was never ours), `DUPLICATE_MESSAGE`, `TOO_MANY_SKIPPED`, `DECRYPT_FAILED`.
   */
  decrypt(
    message: RoomMessage,
    options: { room: string; refuseInsecure?: boolean },
  ): { plaintext: Uint8Array; suite: CipherSuite } {
    if (
      !verify(this.#signingKey, roomSignedBytes(options.room, message.signed), message.signature)
    ) {
      throw new SessionError(
        "BAD_ROOM_SIGNATURE",
        `Room message refused: signature does not verify for key "${this.#keyId}"`,
      );
    }
    const suite = suiteFromWireId(message.suiteWireId);
    if (suite.insecure && options.refuseInsecure === true) {
      throw new SessionError(
        "INSECURE_SUITE_REFUSED",
        `Refused a room message under an insecure cipher suite: "${suite.id}"`,
      );
    }
    const aad = roomAssociatedData(options.room, this.#senderIdentityKey, message.header);
    const open = (messageKey: Uint8Array) =>
      openWithMessageKey(messageKey, {
        suite,
        label: LABEL_SENDER_MESSAGE_KEYS,
        sealed: message.ciphertext,
        aad,
      });
    const stored = this.#skipped.get(message.iteration);
    if (stored !== undefined) {
      const plaintext = open(stored);
      this.#skipped.delete(message.iteration);
      return { plaintext, suite };
    }
    if (message.iteration < this.#first) {
      // Not a replay: the sender wrote it before sharing this key with us (e.g. we joined the
      // room as it was sent), so its key was never ours. Only the sender can send it again.
      throw new SessionError(
        "BEFORE_SENDER_KEY",
        `Room message sent before the sender shared key "${this.#keyId}" with us: iteration ` +
          `"${message.iteration}", the key starts at "${this.#first}"`,
      );
    }
    if (message.iteration < this.#iteration) {
      throw new SessionError(
        "DUPLICATE_MESSAGE",
        `Room message already received or its key expired: iteration "${message.iteration}"`,
      );
    }
    if (message.iteration - this.#iteration > MAX_SKIP) {
      throw new SessionError(
        "TOO_MANY_SKIPPED",
        `Cannot open room message: it would skip "${
          message.iteration - this.#iteration
        }" keys (limit ${MAX_SKIP})`,
      );
    }
    let chainKey = this.#chainKey;
    const newSkipped: [number, Uint8Array][] = [];
    for (let i = this.#iteration; i < message.iteration; i++) {
      const step = chainStep(chainKey);
      newSkipped.push([i, step.messageKey]);
      chainKey = step.next;
    }
    const step = chainStep(chainKey);
    const plaintext = open(step.messageKey);
    // Commit.
    this.#chainKey = step.next;
    this.#iteration = message.iteration + 1;
    for (const [n, key] of newSkipped) this.#skipped.set(n, key);
    while (this.#skipped.size > MAX_STORED_SKIPPED) {
      const oldest = this.#skipped.keys().next().value;
      if (oldest === undefined) break;
      this.#skipped.delete(oldest);
    }
    return { plaintext, suite };
  }

  /**
   * Serializes the state (it holds secrets).
   *
   * @returns JSON-safe state.
   */
  toJSON(): InboundSenderKeyJson {
    return {
      keyId: this.#keyId,
      chainKey: toHex(this.#chainKey),
      iteration: this.#iteration,
      first: this.#first,
      signingKey: toHex(this.#signingKey),
      senderIdentityKey: toHex(this.#senderIdentityKey),
      skipped: [...this.#skipped].map(([n, key]) => [n, toHex(key)]),
    };
  }

  /**
   * Resumes a serialized state.
   *
   * @param json Output of `toJSON`.
   * @returns The key.
   */
  static fromJSON(json: InboundSenderKeyJson): InboundSenderKey {
    return new InboundSenderKey(json);
  }
}
