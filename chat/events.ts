/**
 * The contract between the chat engine (`chat/`) and any user interface (`terminal/`, a browser
 * later): the events the engine emits and the commands a UI can ask of it.
 *
 * Every event is a plain, JSON-safe object with a `type`. The terminal's `--json` mode writes
 * these objects one per line, so the field names here are the public JSON schema documented in
 * `docs/CLIENT.md`: add fields freely, never rename or remove one.
 *
 * @module
 */

/** A user as the roster shows it. */
export interface UserInfo {
  /** The nick as granted by the relay. */
  nick: string;
  /** Whether the user is connected right now. */
  online: boolean;
  /** Whether the local user has verified this peer's safety number (and the key has not changed since). */
  verified: boolean;
  /** Short fingerprint of the peer's identity key, when known. */
  fingerprint?: string;
}

/** What the relay sees of one envelope: the teaching view (`/wire on`). */
export interface WireView {
  /** `out` for an envelope this client sent, `in` for one it received. */
  direction: "out" | "in";
  /** Message id, hex. */
  id: string;
  /** Sender nick, in the clear. */
  from: string;
  /** Recipient nick or room, in the clear. */
  to: string;
  /** `nick` or `room`. */
  toKind: "nick" | "room";
  /** Cipher-suite id in the clear header. */
  cipher: string;
  /** The opaque body as hex: exactly the bytes the relay forwards. */
  bodyHex: string;
  /** Size of the whole frame in bytes. */
  size: number;
  /** What kind of end-to-end message the body holds (e.g. `initial`, `ratchet`, `room`, `sender-key`). */
  kind: string;
}

/** Every event a chat engine emits. */
export type ChatEvent =
  | { type: "ready"; nick: string; fingerprint: string; server: string; room: string }
  | { type: "connected"; server: string }
  | { type: "disconnected"; reason: string }
  | { type: "reconnecting"; attempt: number; delayMs: number }
  | {
    type: "message";
    id: string;
    from: string;
    to: string;
    private: boolean;
    text: string;
    cipher: string;
    insecure: boolean;
    verified: boolean;
    ts: number;
    /** True for a message this client sent (an echo for the UI), false for a received one. */
    own: boolean;
    /**
     * Present (true) when this message may have been shown already: the client stopped (a
     * crash, a SIGKILL) in the instant it was being shown, so it is shown again at the next
     * start rather than risk never showing it. Same `id` as the first showing: a program
     * reading `--json` drops it when it has that id.
     */
    repeat?: true;
    /**
     * Present (true) on a received message written, by its sender's clock (`ts`), before a
     * message from the same sender in the same conversation that was shown already: it arrives
     * out of order (sent again after a recovery, or after the relay lost it). A UI says so, or
     * puts it in its place by `ts`.
     */
    late?: true;
  }
  | { type: "sent"; id: string }
  | {
    /**
     * A message of ours the relay refused (REJECTED) or gave up on (UNDELIVERED): not delivered
     * to `to`. With `retrying`, the envelope stays in the outbox and is sent again (same id)
     * after the next READY and at most every 30 s; `sent` follows once the relay accepts it for
     * every recipient. Without, this is final for `to`.
     */
    type: "undelivered";
    /** The message id (of the message event; for a room message, also when its sender key was refused). */
    id: string;
    /** Who did not get it: a nick (a member of a room, or the private recipient) or a room. */
    to: string;
    /** The relay's code: `QUEUE_FULL`, `STORE_FAILED`, `NO_SUCH_USER`, `NOT_IN_ROOM`, `EXPIRED`, ... */
    code: string;
    /** Readable text. */
    message: string;
    /** True when the engine keeps the envelope and tries again. */
    retrying: boolean;
  }
  | { type: "join"; nick: string; room: string }
  | {
    /**
     * Our room key for `room` is about to go to `nick`, whom the user was not shown in that room
     * (no `join`, no `users` line): emitted before it is sent (a relay that hides a join cannot
     * get a reader unseen). `fingerprint` is empty when no key is pinned yet.
     */
    type: "key-shared";
    room: string;
    nick: string;
    fingerprint: string;
    verified: boolean;
  }
  | {
    /**
     * With `roomKeys` `approve` or `verified`: `nick` is in `room` but does not get our room key
     * (`reason` `not-approved` or `not-verified`), said once per room until approved.
     */
    type: "key-withheld";
    room: string;
    nick: string;
    reason: "not-approved" | "not-verified";
  }
  | { type: "leave"; nick: string; room: string }
  | { type: "presence"; nick: string; online: boolean }
  | { type: "nick"; old: string; new: string }
  | { type: "users"; room: string | null; users: UserInfo[] }
  | { type: "rooms"; rooms: string[]; current: string }
  | { type: "room"; current: string }
  | {
    type: "safety-number";
    peer: string;
    safetyNumber: string;
    formatted: string;
    words: string[];
    verified: boolean;
  }
  | { type: "verified"; peer: string; match: boolean }
  | {
    type: "whois";
    nick: string;
    fingerprint: string;
    verified: boolean;
    cipher: string;
    online: boolean;
  }
  | { type: "identity-changed"; peer: string; oldFingerprint: string; newFingerprint: string }
  | {
    /**
     * `nick` is newly pinned to an identity key already pinned to `others`: the same person
     * under another nick (a nick change), or someone posing as two people or relabelling their
     * messages. `message` says it in words; compare safety numbers.
     */
    type: "same-identity";
    nick: string;
    others: string[];
    fingerprint: string;
    message: string;
  }
  | { type: "trusted"; peer: string; fingerprint: string }
  | { type: "cipher"; cipher: string; insecure: boolean }
  | { type: "wire"; wire: WireView }
  | { type: "info"; message: string }
  | { type: "error"; code: string; message: string };

/** A function that receives engine events. */
export type ChatEventListener = (event: ChatEvent) => void;
