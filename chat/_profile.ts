/**
 * What the engine keeps in the home besides identity and sessions: the profile (granted nick,
 * cipher, rooms), the seen message ids and the outbox. Private to the engine.
 *
 * @module
 */

import type { IdentityKeyPair } from "../crypto/mod.ts";
import { isValidNick } from "../protocol/mod.ts";
import { ChatError } from "./errors.ts";
import type { ChatHome } from "./home.ts";
import { HomeSessionStore } from "./home_session_store.ts";
import { loadOrCreateIdentity } from "./identity.ts";
import { Outbox } from "./outbox.ts";
import { SeenIds } from "./seen_ids.ts";

/** Home file holding the profile (granted nick, cipher, rooms). */
export const PROFILE_FILE = "profile.json";
/** Home file holding the seen message ids. */
export const SEEN_FILE = "seen.json";
/**
 * Home file that held the unacknowledged envelopes in older homes: they now live in the session
 * store ({@linkcode OUTBOX_KEY}), read from this file only when the store has none.
 */
export const OUTBOX_FILE = "outbox.json";
/**
 * The session-store entry holding the outbox ({@linkcode Outbox.toJSON}): saved in the same
 * commit as the session state that encrypted its envelopes, so one durable write, not two, comes
 * before a SEND leaves.
 */
export const OUTBOX_KEY = "chat/outbox";
/**
 * Home file saying that the relay replaced a session of this home by another connection of the
 * same identity (`REPLACED`): `{ "at": ISO time, "reason": text }`.
 */
export const REPLACED_FILE = "replaced";

/** The content of {@linkcode REPLACED_FILE}. */
export interface ReplacedNote {
  at: string;
  reason: string;
}
/** Home file holding own envelopes a non-durable relay accepted (resent if it restarts). */
export const UNCONFIRMED_FILE = "unconfirmed.json";

/** The profile file's content. */
export interface Profile {
  /** The nick to ask for: the one granted last time (maybe `bob_1`), or a new choice. */
  nick?: string;
  /** The nick the user asked for (the `nick` option or `changeNick`). */
  requested?: string;
  /** The nick the relay granted last. */
  granted?: string;
  /** Nicks this identity had before (still members of rooms): never sent sender keys. */
  former?: string[];
  cipher?: string;
  room?: string;
  rooms?: string[];
  /** Rooms left while disconnected: LEAVE goes out after the next READY. */
  leaving?: string[];
  /** What is known of the relay's storage: its last epoch (hex), when a change was last seen. */
  relay?: { epoch?: string; epochChangedAt?: number };
}

/** Everything the engine loads from the home. */
export interface HomeState {
  identity: IdentityKeyPair;
  profile: Profile;
  seen: SeenIds;
  outbox: Outbox;
  store: HomeSessionStore;
  /** Set when a session of this home was replaced by a copy elsewhere (see REPLACED_FILE). */
  replaced?: ReplacedNote;
}

/**
 * Loads (or creates) the identity and reads the profile, seen ids, outbox and sessions.
 *
 * @throws {ChatError} `BAD_HOME` (unreadable or corrupt home).
 */
export async function loadHomeState(home: ChatHome): Promise<HomeState> {
  const { identity } = await loadOrCreateIdentity(home);
  const profile = await readJsonFile<Profile>(home, PROFILE_FILE) ?? {};
  const seenText = await home.read(SEEN_FILE);
  const store = await HomeSessionStore.load(home);
  const stored = store.get(OUTBOX_KEY);
  const legacyOutbox = await home.read(OUTBOX_FILE);
  // An older home's outbox file is read until the store holds the outbox; then it is stale.
  if (stored !== undefined && legacyOutbox !== undefined) await home.remove(OUTBOX_FILE);
  const outboxText = typeof stored === "string" ? stored : legacyOutbox;
  const unconfirmedText = await home.read(UNCONFIRMED_FILE);
  let seen: SeenIds;
  let outbox: Outbox;
  try {
    if (stored !== undefined && typeof stored !== "string") throw new Error("outbox not text");
    seen = seenText === undefined ? new SeenIds() : SeenIds.fromJSON(seenText);
    outbox = Outbox.fromJSON(outboxText ?? "[]", unconfirmedText);
  } catch (error) {
    throw new ChatError("BAD_HOME", `Cannot read state in "${home.location}"`, { cause: error });
  }
  const replaced = await readJsonFile<ReplacedNote>(home, REPLACED_FILE).catch(() => ({
    at: "an unknown time",
    reason: "unreadable note",
  }));
  return { identity, profile, seen, outbox, store, ...(replaced ? { replaced } : {}) };
}

/**
 * Fixes up a loaded profile for this run: a damaged nick is dropped, and a nick given on the
 * command line other than last time's is the one asked for, unless it is a former nick of this
 * identity: a home belongs to an identity, and `--nick Bob` after `/nick bob` (the nick that found
 * this home) keeps `bob` (see {@linkcode keptNickNote}).
 */
export function adoptProfile(profile: Profile, nick: string): Profile {
  if (profile.nick !== undefined && !isValidNick(profile.nick)) {
    delete profile.nick; // a damaged profile: ask for the nick given
  }
  if (keptNickNote(profile, nick) !== undefined) return profile;
  if (profile.requested !== nick) {
    // Another nick on the command line than last time: ask for that one.
    profile.requested = nick;
    profile.nick = nick;
  }
  return profile;
}

/**
 * When `nick` is a former nick of the identity whose profile this is (and not its current one):
 * the line telling the user that the current nick is kept.
 *
 * @param profile The loaded profile.
 * @param nick The nick given on the command line.
 * @returns The note, or undefined when `nick` is not a former nick.
 */
export function keptNickNote(profile: Profile, nick: string): string | undefined {
  const current = profile.granted ?? profile.nick;
  if (current === undefined || current === nick || !(profile.former ?? []).includes(nick)) {
    return undefined;
  }
  return `"${nick}" is a former nick of this identity: keeping its current nick "${current}" ` +
    `(/nick ${nick} takes the old one back)`;
}

async function readJsonFile<T>(home: ChatHome, name: string): Promise<T | undefined> {
  const text = await home.read(name);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ChatError("BAD_HOME", `Cannot parse "${home.location}/${name}"`, { cause: error });
  }
}
