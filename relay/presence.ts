/**
 * Nick bindings and room memberships: the relay's in-memory routing tables, written through to
 * the {@link Store}.
 *
 * @module
 */

import { toHex } from "../crypto/bytes.ts";
import { nickSkeleton } from "../protocol/mod.ts";
import type { Store } from "./store.ts";

/** Most rooms one nick may be a member of. */
export const MAX_ROOMS_PER_NICK = 64;

/** Who owns which nick and who is in which room. */
export class Directory {
  #store: Store;
  #owners = new Map<string, Uint8Array>();
  /**
   * Nicks bound to each identity key (hex). Most keys hold one nick: kept as the string itself,
   * a Set from the second on (a Set with its table costs about 150 bytes per bound nick).
   */
  #byKey = new Map<string, Few>();
  /**
   * Bound nicks by skeleton ({@link nickSkeleton}). One entry per skeleton, except in a store
   * written before skeletons were checked, where two identities may hold look-alikes: both kept.
   */
  #bySkeleton = new Map<string, Few>();
  #rooms = new Map<string, Set<string>>();
  /**
   * Rooms of each nick. A nick in one room only (most: the lobby) shares one read-only Set per
   * room with every other such nick; it gets a Set of its own when it joins a second room.
   */
  #roomsOf = new Map<string, ReadonlySet<string>>();
  /** The shared one-room Sets of {@link #roomsOf}, by room. */
  #onlyIn = new Map<string, ReadonlySet<string>>();

  /**
   * Loads the tables from a store.
   *
   * @param store The relay's store.
   */
  constructor(store: Store) {
    this.#store = store;
    for (const [nick, key] of store.bindings()) this.#own(nick, key);
    for (const [room, nick] of store.memberships()) this.#add(room, nick);
  }

  /** The identity key bound to a nick, if any. */
  ownerOf(nick: string): Uint8Array | undefined {
    return this.#owners.get(nick);
  }

  /**
   * The bound nicks with the same skeleton as `nick` (its look-alikes, itself included when
   * bound), in binding order; do not mutate.
   */
  lookAlikes(nick: string): ReadonlySet<string> {
    return asSet(this.#bySkeleton.get(nickSkeleton(nick)));
  }

  /** Skeletons held by more than one nick (look-alikes bound before skeletons were checked). */
  collisions(): string[][] {
    const out: string[][] = [];
    for (const few of this.#bySkeleton.values()) if (typeof few !== "string") out.push([...few]);
    return out;
  }

  /** Binds a nick to an identity key (persisted; the store first, so a failure changes nothing). */
  bind(nick: string, identityKey: Uint8Array): void {
    this.#store.bindNick(nick, identityKey);
    this.#own(nick, identityKey);
  }

  /** Every nick bound to an identity key. */
  nicksOf(identityKey: Uint8Array): string[] {
    return [...asSet(this.#byKey.get(toHex(identityKey)))];
  }

  /**
   * Forgets a released nick in memory: its binding and memberships (the store removed them).
   *
   * @returns The rooms it was a member of.
   */
  forget(nick: string): string[] {
    const key = this.#owners.get(nick);
    if (key !== undefined) {
      removeFew(this.#byKey, toHex(key), nick);
      removeFew(this.#bySkeleton, nickSkeleton(nick), nick);
    }
    this.#owners.delete(nick);
    const rooms = [...this.roomsOf(nick)];
    for (const room of rooms) {
      const members = this.#rooms.get(room);
      members?.delete(nick);
      if (members?.size === 0) {
        this.#rooms.delete(room);
        this.#onlyIn.delete(room);
      }
    }
    this.#roomsOf.delete(nick);
    return rooms;
  }

  #own(nick: string, key: Uint8Array): void {
    this.#owners.set(nick, key);
    addFew(this.#byKey, toHex(key), nick);
    addFew(this.#bySkeleton, nickSkeleton(nick), nick);
  }

  /**
   * Writes every binding and membership into `store` and removes the memberships it holds that
   * are not in memory (after a failed commit lost some writes).
   */
  writeTo(store: Store): void {
    for (const [nick, key] of this.#owners) store.bindNick(nick, key);
    for (const [room, nick] of store.memberships()) {
      if (!this.#rooms.get(room)?.has(nick)) store.removeMember(room, nick);
    }
    for (const [room, members] of this.#rooms) {
      for (const nick of members) store.addMember(room, nick);
    }
  }

  /** Members of a room (empty set when it does not exist); do not mutate. */
  members(room: string): ReadonlySet<string> {
    return this.#rooms.get(room) ?? EMPTY;
  }

  /** Rooms a nick is a member of; do not mutate. */
  roomsOf(nick: string): ReadonlySet<string> {
    return this.#roomsOf.get(nick) ?? EMPTY;
  }

  /** Every room name. */
  rooms(): IterableIterator<string> {
    return this.#rooms.keys();
  }

  /**
   * Adds a member (persisted).
   *
   * @returns True when the nick was not a member before.
   */
  join(room: string, nick: string): boolean {
    if (this.#rooms.get(room)?.has(nick)) return false;
    this.#store.addMember(room, nick);
    this.#add(room, nick);
    return true;
  }

  /**
   * Removes a member (persisted).
   *
   * @returns True when the nick was a member.
   */
  leave(room: string, nick: string): boolean {
    const set = this.#rooms.get(room);
    if (!set?.has(nick)) return false;
    this.#store.removeMember(room, nick);
    set.delete(nick);
    if (set.size === 0) {
      this.#rooms.delete(room);
      this.#onlyIn.delete(room);
    }
    const mine = this.#roomsOf.get(nick);
    if (mine === undefined || !mine.has(room)) return true;
    if (mine.size === 1) this.#roomsOf.delete(nick);
    else {
      const own = mine as Set<string>; // two or more rooms: its own Set
      own.delete(room);
      if (own.size === 1) this.#roomsOf.set(nick, this.#only([...own][0]!));
    }
    return true;
  }

  #add(room: string, nick: string): void {
    let set = this.#rooms.get(room);
    if (set === undefined) this.#rooms.set(room, set = new Set());
    set.add(nick);
    const mine = this.#roomsOf.get(nick);
    if (mine === undefined) this.#roomsOf.set(nick, this.#only(room));
    else if (!mine.has(room)) {
      if (mine.size === 1) this.#roomsOf.set(nick, new Set([...mine, room]));
      else (mine as Set<string>).add(room);
    }
  }

  /** The shared read-only Set of one room. */
  #only(room: string): ReadonlySet<string> {
    let only = this.#onlyIn.get(room);
    if (only === undefined) this.#onlyIn.set(room, only = new Set([room]));
    return only;
  }
}

/** One nick (the usual case) or several. */
type Few = string | Set<string>;

function asSet(few: Few | undefined): ReadonlySet<string> {
  if (few === undefined) return EMPTY;
  return typeof few === "string" ? new Set([few]) : few;
}

function addFew(map: Map<string, Few>, key: string, nick: string): void {
  const few = map.get(key);
  if (few === undefined) map.set(key, nick);
  else if (typeof few === "string") {
    if (few !== nick) map.set(key, new Set([few, nick]));
  } else few.add(nick);
}

function removeFew(map: Map<string, Few>, key: string, nick: string): void {
  const few = map.get(key);
  if (few === undefined) return;
  if (typeof few === "string") {
    if (few === nick) map.delete(key);
    return;
  }
  few.delete(nick);
  if (few.size === 1) map.set(key, [...few][0]!);
  else if (few.size === 0) map.delete(key);
}

const EMPTY: ReadonlySet<string> = new Set();
