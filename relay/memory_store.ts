/**
 * An in-memory {@link Store}: everything is lost when the process ends.
 *
 * @module
 */

import { randomBytes } from "../crypto/random.ts";
import { EPOCH_BYTES, type OneTimePrekey, type SignedBundle } from "../protocol/mod.ts";
import type { HeldEnvelope, QueuedEnvelope, QueueStats, Store } from "./store.ts";

/** A {@link Store} kept in maps; the default when the relay runs without `--store`. */
export class MemoryStore implements Store {
  readonly description = "memory";
  readonly persistent = false;
  /** A new epoch for every memory store: a restarted relay has lost everything. */
  readonly epoch: Uint8Array = randomBytes(EPOCH_BYTES);
  #bindings = new Map<string, Uint8Array>();
  #lastUsed = new Map<string, number>();
  #members = new Map<string, Set<string>>();
  #queues = new Map<string, QueuedEnvelope[]>();
  #nextId = 1;
  #bundles = new Map<string, SignedBundle>();
  #prekeys = new Map<string, Map<number, Uint8Array>>();

  bindings(): [string, Uint8Array][] {
    return [...this.#bindings];
  }
  bindNick(nick: string, identityKey: Uint8Array): void {
    this.#bindings.set(nick, identityKey); // the relay hands over a key it no longer changes
    this.#lastUsed.set(nick, Date.now());
  }
  touchNick(nick: string, at: number): void {
    if (this.#bindings.has(nick)) this.#lastUsed.set(nick, at);
  }
  nickLastUsed(nick: string): number {
    return this.#lastUsed.get(nick) ?? 0;
  }
  nicksUnusedSince(cutoff: number): string[] {
    return [...this.#bindings.keys()].filter((n) => (this.#lastUsed.get(n) ?? 0) < cutoff);
  }
  releaseNick(nick: string): HeldEnvelope[] {
    const held = (this.#queues.get(nick) ?? []).map((e) => ({ ...e, nick }));
    this.#queues.delete(nick);
    this.#bindings.delete(nick);
    this.#lastUsed.delete(nick);
    for (const [room] of this.memberships()) this.removeMember(room, nick);
    this.#bundles.delete(nick);
    this.#prekeys.delete(nick);
    return held;
  }
  memberships(): [string, string][] {
    const out: [string, string][] = [];
    for (const [room, set] of this.#members) for (const nick of set) out.push([room, nick]);
    return out;
  }
  addMember(room: string, nick: string): void {
    let set = this.#members.get(room);
    if (set === undefined) this.#members.set(room, set = new Set());
    set.add(nick);
  }
  removeMember(room: string, nick: string): void {
    const set = this.#members.get(room);
    if (set === undefined) return;
    set.delete(nick);
    if (set.size === 0) this.#members.delete(room);
  }
  enqueue(nick: string, frame: Uint8Array, enqueuedAt: number): number {
    let q = this.#queues.get(nick);
    if (q === undefined) this.#queues.set(nick, q = []);
    const id = this.#nextId++;
    q.push({ id, frame: frame.slice(), enqueuedAt });
    return id;
  }
  queuedFor(nicks: readonly string[], afterId: number, limit: number): HeldEnvelope[] {
    const out: HeldEnvelope[] = [];
    for (const nick of new Set(nicks)) {
      for (const e of this.queued(nick, afterId, limit)) out.push({ ...e, nick });
    }
    return out.sort((a, b) => a.id - b.id).slice(0, limit);
  }
  queued(nick: string, afterId: number, limit: number): QueuedEnvelope[] {
    const q = this.#queues.get(nick);
    if (q === undefined) return [];
    const out: QueuedEnvelope[] = [];
    for (const e of q) {
      if (e.id <= afterId) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }
  deleteQueuedThrough(nick: string, id: number): QueueStats {
    const q = this.#queues.get(nick);
    const gone = { count: 0, bytes: 0 };
    if (q === undefined) return gone;
    let i = 0;
    while (i < q.length && q[i]!.id <= id) {
      gone.count++;
      gone.bytes += q[i]!.frame.length;
      i++;
    }
    q.splice(0, i);
    if (q.length === 0) this.#queues.delete(nick);
    return gone;
  }
  queuedBefore(cutoff: number, afterId: number, limit: number): HeldEnvelope[] {
    const out: HeldEnvelope[] = [];
    for (const [nick, q] of this.#queues) {
      for (const e of q) if (e.id > afterId && e.enqueuedAt < cutoff) out.push({ ...e, nick });
    }
    return out.sort((a, b) => a.id - b.id).slice(0, limit);
  }
  deleteQueuedId(id: number, holder?: string): void {
    for (const [nick, q] of this.#queues) {
      if (holder !== undefined && nick !== holder) continue;
      const i = q.findIndex((e) => e.id === id);
      if (i < 0) continue;
      q.splice(i, 1);
      if (q.length === 0) this.#queues.delete(nick);
      return;
    }
  }
  deleteQueuedBefore(cutoff: number): number {
    let n = 0;
    for (const [nick, q] of this.#queues) {
      const keep = q.filter((e) => e.enqueuedAt >= cutoff);
      n += q.length - keep.length;
      if (keep.length === 0) this.#queues.delete(nick);
      else this.#queues.set(nick, keep);
    }
    return n;
  }
  queueStats(): Map<string, QueueStats> {
    const out = new Map<string, QueueStats>();
    for (const [nick, q] of this.#queues) {
      out.set(nick, { count: q.length, bytes: q.reduce((n, e) => n + e.frame.length, 0) });
    }
    return out;
  }
  putBundle(nick: string, bundle: SignedBundle): void {
    this.#bundles.set(nick, structuredClone(bundle));
  }
  getBundle(nick: string): SignedBundle | undefined {
    return this.#bundles.get(nick);
  }
  addOneTimePrekeys(nick: string, keys: OneTimePrekey[], replace: boolean): void {
    let held = this.#prekeys.get(nick);
    if (held === undefined || replace) this.#prekeys.set(nick, held = new Map());
    for (const k of keys) held.set(k.id, k.key.slice());
  }
  takeOneTimePrekey(nick: string): OneTimePrekey | undefined {
    const held = this.#prekeys.get(nick);
    if (held === undefined) return undefined;
    for (const [id, key] of held) {
      held.delete(id);
      return { id, key };
    }
    return undefined;
  }
  countOneTimePrekeys(nick: string): number {
    return this.#prekeys.get(nick)?.size ?? 0;
  }
  dropOneTimePrekey(nick: string, id: number): void {
    this.#prekeys.get(nick)?.delete(id);
  }
  /** Runs `fn`: memory writes cannot fail. */
  atomically<T>(fn: () => T): T {
    return fn();
  }
  readonly pending = false;
  onPending: (() => void) | undefined = undefined;
  /** Nothing to do: the memory store writes at once. */
  commit(): void {}
  close(): void {}
}
