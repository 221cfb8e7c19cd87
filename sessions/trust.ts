/**
 * Trust on first use, per local user: the first Ed25519 identity key seen for a nick is pinned;
 * a different key later is recorded as a pending change that blocks sending to that nick
 * (`IDENTITY_CHANGED`) until the user accepts it. Verification compares crypto's 60-digit
 * safety number; verified status is lost when the key changes.
 *
 * Store keys: `trust/<encodeURIComponent(nick)>` (JSON).
 *
 * @module
 */
import {
  equalBytes,
  fingerprint,
  formatSafetyNumber,
  fromHex,
  safetyNumber,
  safetyNumberWords,
  toHex,
} from "../crypto/mod.ts";
import { SessionError } from "./errors.ts";
import { readJson, type SessionStore, writeJson } from "./store.ts";

interface TrustRecord {
  identityKey: string;
  verified: boolean;
  pendingKey: string | null;
}

/** The outcome of {@linkcode TrustStore.prototype.observe}. */
export type TrustObservation = "new" | "known" | "changed";

/** What we know about one peer. */
export interface PeerTrust {
  /** The nick. */
  nick: string;
  /** The pinned Ed25519 identity key. */
  identityKey: Uint8Array;
  /** Short fingerprint of the pinned key. */
  fingerprint: string;
  /** Whether the user verified the safety number for the pinned key. */
  verified: boolean;
  /** Set while a different key was seen and not yet accepted (sending is blocked). */
  changed?: { newIdentityKey: Uint8Array; newFingerprint: string };
}

/** What a user compares to verify a peer. */
export interface SafetyNumberView {
  /** 60 digits. */
  digits: string;
  /** 12 groups of 5 digits over 3 lines. */
  formatted: string;
  /** The read-aloud form. */
  words: string[];
}

function storeKey(nick: string): string {
  return `trust/${encodeURIComponent(nick)}`;
}

/**
 * Changed-identity error: sending to `nick` is blocked until {@linkcode TrustStore.prototype.accept}.
 *
 * @param nick The nick.
 * @param oldKey The pinned key.
 * @param newKey The key now seen.
 * @returns The error.
 */
export function identityChangedError(
  nick: string,
  oldKey: Uint8Array,
  newKey: Uint8Array,
): SessionError {
  return new SessionError(
    "IDENTITY_CHANGED",
    `Identity key of "${nick}" changed: was ${fingerprint(oldKey)}, now ${
      fingerprint(newKey)
    }; accept it before sending`,
  );
}

/** TOFU pins and verification marks for one local user. */
export class TrustStore {
  #store: SessionStore;
  #myKey: Uint8Array;

  /**
   * Opens the trust records in a store.
   *
   * @param store The local user's store.
   * @param myIdentityKey Our Ed25519 identity public key (for safety numbers).
   */
  constructor(store: SessionStore, myIdentityKey: Uint8Array) {
    this.#store = store;
    this.#myKey = myIdentityKey.slice();
  }

  #read(nick: string): TrustRecord | undefined {
    return readJson<TrustRecord>(this.#store, storeKey(nick));
  }

  /**
   * Records an identity key seen for a nick: pins it if the nick is new, records a pending change
   * if it differs from the pinned key.
   *
   * @param nick The nick.
   * @param identityKey The Ed25519 identity key seen.
   * @returns `"new"` (now pinned), `"known"` (matches the pin) or `"changed"`.
   */
  observe(nick: string, identityKey: Uint8Array): TrustObservation {
    const record = this.#read(nick);
    if (record === undefined) {
      writeJson(
        this.#store,
        storeKey(nick),
        {
          identityKey: toHex(identityKey),
          verified: false,
          pendingKey: null,
        } satisfies TrustRecord,
      );
      return "new";
    }
    if (equalBytes(fromHex(record.identityKey), identityKey)) return "known";
    record.pendingKey = toHex(identityKey);
    writeJson(this.#store, storeKey(nick), record);
    return "changed";
  }

  /**
   * Every nick pinned (or pending) to `identityKey`: one person under two nicks, or a relay
   * relabelling someone's messages. Empty when the store cannot list its keys.
   *
   * @param identityKey An Ed25519 identity public key.
   * @returns The nicks, in store order.
   */
  nicksWithKey(identityKey: Uint8Array): string[] {
    const hex = toHex(identityKey);
    const prefix = "trust/";
    return (this.#store.keys?.(prefix) ?? []).filter((key) => {
      const record = readJson<TrustRecord>(this.#store, key);
      return record?.identityKey === hex || record?.pendingKey === hex;
    }).map((key) => decodeURIComponent(key.slice(prefix.length)));
  }

  /**
   * Compares a key with the pin without recording anything.
   *
   * @param nick The nick.
   * @param identityKey The key.
   * @returns `"new"`, `"known"` or `"changed"`.
   */
  compare(nick: string, identityKey: Uint8Array): TrustObservation {
    const record = this.#read(nick);
    if (record === undefined) return "new";
    return equalBytes(fromHex(record.identityKey), identityKey) ? "known" : "changed";
  }

  /**
   * Throws unless sending to `nick` is allowed (no unaccepted key change).
   *
   * @param nick The nick.
   * @throws {SessionError} `IDENTITY_CHANGED`.
   */
  assertSendable(nick: string): void {
    const record = this.#read(nick);
    if (record?.pendingKey != null) {
      throw identityChangedError(nick, fromHex(record.identityKey), fromHex(record.pendingKey));
    }
  }

  /**
   * Accepts the pending changed key for `nick`: it becomes the pin, unverified.
   *
   * @param nick The nick.
   * @returns Whether there was a pending change.
   */
  accept(nick: string): boolean {
    const record = this.#read(nick);
    if (record?.pendingKey == null) return false;
    writeJson(
      this.#store,
      storeKey(nick),
      {
        identityKey: record.pendingKey,
        verified: false,
        pendingKey: null,
      } satisfies TrustRecord,
    );
    return true;
  }

  /**
   * What we know about a peer.
   *
   * @param nick The nick.
   * @returns What we know about the peer, or `undefined` if never seen.
   */
  get(nick: string): PeerTrust | undefined {
    const record = this.#read(nick);
    if (record === undefined) return undefined;
    const identityKey = fromHex(record.identityKey);
    const peer: PeerTrust = {
      nick,
      identityKey,
      fingerprint: fingerprint(identityKey),
      verified: record.verified,
    };
    if (record.pendingKey !== null) {
      const newIdentityKey = fromHex(record.pendingKey);
      peer.changed = { newIdentityKey, newFingerprint: fingerprint(newIdentityKey) };
    }
    return peer;
  }

  /**
   * Whether the peer is verified.
   *
   * @param nick The nick.
   * @returns Whether the pinned key is verified (and unchanged).
   */
  isVerified(nick: string): boolean {
    const record = this.#read(nick);
    return record !== undefined && record.verified && record.pendingKey === null;
  }

  /**
   * The safety number for (me, peer's pinned key).
   *
   * @param nick The nick.
   * @returns Digits, formatted digits and words.
   * @throws {SessionError} `NO_IDENTITY` if no key is known for the nick.
   */
  safetyNumber(nick: string): SafetyNumberView {
    const record = this.#read(nick);
    if (record === undefined) {
      throw new SessionError("NO_IDENTITY", `No identity key known for "${nick}"`);
    }
    const peerKey = fromHex(record.identityKey);
    const digits = safetyNumber(this.#myKey, peerKey);
    return {
      digits,
      formatted: formatSafetyNumber(digits),
      words: safetyNumberWords(this.#myKey, peerKey),
    };
  }

  /**
   * Marks `nick` verified if `digits` (spaces and line breaks ignored) equal the safety number.
   *
   * @param nick The nick.
   * @param digits What the other person read out.
   * @returns Whether it matched (and the peer is now verified).
   * @throws {SessionError} `NO_IDENTITY` if no key is known, `IDENTITY_CHANGED` while a change is
   *   pending (accept or refuse it first).
   */
  markVerified(nick: string, digits: string): boolean {
    const record = this.#read(nick);
    if (record === undefined) {
      throw new SessionError("NO_IDENTITY", `No identity key known for "${nick}"`);
    }
    this.assertSendable(nick);
    const expected = this.safetyNumber(nick).digits;
    const given = digits.replace(/\s+/g, "");
    if (given !== expected) return false;
    record.verified = true;
    writeJson(this.#store, storeKey(nick), record);
    return true;
  }

  /**
   * Forgets everything about a nick (the next key seen is pinned afresh).
   *
   * @param nick The nick.
   */
  forget(nick: string): void {
    this.#store.delete(storeKey(nick));
  }
}
