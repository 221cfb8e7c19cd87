/**
 * A faulty TCP proxy on 127.0.0.1 between the clients and the relay's raw TCP port. It forwards
 * bytes both ways and, on request, hurts one live connection: *stall* (stop forwarding either way
 * for a while; the sockets stay open), *cut* (close both sides at once) or *truncate* (forward
 * only the first part of the next chunk in one direction, then close both sides).
 *
 * @module
 */

import { type Random, sleep } from "./world.ts";

type Direction = "up" | "down";

interface Link {
  client: Deno.TcpConn;
  server: Deno.TcpConn;
  stalledUntil: number;
  truncate?: { direction: Direction; fraction: number };
  closed: boolean;
}

/** The proxy; {@link FaultyProxy.close} ends it and every connection. */
export class FaultyProxy {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #target: () => number;
  readonly #links = new Set<Link>();
  readonly #accepting: Promise<void>;
  #closed = false;

  /**
   * Listens on a free port of 127.0.0.1.
   *
   * @param target The relay's TCP port (asked again for each new connection).
   */
  constructor(target: () => number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  /** `tcp://127.0.0.1:PORT`. */
  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  /** Live connections. */
  get size(): number {
    return this.#links.size;
  }

  /**
   * Stalls one random live connection.
   *
   * @returns Whether there was one.
   */
  stall(random: Random, ms: number): boolean {
    const link = this.#pick(random);
    if (link !== undefined) link.stalledUntil = Date.now() + ms;
    return link !== undefined;
  }

  /** Closes one random live connection, both sides. */
  cut(random: Random): boolean {
    const link = this.#pick(random);
    if (link !== undefined) this.#close(link);
    return link !== undefined;
  }

  /** Makes one random live connection forward part of its next chunk one way, then close. */
  truncate(random: Random): boolean {
    const link = this.#pick(random);
    if (link !== undefined) {
      link.truncate = { direction: random.pick(["up", "down"] as const), fraction: random.next() };
    }
    return link !== undefined;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const link of this.#links) this.#close(link);
    await this.#accepting;
  }

  #pick(random: Random): Link | undefined {
    const live = [...this.#links].filter((l) => !l.closed);
    return live.length === 0 ? undefined : random.pick(live);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        if (this.#closed) {
          client.close();
          continue;
        }
        this.#open(client);
      }
    } catch {
      // The listener was closed.
    }
  }

  async #open(client: Deno.TcpConn): Promise<void> {
    let server: Deno.TcpConn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.#target() });
    } catch {
      client.close();
      return;
    }
    const link: Link = { client, server, stalledUntil: 0, closed: false };
    this.#links.add(link);
    await Promise.all([
      this.#pump(link, client, server, "up"),
      this.#pump(link, server, client, "down"),
    ]);
    this.#links.delete(link);
  }

  async #pump(link: Link, from: Deno.TcpConn, to: Deno.TcpConn, direction: Direction) {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let chunks = 0; chunks < 10_000_000 && !link.closed; chunks++) {
        const n = await from.read(buffer);
        if (n === null) break;
        let chunk = buffer.slice(0, n);
        // A stall holds this chunk (and, by not reading, everything behind it).
        for (let waits = 0; Date.now() < link.stalledUntil && waits < 1000; waits++) {
          await sleep(Math.min(50, link.stalledUntil - Date.now()));
        }
        if (link.closed) break;
        const truncate = link.truncate;
        if (truncate?.direction === direction) {
          chunk = chunk.subarray(0, Math.min(n - 1, Math.floor(n * truncate.fraction)));
          if (chunk.length > 0) await writeAll(to, chunk);
          break;
        }
        await writeAll(to, chunk);
      }
    } catch {
      // A side closed or reset: the link ends.
    }
    this.#close(link);
  }

  #close(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    for (const conn of [link.client, link.server]) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}
