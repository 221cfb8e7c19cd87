/**
 * Room membership as the engine sees it: the rooms joined (kept in the profile and joined again
 * after every READY), the current room, rosters (asked for by the UI or quietly by the engine
 * before a room message), presence, and the relay's JOINED/LEFT/ROSTER/ROOMS/PRESENCE notices.
 * Private to the engine.
 *
 * @module
 */

import { encodeFrame, isValidRoom, type RelayFrame } from "../protocol/mod.ts";
import { equalBytes } from "../crypto/mod.ts";
import type { EngineCore } from "./_core.ts";
import type { Connection, RelayLink } from "./_connection.ts";
import { badRoomMessage } from "./_emitter.ts";
import type { UserInfo } from "./events.ts";
import { Waiters } from "./_waiters.ts";

/** The relay frames about rooms and users. */
export type RoomFrame = RelayFrame & { type: "joined" | "left" | "roster" | "rooms" | "presence" };

/** What the rooms need from the engine. */
export interface RoomsHost extends EngineCore {
  link: RelayLink;
  /** Our fingerprint. */
  fingerprint(): string;
  /** The user was shown `nick` as a member of `room`. */
  shown?(room: string, nick: string): void;
  /** A nick's identity key as the relay binds it (FETCH_IDENTITY), for spotting renames. */
  identityOf?(nick: string): Promise<Uint8Array | undefined>;
}

/**
 * How soon after a peer went offline a nick that comes online may be the same person renamed
 * (a `/nick` reconnects at once, so it is well within this).
 */
const RENAME_WINDOW_MS = 15_000;

/** The rooms of one engine. */
export class Rooms {
  #host: RoomsHost;
  #room: string;
  #rooms: Set<string>;
  #pendingLeaves = new Set<string>();
  #members = new Map<string, Map<string, boolean>>();
  /** Per room, in request order: whether each outstanding LIST came from the UI. */
  #rosterAsks = new Map<string, boolean[]>();
  /** Rooms whose own-join notice was shown (the relay repeats JOINED on every JOIN). */
  #selfJoinShown = new Set<string>();
  #online = new Map<string, boolean>();
  /** Peers that went offline lately (nick -> when), whose identity we know: rename candidates. */
  #wentOffline = new Map<string, number>();
  #rosterRequests = new Waiters<string, string[]>();

  /**
   * @param host The engine.
   * @param init The room to make current, and the profile's joined rooms and pending leaves.
   */
  constructor(
    host: RoomsHost,
    init: { room: string; rooms: readonly string[]; leaving: readonly string[] },
  ) {
    this.#host = host;
    this.#room = init.room;
    // Rooms joined earlier (kept in the profile) are joined again; the relay joins nobody by itself.
    this.#rooms = new Set([...init.rooms.filter(isValidRoom), init.room]);
    for (const room of init.leaving) {
      if (isValidRoom(room) && !this.#rooms.has(room)) this.#pendingLeaves.add(room);
    }
  }

  /** The current room. */
  get current(): string {
    return this.#room;
  }

  /** The rooms joined. */
  joined(): string[] {
    return [...this.#rooms];
  }

  /** The rooms left while disconnected (LEAVE not sent yet). */
  leaving(): string[] {
    return [...this.#pendingLeaves];
  }

  /** Whether we are in `room`. */
  has(room: string): boolean {
    return this.#rooms.has(room);
  }

  /** Every nick seen in a roster, JOINED or PRESENCE (the relay's spellings). */
  knownNicks(): Set<string> {
    const out = new Set(this.#online.keys());
    for (const members of this.#members.values()) for (const nick of members.keys()) out.add(nick);
    return out;
  }

  /** Whether `nick` was last seen online. */
  isOnline(nick: string): boolean {
    return this.#online.get(nick) ?? false;
  }

  /**
   * Joins a room and makes it current.
   *
   * @returns False (after an `error` event) for an invalid name.
   */
  join(room: string): boolean {
    if (!isValidRoom(room)) {
      this.#host.emitter.error("BAD_ROOM", badRoomMessage(room));
      return false;
    }
    this.#rooms.add(room);
    this.#room = room;
    this.#members.delete(room);
    this.#host.link.send({ type: "join", room });
    // Who can read the room, as IRC's NAMES on join: a `users` event for the UI.
    this.askRoster(room, true);
    this.#host.emitter.emit({ type: "room", current: room });
    return true;
  }

  /**
   * Leaves a room (LEAVE now, or after the next READY) and forgets our sender key for it.
   *
   * @returns False (after an `error` event) when not in the room.
   */
  leave(room: string): boolean {
    if (!this.#rooms.has(room)) {
      this.#host.emitter.error("NOT_IN_ROOM", `Not in room "${room}"`);
      return false;
    }
    this.#rooms.delete(room);
    this.#members.delete(room);
    this.#host.hush().leaveRoom(room);
    if (this.#host.link.connected) this.#host.link.send({ type: "leave", room });
    else this.#pendingLeaves.add(room);
    if (this.#room === room) {
      this.#room = [...this.#rooms][0] ?? room;
      this.#host.emitter.emit({ type: "room", current: this.#room });
    }
    return true;
  }

  /** Asks for a roster for the UI (`users` event); omitted room: every online user. */
  listUsers(room: string | undefined): void {
    if (room !== undefined && !isValidRoom(room)) {
      this.#host.emitter.error("BAD_ROOM", badRoomMessage(room));
      return;
    }
    if (this.#requireConnection()) this.askRoster(room ?? "", true);
  }

  /** Asks for the rooms we are in (`rooms` event). */
  listRooms(): void {
    if (this.#requireConnection()) this.#host.link.send({ type: "list-rooms" });
  }

  /** Sends LIST, remembering whether the answer is for the UI (`users` event) or internal. */
  askRoster(room: string, fromUi: boolean): void {
    if (!this.#host.link.connected) return;
    const asks = this.#rosterAsks.get(room) ?? [];
    asks.push(fromUi);
    this.#rosterAsks.set(room, asks);
    this.#host.link.send({ type: "list", room });
  }

  /** The members of `room` (from the last roster, else asked for and waited on). */
  async members(room: string): Promise<string[]> {
    const known = this.#members.get(room);
    if (known !== undefined) return [...known.keys()];
    return await this.#host.link.ask(this.#rosterRequests, room, {
      send: () => this.askRoster(room, false),
      noAnswer: `No roster from the relay for "${room}"`,
    });
  }

  /** After READY: sends the pending LEAVEs and JOINs every room (JOIN is idempotent). */
  rejoin(connection: Connection): void {
    for (const room of this.#pendingLeaves) {
      if (!this.#rooms.has(room)) connection.transport.send(encodeFrame({ type: "leave", room }));
    }
    this.#pendingLeaves.clear();
    for (const room of this.#rooms) connection.transport.send(encodeFrame({ type: "join", room }));
  }

  /** After READY: asks again for the rosters still waited for. */
  retryRosters(): void {
    for (const room of this.#rosterRequests.keys()) this.askRoster(room, false);
  }

  /** Rosters (and peers' keys) may change while we are away: ask again after the next READY. */
  forgetConnection(): void {
    this.#members.clear();
    this.#rosterAsks.clear();
  }

  /** Fails every roster request waiting for an answer. */
  fail(error: unknown): void {
    this.#rosterRequests.rejectAll(error);
  }

  /**
   * A relay ERROR `NOT_IN_ROOM`: a roster of a room we are not in, nobody to encrypt to. (The
   * ERROR does not name the room, so the quiet/shown bookkeeping of outstanding rosters starts
   * over.)
   */
  onNotInRoom(): void {
    for (const room of this.#rosterRequests.keys()) this.#rosterRequests.resolveAll(room, []);
    this.#rosterAsks.clear();
  }

  /** Handles a JOINED, LEFT, ROSTER, ROOMS or PRESENCE frame. */
  onFrame(frame: RoomFrame): void {
    const nick = this.#host.nick();
    const emitter = this.#host.emitter;
    switch (frame.type) {
      case "joined":
        this.#members.get(frame.room)?.set(frame.nick, true);
        if (frame.nick !== nick) {
          this.#online.set(frame.nick, true);
          this.#spotRename(frame.nick);
        } else {
          this.#rooms.add(frame.room);
          // Every (re)JOIN is answered with JOINED: tell the UI once per room.
          if (this.#selfJoinShown.has(frame.room)) return;
          this.#selfJoinShown.add(frame.room);
        }
        this.#host.shown?.(frame.room, frame.nick);
        emitter.emit({ type: "join", nick: frame.nick, room: frame.room });
        return;
      case "left":
        this.#members.get(frame.room)?.delete(frame.nick);
        if (frame.nick === nick) this.#selfJoinShown.delete(frame.room);
        if (frame.nick === nick && frame.room !== this.#room) this.#rooms.delete(frame.room);
        if (frame.nick !== nick) {
          this.#host.hush().removeMember(frame.room, frame.nick);
          this.#host.persist().catch((error) => emitter.reportError(error));
        }
        emitter.emit({ type: "leave", nick: frame.nick, room: frame.room });
        return;
      case "roster": {
        const room = frame.room === "" ? null : frame.room;
        const members = new Map(frame.members.map((m) => [m.nick, m.online]));
        for (const m of frame.members) if (m.nick !== nick) this.#online.set(m.nick, m.online);
        if (room !== null) {
          this.#members.set(room, members);
          this.#rosterRequests.resolveAll(room, [...members.keys()]);
        }
        // Rosters the engine asked for itself stay quiet; the UI's (and unsolicited ones) show.
        const fromUi = this.#rosterAsks.get(frame.room)?.shift() ?? true;
        if (fromUi) {
          if (room !== null) { for (const m of frame.members) this.#host.shown?.(room, m.nick); }
          emitter.emit({
            type: "users",
            room,
            users: frame.members.map((m) => this.#userInfo(m.nick, m.online)),
          });
        }
        return;
      }
      case "rooms":
        emitter.emit({ type: "rooms", rooms: frame.rooms.map((r) => r.room), current: this.#room });
        return;
      case "presence":
        this.#online.set(frame.nick, frame.online);
        if (frame.nick !== nick) {
          if (frame.online) this.#spotRename(frame.nick);
          else this.#wentOffline.set(frame.nick, Date.now());
        }
        for (const members of this.#members.values()) {
          if (members.has(frame.nick)) members.set(frame.nick, frame.online);
        }
        emitter.emit({ type: "presence", nick: frame.nick, online: frame.online });
        return;
    }
  }

  /**
   * A nick came online or joined just after a peer we know went offline: when the relay binds it
   * to the same identity key, it is that peer renamed (`/nick`): a `nick` event, "bob is now known
   * as robert". No wire change: the key is asked with FETCH_IDENTITY; a new key is no rename.
   */
  #spotRename(newNick: string): void {
    const now = Date.now();
    const candidates: string[] = [];
    for (const [old, since] of this.#wentOffline) {
      if (now - since > RENAME_WINDOW_MS) this.#wentOffline.delete(old);
      else if (old !== newNick && this.#host.hush().trust.get(old) !== undefined) {
        candidates.push(old);
      }
    }
    if (candidates.length === 0 || this.#host.identityOf === undefined) return;
    this.#host.identityOf(newNick).then((key) => {
      if (key === undefined) return;
      for (const old of candidates) {
        const known = this.#host.hush().trust.get(old);
        if (known === undefined || !equalBytes(known.identityKey, key)) continue;
        if (!this.#wentOffline.delete(old)) return; // told already
        if (this.#online.get(old) === true) return; // both online: not a rename
        this.#host.emitter.emit({ type: "nick", old, new: newNick });
        return;
      }
    }, () => {});
  }

  #requireConnection(): boolean {
    if (this.#host.link.connected) return true;
    this.#host.emitter.error(
      "NOT_CONNECTED",
      "Not connected to the relay (reconnecting); try again soon",
    );
    return false;
  }

  #userInfo(nick: string, online: boolean): UserInfo {
    const self = nick === this.#host.nick();
    const trust = self ? undefined : this.#host.hush().trust.get(nick);
    const info: UserInfo = {
      nick,
      online,
      verified: trust?.verified === true && trust.changed === undefined,
    };
    if (self) info.fingerprint = this.#host.fingerprint();
    else if (trust !== undefined) info.fingerprint = trust.fingerprint;
    return info;
  }
}
