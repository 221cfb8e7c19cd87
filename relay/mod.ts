/**
 * The blind relay: `runRelay(options)` starts it. Imports only `protocol/` and, from `crypto/`,
 * Ed25519 verification, errors, bytes and randomness.
 *
 * @module
 */

export { MAX_ONE_TIME_PREKEYS_HELD, type RelayHandle, runRelay } from "./relay.ts";
export {
  DEFAULT_RELAY_OPTIONS,
  DEFAULT_STORE_PATH,
  DEFAULT_TCP_PORT,
  DEFAULT_WS_PORT,
  type RelayOptions,
  resolveRelayOptions,
} from "./options.ts";
export { RELAY_ERROR_CODES, RelayError, type RelayErrorCode } from "./errors.ts";
export { HushError } from "../crypto/errors.ts";
export type { HeldEnvelope, QueuedEnvelope, QueueStats, Store } from "./store.ts";
export type { OneTimePrekey, SignedBundle } from "../protocol/mod.ts";
export { MemoryStore } from "./memory_store.ts";
export { DEFAULT_BUSY_TIMEOUT_MS, SqliteStore, type SqliteStoreOptions } from "./sqlite_store.ts";
export { TokenBucket } from "./limits.ts";
export { EventLog, type LogValue } from "./log.ts";
export { Metrics } from "./metrics.ts";
export { Directory, MAX_ROOMS_PER_NICK } from "./presence.ts";
export { grantNick, MAX_NICK_SUFFIX, nickCandidate, verifyAuth } from "./auth.ts";
