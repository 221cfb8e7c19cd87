/**
 * Hush's end-to-end sessions: X3DH key agreement, the Double Ratchet, sender-key rooms, trust on
 * first use and safety-number verification. No I/O: state goes through an injected
 * {@linkcode SessionStore}; peer bundles come from an injected fetcher. Shared by the terminal
 * client and a later browser client. Formats: `docs/E2E.md`; threat model: `docs/SECURITY.md`.
 *
 * ## The calls a client uses
 *
 * ```ts ignore
 * const hush = new Hush({
 *   store,                      // SessionStore (MemorySessionStore, or a file-backed one)
 *   identity,                   // Ed25519 IdentityKeyPair from crypto/
 *   fetchBundle: async (nick) => bundleFromRelay(nick),   // -> PrekeyBundle
 *   suite: "aes-256-gcm",       // default suite for new conversations/rooms
 *   refuseInsecure: false,      // true: refuse Caesar messages (INSECURE_SUITE_REFUSED)
 * });
 * hush.user.maintain();         // on connect: rotate/top up prekeys; then publish:
 * const bundle = hush.bundle(); // PublishedBundle -> the relay's PUBLISH frame
 *
 * // Private messages. Envelope: clear header suite = out.suite.wireId, body = out.body.
 * const out = await hush.encryptTo("bob", "hi");        // { body, kind, suite, insecure }
 * const got = hush.decryptFrom("alice", envelopeBody);  // { type: "text", text, suite, insecure, verified, ... }
 *                                                       // or { type: "sender-key", room, ... }
 * // Rooms. Send every distribution (pairwise, to `to`) BEFORE the room body.
 * const r = await hush.encryptToRoom("lobby", ["bob", "carol"], "hello all");
 * //   r.distributions: [{ to, body, suite, ... }], r.room: { body, suite, ... }, r.skipped
 * const m = hush.decryptRoom("lobby", "bob", roomBody); // NO_SENDER_KEY: keep it, retry later
 * hush.removeMember("lobby", "carol");                  // on a leave: rotate our sender key
 * hush.rotateRoomKeys();                                // e.g. after our nick changed: every room
 * hush.leaveRoom("lobby");
 *
 * // Trust.
 * hush.trust.safetyNumber("bob");             // { digits, formatted, words }
 * hush.trust.markVerified("bob", digits);     // true when it matches
 * hush.trust.get("bob");                      // { fingerprint, verified, changed? }
 * hush.acceptIdentity("bob");                 // after IDENTITY_CHANGED: returns held messages
 * hush.peersWithSessions();                   // ["bob", ...]: nicks with a pairwise session
 * hush.resetSession("bob");                   // next message to bob starts a new X3DH
 * describeBody(body);                         // { kind, suiteWireId } for the wire view
 * ```
 *
 * Every failure is a {@linkcode SessionError} with a stable `code` (see `errors.ts`); a message
 * that fails to open never changes any state.
 *
 * @module
 */
export { SessionError, type SessionErrorCode } from "./errors.ts";
export { MemorySessionStore, type SessionStore, type StoredValue } from "./store.ts";
export {
  type BundleFetcher,
  Hush,
  type HushOptions,
  type OutgoingBody,
  type Received,
  type ReceivedRoomText,
  type ReceivedSenderKey,
  type ReceivedText,
  type ReleasedMessage,
  type RoomSend,
} from "./hush.ts";
export {
  LocalUser,
  ONE_TIME_PREKEY_FIRST,
  ONE_TIME_PREKEY_LOW_WATER,
  ONE_TIME_PREKEY_TARGET,
  type PublishedBundle,
  SIGNED_PREKEY_MAX_AGE_MS,
  SIGNED_PREKEYS_KEPT,
} from "./local_user.ts";
export {
  type PeerTrust,
  type SafetyNumberView,
  type TrustObservation,
  TrustStore,
} from "./trust.ts";
export {
  associatedData,
  type PrekeyBundle,
  signIdentityDh,
  signSignedPrekey,
  verifyBundle,
  x3dhInitiate,
  type X3dhInitiation,
  type X3dhLocalKeys,
  type X3dhNicks,
  x3dhRespond,
} from "./x3dh.ts";
export {
  DoubleRatchet,
  type DoubleRatchetJson,
  type RatchetDecryptOptions,
} from "./double_ratchet.ts";
export {
  InboundSenderKey,
  type InboundSenderKeyJson,
  OutboundSenderKey,
  type OutboundSenderKeyJson,
} from "./sender_keys.ts";
export {
  type BodyKind,
  type Content,
  decodeContent,
  decodeInitialMessage,
  decodeRatchetMessage,
  decodeRoomMessage,
  describeBody,
  encodeContent,
  type InitialFields,
  type InitialMessage,
  type RatchetMessage,
  type RoomMessage,
  type SenderKeyDistribution,
} from "./message.ts";
export {
  BODY_INITIAL,
  BODY_RATCHET,
  BODY_ROOM,
  BODY_VERSION,
  CONTENT_SENDER_KEY,
  CONTENT_TEXT,
  EXTRA_MAC_LENGTH,
  LABEL_IDENTITY_DH,
  LABEL_MESSAGE_KEYS,
  LABEL_RATCHET_ROOT,
  LABEL_ROOM_SIGNATURE,
  LABEL_SENDER_MESSAGE_KEYS,
  LABEL_SIGNED_PREKEY,
  LABEL_X3DH,
  MAX_ROOM_NAME_BYTES,
  MAX_SEEN_BASE_KEYS,
  MAX_SENDER_KEYS_PER_MEMBER,
  MAX_SESSIONS_PER_PEER,
  MAX_SKIP,
  MAX_STORED_SKIPPED,
} from "./constants.ts";
/** Crypto types that appear in this module's API. */
export type {
  CipherSuite,
  CipherSuiteId,
  HushError,
  IdentityKeyPair,
  X25519KeyPair,
} from "../crypto/mod.ts";
