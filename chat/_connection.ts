/**
 * The engine's link to the relay: opening the transport, the handshake (HELLO, CHALLENGE, AUTH,
 * READY, bounded by a timeout), heartbeats, relay errors, and the reconnect loop with backoff.
 * Every other frame is handed to the engine. Private to the engine.
 *
 * @module
 */

import { type IdentityKeyPair, randomBytes, sign, utf8Encode } from "../crypto/mod.ts";
import {
  authTranscript,
  decodeFrame,
  encodeFrame,
  type Frame,
  MAX_FRAME_BYTES_LIMIT,
  PROTOCOL_VERSION,
  type RelayFrame,
} from "../protocol/mod.ts";
import { backoffDelay } from "./backoff.ts";
import { ChatError } from "./errors.ts";
import type { EngineCore } from "./_core.ts";
import { closedError, errorMessage } from "./_emitter.ts";
import type { ChatClientOptions } from "./_options.ts";
import { connectTransport } from "./transport.ts";
import { type AckingTransport, withHeldAcks } from "./_ack_sender.ts";
import { Waiters } from "./_waiters.ts";

/** How long a connection may take from connect to READY before it is dropped and retried. */
const HANDSHAKE_TIMEOUT_MS = 15_000;

/** How long a request to the relay (key lookup, roster) may take by default. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Relay error codes after which reconnecting cannot help: the engine stops. */
const FATAL_CODES = new Set([
  "UNSUPPORTED_VERSION",
  "BAD_TOKEN",
  "AUTH_FAILED",
  "NICK_UNAVAILABLE",
  "REPLACED",
]);

/**
 * The heartbeat's clock: monotonic milliseconds (`performance.now()`), never the wall clock, so a
 * clock stepped back (NTP, a resumed VM) cannot hide a dead connection, as in the relay.
 */
function monotonicNow(): number {
  return performance.now();
}

/** One transport to the relay, from connect to close. */
export interface Connection {
  /** The transport, with delivery ACKs held and cumulative. */
  transport: AckingTransport;
  generation: number;
  requestedNick: string;
  ready: boolean;
  /** DELIVERs received on this connection. */
  delivered: number;
  /** DELIVERs handled and durably stored (what ACK reports). */
  handled: number;
  acked: number;
  /** Set when a batch could not be saved: no more ACKs on this connection. */
  ackBlocked: boolean;
  /** Drops a connection that does not reach READY in time. */
  handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the relay was last heard from, on the monotonic clock ({@linkcode monotonicNow}). */
  lastReceived: number;
  /** When our last PING left (monotonic), or -Infinity. */
  pingedAt: number;
  heartbeatMs: number;
  maxFrameBytes: number;
  /**
   * Why this client hung up, when it did so because of the relay (a fatal relay ERROR, a
   * handshake or heartbeat timeout, a bad frame): the `disconnected` reason then says that
   * instead of the transport's "closed by client".
   */
  hangUpReason?: string;
}

/** A READY frame. */
export type ReadyFrame = RelayFrame & { type: "ready" };

/** What the link needs from the engine. */
export interface LinkHost extends EngineCore {
  options: ChatClientOptions;
  identity: IdentityKeyPair;
  /** The nick to put in HELLO. */
  requestedNick(): string;
  /** True when the user asked for another nick than the granted one (reconnect at once). */
  nickChangePending(): boolean;
  /** Every frame the link does not handle itself (not CHALLENGE, READY, pings, ERROR). */
  onFrame(connection: Connection, frame: RelayFrame, bytes: Uint8Array): void;
  /** After READY, before `connect()` resolves; `first` on the first READY of this engine. */
  onReady(connection: Connection, frame: ReadyFrame, first: boolean): void;
  /** A relay ERROR frame, before its `error` event. */
  onRelayError(code: string): void;
  /**
   * The relay ended the session for good (a fatal `REPLACED`, `BAD_TOKEN`, ...): called before
   * anything else happens, so the engine stops encrypting and saving at once.
   */
  onSessionEnd(code: string, reason: string): void;
  /** The connection is gone. */
  onDrop(): void;
  /** The loop stopped for good: fail what waits for an answer. */
  onStop(error: unknown): void;
}

/** The connection loop. */
export class RelayLink {
  #host: LinkHost;
  #options: ChatClientOptions;
  #connection: Connection | undefined;
  #generation = 0;
  #closed = false;
  #stopReason: string | undefined;
  #stopCode = "HANDSHAKE_FAILED";
  #loop: Promise<void> | undefined;
  #wakeLoop: (() => void) | undefined;
  #readyWaiters = new Waiters<"ready", void>();
  #firstReady = true;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(host: LinkHost) {
    this.#host = host;
    this.#options = host.options;
  }

  /** The current connection, ready or not. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** True while authenticated with the relay. */
  get connected(): boolean {
    return this.#connection?.ready === true;
  }

  /** True once `close()` marked the engine closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while the loop runs and has not stopped for good. */
  get running(): boolean {
    return this.#loop !== undefined && this.#stopReason === undefined;
  }

  /** Starts the loop (once) and waits for a READY. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    const ready = this.waitReady(undefined);
    if (this.#loop === undefined) this.#loop = this.#runLoop();
    return ready;
  }

  /** Waits until authenticated (at most `timeoutMs`). */
  waitReady(timeoutMs: number | undefined): Promise<void> {
    if (this.#connection?.ready) return Promise.resolve();
    if (this.#closed) return Promise.reject(closedError());
    return this.#readyWaiters.wait(
      "ready",
      timeoutMs,
      () => new ChatError("NOT_CONNECTED", "Not connected to the relay"),
    );
  }

  /**
   * Asks the relay something: waits for READY, registers a waiter for `key` in `waiters`, sends
   * the request and waits for the answer, each bounded by the request timeout. A waiter whose
   * connection drops stays registered: the engine asks again after the next READY.
   *
   * @param waiters Where the answer will be delivered.
   * @param key What the answer is about (a nick, a room).
   * @param request `send` writes the request; `noAnswer` is the `NOT_CONNECTED` error's text.
   * @returns The answer.
   * @throws {ChatError} `NOT_CONNECTED` on a timeout, `CLOSED`, or the loop's final error.
   */
  async ask<K, V>(
    waiters: Waiters<K, V>,
    key: K,
    request: { send: () => void; noAnswer: string },
  ): Promise<V> {
    const timeoutMs = this.#options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    await this.waitReady(timeoutMs);
    const answer = waiters.wait(
      key,
      timeoutMs,
      () => new ChatError("NOT_CONNECTED", request.noAnswer),
    );
    request.send();
    return await answer;
  }

  /** Sends a frame when authenticated (dropped otherwise). */
  send(frame: Frame): void {
    const connection = this.#connection;
    if (!connection?.ready) return;
    try {
      connection.transport.send(encodeFrame(frame));
    } catch (error) {
      // Names are checked before they get here; this is a last line of defence.
      this.#host.emitter.error(
        "BAD_REQUEST",
        `Cannot send a ${frame.type} request: ${errorMessage(error)}`,
      );
    }
  }

  /** Closes the current transport (the loop reconnects unless stopped). */
  hangUp(reason?: string): void {
    if (this.#connection !== undefined && reason !== undefined) {
      this.#connection.hangUpReason = reason;
    }
    this.#connection?.transport.close();
  }

  /** Marks the engine closed: the loop stops after the current connection. */
  markClosed(): void {
    this.#closed = true;
    this.#stopReason ??= "closed";
  }

  /** After `markClosed()`: disconnects, wakes the loop, fails waiters, and waits for the loop. */
  async shutDown(): Promise<void> {
    this.#connection?.transport.close();
    this.#wakeLoop?.();
    this.#readyWaiters.rejectAll(closedError());
    this.#host.onStop(closedError());
    await this.#loop;
  }

  /** Resolves when the loop has ended (at once when it never started). */
  async done(): Promise<void> {
    await this.#loop;
  }

  async #runLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#closed && this.#stopReason === undefined) {
      let connectFailed = false;
      const closedPromise = new Promise<string>((resolve) => {
        const onClose = (reason: string, error?: Error) => {
          this.#stopIfHopeless(error);
          resolve(reason);
        };
        this.#openConnection(onClose).catch((error) => {
          connectFailed = true;
          this.#stopIfHopeless(error);
          resolve(errorMessage(error));
        });
      });
      const closedReason = await closedPromise;
      // "closed by client" is only true when the user closed; when this client hung up because of
      // the relay, say why.
      const reason = this.#connection?.hangUpReason ?? closedReason;
      if (
        connectFailed && this.#firstReady && this.#options.retryFirstConnect !== true &&
        this.#stopReason === undefined
      ) {
        this.#stopCode = "CONNECT_FAILED";
        this.#stopReason = reason;
      }
      const wasReady = this.#connection?.ready === true;
      this.#dropConnection();
      if (wasReady) attempt = 0;
      if (this.#closed) break;
      this.#host.emitter.emit({ type: "disconnected", reason });
      if (this.#stopReason !== undefined) break;
      if (this.#options.reconnect === false) {
        this.#stopReason = reason;
        break;
      }
      const delayMs = attempt === 0 && this.#host.nickChangePending()
        ? 0
        : backoffDelay(attempt, this.#options.backoff);
      attempt++;
      this.#host.emitter.emit({ type: "reconnecting", attempt, delayMs });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.#wakeLoop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wakeLoop = undefined;
    }
    const error = this.#closed
      ? closedError()
      : new ChatError(this.#stopCode, this.#stopReason ?? "Disconnected");
    this.#readyWaiters.rejectAll(error);
    this.#host.onStop(error);
  }

  /**
   * A `WRONG_PROTOCOL` error (the other port of the relay) or `BAD_HOME` (a browser's IO worker
   * could not save: it sends nothing more): retrying cannot help, stop.
   */
  #stopIfHopeless(error: unknown): void {
    if (
      error instanceof ChatError && (error.code === "WRONG_PROTOCOL" || error.code === "BAD_HOME")
    ) {
      this.#stopCode = error.code;
      this.#stopReason ??= error.message;
    }
  }

  async #openConnection(onClose: (reason: string, error?: Error) => void): Promise<void> {
    const generation = ++this.#generation;
    const slot: { connection?: Connection } = {};
    const open = this.#options.connectTransport ?? connectTransport;
    const raw = await open(this.#options.server, {
      onFrame: (frame) => {
        if (slot.connection !== undefined) this.#onFrame(slot.connection, frame);
      },
      onClose,
    }, {
      ...(this.#options.caCerts === undefined ? {} : { caCerts: this.#options.caCerts }),
      maxFrameSize: MAX_FRAME_BYTES_LIMIT,
    });
    if (this.#closed) {
      raw.close();
      return;
    }
    const transport = withHeldAcks(raw);
    const requestedNick = this.#host.requestedNick();
    const connection: Connection = {
      transport,
      generation,
      requestedNick,
      ready: false,
      delivered: 0,
      handled: 0,
      acked: 0,
      ackBlocked: false,
      handshakeTimer: undefined,
      lastReceived: monotonicNow(),
      pingedAt: -Infinity,
      heartbeatMs: 30_000,
      maxFrameBytes: 65_536,
    };
    slot.connection = connection;
    this.#connection = connection;
    connection.handshakeTimer = setTimeout(() => {
      if (!connection.ready) {
        this.#host.emitter.error(
          "HANDSHAKE_TIMEOUT",
          "The relay did not complete the handshake in time",
        );
        connection.hangUpReason = "the relay did not complete the handshake in time";
        transport.close();
      }
    }, this.#options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    this.#host.emitter.emit({ type: "connected", server: this.#options.server });
    try {
      transport.send(encodeFrame({
        type: "hello",
        version: PROTOCOL_VERSION,
        nick: requestedNick,
        identityKey: this.#host.identity.publicKey,
        token: utf8Encode(this.#options.token ?? ""),
      }));
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  #dropConnection(): void {
    clearTimeout(this.#connection?.handshakeTimer);
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#connection = undefined;
    this.#host.onDrop();
  }

  #onFrame(connection: Connection, bytes: Uint8Array): void {
    try {
      this.#onFrameUnsafe(connection, bytes);
    } catch (error) {
      // A bug must not take the process down: one error line, drop the connection, reconnect.
      this.#host.emitter.error(
        "INTERNAL_ERROR",
        `Cannot handle a frame from the relay: ${errorMessage(error)}`,
      );
      connection.hangUpReason ??= `cannot handle a frame from the relay: ${errorMessage(error)}`;
      connection.transport.close();
    }
  }

  #onFrameUnsafe(connection: Connection, bytes: Uint8Array): void {
    if (connection !== this.#connection) return;
    connection.lastReceived = monotonicNow();
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, { from: "relay", maxFrameBytes: MAX_FRAME_BYTES_LIMIT });
    } catch (error) {
      this.#host.emitter.error(
        "PROTOCOL_ERROR",
        `Bad frame from the relay: ${errorMessage(error)}`,
      );
      connection.hangUpReason = `bad frame from the relay: ${errorMessage(error)}`;
      connection.transport.close();
      return;
    }
    this.#handleFrame(connection, frame as RelayFrame, bytes);
  }

  #handleFrame(connection: Connection, frame: RelayFrame, bytes: Uint8Array): void {
    switch (frame.type) {
      case "challenge": {
        const identity = this.#host.identity;
        const transcript = authTranscript({
          version: PROTOCOL_VERSION,
          challenge: frame.nonce,
          identityKey: identity.publicKey,
          nick: connection.requestedNick,
        });
        connection.transport.send(
          encodeFrame({ type: "auth", signature: sign(identity.privateKey, transcript) }),
        );
        return;
      }
      case "ready":
        this.#onReady(connection, frame);
        return;
      case "relay-ping":
        connection.transport.send(encodeFrame({ type: "pong", nonce: frame.nonce }));
        return;
      case "relay-pong":
        return;
      case "error":
        this.#onRelayError(connection, frame.code, frame.detail, frame.fatal);
        return;
      default:
        this.#host.onFrame(connection, frame, bytes);
    }
  }

  #onRelayError(connection: Connection, code: string, detail: string, fatal: boolean): void {
    this.#host.onRelayError(code);
    this.#host.emitter.error(code, `Relay error: ${detail}`);
    if (!fatal) return;
    if (FATAL_CODES.has(code) && !connection.ready) {
      this.#stopReason = `Relay refused the connection (${code}): ${detail}`;
    } else if (code === "REPLACED") {
      this.#stopReason = `Another client with this identity took over the nick: ${detail}`;
    }
    if (this.#stopReason !== undefined) this.#host.onSessionEnd(code, this.#stopReason);
    connection.hangUpReason = `the relay ended the session (${code}): ${detail}`;
    connection.transport.close();
  }

  /**
   * Stops the loop for good (the engine cannot go on, e.g. its home was taken over): the
   * current connection is closed and not re-established; waiters fail with `code`.
   *
   * @param code The final error's code.
   * @param reason The final error's text.
   */
  stop(code: string, reason: string): void {
    if (this.#stopReason !== undefined) return;
    this.#stopCode = code;
    this.#stopReason = reason;
    if (this.#connection !== undefined) this.#connection.hangUpReason = reason;
    this.#connection?.transport.close();
    this.#wakeLoop?.();
  }

  #onReady(connection: Connection, frame: ReadyFrame): void {
    connection.ready = true;
    clearTimeout(connection.handshakeTimer);
    connection.heartbeatMs = frame.heartbeatMs;
    connection.maxFrameBytes = frame.maxFrameBytes;
    this.#startHeartbeat(connection);
    this.#host.onReady(connection, frame, this.#firstReady);
    this.#firstReady = false;
    this.#readyWaiters.resolveAll("ready", undefined);
  }

  #startHeartbeat(connection: Connection): void {
    clearInterval(this.#heartbeat);
    const every = Math.max(50, Math.floor(connection.heartbeatMs / 2));
    this.#heartbeat = setInterval(() => {
      if (connection !== this.#connection) return;
      const now = monotonicNow();
      const hb = connection.heartbeatMs;
      const silent = now - connection.lastReceived;
      if (silent < hb) return;
      // Never give up without a PING first (a late timer on a busy machine must not skip it),
      // and give that PING a whole heartbeat to be answered.
      if (connection.pingedAt < connection.lastReceived) {
        connection.pingedAt = now;
        connection.transport.send(encodeFrame({ type: "ping", nonce: randomBytes(8) }));
      } else if (silent >= 2 * hb && now - connection.pingedAt >= hb) {
        connection.hangUpReason = `no word from the relay for ${Math.round(silent / 1000)} s`;
        connection.transport.close();
      }
    }, every);
  }
}
