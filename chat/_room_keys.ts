/**
 * Who gets our room key (issue 10 item 10, "ghost members"). The member list comes from the
 * relay, so a relay that hides a join (or an honest relay above `--room-notice-limit`) could get
 * our room key sent to someone the user was never shown. Here:
 *
 * - every time our room key is about to go to a nick the user has not been shown in that room
 *   (no `join` event, no `users` line, no earlier `key-shared`), a `key-shared` event is emitted
 *   first;
 * - with the policy `approve`, a member gets our key only after `approve(room, nick)`
 *   (`/approve NICK`); with `verified`, only verified members get it. Each member left out is
 *   said once per room with a `key-withheld` event.
 *
 * Approvals are kept in the session store (`chat/approved`), so they survive a restart.
 * Private to the engine.
 *
 * @module
 */

import type { SessionStore } from "../sessions/mod.ts";
import type { Hush } from "../sessions/mod.ts";
import type { Emitter } from "./_emitter.ts";

/** Who gets our room keys: everyone in the roster, approved members, or verified members. */
export type RoomKeyPolicy = "all" | "approve" | "verified";

/** The policies, for option parsing. */
export const ROOM_KEY_POLICIES: readonly RoomKeyPolicy[] = ["all", "approve", "verified"];

const APPROVED_KEY = "chat/approved";

/** The room-key gate of one engine. */
export class RoomKeyGate {
  readonly policy: RoomKeyPolicy;
  #store: SessionStore;
  #emitter: Emitter;
  #hush: () => Hush;
  #shown = new Map<string, Set<string>>();
  #withheldTold = new Map<string, Set<string>>();

  constructor(
    policy: RoomKeyPolicy,
    deps: { store: SessionStore; emitter: Emitter; hush: () => Hush },
  ) {
    this.policy = policy;
    this.#store = deps.store;
    this.#emitter = deps.emitter;
    this.#hush = deps.hush;
  }

  /** The user was shown `nick` in `room` (a join, a roster line). */
  markShown(room: string, nick: string): void {
    let set = this.#shown.get(room);
    if (set === undefined) this.#shown.set(room, set = new Set());
    set.add(nick);
  }

  /** Whether the user has approved `nick` for `room`. */
  isApproved(room: string, nick: string): boolean {
    return this.#approved()[room]?.includes(nick) ?? false;
  }

  /** Approves `nick` for `room` (kept in the store; the caller persists it). */
  approve(room: string, nick: string): void {
    const all = this.#approved();
    const list = all[room] ?? [];
    if (!list.includes(nick)) list.push(nick);
    all[room] = list;
    this.#store.set(APPROVED_KEY, JSON.stringify(all));
    this.#withheldTold.get(room)?.delete(nick);
  }

  /**
   * The members that may get our key for `room` under the policy; each one left out is said
   * once (`key-withheld`).
   */
  filter(room: string, members: string[]): string[] {
    if (this.policy === "all") return members;
    return members.filter((nick) => {
      const ok = this.policy === "approve"
        ? this.isApproved(room, nick)
        : this.#hush().trust.isVerified(nick);
      if (!ok) this.#tellWithheld(room, nick);
      return ok;
    });
  }

  /** Before our key goes to `nicks` in `room`: a `key-shared` event for each not shown there. */
  beforeSharing(room: string, nicks: string[]): void {
    for (const nick of nicks) {
      if (this.#shown.get(room)?.has(nick)) continue;
      const trust = this.#hush().trust.get(nick);
      this.#emitter.emit({
        type: "key-shared",
        room,
        nick,
        fingerprint: trust?.fingerprint ?? "",
        verified: trust?.verified === true && trust.changed === undefined,
      });
      this.markShown(room, nick);
    }
  }

  #tellWithheld(room: string, nick: string): void {
    let told = this.#withheldTold.get(room);
    if (told === undefined) this.#withheldTold.set(room, told = new Set());
    if (told.has(nick)) return;
    told.add(nick);
    const reason = this.policy === "approve" ? "not-approved" : "not-verified";
    this.#emitter.emit({ type: "key-withheld", room, nick, reason });
  }

  #approved(): Record<string, string[]> {
    const raw = this.#store.get(APPROVED_KEY);
    if (typeof raw !== "string") return {};
    try {
      const parsed = JSON.parse(raw);
      return parsed !== null && typeof parsed === "object" ? parsed : {};
    } catch {
      return {};
    }
  }
}
