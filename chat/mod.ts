/**
 * The Hush chat engine: everything a chat user interface needs below the screen. A UI opens a
 * home, creates a client, listens to its events and calls its methods:
 *
 * ```ts ignore
 * const home = await openFileHome(defaultHomeDir("bob", Deno.env.toObject()));
 * const client = await createChatClient({ server: "tcp://127.0.0.1:4875", nick: "bob", home });
 * client.on((event) => console.log(event));
 * await client.connect();
 * await client.sendRoom("hello");
 * await client.close();
 * ```
 *
 * Events: `chat/events.ts` (the JSON schema of `--json`). Behaviour (reconnect, resend, dedupe,
 * home files): `docs/CLIENT.md`, "Engine behaviour". Deno-specific parts (TCP/TLS transport,
 * file home) are in their own files; the rest is plain web-platform TypeScript.
 *
 * @module
 */

export { ChatClient, type ChatClientOptions, createChatClient } from "./engine.ts";
export type { ChatEvent, ChatEventListener, UserInfo, WireView } from "./events.ts";
export {
  type ChatHome,
  checkHomeName,
  defaultHomeDir,
  type EntryStore,
  type EntryValue,
  FencedHome,
  HOME_NAME_PATTERN,
  homeDirName,
  homesBaseDir,
  MemoryHome,
} from "./home.ts";
export {
  FileHome,
  type FileHomeOptions,
  findHomeDir,
  type FoundHome,
  GENERATION_FILE,
  homeFingerprint,
  type HomeLockHolder,
  LOCK_FILE,
  openFileHome,
} from "./file_home.ts";
export { IDENTITY_FILE, loadOrCreateIdentity } from "./identity.ts";
export { HomeSessionStore, SESSIONS_ENTRIES, SESSIONS_FILE } from "./home_session_store.ts";
export { ChatError } from "./errors.ts";
export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export { Outbox, type OutboxEntry } from "./outbox.ts";
export { bundleFromKeys, publishKeysFrame } from "./key_directory.ts";
export { wireView } from "./wire_view.ts";
export { DEFAULT_SEEN_CAPACITY, SeenIds } from "./seen_ids.ts";
export {
  type ChatPayload,
  decodeChatPayload,
  encodeChatPayload,
  MAX_TEXT_BYTES,
} from "./content.ts";
export {
  connectTransport,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_SIZE,
  isSecureUrl,
  parseServerUrl,
  type Transport,
  type TransportHandlers,
  type TransportOptions,
  type TransportScheme,
} from "./transport.ts";

// Types of the layers below that this module's signatures use, so that its documentation and
// its users need no second import.
export type { HushError, IdentityKeyPair } from "../crypto/mod.ts";
export type { PrekeyBundle, PublishedBundle, SessionStore, StoredValue } from "../sessions/mod.ts";
export type {
  EnvelopeFrame,
  KeysFrame,
  OneTimePrekey,
  PublishKeysFrame,
  RecipientKind,
  SignedBundle,
} from "../protocol/mod.ts";
