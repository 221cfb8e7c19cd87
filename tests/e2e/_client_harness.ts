/**
 * Shared helpers of the client end-to-end tests: a relay child process, `client.ts --json`
 * children with temporary homes, and cleanup that always runs.
 */

import { ChildClient, type ChildClientOptions } from "../../terminal/child_client.ts";
import { ChildRelay, type ChildRelayOptions } from "../../terminal/child_relay.ts";

export { ChildClient, ChildRelay };

/** Upper bound of one wait in these tests. */
export const WAIT_MS = 15_000;

/** A test world: one temporary directory, the relay and every client, cleaned up together. */
export class World {
  readonly dir: string;
  relay: ChildRelay;
  readonly clients: ChildClient[] = [];

  private constructor(dir: string, relay: ChildRelay) {
    this.dir = dir;
    this.relay = relay;
  }

  /**
   * Creates a temporary directory and starts a relay.
   *
   * @param options Relay options (`store: true` puts a SQLite store in the directory).
   * @returns The world.
   */
  static async create(
    options: Omit<ChildRelayOptions, "store"> & { store?: boolean } = {},
  ): Promise<World> {
    const dir = await Deno.makeTempDir({ prefix: "hush-e2e-" });
    try {
      const { store, ...rest } = options;
      const relay = await ChildRelay.start({
        ...rest,
        ...(store ? { store: `${dir}/relay.sqlite` } : {}),
      });
      return new World(dir, relay);
    } catch (error) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /**
   * Starts a `client.ts --json` with a home in the world's directory (`home` defaults to the nick,
   * so starting the same nick again reuses its identity).
   *
   * @param nick The nick to ask for.
   * @param options More client options; `home` is a name inside the world's directory.
   * @returns The client, once it reported `ready`.
   */
  async client(
    nick: string,
    options: Partial<Omit<ChildClientOptions, "nick">> & { ws?: boolean } = {},
  ): Promise<ChildClient> {
    const { ws, home, ...rest } = options;
    const client = ChildClient.start({
      nick,
      server: ws ? this.relay.wsUrl : this.relay.tcpUrl,
      ...rest,
      home: `${this.dir}/${home ?? nick}`,
    });
    this.clients.push(client);
    await client.waitForType("ready", () => true, { timeoutMs: WAIT_MS });
    return client;
  }

  /** Stops every client and the relay and deletes the directory. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop()));
    await this.relay.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Runs a test body in a fresh world and always cleans up.
 *
 * @param body The test body.
 * @param options Relay options.
 * @returns When the body finished and everything is cleaned up.
 */
export async function withWorld(
  body: (world: World) => Promise<void>,
  options: Omit<ChildRelayOptions, "store"> & { store?: boolean } = {},
): Promise<void> {
  const world = await World.create(options);
  try {
    await body(world);
  } finally {
    await world.close();
  }
}

/**
 * Gives the processes a moment to deliver anything that should NOT arrive, before a test
 * asserts that it did not.
 *
 * @param ms How long (default 500 ms).
 * @returns After that time.
 */
export function settle(ms = 500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
