/**
 * The engine's side of the relay's key directory: publishing and topping up our prekeys,
 * fetching peers' bundles (waiting for the connection, retrying a bundle not published yet),
 * and checking a peer's identity key once per connection. Private to the engine.
 *
 * @module
 */

import {
  encodeFrame,
  isValidNick,
  type KeysFrame,
  MAX_ONE_TIME_PREKEYS_PER_FRAME,
} from "../protocol/mod.ts";
import type { EngineCore } from "./_core.ts";
import {
  ONE_TIME_PREKEY_LOW_WATER,
  ONE_TIME_PREKEY_TARGET,
  type PrekeyBundle,
} from "../sessions/mod.ts";
import type { Connection, ReadyFrame, RelayLink } from "./_connection.ts";
import { badNickMessage, sameIdentityEvent } from "./_emitter.ts";
import { ChatError } from "./errors.ts";
import { bundleFromKeys, publishKeysFrame } from "./key_directory.ts";
import { Waiters } from "./_waiters.ts";

/** What the directory needs from the engine. */
export interface DirectoryHost extends EngineCore {
  link: RelayLink;
}

/**
 * A new user's first bundle has `ONE_TIME_PREKEY_FIRST` (20) one-time prekeys; the rest are
 * made and published this long after READY, once the user sees the connection up.
 */
export const PREKEY_FILL_DELAY_MS = 500;

/**
 * A top-up not seen landing (no PREKEY_COUNT at or above the low water since) holds back the
 * next one this long: the PREKEY_COUNTs of fetches made before it landed are stale.
 */
export const TOP_UP_WAIT_MS = 5_000;

/** Key-directory requests and key publishing. */
export class Directory {
  #host: DirectoryHost;
  /** One-time prekeys the relay last said it holds for us (READY, PREKEY_COUNT). */
  #relayPrekeys = 0;
  /** When the last top-up was published, while it is not seen landing (`performance.now()`). */
  #topUpSince: number | undefined;
  /** The pending fill of a first bundle's one-time prekeys. */
  #fillTimer: ReturnType<typeof setTimeout> | undefined;
  #keyRequests = new Waiters<string, KeysFrame>();
  /** Peers whose identity key was checked with the key directory on this connection. */
  #checkedPeers = new Set<string>();

  constructor(host: DirectoryHost) {
    this.#host = host;
  }

  /** After READY: publishes the bundle when the relay has none, tops up when it runs low. */
  maintain(frame: ReadyFrame): void {
    const hush = this.#host.hush();
    try {
      const maintained = hush.user.maintain();
      this.#relayPrekeys = frame.oneTimePrekeys;
      if (!frame.hasBundle) {
        this.#publishKeys(true, []);
        this.#relayPrekeys = Math.min(MAX_ONE_TIME_PREKEYS_PER_FRAME, hush.user.oneTimePrekeyCount);
        if (this.#relayPrekeys < ONE_TIME_PREKEY_TARGET) this.#fillLater();
      } else if (maintained.rotated) this.#publishKeys(false, []);
      if (frame.hasBundle && frame.oneTimePrekeys < ONE_TIME_PREKEY_LOW_WATER) {
        this.topUpPrekeys(frame.oneTimePrekeys);
      }
      this.#host.persist().catch((error) => this.#host.emitter.reportError(error));
    } catch (error) {
      this.#host.emitter.reportError(error);
    }
  }

  /** Publishes new one-time prekeys when the relay holds fewer than the target. */
  topUpPrekeys(relayCount: number): void {
    const wanted = Math.min(MAX_ONE_TIME_PREKEYS_PER_FRAME, ONE_TIME_PREKEY_TARGET - relayCount);
    if (wanted <= 0) return;
    // One at a time: while one is on its way, the relay's counts do not include it yet.
    const now = performance.now();
    if (this.#topUpSince !== undefined && now - this.#topUpSince < TOP_UP_WAIT_MS) return;
    this.#topUpSince = now;
    const ids = this.#host.hush().user.addOneTimePrekeys(wanted);
    this.#host.persist().then(
      () => this.#publishKeys(false, ids),
      (e) => this.#host.emitter.reportError(e),
    );
  }

  /** A PREKEY-COUNT frame. */
  onPrekeyCount(count: number): void {
    this.#relayPrekeys = count;
    // A top-up brings the count to the target: at or above the low water, it landed.
    if (count >= ONE_TIME_PREKEY_LOW_WATER) this.#topUpSince = undefined;
    else this.topUpPrekeys(count);
  }

  /** Tops the first bundle up to the target a moment after READY (a new user: see the constant). */
  #fillLater(): void {
    clearTimeout(this.#fillTimer);
    this.#fillTimer = setTimeout(() => {
      this.#fillTimer = undefined;
      if (this.#host.link.connected) this.topUpPrekeys(this.#relayPrekeys);
    }, PREKEY_FILL_DELAY_MS);
  }

  /** A KEYS frame: answers the oldest lookup of that nick. */
  onKeys(frame: KeysFrame): void {
    this.#keyRequests.resolveFirst(frame.nick, frame);
  }

  /** After READY: asks again for the keys still waited for. */
  retryLookups(connection: Connection): void {
    for (const nick of this.#keyRequests.keys()) {
      connection.transport.send(encodeFrame({ type: "fetch-keys", nick }));
    }
  }

  /** The connection is gone: identity keys are checked again on the next one. */
  forgetConnection(): void {
    this.#checkedPeers.clear();
    this.#topUpSince = undefined; // READY on the next connection says what the relay holds
    clearTimeout(this.#fillTimer);
    this.#fillTimer = undefined;
  }

  /** Fails every lookup waiting for an answer. */
  fail(error: unknown): void {
    clearTimeout(this.#fillTimer);
    this.#fillTimer = undefined;
    this.#keyRequests.rejectAll(error);
  }

  #warnedSameKey = new Set<string>();

  /**
   * Fetches `nick`'s bundle (the {@linkcode Hush} bundle fetcher).
   *
   * @throws {ChatError} `UNKNOWN_PEER`, `NO_BUNDLE`, `NOT_CONNECTED`, `CLOSED`.
   */
  async fetchBundle(nick: string): Promise<PrekeyBundle> {
    let keys = await this.#fetchKeys(nick);
    // A peer that just connected publishes its bundle right after READY: give it a moment.
    for (let attempt = 0; keys.status === "no-bundle" && attempt < 5; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      keys = await this.#fetchKeys(nick);
    }
    if (keys.status === "no-such-user") {
      throw new ChatError("UNKNOWN_PEER", `No user "${nick}" on this relay`);
    }
    if (keys.status === "no-bundle") {
      throw new ChatError("NO_BUNDLE", `"${nick}" has not published keys yet`);
    }
    const bundle = bundleFromKeys(keys);
    this.#warnSameKey(nick, bundle.identityKey);
    return bundle;
  }

  /**
   * A nick not pinned yet whose key is pinned to other nicks: said once per nick and run
   * (`same-identity`), before anything is sent to it.
   */
  #warnSameKey(nick: string, identityKey: Uint8Array): void {
    const trust = this.#host.hush().trust;
    if (trust.get(nick) !== undefined || this.#warnedSameKey.has(nick)) return;
    const others = trust.nicksWithKey(identityKey).filter((n) => n !== nick);
    if (others.length === 0) return;
    this.#warnedSameKey.add(nick);
    this.#host.emitter.emit(sameIdentityEvent(nick, others, identityKey));
  }

  /**
   * Once per connection, before the first private message to a peer we already have a session
   * with, asks the key directory for the peer's identity key: a peer who reinstalled (new key,
   * same nick) would otherwise get messages for a session it no longer has. A different key is
   * recorded as a pending change, which blocks the send (`IDENTITY_CHANGED`). Asks with
   * FETCH_IDENTITY, which takes none of the peer's one-time prekeys.
   */
  async checkPeerKey(nick: string): Promise<void> {
    const hush = this.#host.hush();
    if (!this.#host.link.connected || this.#checkedPeers.has(nick) || !hush.hasSession(nick)) {
      return;
    }
    let keys: KeysFrame;
    try {
      keys = await this.#fetchKeys(nick, "fetch-identity");
    } catch {
      return; // no answer: send on the session we have
    }
    this.#checkedPeers.add(nick);
    if (keys.status === "no-such-user") return;
    if (this.#host.hush().trust.observe(nick, keys.identityKey) === "changed") {
      await this.#host.persist();
    }
  }

  /**
   * `nick`'s identity key as the relay binds it (FETCH_IDENTITY: no prekey is used, nothing is
   * pinned), or undefined when there is no such user or no answer.
   */
  async identityOf(nick: string): Promise<Uint8Array | undefined> {
    try {
      const keys = await this.#fetchKeys(nick, "fetch-identity");
      return keys.status === "no-such-user" ? undefined : keys.identityKey;
    } catch {
      return undefined;
    }
  }

  /** Makes sure we know `nick`'s identity key (fetching the bundle and pinning it). */
  async ensureKnown(nick: string): Promise<boolean> {
    if (!isValidNick(nick)) {
      this.#host.emitter.error("BAD_NICK", badNickMessage(nick));
      return false;
    }
    if (this.#host.hush().trust.get(nick) !== undefined) return true;
    try {
      const bundle = await this.fetchBundle(nick);
      const hush = this.#host.hush();
      if (!hush.hasSession(nick)) hush.startSession(nick, bundle);
      else hush.trust.observe(nick, bundle.identityKey);
      await this.#host.persist();
      return true;
    } catch (error) {
      this.#host.emitter.reportError(error);
      return false;
    }
  }

  /** Asks the key directory; KEYS answers come back in request order, whichever the frame. */
  #fetchKeys(
    nick: string,
    type: "fetch-keys" | "fetch-identity" = "fetch-keys",
  ): Promise<KeysFrame> {
    return this.#host.link.ask(this.#keyRequests, nick, {
      send: () => this.#host.link.send({ type, nick }),
      noAnswer: `No answer from the relay about "${nick}"`,
    });
  }

  #publishKeys(replace: boolean, ids: number[]): void {
    this.#host.link.send(publishKeysFrame(this.#host.hush().bundle(), { replace, ids }));
  }
}
