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
  /** Nicks bound to each identity key (hex). */
  #byKey = new Map<string, Set<string>>();
  /**
   * Bound nicks by skeleton ({@link nickSkeleton}). One entry per skeleton, except in a store
   * written before skeletons were checked, where two identities may hold look-alikes: both kept.
   */
  #bySkeleton = new Map<string, Set<string>>();
  #rooms = new Map<string, Set<string>>();
  #roomsOf = new Map<string, Set<string>>();

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
    return this.#bySkeleton.get(nickSkeleton(nick)) ?? EMPTY;
  }

  /** Skeletons held by more than one nick (look-alikes bound before skeletons were checked). */
  collisions(): string[][] {
    const out: string[][] = [];
    for (const set of this.#bySkeleton.values()) if (set.size > 1) out.push([...set]);
    return out;
  }

  /** Binds a nick to an identity key (persisted; the store first, so a failure changes nothing). */
  bind(nick: string, identityKey: Uint8Array): void {
    this.#store.bindNick(nick, identityKey);
    this.#own(nick, identityKey);
  }

  /** Every nick bound to an identity key. */
  nicksOf(identityKey: Uint8Array): string[] {
    return [...(this.#byKey.get(toHex(identityKey)) ?? [])];
  }

  /**
   * Forgets a released nick in memory: its binding and memberships (the store removed them).
   *
   * @returns The rooms it was a member of.
   */
  forget(nick: string): string[] {
    const key = this.#owners.get(nick);
    if (key !== undefined) {
      const hex = toHex(key);
      const set = this.#byKey.get(hex);
      set?.delete(nick);
      if (set?.size === 0) this.#byKey.delete(hex);
      const skeleton = nickSkeleton(nick);
      const same = this.#bySkeleton.get(skeleton);
      same?.delete(nick);
      if (same?.size === 0) this.#bySkeleton.delete(skeleton);
    }
    this.#owners.delete(nick);
    const rooms = [...this.roomsOf(nick)];
    for (const room of rooms) {
      const members = this.#rooms.get(room);
      members?.delete(nick);
      if (members?.size === 0) this.#rooms.delete(room);
    }
    this.#roomsOf.delete(nick);
    return rooms;
  }

  #own(nick: string, key: Uint8Array): void {
    this.#owners.set(nick, key);
    const hex = toHex(key);
    let set = this.#byKey.get(hex);
    if (set === undefined) this.#byKey.set(hex, set = new Set());
    set.add(nick);
    const skeleton = nickSkeleton(nick);
    let same = this.#bySkeleton.get(skeleton);
    if (same === undefined) this.#bySkeleton.set(skeleton, same = new Set());
    same.add(nick);
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
    if (set.size === 0) this.#rooms.delete(room);
    const mine = this.#roomsOf.get(nick);
    mine?.delete(room);
    if (mine?.size === 0) this.#roomsOf.delete(nick);
    return true;
  }

  #add(room: string, nick: string): void {
    let set = this.#rooms.get(room);
    if (set === undefined) this.#rooms.set(room, set = new Set());
    set.add(nick);
    let mine = this.#roomsOf.get(nick);
    if (mine === undefined) this.#roomsOf.set(nick, mine = new Set());
    mine.add(room);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
