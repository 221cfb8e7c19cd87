/**
 * The Hush wire protocol: frame types, codec, envelope routing header, TCP framing and the
 * byte strings signatures cover. The contract is `docs/PROTOCOL.md`.
 *
 * @module
 */

export {
  type AcceptedFrame,
  type AckFrame,
  AUTH_LABEL,
  type AuthFrame,
  CHALLENGE_BYTES,
  type ChallengeFrame,
  type ClientFrame,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_ROOM,
  type EnvelopeFrame,
  EPOCH_BYTES,
  type ErrorFrame,
  type FetchIdentityFrame,
  type FetchKeysFrame,
  type Frame,
  FRAME_NAME_BY_TYPE,
  FRAME_TYPE_BY_NAME,
  frameDirection,
  type FrameName,
  FrameType,
  type FrameTypeBytes,
  type HelloFrame,
  KEY_BYTES,
  type KeysFrame,
  type ListFrame,
  type ListRoomsFrame,
  MAX_CODE_BYTES,
  MAX_DETAIL_BYTES,
  MAX_FRAME_BYTES_LIMIT,
  MAX_LIST_ITEMS,
  MAX_NAME_BYTES,
  MAX_ONE_TIME_PREKEYS_PER_FRAME,
  MAX_TOKEN_BYTES,
  type MembershipFrame,
  MESSAGE_ID_BYTES,
  type OneTimePrekey,
  PING_BYTES,
  type PingFrame,
  type PongFrame,
  type PrekeyCountFrame,
  type PresenceFrame,
  PROTOCOL_VERSION,
  type PublishKeysFrame,
  type ReadyFrame,
  type RecipientKind,
  type RejectedFrame,
  type RelayFrame,
  type RoomEntry,
  type RoomRequestFrame,
  type RoomsFrame,
  type RosterEntry,
  type RosterFrame,
  SIGNATURE_BYTES,
  type SignedBundle,
  type UndeliveredFrame,
} from "./frames.ts";
export { encodeFrame, withLengthPrefix } from "./encode.ts";
export { decodeFrame, type DecodeOptions } from "./decode.ts";
export {
  ENVELOPE_FROM_OFFSET,
  envelopeMessageId,
  envelopeRecipient,
  type EnvelopeRoute,
  envelopeSender,
  envelopeSenderIs,
  MAX_ENVELOPE_HEADER_BYTES,
  MIN_ENVELOPE_BYTES,
  peekEnvelopeRoute,
  RECIPIENT_KIND_BYTE,
  toDeliverInPlace,
} from "./envelope.ts";
export { checkLength, FrameSplitter, type FrameSplitterOptions } from "./framing.ts";
export {
  authTranscript,
  type AuthTranscriptInput,
  IDENTITY_DH_LABEL,
  identityDhSignedMessage,
  SIGNED_PREKEY_LABEL,
  signedPrekeySignedMessage,
} from "./signing.ts";
export { isValidNick, isValidRoom, nickSkeleton, sameNick } from "./names.ts";
export { PROTOCOL_ERROR_CODES, ProtocolError, type ProtocolErrorCode } from "./errors.ts";
export { HushError } from "../crypto/errors.ts";
