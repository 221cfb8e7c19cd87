/**
 * Outgoing messages: encrypting a private or room message (room messages after the sender-key
 * distributions their members lack), queueing the envelopes durably in the outbox, writing them
 * to the relay (again, same ids, after a reconnect) and reporting the relay's acknowledgements.
 * Private to the engine.
 *
 * @module
 */

import { randomBytes, toHex } from "../crypto/mod.ts";
import {
  decodeFrame,
  encodeFrame,
  type EnvelopeFrame,
  isValidNick,
  MAX_FRAME_BYTES_LIMIT,
} from "../protocol/mod.ts";
import type { EngineCore } from "./_core.ts";
import type { RelayLink } from "./_connection.ts";
import type { Directory } from "./_directory.ts";
import { closedError, messageEvent } from "./_emitter.ts";
import type { Rooms } from "./_rooms.ts";
import { encodeChatPayload } from "./content.ts";
import type { Outbox } from "./outbox.ts";
import type { SentLog } from "./sent_log.ts";

interface OutgoingEnvelope {
  to: string;
  toKind: "nick" | "room";
  cipher: number;
  body: Uint8Array;
  kind: string;
}

/** What sending needs from the engine. */
export interface OutgoingHost extends EngineCore {
  link: RelayLink;
  directory: Directory;
  rooms: Rooms;
  outbox: Outbox;
  /** Nicks this identity had before: never sent sender keys. */
  formerNicks(): readonly string[];
  /** Whether the teaching view is on. */
  wire(): boolean;
  /** Writes the outbox to the home. */
  writeOutbox(json: string): Promise<void>;
  /** Our recent messages, for recovery (`sent_log.ts`). */
  sentLog?: SentLog;
}

/** The sending half of one engine. */
export class Outgoing {
  #host: OutgoingHost;
  #persistChain: Promise<void> = Promise.resolve();
  #saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: OutgoingHost) {
    this.#host = host;
  }

  /** Encrypts and queues a private message; returns its id (undefined after an `error`). */
  async sendPrivate(nick: string, text: string): Promise<string | undefined> {
    const host = this.#host;
    if (host.link.closed) return this.#refuseClosed();
    if (!isValidNick(nick)) {
      host.emitter.error("BAD_NICK", `Invalid nick "${nick}"`);
      return undefined;
    }
    if (nick === host.nick()) {
      host.emitter.error("BAD_RECIPIENT", "Cannot send a private message to yourself");
      return undefined;
    }
    const ts = host.now();
    try {
      await host.directory.checkPeerKey(nick);
      const payload = encodeChatPayload({ text, ts });
      const out = await host.hush().encryptTo(nick, payload);
      const [id] = await this.#enqueue([
        { to: nick, toKind: "nick", cipher: out.suite.wireId, body: out.body, kind: out.kind },
      ]);
      if (id === undefined) return undefined;
      host.sentLog?.record({ id, to: nick, toKind: "nick", recipients: [nick], text, ts });
      host.emitter.emit(messageEvent(
        { id, from: host.nick(), to: nick, private: true, text, ts },
        {
          cipher: out.suite.id,
          insecure: out.insecure,
          verified: host.hush().trust.isVerified(nick),
          own: true,
        },
      ));
      return id;
    } catch (error) {
      host.emitter.reportError(error, nick);
      return undefined;
    }
  }

  /**
   * Encrypts and queues a room message, after the pairwise distributions of our sender key to
   * the members lacking it; returns its id (undefined after an `error`).
   */
  async sendRoom(room: string, text: string): Promise<string | undefined> {
    const host = this.#host;
    if (host.link.closed) return this.#refuseClosed();
    if (!host.rooms.has(room)) {
      host.emitter.error("NOT_IN_ROOM", `Not in a room: join one first (/join ROOM)`);
      return undefined;
    }
    const ts = host.now();
    try {
      const payload = encodeChatPayload({ text, ts });
      const former = new Set(host.formerNicks());
      const members = (await host.rooms.members(room)).filter((m) =>
        m !== host.nick() && !former.has(m)
      );
      const send = await host.hush().encryptToRoom(room, members, payload);
      for (const skipped of send.skipped) {
        if (skipped.code === "IDENTITY_CHANGED") host.emitter.identityChanged(skipped.nick);
        host.emitter.error(
          skipped.code,
          `"${skipped.nick}" cannot read this message in "${room}": ${skipped.message}`,
        );
      }
      const ids = await this.#enqueue([
        ...send.distributions.map((d): OutgoingEnvelope => ({
          to: d.to,
          toKind: "nick",
          cipher: d.suite.wireId,
          body: d.body,
          kind: `${d.kind}/sender-key`,
        })),
        {
          to: room,
          toKind: "room",
          cipher: send.room.suite.wireId,
          body: send.room.body,
          kind: "room",
        },
      ]);
      const id = ids[ids.length - 1];
      if (id === undefined) return undefined;
      host.sentLog?.record({
        id,
        to: room,
        toKind: "room",
        recipients: members,
        text,
        ts,
        keyIds: ids.slice(0, -1).filter((k): k is string => k !== undefined),
      });
      host.emitter.emit(messageEvent(
        { id, from: host.nick(), to: room, private: false, text, ts },
        { cipher: send.room.suite.id, insecure: send.room.insecure, verified: false, own: true },
      ));
      return id;
    } catch (error) {
      host.emitter.reportError(error);
      return undefined;
    }
  }

  /**
   * Encrypts and queues a pairwise recovery payload (`_recovery.ts`); no `message` event, no
   * `sent` event.
   *
   * @returns Its id, or undefined after an `error` event.
   */
  async sendPayload(nick: string, payload: Uint8Array): Promise<string | undefined> {
    const host = this.#host;
    if (host.link.closed) return undefined;
    try {
      const out = await host.hush().encryptTo(nick, payload);
      const [id] = await this.#enqueue([
        { to: nick, toKind: "nick", cipher: out.suite.wireId, body: out.body, kind: "recovery" },
      ]);
      return id;
    } catch (error) {
      host.emitter.reportError(error, nick);
      return undefined;
    }
  }

  /** An ACCEPTED frame: `sent` for each acknowledged message (not for sender keys). */
  onAccepted(count: number): void {
    for (const entry of this.#host.outbox.acknowledge(count)) {
      const kind = String(entry.meta?.kind ?? "");
      if (!kind.endsWith("sender-key") && kind !== "recovery") {
        this.#host.emitter.emit({ type: "sent", id: entry.id });
      }
    }
    this.#saveSoon();
  }

  /** Writes every envelope not yet written on this connection (after READY: all of them). */
  flush(): void {
    const connection = this.#host.link.connection;
    if (!connection?.ready) return;
    const nick = this.#host.nick();
    for (const entry of this.#host.outbox.takeUnsent()) {
      // A nick change since the envelope was made: the relay wants the granted nick as sender.
      if (entry.meta?.from !== undefined && entry.meta.from !== nick) {
        const old = decodeFrame(entry.frame, {
          from: "client",
          maxFrameBytes: MAX_FRAME_BYTES_LIMIT,
        });
        if (old.type === "send") {
          entry.frame = encodeFrame({ ...old, from: nick });
          entry.meta.from = nick;
        }
      }
      connection.transport.send(entry.frame);
    }
  }

  /** Saves the outbox (writes are chained, never concurrent). */
  save(): Promise<void> {
    const run = this.#persistChain.catch(() => {}).then(() =>
      this.#host.writeOutbox(this.#host.outbox.toJSON())
    );
    this.#persistChain = run;
    return run;
  }

  /** Cancels a pending deferred save (on close, which saves itself). */
  stop(): void {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
  }

  #saveSoon(): void {
    if (this.#saveTimer !== undefined || this.#host.link.closed) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.save().catch((error) => this.#host.emitter.reportError(error));
    }, 0);
  }

  #refuseClosed(): undefined {
    const error = closedError();
    this.#host.emitter.error(error.code, error.message);
    return undefined;
  }

  /**
   * Queues envelopes: session state is saved first (a crash never reuses a message key), then
   * the envelopes enter the outbox, the outbox is saved, and they are written to the relay.
   */
  async #enqueue(items: OutgoingEnvelope[]): Promise<string[]> {
    const host = this.#host;
    const from = host.nick();
    const prepared = items.map((item) => {
      const idBytes = randomBytes(16);
      const envelope: EnvelopeFrame & { type: "send" } = {
        type: "send",
        id: idBytes,
        cipher: item.cipher,
        from,
        toKind: item.toKind,
        to: item.to,
        body: item.body,
      };
      return { id: toHex(idBytes), envelope, frame: encodeFrame(envelope), kind: item.kind };
    });
    await host.persist();
    for (const p of prepared) {
      host.outbox.enqueue({
        id: p.id,
        frame: p.frame,
        meta: { from: host.nick(), to: p.envelope.to, toKind: p.envelope.toKind, kind: p.kind },
      });
    }
    await this.save();
    if (host.wire()) {
      for (const p of prepared) host.emitter.wire("out", p.envelope, p.frame.length, p.kind);
    }
    this.flush();
    return prepared.map((p) => p.id);
  }
}
