/**
 * The client's heartbeat runs on a monotonic clock (issue 9, item 13): a real relay, a TCP proxy
 * in this process that can stall (a partition: nothing passes, nothing is closed), and a real
 * `client.ts --json` whose wall clock is stepped back an hour during the partition.
 */

import assert from "node:assert/strict";
import { ChildClient, WAIT_MS, withWorld } from "./_client_harness.ts";

/** A TCP proxy to `target`; `stall()` freezes every connection open so far. */
class StallingProxy {
  readonly port: number;
  #listener: Deno.TcpListener;
  #frozen = new Set<number>();
  #conns: Deno.Conn[] = [];
  #next = 0;
  #generation = 0;
  #accepting: Promise<void>;

  constructor(target: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept(target);
  }

  /** From now on, nothing passes on the connections opened so far (they stay open). */
  stall(): void {
    this.#generation = ++this.#next;
  }

  async #accept(target: number): Promise<void> {
    for await (const client of this.#listener) {
      const id = ++this.#next;
      const relay = await Deno.connect({ hostname: "127.0.0.1", port: target });
      this.#conns.push(client, relay);
      this.#pipe(id, client, relay);
      this.#pipe(id, relay, client);
    }
  }

  async #pipe(id: number, from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(65_536);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (id <= this.#generation) continue; // stalled: swallow, never forward, never close
        let offset = 0;
        while (offset < n) offset += await to.write(buffer.subarray(offset, n));
      }
      if (id > this.#generation) to.close();
    } catch {
      // The other side went away.
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting.catch(() => {});
  }
}

Deno.test("client --json: with the wall clock stepped back, a stalled connection is still noticed and re-made", async () => {
  await withWorld(async (world) => {
    const tcpPort = Number(new URL(world.relay.tcpUrl).port);
    const proxy = new StallingProxy(tcpPort);
    try {
      const alice = ChildClient.start({
        nick: "alice",
        server: `tcp://127.0.0.1:${proxy.port}`,
        home: `${world.dir}/alice`,
        script: "tests/e2e/_stepped_clock_client.ts",
      });
      world.clients.push(alice);
      await alice.waitForType("ready", () => true, { timeoutMs: WAIT_MS });
      const since = alice.events.length;
      proxy.stall();
      Deno.kill(alice.pid, "SIGUSR2"); // during the partition, the wall clock goes back one hour
      // heartbeat 200 ms: ping after 200 ms of silence, drop after 400 ms.
      await alice.waitForType("disconnected", () => true, { since, timeoutMs: 5_000 });
      await alice.waitForType("ready", () => true, { since, timeoutMs: WAIT_MS });
      assert.equal(alice.eventsOf("ready").length, 2);
    } finally {
      await proxy.close();
    }
  }, { args: ["--heartbeat", "200"] });
});
