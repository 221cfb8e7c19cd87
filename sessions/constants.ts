/**
 * Every label, type byte and limit of the end-to-end layer, in one place. `docs/E2E.md` is the
 * prose version of this file; change both together.
 *
 * @module
 */

/** Version byte carried at offset 1 of every ratchet and room body. */
export const BODY_VERSION = 1;
/**
 * Version byte of an initial body (offset 1): 2 since both nicks are bound into the X3DH
 * associated data. Version 1 initial bodies (older clients, nicks not bound) are refused with
 * `UNSUPPORTED_VERSION`.
 */
export const INITIAL_BODY_VERSION = 2;

/** Body type byte (offset 0): an X3DH initial message wrapping a ratchet message. */
export const BODY_INITIAL = 0x01;
/** Body type byte (offset 0): a Double Ratchet message. */
export const BODY_RATCHET = 0x02;
/** Body type byte (offset 0): a room (sender-key) message, signed. */
export const BODY_ROOM = 0x03;

/** Content type byte (first plaintext byte): text (UTF-8) follows. */
export const CONTENT_TEXT = 0x01;
/** Content type byte (first plaintext byte): a sender-key distribution follows. */
export const CONTENT_SENDER_KEY = 0x02;

/** Signature label of the X25519 identity DH key: `sign(label || dhPublicKey)`. */
export const LABEL_IDENTITY_DH = "hush-identity-dh-v1";
/** Signature label of a signed prekey: `sign(label || u32be(id) || prekey)`. */
export const LABEL_SIGNED_PREKEY = "hush-signed-prekey-v1";
/** HKDF info of the X3DH shared secret. */
export const LABEL_X3DH = "hush-x3dh-v1";
/** HKDF info of the root-key ratchet step (KDF_RK). */
export const LABEL_RATCHET_ROOT = "hush-ratchet-root-v1";
/** HKDF info prefix for a pairwise message's key, nonce (and MAC key); followed by the suite wire id. */
export const LABEL_MESSAGE_KEYS = "hush-message-keys-v1";
/** HKDF info prefix for a room message's key, nonce (and MAC key); followed by the suite wire id. */
export const LABEL_SENDER_MESSAGE_KEYS = "hush-sender-message-keys-v1";
/** Signature label of a room message. */
export const LABEL_ROOM_SIGNATURE = "hush-room-message-v1";

/** Most message keys one received message may make us skip in one chain. */
export const MAX_SKIP = 1000;
/** Most skipped message keys kept per session (oldest evicted first). */
export const MAX_STORED_SKIPPED = 2000;
/** Most sessions kept per peer nick (the most recently used one sends). */
export const MAX_SESSIONS_PER_PEER = 3;
/** Most X3DH ephemeral keys remembered to refuse a replayed initial message. */
export const MAX_SEEN_BASE_KEYS = 2000;
/** Length of the HMAC tag the session adds for a suite with no tag of its own (Caesar). */
export const EXTRA_MAC_LENGTH = 16;
/**
 * Most skipped message keys kept in total, over every pairwise session and room sender key: a
 * peer (or many throw-away nicks) cannot grow the state without bound. Over it, the largest other
 * stores lose their oldest skipped keys first.
 */
export const MAX_TOTAL_SKIPPED = 20_000;
/** Most (room, sender) sender-key entries kept in total; over it, the least recently stored goes. */
export const MAX_SENDER_KEY_ENTRIES = 1_000;
/** Most sender keys kept per (room, sender): the current one and the previous one. */
export const MAX_SENDER_KEYS_PER_MEMBER = 2;
/** Longest room name accepted in a distribution, in UTF-8 bytes. */
export const MAX_ROOM_NAME_BYTES = 255;
