/**
 * Probe: does Deno's `WebSocket` client leave Nagle's algorithm on (no `TCP_NODELAY`)?
 *
 * Run: `deno run --allow-net bench/client/ws_nagle_probe.ts`. A `Deno.serve` WebSocket echo
 * server on 127.0.0.1 echoes 100-byte messages and ignores 8-byte ones. The client measures the
 * round trip of a 100-byte request (a) alone and (b) sent 5 ms after an 8-byte message the server
 * does not answer (like a chat client's ACK frame followed by its next SEND). With Nagle on the
 * client socket, (b) waits for the server's delayed TCP ACK of the 8-byte message: about 40 ms on
 * Linux instead of a fraction of a millisecond. Prints one JSON line.
 *
 * @module
 */

import { summarize } from "./_stats.ts";

const ROUNDS = 30;

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => {
    if ((event.data as ArrayBuffer).byteLength === 100) socket.send(event.data);
  };
  return response;
});
const timeout = setTimeout(() => {
  console.error("probe timed out");
  Deno.exit(1);
}, 30_000);
try {
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const roundTrip = async () => {
    const echoed = new Promise((resolve) => ws.onmessage = resolve);
    const t0 = performance.now();
    ws.send(new Uint8Array(100));
    await echoed;
    return performance.now() - t0;
  };
  const alone: number[] = [];
  const afterUnanswered: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    alone.push(await roundTrip());
    ws.send(new Uint8Array(8));
    await new Promise((resolve) => setTimeout(resolve, 5));
    afterUnanswered.push(await roundTrip());
  }
  ws.close();
  console.log(JSON.stringify({
    bench: "hush-ws-nagle-probe",
    deno: Deno.version.deno,
    roundTripMs: {
      alone: summarize(alone),
      afterUnansweredSmallMessage: summarize(afterUnanswered),
    },
  }));
} finally {
  clearTimeout(timeout);
  await server.shutdown();
}
