/**
 * Probe: the round trips of Deno's built-in `WebSocket` client against the `ws` package's (which
 * `client.ts` uses for `ws://` and `wss://`), with no Hush code.
 *
 * Run: `deno run --allow-net --allow-env bench/client/ws_nagle_probe.ts`. A `Deno.serve` WebSocket
 * server on 127.0.0.1 answers every message with 8 bytes, except 8-byte messages, which it ignores.
 * For each client it measures the round trip of (a) a 100-byte message alone, (b) a 100-byte
 * message sent 5 ms after an 8-byte one the server does not answer (like a chat client's ACK
 * followed by its next SEND), and (c) a 4,000-byte message alone. With Nagle's algorithm on the
 * client socket, (b) waits for the server's delayed TCP ACK of the 8-byte message, about 40 ms on
 * Linux; (c) does too when the client writes a message's header and payload separately. Prints
 * one JSON line.
 *
 * @module
 */

import WsPackage from "ws";
import { summarize } from "./_stats.ts";

const ROUNDS = 20;

/** The part of a client socket the probe uses. */
interface ProbeSocket {
  send(bytes: Uint8Array): void;
  onReply(listener: () => void): void;
  close(): void;
}

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => {
    if ((event.data as ArrayBuffer).byteLength !== 8) socket.send(new Uint8Array(8));
  };
  return response;
});
const url = `ws://127.0.0.1:${server.addr.port}/`;

async function denoWebSocket(): Promise<ProbeSocket> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  return {
    send: (bytes) => ws.send(bytes),
    onReply: (listener) => ws.onmessage = listener,
    close: () => ws.close(),
  };
}

async function wsPackage(): Promise<ProbeSocket> {
  const Ctor = WsPackage as unknown as new (url: string) => {
    on(event: string, listener: (...args: unknown[]) => void): void;
    send(bytes: Uint8Array): void;
    close(): void;
  };
  const ws = new Ctor(url);
  await new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("error", reject);
  });
  let listener = () => {};
  ws.on("message", () => listener());
  return { send: (bytes) => ws.send(bytes), onReply: (l) => listener = l, close: () => ws.close() };
}

async function measure(socket: ProbeSocket) {
  const roundTrip = async (size: number) => {
    const replied = new Promise<void>((resolve) => socket.onReply(resolve));
    const t0 = performance.now();
    socket.send(new Uint8Array(size));
    await replied;
    return performance.now() - t0;
  };
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
  const alone: number[] = [];
  const afterUnanswered: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await pause();
    alone.push(await roundTrip(100));
    socket.send(new Uint8Array(8));
    await pause();
    afterUnanswered.push(await roundTrip(100));
    await pause();
    large.push(await roundTrip(4_000));
  }
  socket.close();
  return {
    alone100B: summarize(alone),
    after8ByteUnanswered100B: summarize(afterUnanswered),
    alone4000B: summarize(large),
  };
}

const timeout = setTimeout(() => {
  console.error("probe timed out");
  Deno.exit(1);
}, 60_000);
try {
  console.log(JSON.stringify({
    bench: "hush-ws-nagle-probe",
    deno: Deno.version.deno,
    roundTripMs: {
      denoWebSocket: await measure(await denoWebSocket()),
      wsPackage: await measure(await wsPackage()),
    },
  }));
} finally {
  clearTimeout(timeout);
  await server.shutdown();
}
