import assert from "node:assert/strict";
import { connectDenoWebSocketTransport } from "../../chat/_ws_deno_transport.ts";
import { connectWebSocketTransport } from "../../chat/_websocket_transport.ts";
import type { Transport, TransportHandlers } from "../../chat/transport.ts";

type Connect = (
  url: string,
  handlers: TransportHandlers,
  maxFrameSize: number,
) => Promise<Transport>;

const transports: [string, Connect][] = [
  [
    "ws package (Deno)",
    (url, handlers, maxFrameSize) =>
      connectDenoWebSocketTransport(url, handlers, { maxFrameSize, timeoutMs: 5_000 }),
  ],
  [
    "web-standard WebSocket (browsers)",
    (url, handlers, maxFrameSize) =>
      connectWebSocketTransport(url, handlers, { maxFrameSize, timeoutMs: 5_000 }),
  ],
];

/** A WebSocket server on 127.0.0.1: echoes binary messages; "text" and "close" on request. */
function echoServer(): { url: string; stop(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      const bytes = new Uint8Array(event.data as ArrayBuffer);
      if (bytes.length === 1 && bytes[0] === 0x74) socket.send("a text message");
      else if (bytes.length === 1 && bytes[0] === 0x63) socket.close(1000, "bye");
      else if (bytes.length === 1 && bytes[0] === 0x62) socket.send(new Uint8Array(5_000));
      else socket.send(bytes);
    };
    return response;
  });
  return { url: `ws://127.0.0.1:${server.addr.port}/`, stop: () => server.shutdown() };
}

function recorder() {
  const frames: Uint8Array[] = [];
  let closed: string | undefined;
  let wake = () => {};
  const handlers: TransportHandlers = {
    onFrame(frame) {
      frames.push(frame.slice());
      wake();
    },
    onClose(reason) {
      closed = reason;
      wake();
    },
  };
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 5_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  return { frames, handlers, until, closed: () => closed };
}

for (const [name, connect] of transports) {
  Deno.test(`${name}: frames of every size arrive whole and in order, both ways`, async () => {
    const server = echoServer();
    const r = recorder();
    const t = await connect(server.url, r.handlers, 1 << 20);
    try {
      const sizes = [2, 100, 1_500, 4_000, 60_000, 200_000];
      const sent = sizes.map((n) => crypto.getRandomValues(new Uint8Array(Math.min(n, 65_536))));
      sent[5] = new Uint8Array(200_000).map((_, i) => i & 0xff);
      for (const frame of sent) t.send(frame);
      await r.until(() => r.frames.length === sent.length);
      assert.deepEqual(r.frames, sent);
      assert.equal(r.closed(), undefined);
    } finally {
      t.close();
      await server.stop();
    }
  });

  Deno.test(`${name}: a text message, an oversized one or the server's close ends the transport`, async () => {
    const server = echoServer();
    try {
      for (
        const [trigger, expected] of [[0x74, /text/], [0x62, /./], [0x63, /bye|closed/]] as const
      ) {
        const r = recorder();
        const t = await connect(server.url, r.handlers, 4_096);
        t.send(new Uint8Array([trigger]));
        await r.until(() => r.closed() !== undefined);
        assert.match(r.closed()!, expected);
        assert.equal(r.frames.length, 0);
        t.close();
      }
    } finally {
      await server.stop();
    }
  });

  Deno.test(`${name}: connecting where nothing listens fails`, async () => {
    const server = echoServer();
    const url = server.url;
    await server.stop();
    await assert.rejects(connect(url, recorder().handlers, 4_096));
  });
}
