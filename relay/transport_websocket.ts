/**
 * The WebSocket transport, read and written by the relay itself (RFC 6455 over a Deno TCP or TLS
 * connection) so that every limit holds on the wire: the HTTP request head has a size bound and a
 * deadline, and a WebSocket message is refused from its frame header as soon as its announced
 * length (or the sum of its fragments) is over `--max-frame`, before any of its payload is read.
 * (`Deno.upgradeWebSocket` reassembles a message whole, up to 64 MiB, before the relay sees it.)
 *
 * The same listener answers `GET /healthz` and, when the relay allows it, `GET /metrics`.
 *
 * @module
 */

import { BatchedWriter, BINARY, Framing, RAW } from "./batched_writer.ts";
import { type Connection, type Peer, State } from "./connection.ts";
import type { PeerHost } from "./transport_tcp.ts";

/** Largest HTTP request head (request line and headers) read before the upgrade. */
export const MAX_HTTP_HEAD_BYTES = 8192;

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const ASCII = new TextEncoder();
const LATIN1 = new TextDecoder("latin1");
const INITIAL_READ_BYTES = 1024;
const BUSY_READ_BYTES = 64 * 1024;
const CLOSE_GRACE_MS = 2000;

/** An HTTP answer for a request that is not an upgrade. */
export interface HttpAnswer {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** What the WebSocket listener needs from the relay besides {@link PeerHost}. */
export interface WebSocketHost extends PeerHost {
  /** Answers a plain HTTP request. */
  onHttp(method: string, path: string, headers: Map<string, string>, remote: string): HttpAnswer;
  /** The upgrade is done: attach the relay's connection to the peer. */
  onUpgraded(peer: WebSocketPeer): Connection;
  /** The socket ended before or without an upgrade (or after: called once either way). */
  onSocketEnded(peer: WebSocketPeer): void;
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  408: "Request Timeout",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

/** A WebSocket connection (before the upgrade: an HTTP request being read). */
export class WebSocketPeer extends BatchedWriter implements Peer {
  readonly transport: string;
  readonly remote: string;
  /** The client's address without the port. */
  readonly address: string;
  readonly batchWithTimer = false;
  #host: WebSocketHost;
  connection!: Connection;
  /** Whether the upgrade is done (the peer is a relay connection). */
  upgraded = false;
  /** When the socket was accepted (`performance.now()`). */
  readonly acceptedAt: number;
  #headTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Wraps an accepted TCP or TLS connection.
   *
   * @param conn The accepted connection.
   * @param host The relay.
   * @param transport `ws` or `wss`.
   */
  constructor(conn: Deno.Conn, host: WebSocketHost, transport: string) {
    super(conn, Framing.WEBSOCKET);
    this.#host = host;
    this.transport = transport;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.address = addr.hostname;
    this.remote = `${addr.hostname}:${addr.port}`;
    this.acceptedAt = performance.now();
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  }

  send(frame: Uint8Array): void {
    if (this.push(frame, BINARY)) this.#host.scheduleFlush(this.connection);
  }

  queue(frame: Uint8Array): void {
    this.push(frame, BINARY);
  }

  /** Queues one WebSocket frame (FIN set); false when the peer no longer writes. */
  queueFrame(opcode: number, payload: Uint8Array): boolean {
    return this.push(payload, opcode);
  }

  /** Closes: a WebSocket close frame (1000, or 1008 when `immediate`) after what is queued. */
  close(immediate = false): void {
    if (this.closed || this.closing) return;
    if (this.upgraded) {
      const code = immediate ? 1008 : 1000;
      this.queueFrame(0x8, new Uint8Array([code >> 8, code & 0xff]));
    }
    this.closing = true;
    this.flush();
    if (this.writing) setTimeout(() => this.shut(), immediate ? 200 : CLOSE_GRACE_MS);
  }

  /** Answers with an HTTP error without reading the request (the relay is full). */
  refuse(status: number, body: string): void {
    this.#answer({ status, body });
  }

  /** Drops the socket at once (an unauthenticated peer evicted, a head timeout). */
  abort(): void {
    this.shut();
  }

  protected override shut(): void {
    clearTimeout(this.#headTimer);
    super.shut();
  }

  #answer(a: HttpAnswer): void {
    const body = ASCII.encode(a.body);
    let head = `HTTP/1.1 ${a.status} ${REASONS[a.status] ?? "Error"}\r\n` +
      `content-type: ${a.contentType ?? "text/plain"}\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n`;
    for (const [k, v] of Object.entries(a.headers ?? {})) head += `${k}: ${v}\r\n`;
    this.push(ASCII.encode(head + "\r\n"), RAW);
    this.push(body, RAW);
    this.closing = true;
    this.flush();
    setTimeout(() => this.shut(), CLOSE_GRACE_MS);
  }

  /**
   * Reads the request head (within `headTimeoutMs`), upgrades or answers it, then reads frames
   * until the connection ends; call once.
   *
   * @param headTimeoutMs Deadline for the whole request head.
   */
  async run(headTimeoutMs: number): Promise<void> {
    const host = this.#host;
    let buf = new Uint8Array(INITIAL_READ_BYTES);
    let start = 0;
    let end = 0;
    this.#headTimer = setTimeout(() => {
      if (!this.upgraded) this.#answer({ status: 408, body: "request head too slow\n" });
    }, headTimeoutMs);
    try {
      // ---- the HTTP request head
      let headEnd = -1;
      while (headEnd < 0) {
        if (end === buf.length) {
          if (buf.length >= MAX_HTTP_HEAD_BYTES) {
            this.#answer({ status: 431, body: "request head too large\n" });
            return;
          }
          const next = new Uint8Array(Math.min(MAX_HTTP_HEAD_BYTES, buf.length * 4));
          next.set(buf);
          buf = next;
        }
        const n = await this.conn.read(buf.subarray(end));
        if (n === null || this.closed || this.closing) return;
        const from = Math.max(0, end - 3);
        end += n;
        for (let i = from; i + 3 < end; i++) {
          if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) {
            headEnd = i + 4;
            break;
          }
        }
      }
      clearTimeout(this.#headTimer);
      const lines = LATIN1.decode(buf.subarray(0, headEnd - 4)).split("\r\n");
      const [method = "", target = "", version = ""] = lines[0]!.split(" ");
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const path = target.split("?")[0]!;
      if (!version.startsWith("HTTP/1.")) {
        this.#answer({ status: 400, body: "bad request\n" });
        return;
      }
      const key = headers.get("sec-websocket-key");
      if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
        this.#answer(host.onHttp(method, path, headers, this.remote));
        return;
      }
      if (method !== "GET" || key === undefined || headers.get("sec-websocket-version") !== "13") {
        this.#answer({
          status: 400,
          body: "bad WebSocket upgrade\n",
          headers: { "sec-websocket-version": "13" },
        });
        return;
      }
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-1", ASCII.encode(key + WS_GUID)),
      );
      if (this.closed || this.closing) return;
      const accept = btoa(String.fromCharCode(...digest));
      this.push(
        ASCII.encode(
          "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
            `sec-websocket-accept: ${accept}\r\n\r\n`,
        ),
        RAW,
      );
      this.upgraded = true;
      const conn = host.onUpgraded(this);
      this.flush();
      if (conn.state === State.CLOSED) return;
      // What follows the head is the first WebSocket bytes.
      buf.copyWithin(0, headEnd, end);
      end -= headEnd;
      start = 0;
      await this.#frames(buf, start, end);
    } catch {
      // Reset by peer, closed by us, TLS failure: all end the connection.
    } finally {
      clearTimeout(this.#headTimer);
      if (!this.closing) this.shut();
      if (this.upgraded) host.onEnded(this.connection);
      host.onSocketEnded(this);
    }
  }

  async #frames(buf: Uint8Array, start: number, end: number): Promise<void> {
    const host = this.#host;
    const conn = this.connection;
    const max = host.maxFrameBytes;
    // A fragmented message: its parts so far.
    let parts: Uint8Array[] = [];
    let partsBytes = 0;
    let inMessage = false;
    let messageIsText = false;
    // Payloads are unmasked in place and handed over as views into `buf` (as on TCP): once the
    // relay keeps one, the bytes before `start` stay as they are and reading goes on after them;
    // a full buffer is then replaced, not compacted.
    let pinned = false;
    let now = performance.now();
    while (!this.closed) {
      // Parse every complete frame in buf[start, end).
      while (end - start >= 2) {
        const b0 = buf[start]!;
        const b1 = buf[start + 1]!;
        const opcode = b0 & 0x0f;
        const fin = (b0 & 0x80) !== 0;
        if ((b0 & 0x70) !== 0 || (b1 & 0x80) === 0) {
          host.onFramingError(
            conn,
            "UNEXPECTED_FRAME",
            (b1 & 0x80) === 0
              ? "Cannot read frame: a client WebSocket frame must be masked"
              : "Cannot read frame: WebSocket extension bits set",
          );
          return;
        }
        let len = b1 & 0x7f;
        let off = 2;
        if (len === 126) {
          if (end - start < 4) break;
          len = (buf[start + 2]! << 8) | buf[start + 3]!;
          off = 4;
        } else if (len === 127) {
          if (end - start < 10) break;
          const hi = new DataView(buf.buffer, buf.byteOffset + start + 2, 8).getUint32(0);
          const lo = new DataView(buf.buffer, buf.byteOffset + start + 2, 8).getUint32(4);
          len = hi * 2 ** 32 + lo;
          off = 10;
        }
        const control = (opcode & 0x8) !== 0;
        if (control ? len > 125 : partsBytes + len > max) {
          host.onFramingError(
            conn,
            "FRAME_TOO_LARGE",
            `Cannot read frame: ${partsBytes + len} bytes is over the maximum of ${max}`,
          );
          return;
        }
        if (end - start < off + 4 + len) {
          // Incomplete: make room for the whole frame and read more.
          const need = off + 4 + len;
          if (buf.length - start < need) {
            const size = Math.max(BUSY_READ_BYTES, need);
            if (!pinned && size <= buf.length) buf.copyWithin(0, start, end);
            else {
              const next = new Uint8Array(size);
              next.set(buf.subarray(start, end));
              buf = next;
              pinned = false;
            }
            end -= start;
            start = 0;
          }
          break;
        }
        const k = start + off;
        const mask = ((buf[k]! << 24) | (buf[k + 1]! << 16) | (buf[k + 2]! << 8) | buf[k + 3]!) >>>
          0;
        const p0 = k + 4;
        const payload = buf.subarray(p0, p0 + len);
        unmask(payload, mask);
        start = p0 + len;
        conn.lastSeen = now;
        if (control) {
          if (!fin) {
            host.onFramingError(conn, "UNEXPECTED_FRAME", "Cannot read frame: fragmented control");
            return;
          }
          if (opcode === 0x8) { // close: answer and end
            this.close();
            return;
          }
          if (opcode === 0x9) { // ping
            this.queueFrame(0xa, payload.slice());
            host.scheduleFlush(conn);
          }
          continue;
        }
        if (opcode === 0x0) {
          if (!inMessage) {
            host.onFramingError(conn, "UNEXPECTED_FRAME", "Cannot read frame: stray continuation");
            return;
          }
        } else if (opcode === 0x1 || opcode === 0x2) {
          if (inMessage) {
            host.onFramingError(conn, "UNEXPECTED_FRAME", "Cannot read frame: unfinished message");
            return;
          }
          inMessage = true;
          messageIsText = opcode === 0x1;
        } else {
          host.onFramingError(conn, "UNEXPECTED_FRAME", `Cannot read frame: opcode ${opcode}`);
          return;
        }
        let frame = payload;
        if (!fin || parts.length > 0) {
          parts.push(payload.slice());
          partsBytes += len;
          if (!fin) continue;
          frame = new Uint8Array(partsBytes);
          let o = 0;
          for (const p of parts) {
            frame.set(p, o);
            o += p.length;
          }
          parts = [];
          partsBytes = 0;
        }
        inMessage = false;
        if (messageIsText) {
          host.onFramingError(conn, "UNEXPECTED_FRAME", "Cannot read frame: a text message");
          return;
        }
        if (frame.length === 0) {
          host.onFramingError(conn, "EMPTY_FRAME", "Cannot read frame: empty");
          return;
        }
        if (host.onFrame(conn, frame, now)) pinned = true;
        if (this.closing || this.closed) return;
      }
      if (!pinned && start === end) {
        start = 0;
        end = 0;
      } else if (end === buf.length) {
        if (pinned) {
          const next = new Uint8Array(Math.max(BUSY_READ_BYTES, 2 * (end - start)));
          next.set(buf.subarray(start, end));
          buf = next;
          pinned = false;
        } else buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      const n = await this.conn.read(end === 0 ? buf : buf.subarray(end));
      if (n === null) return;
      end += n;
      now = performance.now();
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Unmasks a payload in place; `mask` holds the 4 masking bytes, first byte highest. */
function unmask(p: Uint8Array, mask: number): void {
  const len = p.length;
  // Byte by byte up to a 4-byte boundary of the buffer, then a word at a time.
  const lead = len < 16 ? len : (4 - (p.byteOffset & 3)) & 3;
  for (let i = 0; i < lead; i++) p[i] = p[i]! ^ ((mask >>> (24 - 8 * (i & 3))) & 0xff);
  const words = (len - lead) >>> 2;
  if (words > 0) {
    // The mask as it lines up with the word at p[lead], in platform byte order.
    const r = lead === 0 ? mask : ((mask << (8 * lead)) | (mask >>> (32 - 8 * lead))) >>> 0;
    const m = LITTLE_ENDIAN
      ? ((r >>> 24) | ((r >>> 8) & 0xff00) | ((r << 8) & 0xff0000) | (r << 24)) >>> 0
      : r;
    const w = new Uint32Array(p.buffer, p.byteOffset + lead, words);
    for (let i = 0; i < words; i++) w[i] = w[i]! ^ m;
  }
  for (let i = lead + 4 * words; i < len; i++) {
    p[i] = p[i]! ^ ((mask >>> (24 - 8 * (i & 3))) & 0xff);
  }
}
