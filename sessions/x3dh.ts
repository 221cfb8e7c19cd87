/**
 * X3DH (Signal's Extended Triple Diffie-Hellman) with Hush's two-key identities: an Ed25519
 * identity key signs an X25519 identity DH key and the signed prekey.
 *
 * Initiator A, responder B:
 * - `DH1 = DH(IKdh_A, SPK_B)`, `DH2 = DH(EK_A, IKdh_B)`, `DH3 = DH(EK_A, SPK_B)`,
 *   `DH4 = DH(EK_A, OPK_B)` (only when a one-time prekey was handed out).
 * - `SK = HKDF-SHA-256(ikm = 0xFF*32 || DH1 || DH2 || DH3 [|| DH4], salt = 32 zero bytes,
 *   info = "hush-x3dh-v1", length = 32)`.
 * - `AD = IK_A || IK_B || IKdh_A || IKdh_B || u8 len || nick_A || u8 len || nick_B` (Ed25519
 *   identities first, then both nicks in UTF-8: the initiator's own nick and the nick it wrote
 *   to), prepended to every message header as AEAD associated data. Binding the nicks means a
 *   relay cannot hand frank's first message to bob as coming from "zed": bob's AD would name zed
 *   and the message would not open.
 *
 * @module
 */
import {
  concatBytes,
  CryptoError,
  generateX25519KeyPair,
  hkdf,
  type IdentityKeyPair,
  sign,
  verify,
  type X25519KeyPair,
  x25519SharedSecret,
} from "../crypto/mod.ts";
import { ByteWriter } from "./_codec.ts";
import { LABEL_IDENTITY_DH, LABEL_SIGNED_PREKEY, LABEL_X3DH } from "./constants.ts";
import { SessionError } from "./errors.ts";
import type { InitialFields } from "./message.ts";

/**
 * A peer's prekey bundle as fetched from the relay's key directory: the nick's Ed25519
 * identity key, the signed X25519 identity DH key and signed prekey, and at most one one-time
 * prekey (each handed out once).
 */
export interface PrekeyBundle {
  /** Ed25519 identity public key (32 bytes). */
  identityKey: Uint8Array;
  /** X25519 identity DH public key (32 bytes). */
  identityDhKey: Uint8Array;
  /** `sign(identity, "hush-identity-dh-v1" || identityDhKey)` (64 bytes). */
  identityDhSignature: Uint8Array;
  /** Signed prekey id (u32). */
  signedPrekeyId: number;
  /** Signed X25519 prekey (32 bytes). */
  signedPrekey: Uint8Array;
  /** `sign(identity, "hush-signed-prekey-v1" || u32be(signedPrekeyId) || signedPrekey)`. */
  signedPrekeySignature: Uint8Array;
  /** One one-time prekey, when the relay still had one. */
  oneTimePrekey?: { id: number; publicKey: Uint8Array };
}

/** The local keys X3DH needs. */
export interface X3dhLocalKeys {
  /** Our Ed25519 identity. */
  identity: IdentityKeyPair;
  /** Our X25519 identity DH key pair. */
  identityDh: X25519KeyPair;
  /** Our stored identity-DH signature (computed afresh when absent). */
  identityDhSignature?: Uint8Array;
}

const F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);
const encoder = new TextEncoder();

/**
 * The bytes signed for an identity DH key: `"hush-identity-dh-v1" || dhPublicKey`.
 *
 * @param dhPublicKey The X25519 identity DH public key.
 * @returns The message to sign.
 */
export function identityDhSignedBytes(dhPublicKey: Uint8Array): Uint8Array {
  return concatBytes(encoder.encode(LABEL_IDENTITY_DH), dhPublicKey);
}

/**
 * The bytes signed for a signed prekey: `"hush-signed-prekey-v1" || u32be(id) || prekey`.
 *
 * @param id The prekey id.
 * @param prekey The X25519 prekey public key.
 * @returns The message to sign.
 */
export function signedPrekeySignedBytes(id: number, prekey: Uint8Array): Uint8Array {
  return new ByteWriter().bytes(encoder.encode(LABEL_SIGNED_PREKEY)).u32(id).bytes(prekey)
    .finish();
}

/**
 * Signs an X25519 identity DH key with the Ed25519 identity.
 *
 * @param identity The Ed25519 identity.
 * @param dhPublicKey The X25519 identity DH public key.
 * @returns The 64-byte signature.
 */
export function signIdentityDh(identity: IdentityKeyPair, dhPublicKey: Uint8Array): Uint8Array {
  return sign(identity.privateKey, identityDhSignedBytes(dhPublicKey));
}

/**
 * Signs a prekey with the Ed25519 identity.
 *
 * @param identity The Ed25519 identity.
 * @param id The prekey id (u32).
 * @param prekey The X25519 prekey public key.
 * @returns The 64-byte signature.
 */
export function signSignedPrekey(
  identity: IdentityKeyPair,
  id: number,
  prekey: Uint8Array,
): Uint8Array {
  return sign(identity.privateKey, signedPrekeySignedBytes(id, prekey));
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}

function isU32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= 0xffffffff;
}

/**
 * Checks a fetched bundle's shape and both signatures.
 *
 * @param bundle The bundle.
 * @throws {SessionError} `BAD_BUNDLE` on a malformed field, `BAD_BUNDLE_SIGNATURE` when either
 *   signature fails under `bundle.identityKey`.
 */
export function verifyBundle(bundle: PrekeyBundle): void {
  const ok = isBytes(bundle.identityKey, 32) && isBytes(bundle.identityDhKey, 32) &&
    isBytes(bundle.identityDhSignature, 64) && isU32(bundle.signedPrekeyId) &&
    isBytes(bundle.signedPrekey, 32) && isBytes(bundle.signedPrekeySignature, 64) &&
    (bundle.oneTimePrekey === undefined ||
      (isU32(bundle.oneTimePrekey.id) && isBytes(bundle.oneTimePrekey.publicKey, 32)));
  if (!ok) {
    throw new SessionError("BAD_BUNDLE", "Malformed prekey bundle: a field has a bad length");
  }
  const keys = [bundle.identityDhKey, bundle.signedPrekey, bundle.oneTimePrekey?.publicKey];
  if (keys.some((key) => key !== undefined && (key[31]! & 0x80) !== 0)) {
    throw new SessionError("BAD_BUNDLE", "Malformed prekey bundle: non-canonical X25519 key");
  }
  if (
    !verify(
      bundle.identityKey,
      identityDhSignedBytes(bundle.identityDhKey),
      bundle.identityDhSignature,
    )
  ) {
    throw new SessionError(
      "BAD_BUNDLE_SIGNATURE",
      "Prekey bundle refused: the identity DH key signature does not verify",
    );
  }
  if (
    !verify(
      bundle.identityKey,
      signedPrekeySignedBytes(bundle.signedPrekeyId, bundle.signedPrekey),
      bundle.signedPrekeySignature,
    )
  ) {
    throw new SessionError(
      "BAD_BUNDLE_SIGNATURE",
      `Prekey bundle refused: signed prekey "${bundle.signedPrekeyId}" signature does not verify`,
    );
  }
}

function dh(privateKey: Uint8Array, publicKey: Uint8Array, code: "BAD_BUNDLE" | "BAD_MESSAGE") {
  try {
    return x25519SharedSecret(privateKey, publicKey);
  } catch (cause) {
    if (cause instanceof CryptoError) {
      throw new SessionError(code, "Unusable X25519 public key in the key agreement", { cause });
    }
    throw cause;
  }
}

function deriveSecret(dhs: Uint8Array[]): Uint8Array {
  return hkdf(concatBytes(F, ...dhs), { salt: ZERO_SALT, info: LABEL_X3DH, length: 32 });
}

/** The two nicks an initial message is bound to. */
export interface X3dhNicks {
  /** The initiator's own nick (the envelope's sender). */
  initiator: string;
  /** The nick the initiator wrote to (the envelope's recipient). */
  responder: string;
}

function nickField(nick: string): Uint8Array {
  const bytes = encoder.encode(nick);
  if (bytes.length > 255) throw new RangeError(`Nick too long to bind: "${nick}"`);
  return concatBytes(Uint8Array.of(bytes.length), bytes);
}

/**
 * Builds the associated data: `IK_A || IK_B || IKdh_A || IKdh_B || u8 len || nick_A ||
 * u8 len || nick_B` (128 bytes of keys, then both nicks in UTF-8).
 *
 * @param initiator Initiator's Ed25519 and X25519 identity public keys.
 * @param responder Responder's Ed25519 and X25519 identity public keys.
 * @param nicks The initiator's nick and the nick it wrote to.
 * @returns The associated data.
 */
export function associatedData(
  initiator: { identityKey: Uint8Array; identityDhKey: Uint8Array },
  responder: { identityKey: Uint8Array; identityDhKey: Uint8Array },
  nicks: X3dhNicks,
): Uint8Array {
  return concatBytes(
    initiator.identityKey,
    responder.identityKey,
    initiator.identityDhKey,
    responder.identityDhKey,
    nickField(nicks.initiator),
    nickField(nicks.responder),
  );
}

/** What the initiator gets from {@linkcode x3dhInitiate}. */
export interface X3dhInitiation {
  /** The 32-byte shared secret SK. */
  sharedSecret: Uint8Array;
  /** The associated data (keys and both nicks). */
  ad: Uint8Array;
  /** The fields every initial message carries. */
  fields: InitialFields;
  /** The responder's signed prekey: the initiator's first remote ratchet key. */
  remoteRatchetKey: Uint8Array;
}

/**
 * Runs the initiator's side of X3DH against a fetched bundle (verifying it first).
 *
 * @param local Our identity and identity DH key pair.
 * @param bundle The peer's bundle.
 * @param nicks Our nick and the nick we write to (bound into the associated data).
 * @returns The shared secret, associated data and initial-message fields.
 * @throws {SessionError} `BAD_BUNDLE`, `BAD_BUNDLE_SIGNATURE`.
 */
export function x3dhInitiate(
  local: X3dhLocalKeys,
  bundle: PrekeyBundle,
  nicks: X3dhNicks,
): X3dhInitiation {
  verifyBundle(bundle);
  const ephemeral = generateX25519KeyPair();
  const dhs = [
    dh(local.identityDh.privateKey, bundle.signedPrekey, "BAD_BUNDLE"),
    dh(ephemeral.privateKey, bundle.identityDhKey, "BAD_BUNDLE"),
    dh(ephemeral.privateKey, bundle.signedPrekey, "BAD_BUNDLE"),
  ];
  if (bundle.oneTimePrekey !== undefined) {
    dhs.push(dh(ephemeral.privateKey, bundle.oneTimePrekey.publicKey, "BAD_BUNDLE"));
  }
  const sharedSecret = deriveSecret(dhs);
  ephemeral.privateKey.fill(0);
  const fields: InitialFields = {
    identityKey: local.identity.publicKey.slice(),
    identityDhKey: local.identityDh.publicKey.slice(),
    identityDhSignature: local.identityDhSignature?.slice() ??
      signIdentityDh(local.identity, local.identityDh.publicKey),
    baseKey: ephemeral.publicKey,
    signedPrekeyId: bundle.signedPrekeyId,
  };
  if (bundle.oneTimePrekey !== undefined) fields.oneTimePrekeyId = bundle.oneTimePrekey.id;
  return {
    sharedSecret,
    ad: associatedData(
      { identityKey: local.identity.publicKey, identityDhKey: local.identityDh.publicKey },
      bundle,
      nicks,
    ),
    fields,
    remoteRatchetKey: bundle.signedPrekey.slice(),
  };
}

/**
 * Runs the responder's side of X3DH for a received initial message.
 *
 * @param local Our identity, identity DH key pair, and the prekeys the message names.
 * @param fields The initial message's X3DH fields.
 * @param nicks The sender nick (the envelope's, from the relay) and the nick it was written to:
 *   a relay that relabels either makes the message fail to open.
 * @returns The shared secret and associated data.
 * @throws {SessionError} `BAD_INITIAL_SIGNATURE` if the initiator's identity DH key is not signed
 *   by its identity key, `BAD_MESSAGE` on an unusable public key.
 */
export function x3dhRespond(
  local: X3dhLocalKeys & { signedPrekey: X25519KeyPair; oneTimePrekey?: X25519KeyPair },
  fields: InitialFields,
  nicks: X3dhNicks,
): { sharedSecret: Uint8Array; ad: Uint8Array } {
  if (
    !verify(
      fields.identityKey,
      identityDhSignedBytes(fields.identityDhKey),
      fields.identityDhSignature,
    )
  ) {
    throw new SessionError(
      "BAD_INITIAL_SIGNATURE",
      "Initial message refused: the sender's identity DH key signature does not verify",
    );
  }
  const dhs = [
    dh(local.signedPrekey.privateKey, fields.identityDhKey, "BAD_MESSAGE"),
    dh(local.identityDh.privateKey, fields.baseKey, "BAD_MESSAGE"),
    dh(local.signedPrekey.privateKey, fields.baseKey, "BAD_MESSAGE"),
  ];
  if (local.oneTimePrekey !== undefined) {
    dhs.push(dh(local.oneTimePrekey.privateKey, fields.baseKey, "BAD_MESSAGE"));
  }
  return {
    sharedSecret: deriveSecret(dhs),
    ad: associatedData(fields, {
      identityKey: local.identity.publicKey,
      identityDhKey: local.identityDh.publicKey,
    }, nicks),
  };
}
