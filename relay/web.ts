/**
 * The web client, served by the relay: `GET /` (the page), `GET /app.js`, `GET /app.css`, from
 * `web/dist/bundle.json`. The bundle is data to the relay (a JSON import), never code it runs:
 * the relay's module graph stays blind (`tools/layers.ts`), and it still needs `--allow-net`
 * only. `--no-web` turns this off (404).
 *
 * Every answer carries a strict Content-Security-Policy: scripts and styles from this origin only
 * (no inline script or style, no eval), connections to this origin and to the relay's WebSocket
 * URL only, no frames, no forms elsewhere. The page's script tag carries Subresource Integrity,
 * and the relay prints the script's SHA-256 at start-up (the page shows it too).
 *
 * @module
 */

import bundle from "../web/dist/bundle.json" with { type: "json" };

/** What `web/dist/bundle.json` holds (`web/build.ts` writes it). */
export interface WebBundle {
  html: string;
  js: string;
  css: string;
  /** SHA-256 of `js`, hex. */
  sha256: string;
  /** `sha384-...` of `js`. */
  integrity: string;
}

/** The bundle built into this relay. */
export const WEB_BUNDLE: WebBundle = bundle;

/** An HTTP answer (the shape of `HttpAnswer` in `transport_websocket.ts`). */
export interface WebAnswer {
  status: number;
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

/**
 * The Content-Security-Policy of the page.
 *
 * @param relays WebSocket URLs (or origins) the page may connect to besides its own origin.
 * @returns The header value.
 */
export function contentSecurityPolicy(relays: readonly string[]): string {
  const connect = ["'self'", ...relays.map(originOf).filter((o) => o !== "")].join(" ");
  return [
    "default-src 'none'",
    "script-src 'self'",
    // The IO worker (web/io_worker.ts) starts from a blob: URL made by the page's own script.
    "worker-src blob:",
    "style-src 'self'",
    `connect-src ${connect}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Headers every web answer carries. */
export function securityHeaders(relays: readonly string[]): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(relays),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-cache",
  };
}

/**
 * Answers a request for the web client, or returns null when the path is not one of its.
 *
 * @param method HTTP method.
 * @param path Path without the query.
 * @param options `host`: the request's Host header (the page's WebSocket goes there);
 *   `relay`: the relay URL to put in the page (`deno task web --relay`); `bundle`: for tests.
 * @returns The answer, or null.
 */
export function webAnswer(
  method: string,
  path: string,
  options: { host?: string | undefined; secure?: boolean; relay?: string; bundle?: WebBundle } = {},
): WebAnswer | null {
  if (method !== "GET") return null;
  const b = options.bundle ?? WEB_BUNDLE;
  const relays: string[] = [];
  if (options.relay !== undefined) relays.push(options.relay);
  if (options.host !== undefined && /^[A-Za-z0-9.\-:[\]]+$/.test(options.host)) {
    relays.push(`${options.secure ? "wss" : "ws"}://${options.host}/`);
  }
  const headers = securityHeaders(relays);
  switch (path) {
    case "/":
    case "/index.html": {
      const html = options.relay === undefined ? b.html : b.html.replace(
        '<meta name="hush-relay" content="">',
        `<meta name="hush-relay" content="${escapeAttribute(options.relay)}">`,
      );
      return { status: 200, body: html, contentType: "text/html; charset=utf-8", headers };
    }
    case "/app.js":
      return {
        status: 200,
        body: b.js,
        contentType: "text/javascript; charset=utf-8",
        headers,
      };
    case "/app.css":
      return { status: 200, body: b.css, contentType: "text/css; charset=utf-8", headers };
    default:
      return null;
  }
}

function originOf(url: string): string {
  try {
    const u = new URL(url);
    if (!/^(wss?|https?):$/.test(u.protocol)) return "";
    return `${u.protocol}//${u.host}`;
  } catch {
    return "";
  }
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
