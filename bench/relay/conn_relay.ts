/**
 * A trivial relay on `Deno.listen` / `Deno.Conn`, the I/O layer the Hush relay is built on: the
 * shared harness's raw forwarder (`../shared/bench/relays/raw-relay.mjs`, which runs on
 * `node:net`) rewritten with the same wire format and the same batching, so that the bench can
 * show what a relay on `Deno.Conn` costs before any logic of its own (CPU per message, RSS per
 * idle connection, RSS under load). Bench only: not part of the product.
 *
 * Wire format, both directions: `[u32 len][u8 type][u32 arg][payload]`, `len` counting what
 * follows it. Client to relay: 1 HELLO (arg: own id), 2 TO (arg: destination id), 3 JOIN and
 * 4 ROOM (arg: room id). Relay to client: 5 MSG (arg: sender id), 6 OK (arg: the HELLO's or
 * JOIN's). A forwarded frame is rewritten in place; the frames due to one peer while one read is
 * handled leave in one write, and a peer with a write in progress collects the next ones.
 *
 *   deno run --allow-net=127.0.0.1 bench/relay/conn_relay.ts PORT
 *
 * @module
 */

const port = Number(Deno.args[0] ?? 17002);
const IDLE_READ_BYTES = 128;
const BUSY_READ_BYTES = 64 * 1024;

class Peer {
  id = -1;
  rooms: number[] = [];
  #queued: Uint8Array[] = [];
  #bytes = 0;
  #writing = false;
  #scheduled = false;
  constructor(readonly conn: Deno.Conn) {}

  send(frame: Uint8Array): void {
    this.#queued.push(frame);
    this.#bytes += frame.length;
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#writing || this.#queued.length === 0) return;
    const out = new Uint8Array(this.#bytes);
    let o = 0;
    for (const f of this.#queued) {
      out.set(f, o);
      o += f.length;
    }
    this.#queued = [];
    this.#bytes = 0;
    this.#writing = true;
    this.#write(out);
  }

  async #write(out: Uint8Array): Promise<void> {
    try {
      let off = 0;
      while (off < out.length) off += await this.conn.write(out.subarray(off));
    } catch {
      return;
    } finally {
      this.#writing = false;
    }
    this.#flush();
  }
}

const clients = new Map<number, Peer>();
const rooms = new Map<number, Set<Peer>>();

function ok(arg: number): Uint8Array {
  const f = new Uint8Array(9);
  const v = new DataView(f.buffer);
  v.setUint32(0, 5);
  f[4] = 6;
  v.setUint32(5, arg);
  return f;
}

async function serve(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const peer = new Peer(conn);
  let buf = new Uint8Array(IDLE_READ_BYTES);
  let end = 0;
  try {
    while (true) {
      if (end === buf.length) {
        const next = new Uint8Array(Math.max(BUSY_READ_BYTES, buf.length * 2));
        next.set(buf.subarray(0, end));
        buf = next;
      }
      const n = await conn.read(buf.subarray(end));
      if (n === null) break;
      end += n;
      let off = 0;
      while (end - off >= 9) {
        const len = ((buf[off]! << 24) >>> 0) + (buf[off + 1]! << 16) + (buf[off + 2]! << 8) +
          buf[off + 3]!;
        if (end - off - 4 < len) {
          if (4 + len > buf.length) {
            const next = new Uint8Array(Math.max(BUSY_READ_BYTES, 4 + len));
            next.set(buf.subarray(off, end));
            buf = next;
            end -= off;
            off = 0;
          }
          break;
        }
        const type = buf[off + 4]!;
        const arg = new DataView(buf.buffer, buf.byteOffset + off + 5, 4).getUint32(0);
        // Forwarded frames leave as copies: the read buffer is reused at once.
        const frame = buf.slice(off, off + 4 + len);
        off += 4 + len;
        if (type === 2 || type === 4) {
          frame[4] = 5;
          new DataView(frame.buffer).setUint32(5, peer.id);
          if (type === 2) clients.get(arg)?.send(frame);
          else for (const m of rooms.get(arg) ?? []) if (m !== peer) m.send(frame);
        } else if (type === 1) {
          peer.id = arg;
          clients.set(arg, peer);
          peer.send(ok(arg));
        } else if (type === 3) {
          let members = rooms.get(arg);
          if (members === undefined) rooms.set(arg, members = new Set());
          members.add(peer);
          peer.rooms.push(arg);
          peer.send(ok(arg));
        } else {
          throw new Error("bad frame");
        }
      }
      buf.copyWithin(0, off, end);
      end -= off;
    }
  } catch {
    // reset or bad frame: the connection ends
  } finally {
    if (clients.get(peer.id) === peer) clients.delete(peer.id);
    for (const r of peer.rooms) rooms.get(r)?.delete(peer);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port });
console.log(`conn-relay listening on 127.0.0.1:${port}`);
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
for await (const conn of listener) serve(conn);
