/**
 * `deno task web`: serves the web client on its own port, for users who will not let a relay
 * serve them code (docs/WEB.md). Same bundle, same headers as the relay's `GET /`; the page
 * talks to the relay given with `--relay` (the Content-Security-Policy's `connect-src` names it).
 *
 * Usage: `deno run --allow-net web/serve.ts [--host 127.0.0.1] [--port 4880]
 * [--relay ws://127.0.0.1:4874/]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { WEB_BUNDLE, webAnswer } from "../relay/web.ts";

/** The `--help` text. */
export const SERVE_HELP = `hush web: serves the Hush browser client on its own port

Usage: deno task web [--port 4880] [--host 127.0.0.1] [--relay ws://127.0.0.1:4874/]

  --host HOST     interface to bind (default 127.0.0.1)
  --port PORT     port (default 4880; 0 for any free port)
  --relay URL     the relay the page connects to (default ws://127.0.0.1:4874/); a page
                  opened with ?relay=URL uses that one, within what the policy allows
  -h, --help      this text
`;

/**
 * Starts the server.
 *
 * @param options Host, port, relay URL.
 * @returns The server and its URL.
 */
export function serveWeb(
  options: { host?: string; port?: number; relay?: string } = {},
): { server: Deno.HttpServer<Deno.NetAddr>; url: string } {
  const relay = options.relay ?? "ws://127.0.0.1:4874/";
  let url = "";
  const server = Deno.serve(
    {
      hostname: options.host ?? "127.0.0.1",
      port: options.port ?? 4880,
      onListen: () => {},
    },
    (request) => {
      const path = new URL(request.url).pathname;
      if (request.method === "GET" && path === "/healthz") return new Response("ok\n");
      const answer = webAnswer(request.method, path, { relay });
      if (answer === null) return new Response("not found\n", { status: 404 });
      return new Response(answer.body, {
        status: answer.status,
        headers: { ...answer.headers, "content-type": answer.contentType },
      });
    },
  );
  url = `http://${server.addr.hostname}:${server.addr.port}/`;
  return { server, url };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      relay: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    Deno.exit(0);
  }
  const port = values.port === undefined ? 4880 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`hush web: error: bad --port "${values.port}"`);
    Deno.exit(2);
  }
  if (values.relay !== undefined && !/^wss?:\/\/[^/]+/.test(values.relay)) {
    console.error(`hush web: error: --relay needs a ws:// or wss:// URL, not "${values.relay}"`);
    Deno.exit(2);
  }
  const { url } = serveWeb({
    ...(values.host === undefined ? {} : { host: values.host }),
    port,
    ...(values.relay === undefined ? {} : { relay: values.relay }),
  });
  console.log(`hush web client on ${url} (app.js SHA-256 ${WEB_BUNDLE.sha256})`);
  console.log(`hush web: the page connects to ${values.relay ?? "ws://127.0.0.1:4874/"}`);
}
