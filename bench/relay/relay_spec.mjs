// How the harness starts the Hush relay: `deno run server.ts` in the foreground (so the child's
// PID is the relay's, for /proc CPU and RSS), on 127.0.0.1, with the in-memory store (like the
// baselines: mosquitto runs with `persistence false`), and the harness's free port on the
// transport under test. The other transport gets port 0 (any free port; it stays idle).
import { join } from "node:path";

/**
 * Limits raised for a load test, as ngircd's flood protection is lifted for the baselines: the
 * per-connection rate limit and the connection cap would otherwise throttle W2 and C.
 */
export const LOAD_TEST_FLAGS = [];

/** @returns { "hush-tcp", "hush-ws", "hush-tcp-store", "hush-ws-store": spec } in the shape of the harness's RELAYS entries. */
export function hushRelaySpecs({ repo, deno, serverArgs = [], denoArgs = [], prefix = "hush" }) {
  const server = join(repo, "server.ts");
  const base = [
    "run",
    "--quiet",
    "--config",
    join(repo, "deno.json"),
    "--allow-net=127.0.0.1",
  ];
  // With `store`: the SQLite store (`--store`), a fresh file in the harness's temp dir for the
  // relay (removed with it), and the read/write permissions it needs.
  const spec = (transport, ports, store = false) => {
    const withStore = (dir) =>
      store
        ? [
          "--allow-read",
          "--allow-write",
          ...denoArgs,
          server,
          "--store",
          join(dir, "relay.sqlite"),
        ]
        : [...denoArgs, server];
    const args = (port, dir) => [
      ...base,
      ...withStore(dir),
      "--host",
      "127.0.0.1",
      ...ports(port),
      ...LOAD_TEST_FLAGS,
      ...serverArgs,
    ];
    return {
      transport,
      describe: () =>
        `Hush relay, ${transport === "tcp" ? "TCP" : "WebSocket"} transport, ${
          store ? "SQLite store (--store)" : "in-memory store"
        }: ` + ["deno", ...args("{port}", "{dir}")].join(" "),
      start: (port, dir) => ({ cmd: deno, args: args(String(port), dir) }),
    };
  };
  const tcp = (port) => ["--port", "0", "--tcp-port", port];
  const ws = (port) => ["--port", port, "--tcp-port=-1"];
  return {
    [`${prefix}-tcp`]: spec("tcp", tcp),
    [`${prefix}-ws`]: spec("ws", ws),
    [`${prefix}-tcp-store`]: spec("tcp", tcp, true),
    [`${prefix}-ws-store`]: spec("ws", ws, true),
  };
}

/**
 * `conn-deno`: bench/relay/conn_relay.ts, the harness's raw forwarder on `Deno.Conn` (the I/O
 * layer of the Hush relay) instead of `node:net`; driven by the harness's raw adapter.
 * @param relaysLib the harness's lib/relays.mjs (for the raw adapter)
 */
export function connRelaySpec({ repo, deno, relaysLib }) {
  const script = join(repo, "bench/relay/conn_relay.ts");
  return {
    adapter: relaysLib.RELAYS["raw-deno"].adapter,
    describe: () => `raw forwarder on Deno.listen / Deno.Conn: deno run ${script}`,
    start: (port) => ({
      cmd: deno,
      args: ["run", "--quiet", "--allow-net=127.0.0.1", script, String(port)],
    }),
  };
}
