/**
 * The engine's trust commands, as a UI calls them: `whois`, `verify` (safety numbers) and
 * `trust` (accepting a changed identity key). Private to the engine, which runs them one at a
 * time.
 *
 * @module
 */

import { isValidNick } from "../protocol/mod.ts";
import type { EngineCore } from "./_core.ts";
import { badNickMessage } from "./_emitter.ts";

/** What the commands need from the engine. */
export interface CommandHost extends EngineCore {
  /** Our fingerprint. */
  fingerprint(): string;
  /** The default cipher suite id. */
  cipher(): string;
  /** True while authenticated with the relay. */
  connected(): boolean;
  /** Whether `nick` was last seen online. */
  isOnline(nick: string): boolean;
  /** Makes sure `nick`'s identity key is known (an `error` event and false otherwise). */
  ensureKnown(nick: string): Promise<boolean>;
  /** Accepts `nick`'s pending key change; emits `trusted` and shows what was held for it. */
  release(nick: string): Promise<void>;
}

/** Emits `whois` for `nick` (ourselves included). */
export async function whois(host: CommandHost, nick: string): Promise<void> {
  if (nick === host.nick()) {
    host.emitter.emit({
      type: "whois",
      nick,
      fingerprint: host.fingerprint(),
      verified: true,
      cipher: host.cipher(),
      online: host.connected(),
    });
    return;
  }
  if (!await host.ensureKnown(nick)) return;
  const hush = host.hush();
  const trust = hush.trust.get(nick);
  if (trust === undefined) return;
  host.emitter.emit({
    type: "whois",
    nick,
    fingerprint: trust.fingerprint,
    verified: hush.trust.isVerified(nick),
    cipher: hush.suiteFor(nick).id,
    online: host.isOnline(nick),
  });
}

/** Accepts a changed identity key for `nick`; emits `trusted`, then the held messages. */
export async function trust(host: CommandHost, nick: string): Promise<void> {
  if (!isValidNick(nick)) {
    host.emitter.error("BAD_NICK", badNickMessage(nick));
    return;
  }
  const before = host.hush().trust.get(nick);
  if (before === undefined) {
    host.emitter.error("UNKNOWN_PEER", `No identity known for "${nick}"`);
    return;
  }
  if (before.changed === undefined) {
    // Nothing to accept: keep the sessions, just confirm the pinned key.
    host.emitter.emit({ type: "trusted", peer: nick, fingerprint: before.fingerprint });
    return;
  }
  await host.release(nick);
}

/**
 * Emits the safety number with `nick`; with `digits`, compares first and emits `verified`.
 * `digits` may also be the read-aloud form: the words, separated by spaces (case ignored).
 */
export async function verify(
  host: CommandHost,
  nick: string,
  digits: string | undefined,
): Promise<void> {
  if (nick === host.nick()) {
    host.emitter.error("BAD_RECIPIENT", "Verify a peer, not yourself: /verify NICK");
    return;
  }
  if (!await host.ensureKnown(nick)) return;
  try {
    if (digits !== undefined) {
      const trust = host.hush().trust;
      let typed = digits.replace(/\s+/g, "");
      if (/\p{L}/u.test(digits)) {
        // The words are a hash of the safety number: matching words stand for matching digits.
        const spoken = digits.toLowerCase().split(/[\s,;\-]+/u).filter((w) => w !== "");
        const view = trust.safetyNumber(nick);
        const same = spoken.length === view.words.length &&
          spoken.every((word, i) => word === view.words[i]);
        typed = same ? view.digits : "";
      }
      const match = trust.markVerified(nick, typed);
      await host.persist();
      host.emitter.emit({ type: "verified", peer: nick, match });
    }
    const hush = host.hush();
    const view = hush.trust.safetyNumber(nick);
    host.emitter.emit({
      type: "safety-number",
      peer: nick,
      safetyNumber: view.digits,
      formatted: view.formatted,
      words: view.words,
      verified: hush.trust.isVerified(nick),
    });
  } catch (error) {
    host.emitter.reportError(error);
  }
}
