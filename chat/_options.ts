/**
 * The options of the chat engine. Private file: the type is exported by `engine.ts` and
 * `mod.ts`.
 *
 * @module
 */

import type { BackoffOptions } from "./backoff.ts";
import type { ChatHome } from "./home.ts";
import type { Transport, TransportHandlers, TransportOptions } from "./transport.ts";

/** Options of {@linkcode createChatClient}. */
export interface ChatClientOptions {
  /** Relay URL: `tcp://`, `tls://`, `tcp+tls://`, `ws://` or `wss://`. */
  server: string;
  /** The nick to ask for (a nick granted earlier and kept in the home wins). */
  nick: string;
  /** Where identity, sessions, trust, seen ids and the outbox live. */
  home: ChatHome;
  /** Default cipher suite for new messages (default `aes-256-gcm`). */
  cipher?: string;
  /** Access token of a private relay. */
  token?: string;
  /** PEM CA certificates to trust for `tls://` (from `--ca FILE`). */
  caCerts?: string[];
  /** Room to join and make current (default `lobby`). */
  room?: string;
  /** Refuse to connect over a transport that is not TLS/WSS. */
  requireSecure?: boolean;
  /** Reconnect automatically after a connection loss (default true). */
  reconnect?: boolean;
  /**
   * Keep retrying when the very first connection attempt fails (default false: `connect()`
   * rejects with `CONNECT_FAILED`, so a mistyped URL is reported at once).
   */
  retryFirstConnect?: boolean;
  /** Reconnect delays (default 100 ms doubling to 10 s, equal jitter). */
  backoff?: BackoffOptions;
  /** How long `close()` waits for the relay to acknowledge what was sent (default 5,000 ms). */
  closeTimeoutMs?: number;
  /** How long a connection may take from connect to READY (default 15,000 ms). */
  handshakeTimeoutMs?: number;
  /** How long a key-directory lookup may take (default 10,000 ms). */
  requestTimeoutMs?: number;
  /**
   * How long a room message whose sender key has not arrived yet is kept before an
   * `error` event `NO_SENDER_KEY` gives up on it (default 10,000 ms).
   */
  senderKeyWaitMs?: number;
  /**
   * How long an envelope the relay refused for a passing reason (`QUEUE_FULL`, ...) waits before
   * it is sent again; doubled after each further refusal, up to 20 times this (default 30,000 ms).
   */
  retryDelayMs?: number;
  /** Refuse messages under an insecure suite (Caesar). */
  refuseInsecure?: boolean;
  /**
   * Who gets our room keys (default `all`: every member in the relay's roster, each one not
   * shown before announced by a `key-shared` event first); `approve`: only members approved with
   * `approve(nick)`; `verified`: only verified members. Members left out get a `key-withheld`.
   */
  roomKeys?: "all" | "approve" | "verified";
  /**
   * Wall clock in milliseconds (default `Date.now`): message timestamps and give-up deadlines.
   * The heartbeat does not use it: it runs on the monotonic `performance.now()`.
   */
  now?: () => number;
  /**
   * Opens a transport (default {@linkcode connectTransport}); a browser build or a test passes
   * its own.
   */
  connectTransport?: (
    url: string,
    handlers: TransportHandlers,
    options: TransportOptions,
  ) => Promise<Transport>;
}
