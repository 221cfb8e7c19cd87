/**
 * The engine's event plumbing: the listener set, error reporting, and the builders of the
 * events several engine parts emit. Private to the engine.
 *
 * @module
 */

import { fingerprint, HushError } from "../crypto/mod.ts";
import type { EnvelopeFrame } from "../protocol/mod.ts";
import type { Hush } from "../sessions/mod.ts";
import { ChatError } from "./errors.ts";
import type { ChatEvent, ChatEventListener } from "./events.ts";
import { wireView } from "./wire_view.ts";

/** A `message` event. */
export type MessageEvent = ChatEvent & { type: "message" };

/** Delivers events to listeners, in order; a listener's exception never reaches the engine. */
export class Emitter {
  #listeners = new Set<ChatEventListener>();
  #identityChanged: (nick: string) => ChatEvent;

  /**
   * @param identityChanged Builds the `identity-changed` event for a peer (from the current
   *   trust store).
   */
  constructor(identityChanged: (nick: string) => ChatEvent) {
    this.#identityChanged = identityChanged;
  }

  /** Registers a listener; returns a function that removes it. */
  on(listener: ChatEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Emits one event to every listener. */
  emit(event: ChatEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not break the engine
      }
    }
  }

  /** Emits an `error` event. */
  error(code: string, message: string): void {
    this.emit({ type: "error", code, message });
  }

  /**
   * Emits an `error` event for a caught error (its code when it is a Hush error, else
   * `INTERNAL_ERROR`), preceded by `identity-changed` when sending to `peer` was blocked.
   */
  reportError(error: unknown, peer?: string): void {
    if (error instanceof HushError) {
      if (error.code === "IDENTITY_CHANGED" && peer !== undefined) this.identityChanged(peer);
      this.error(error.code, error.message);
    } else {
      this.error("INTERNAL_ERROR", errorMessage(error));
    }
  }

  /** Emits `identity-changed` for a peer. */
  identityChanged(nick: string): void {
    this.emit(this.#identityChanged(nick));
  }

  /** Emits a `wire` event (the teaching view) for an envelope. */
  wire(direction: "in" | "out", frame: EnvelopeFrame, size: number, kind?: string): void {
    this.emit({ type: "wire", wire: wireView(direction, frame, size, kind) });
  }
}

/** The `identity-changed` event for `nick`, from the trust store of `hush`. */
export function identityChangedEvent(hush: Hush, nick: string): ChatEvent {
  const trust = hush.trust.get(nick);
  return {
    type: "identity-changed",
    peer: nick,
    oldFingerprint: trust?.fingerprint ?? "",
    newFingerprint: trust?.changed?.newFingerprint ?? "",
  };
}

/**
 * A received text with its control characters made visible: C0 controls (U+0000-U+001F, newline
 * and tab included) become their Control Pictures (U+2400-U+241F), DEL becomes U+2421 and C1
 * controls (U+0080-U+009F) become U+FFFD. A peer's text therefore never carries a line break or
 * a terminal control into a UI, or into a bot that writes it back to its own stdin (where a line
 * after a newline would run as a command, e.g. `/cipher caesar`).
 *
 * @param text The text as sent.
 * @returns The text, one line, no control characters.
 */
export function escapeControls(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    return code === 0x7f ? "\u2421" : "\ufffd";
  });
}

/**
 * A `message` event (fields in the order of the JSON schema). A received text (`own` false) has
 * its control characters escaped ({@linkcode escapeControls}).
 *
 * @param message Who, where and what.
 * @param protection The suite id, whether it is insecure, whether the sender is verified.
 */
export function messageEvent(
  message: { id: string; from: string; to: string; private: boolean; text: string; ts: number },
  protection: { cipher: string; insecure: boolean; verified: boolean; own: boolean },
): MessageEvent {
  return {
    type: "message",
    id: message.id,
    from: message.from,
    to: message.to,
    private: message.private,
    text: protection.own ? message.text : escapeControls(message.text),
    cipher: protection.cipher,
    insecure: protection.insecure,
    verified: protection.verified,
    ts: message.ts,
    own: protection.own,
  };
}

/** The `error` event for a room message whose sender key never arrived. */
export function noSenderKeyEvent(frame: EnvelopeFrame): ChatEvent {
  return {
    type: "error",
    code: "NO_SENDER_KEY",
    message:
      `Cannot open a message from "${frame.from}" in "${frame.to}": their room key never arrived`,
  };
}

/** The `error` event for an envelope that cannot be opened. */
export function decryptErrorEvent(error: unknown, from: string, room: string): ChatEvent {
  const code = error instanceof HushError ? error.code : "DECRYPT_FAILED";
  const where = room === "" ? "" : ` in "${room}"`;
  // Only these codes come after the message authenticated: for every other, the sender named in
  // the clear envelope is only what the relay says.
  const who = AUTHENTICATED_CODES.has(code)
    ? `from "${from}"`
    : `that says it is from "${from}" (unauthenticated: the relay or anyone may have sent or ` +
      "altered it)";
  return {
    type: "error",
    code,
    message: `Cannot open a message ${who}${where}: ${errorMessage(error)}`,
  };
}

/**
 * The `same-identity` event: `nick` uses the identity key already pinned to `others`.
 *
 * @param nick The newly seen nick.
 * @param others The nicks already pinned to that key.
 * @param identityKey The key.
 */
export function sameIdentityEvent(
  nick: string,
  others: string[],
  identityKey: Uint8Array,
): ChatEvent {
  return {
    type: "same-identity",
    nick,
    others,
    fingerprint: fingerprint(identityKey),
    message:
      `"${nick}" uses the same identity key as ${
        others.map((n) => `"${n}"`).join(", ")
      }: the same person under another nick, or someone posing as them; compare safety numbers ` +
      `(/verify ${nick})`,
  };
}

/** Error codes raised only after a message authenticated (its sender is known). */
const AUTHENTICATED_CODES: ReadonlySet<string> = new Set([
  "INSECURE_SUITE_REFUSED",
  "INSECURE_KEY_MATERIAL",
  "IDENTITY_CHANGED",
]);

/** The message of any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error of every call made after `close()`. */
export function closedError(): ChatError {
  return new ChatError("CLOSED", "The chat client is closed");
}

/** The text of a `BAD_NICK` error. */
export function badNickMessage(nick: string): string {
  return `Invalid nick "${nick}": 1-32 characters from A-Z a-z 0-9 _ -`;
}

/** The text of a `BAD_ROOM` error. */
export function badRoomMessage(room: string): string {
  return `Invalid room "${room}": 1-32 characters from A-Z a-z 0-9 _ -`;
}
