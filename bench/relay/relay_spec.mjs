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

/** @returns { "hush-tcp": spec, "hush-ws": spec } in the shape of the harness's RELAYS entries. */
export function hushRelaySpecs({ repo, deno, serverArgs = [], denoArgs = [], prefix = "hush" }) {
  const server = join(repo, "server.ts");
  const base = [
    "run",
    "--quiet",
    "--config",
    join(repo, "deno.json"),
    "--allow-net=127.0.0.1",
    ...denoArgs,
    server,
    "--host",
    "127.0.0.1",
  ];
  const spec = (transport, ports) => ({
    transport,
    describe: () =>
      `Hush relay, ${transport === "tcp" ? "TCP" : "WebSocket"} transport, in-memory store: ` +
      ["deno", ...base, ...ports("{port}"), ...LOAD_TEST_FLAGS, ...serverArgs].join(" "),
    start: (port) => ({
      cmd: deno,
      args: [...base, ...ports(String(port)), ...LOAD_TEST_FLAGS, ...serverArgs],
    }),
  });
  return {
    [`${prefix}-tcp`]: spec("tcp", (port) => ["--port", "0", "--tcp-port", port]),
    [`${prefix}-ws`]: spec("ws", (port) => ["--port", port, "--tcp-port=-1"]),
  };
}
