/**
 * The local user's key material for X3DH: the Ed25519 identity (given by the client), an X25519
 * identity DH key, signed prekeys with ids, and one-time prekeys with ids, all kept in a
 * {@linkcode SessionStore}. Produces the bundle the client publishes to the relay.
 *
 * Store keys: `local/identity`, `local/signed-prekeys`, `local/one-time-prekeys` (JSON, secrets
 * as hex).
 *
 * @module
 */
import {
  equalBytes,
  fromHex,
  generateX25519KeyPair,
  type IdentityKeyPair,
  toHex,
  type X25519KeyPair,
} from "../crypto/mod.ts";
import { SessionError } from "./errors.ts";
import { readJson, type SessionStore, writeJson } from "./store.ts";
import { signIdentityDh, signSignedPrekey, type X3dhLocalKeys } from "./x3dh.ts";

/** One-time prekeys kept published: topped up to this many. */
export const ONE_TIME_PREKEY_TARGET = 100;
/**
 * One-time prekeys a new user starts with (the first bundle); the engine makes the rest, up to
 * {@linkcode ONE_TIME_PREKEY_TARGET}, once connected, so a new user is not kept waiting for them.
 */
export const ONE_TIME_PREKEY_FIRST = 20;
/** {@linkcode LocalUser.prototype.maintain} tops up when fewer than this many remain. */
export const ONE_TIME_PREKEY_LOW_WATER = 20;
/** A signed prekey older than this (7 days) is rotated by {@linkcode LocalUser.prototype.maintain}. */
export const SIGNED_PREKEY_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** Signed prekeys kept (current plus older ones for messages still in flight). */
export const SIGNED_PREKEYS_KEPT = 3;

/** The bundle the client publishes: everything public, with all unused one-time prekeys. */
export interface PublishedBundle {
  /** Ed25519 identity public key (32 bytes). */
  identityKey: Uint8Array;
  /** X25519 identity DH public key (32 bytes). */
  identityDhKey: Uint8Array;
  /** `sign("hush-identity-dh-v1" || identityDhKey)` (64 bytes). */
  identityDhSignature: Uint8Array;
  /** Current signed prekey id (u32). */
  signedPrekeyId: number;
  /** Current signed prekey (32 bytes). */
  signedPrekey: Uint8Array;
  /** `sign("hush-signed-prekey-v1" || u32be(id) || signedPrekey)` (64 bytes). */
  signedPrekeySignature: Uint8Array;
  /** Every one-time prekey whose private key we still hold. */
  oneTimePrekeys: { id: number; publicKey: Uint8Array }[];
}

interface IdentityRecord {
  identityKey: string;
  dhPrivateKey: string;
  dhPublicKey: string;
  dhSignature: string;
}

interface SignedPrekeyRecord {
  id: number;
  privateKey: string;
  publicKey: string;
  signature: string;
  createdAt: number;
}

interface OneTimeRecord {
  nextId: number;
  keys: [number, string, string][];
}

const IDENTITY_KEY = "local/identity";
const SIGNED_KEY = "local/signed-prekeys";
const ONE_TIME_KEY = "local/one-time-prekeys";

function pair(privateKey: string, publicKey: string): X25519KeyPair {
  return { privateKey: fromHex(privateKey), publicKey: fromHex(publicKey) };
}

/** The local user's identity and prekeys over a store. */
export class LocalUser {
  #store: SessionStore;
  #identity: IdentityKeyPair;
  #record: IdentityRecord;
  #now: () => number;

  /**
   * Loads the user's keys from the store, creating the identity DH key, a first signed prekey and
   * {@linkcode ONE_TIME_PREKEY_FIRST} one-time prekeys when the store is empty.
   *
   * @param store The user's store.
   * @param identity The user's Ed25519 identity.
   * @param options `now` (milliseconds clock, default `Date.now`).
   * @throws {SessionError} `BAD_STATE` if the store belongs to another identity.
   */
  constructor(
    store: SessionStore,
    identity: IdentityKeyPair,
    options: { now?: () => number } = {},
  ) {
    this.#store = store;
    this.#identity = identity;
    this.#now = options.now ?? Date.now;
    let record = readJson<IdentityRecord>(store, IDENTITY_KEY);
    if (record === undefined) {
      const dh = generateX25519KeyPair();
      record = {
        identityKey: toHex(identity.publicKey),
        dhPrivateKey: toHex(dh.privateKey),
        dhPublicKey: toHex(dh.publicKey),
        dhSignature: toHex(signIdentityDh(identity, dh.publicKey)),
      };
      writeJson(store, IDENTITY_KEY, record);
    } else if (!equalBytes(fromHex(record.identityKey), identity.publicKey)) {
      throw new SessionError("BAD_STATE", "The session store belongs to another identity key");
    }
    this.#record = record;
    if (this.#signed().length === 0) this.rotateSignedPrekey();
    if (readJson<OneTimeRecord>(store, ONE_TIME_KEY) === undefined) {
      writeJson(store, ONE_TIME_KEY, { nextId: 1, keys: [] } satisfies OneTimeRecord);
      this.addOneTimePrekeys(ONE_TIME_PREKEY_FIRST);
    }
  }

  /** Our Ed25519 identity. */
  get identity(): IdentityKeyPair {
    return this.#identity;
  }

  /** The keys X3DH needs (identity and identity DH pair). */
  get x3dhKeys(): X3dhLocalKeys {
    return {
      identity: this.#identity,
      identityDh: pair(this.#record.dhPrivateKey, this.#record.dhPublicKey),
      identityDhSignature: fromHex(this.#record.dhSignature),
    };
  }

  /** The identity-DH signature (carried in every initial message we send). */
  get identityDhSignature(): Uint8Array {
    return fromHex(this.#record.dhSignature);
  }

  #signed(): SignedPrekeyRecord[] {
    return readJson<SignedPrekeyRecord[]>(this.#store, SIGNED_KEY) ?? [];
  }

  #oneTime(): OneTimeRecord {
    return readJson<OneTimeRecord>(this.#store, ONE_TIME_KEY) ?? { nextId: 1, keys: [] };
  }

  /**
   * The bundle to publish (all public parts).
   *
   * @returns The bundle, with every unused one-time prekey.
   */
  bundle(): PublishedBundle {
    const current = this.#signed()[0];
    if (current === undefined) throw new SessionError("BAD_STATE", "No signed prekey in the store");
    return {
      identityKey: this.#identity.publicKey.slice(),
      identityDhKey: fromHex(this.#record.dhPublicKey),
      identityDhSignature: fromHex(this.#record.dhSignature),
      signedPrekeyId: current.id,
      signedPrekey: fromHex(current.publicKey),
      signedPrekeySignature: fromHex(current.signature),
      oneTimePrekeys: this.#oneTime().keys.map(([id, , publicKey]) => ({
        id,
        publicKey: fromHex(publicKey),
      })),
    };
  }

  /**
   * Creates a new signed prekey (it becomes current; the {@linkcode SIGNED_PREKEYS_KEPT} newest
   * are kept so initial messages in flight still open).
   *
   * @returns The new signed prekey id.
   */
  rotateSignedPrekey(): number {
    const list = this.#signed();
    const id = ((list[0]?.id ?? 0) % 0xffffffff) + 1;
    const key = generateX25519KeyPair();
    list.unshift({
      id,
      privateKey: toHex(key.privateKey),
      publicKey: toHex(key.publicKey),
      signature: toHex(signSignedPrekey(this.#identity, id, key.publicKey)),
      createdAt: this.#now(),
    });
    writeJson(this.#store, SIGNED_KEY, list.slice(0, SIGNED_PREKEYS_KEPT));
    return id;
  }

  /**
   * Adds one-time prekeys.
   *
   * @param count How many to create.
   * @returns Their ids.
   */
  addOneTimePrekeys(count: number): number[] {
    const record = this.#oneTime();
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const key = generateX25519KeyPair();
      const id = record.nextId;
      record.nextId = (record.nextId % 0xffffffff) + 1;
      record.keys.push([id, toHex(key.privateKey), toHex(key.publicKey)]);
      ids.push(id);
    }
    writeJson(this.#store, ONE_TIME_KEY, record);
    return ids;
  }

  /** How many one-time prekeys we still hold. */
  get oneTimePrekeyCount(): number {
    return this.#oneTime().keys.length;
  }

  /**
   * Housekeeping to run on connect: rotates an old signed prekey and tops up one-time prekeys.
   *
   * @returns Whether anything changed (then publish {@linkcode LocalUser.prototype.bundle} again).
   */
  maintain(): { rotated: boolean; added: number; changed: boolean } {
    const current = this.#signed()[0];
    let rotated = false;
    if (current === undefined || this.#now() - current.createdAt > SIGNED_PREKEY_MAX_AGE_MS) {
      this.rotateSignedPrekey();
      rotated = true;
    }
    const count = this.oneTimePrekeyCount;
    let added = 0;
    if (count < ONE_TIME_PREKEY_LOW_WATER) {
      added = this.addOneTimePrekeys(ONE_TIME_PREKEY_TARGET - count).length;
    }
    return { rotated, added, changed: rotated || added > 0 };
  }

  /**
   * Looks up a signed prekey pair by id.
   *
   * @param id The id named by an initial message.
   * @returns The pair, or `undefined` if rotated away or unknown.
   */
  signedPrekey(id: number): X25519KeyPair | undefined {
    const found = this.#signed().find((record) => record.id === id);
    return found === undefined ? undefined : pair(found.privateKey, found.publicKey);
  }

  /**
   * Looks up a one-time prekey pair by id without consuming it.
   *
   * @param id The id named by an initial message.
   * @returns The pair, or `undefined` if already used or unknown.
   */
  oneTimePrekey(id: number): X25519KeyPair | undefined {
    const found = this.#oneTime().keys.find(([keyId]) => keyId === id);
    return found === undefined ? undefined : pair(found[1], found[2]);
  }

  /**
   * Deletes a one-time prekey's private key (after the initial message using it opened).
   *
   * @param id The prekey id.
   */
  consumeOneTimePrekey(id: number): void {
    const record = this.#oneTime();
    record.keys = record.keys.filter(([keyId]) => keyId !== id);
    writeJson(this.#store, ONE_TIME_KEY, record);
  }
}
