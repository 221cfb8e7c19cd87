/**
 * Shared helpers of the browser end-to-end tests (`web_*_e2e.ts`): a real relay process (which
 * serves the web client at `GET /`), real `client.ts --json` processes (tests/e2e/_client_harness.ts),
 * and Debian's Chromium driven headless by `playwright-core` (no browser download: the binary is
 * `/usr/bin/chromium`, or `HUSH_CHROMIUM`).
 *
 * Each {@link WebUser} is one browser context (its own IndexedDB, so its own identity) with one
 * page. It records console errors, uncaught page errors, Content-Security-Policy violations (from
 * a `securitypolicyviolation` listener installed before any page script, and the console), and
 * every WebSocket frame the page sends or receives, read from the DevTools protocol
 * (`Network.webSocketFrameSent` / `Network.webSocketFrameReceived`).
 *
 * The page is driven only through the accessible names of the contract (CONTRACT §2 and issue 12):
 * textbox "Nick", button "Connect", textbox "Message", button "Send", log "Messages", status
 * "Connection", lists "Users", "Rooms", "Conversations", region or dialog "Safety number".
 * Every wait is bounded.
 *
 * @module
 */

import type { Browser, BrowserContext, CDPSession, Locator, Page } from "playwright-core";
import { settle, WAIT_MS, World } from "./_client_harness.ts";
import type { ChildRelayOptions } from "../../terminal/child_relay.ts";

export { settle, WAIT_MS, World };

/** The Chromium binary the tests drive. */
export const CHROMIUM = Deno.env.get("HUSH_CHROMIUM") ?? "/usr/bin/chromium";

/** Upper bound of one browser wait (the machine is small and shared: generous). */
export const WEB_WAIT_MS = 20_000;

/**
 * Listens to the page's dedicated workers too: the page's WebSocket lives in its IO worker
 * (web/io_worker.ts), whose network events go to the worker's own DevTools target, not the
 * page's. The page's session auto-attaches to each worker (not flattened: the worker's messages
 * come back through `Target.receivedMessageFromTarget` on this session), holds it at start until
 * `Network` is enabled in it, then lets it run.
 *
 * @param cdp The page's DevTools session.
 * @param listeners Event name to listener, for events of any worker.
 */
async function watchWorkers(
  cdp: CDPSession,
  listeners: Record<string, (params: unknown) => void>,
): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const raw = cdp as any;
  let id = 0;
  raw.on("Target.attachedToTarget", (e: { sessionId: string; waitingForDebugger: boolean }) => {
    const send = (method: string) =>
      raw.send("Target.sendMessageToTarget", {
        sessionId: e.sessionId,
        message: JSON.stringify({ id: ++id, method, params: {} }),
      }).catch(() => {}); // the worker (or the page) went away
    send("Network.enable").then(() => send("Runtime.runIfWaitingForDebugger"));
  });
  raw.on("Target.receivedMessageFromTarget", (e: { message: string }) => {
    const message = JSON.parse(e.message) as { method?: string; params?: unknown };
    if (message.method !== undefined) listeners[message.method]?.(message.params);
  });
  await raw.send("Target.setAutoAttach", {
    autoAttach: true,
    waitForDebuggerOnStart: true,
    flatten: false,
  });
}

/**
 * Launches headless Chromium. As root (CI containers), Chromium refuses its sandbox: it is then
 * started with `--no-sandbox`, as it must be.
 *
 * @returns The browser.
 */
let playwright: Promise<typeof import("playwright-core")> | undefined;

/**
 * Loads `playwright-core`. Its bundled `is-wsl` probes `/proc/sys/fs/binfmt_misc/WSLInterop` when
 * the module loads, a path Deno opens only under `--allow-all` (`deno task test` grants less, and
 * the probe then throws `NotCapable`). Its own switch `__IS_WSL_TEST__` defers the probe; only
 * playwright's open-a-URL-in-a-desktop-browser helper would run it, never a launch.
 *
 * @returns The module.
 */
function loadPlaywright(): Promise<typeof import("playwright-core")> {
  if (Deno.env.get("__IS_WSL_TEST__") === undefined) Deno.env.set("__IS_WSL_TEST__", "1");
  return playwright ??= import("playwright-core");
}

export async function launchChromium(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) ` +
        "or set HUSH_CHROMIUM to a Chromium binary",
    );
  }
  const root = Deno.uid?.() === 0;
  const { chromium } = await loadPlaywright();
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      ...(root ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
    ],
  });
}

/** One WebSocket frame the page sent or received, as read from the DevTools protocol. */
export interface WsFrame {
  dir: "sent" | "received";
  /** 1 text, 2 binary. */
  opcode: number;
  /** The payload as the DevTools protocol gave it (base64 for binary frames, text for text). */
  raw: string;
  /** The payload bytes (base64-decoded for binary frames, UTF-8 for text frames). */
  bytes: Uint8Array;
  /** `performance.now()` in this process when the event arrived. */
  at: number;
  /** When the browser sent or received it: its monotonic clock, in ms (see `wallClockOffsetMs`). */
  browserTime: number;
}

/** Options of a browser user. */
export interface WebUserOptions {
  /** Viewport (default 1280x800). */
  viewport?: { width: number; height: number };
  /** `light` or `dark` (prefers-color-scheme); default light. */
  colorScheme?: "light" | "dark";
  /** Device scale factor (default 1). */
  deviceScaleFactor?: number;
  /** Touch/mobile emulation. */
  isMobile?: boolean;
  /**
   * Makes every IndexedDB write of the page's workers take at least this long to commit (a slow
   * disk), by keeping each `readwrite` transaction busy: see {@link slowIndexedDbScript}.
   */
  slowIndexedDbMs?: number;
  /**
   * Lets the test make every later IndexedDB write of the page's workers fail (the transaction
   * aborts, as on a full disk): {@link WebUser.failWrites}.
   */
  failableIndexedDb?: boolean;
}

/**
 * An init script that prepends, to every JavaScript `Blob` the page turns into a URL (the IO
 * worker's source, web/io_link.ts), a prelude that wraps IndexedDB's `transaction()`: with
 * `slowMs`, each `readwrite` transaction is held open that long by a chain of `count()` requests
 * before it may commit (a slow disk); with `failable`, once a message "fail-writes" arrives on the
 * `BroadcastChannel` "hush-test", every later `readwrite` transaction aborts (a full disk).
 * Test-only: the page's code is unchanged (the blob is made after the script's integrity check).
 *
 * @param options What to do to the writes.
 * @returns The script.
 */
function indexedDbPreludeScript(options: { slowMs?: number; failable?: boolean }): string {
  const prelude = `(() => {
    const slowMs = ${options.slowMs ?? 0};
    let failing = false;
    if (${options.failable === true}) {
      new BroadcastChannel("hush-test").onmessage = (e) => { if (e.data === "fail-writes") failing = true; };
    }
    const open = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (scope, mode, options) {
      const tx = open.call(this, scope, mode, options);
      if (mode !== "readwrite") return tx;
      if (failing) {
        queueMicrotask(() => tx.abort());
        return tx;
      }
      if (slowMs > 0) {
        const store = tx.objectStore(Array.isArray(scope) ? scope[0] : scope);
        const until = performance.now() + slowMs;
        const spin = () => {
          if (performance.now() < until) store.count().onsuccess = spin;
        };
        spin();
      }
      return tx;
    };
  })();\n`;
  return `(() => {
    const make = URL.createObjectURL;
    URL.createObjectURL = (blob) =>
      make(blob instanceof Blob && blob.type === "text/javascript"
        ? new Blob([${JSON.stringify(prelude)}, blob], { type: blob.type })
        : blob);
  })();`;
}

/** Records CSP violations in the page before any of its scripts runs (not subject to CSP). */
const INIT_SCRIPT = `(() => {
  const seen = [];
  Object.defineProperty(window, "__hushCspViolations", { value: seen });
  document.addEventListener("securitypolicyviolation", (e) => {
    seen.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
  }, true);
})();`;

/** A browser user: one context, one page, with everything it logged and put on the wire. */
export class WebUser {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly cdp: CDPSession;
  /** Console messages of type `error` (and CSP reports, which Chromium logs as errors). */
  readonly consoleErrors: string[] = [];
  /** Every console message, `type: text`, for failure messages. */
  readonly console: string[] = [];
  /** Uncaught exceptions in the page. */
  readonly pageErrors: string[] = [];
  /** Every WebSocket frame, both ways, in order. */
  readonly frames: WsFrame[] = [];
  /** The nick asked for in {@link connect}. */
  nick = "";
  /**
   * Wall clock minus the browser's monotonic clock, in ms, from the last WebSocket handshake:
   * `frame.browserTime + wallClockOffsetMs` is when a frame went or came, in epoch ms.
   */
  wallClockOffsetMs: number | undefined;

  private constructor(context: BrowserContext, page: Page, cdp: CDPSession) {
    this.context = context;
    this.page = page;
    this.cdp = cdp;
  }

  /**
   * Opens a new context and page, installs the recorders, but does not navigate.
   *
   * @param browser The browser.
   * @param options Viewport and colour scheme.
   * @returns The user.
   */
  static async create(browser: Browser, options: WebUserOptions = {}): Promise<WebUser> {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      colorScheme: options.colorScheme ?? "light",
      deviceScaleFactor: options.deviceScaleFactor ?? 1,
      isMobile: options.isMobile ?? false,
      hasTouch: options.isMobile ?? false,
      reducedMotion: "reduce",
    });
    context.setDefaultTimeout(WEB_WAIT_MS);
    await context.addInitScript({ content: INIT_SCRIPT });
    if (options.slowIndexedDbMs !== undefined || options.failableIndexedDb === true) {
      await context.addInitScript({
        content: indexedDbPreludeScript({
          ...(options.slowIndexedDbMs === undefined ? {} : { slowMs: options.slowIndexedDbMs }),
          failable: options.failableIndexedDb === true,
        }),
      });
    }
    return await WebUser.onContext(context);
  }

  /**
   * A new page in an existing context (the same browser profile: IndexedDB, localStorage), with
   * the recorders installed, not navigated: the same user coming back after a tab was closed or
   * crashed.
   *
   * @param context A context made by {@link create}.
   * @returns The user.
   */
  static async onContext(context: BrowserContext): Promise<WebUser> {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const user = new WebUser(context, page, cdp);
    page.on("console", (m) => {
      const line = `${m.type()}: ${m.text()}`;
      user.console.push(line);
      if (m.type() === "error") user.consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => user.pageErrors.push(String(e?.stack ?? e)));
    await cdp.send("Network.enable");
    // The handshake event carries both clocks: the browser's monotonic one and the wall clock.
    cdp.on(
      "Network.webSocketWillSendHandshakeRequest",
      (e: { timestamp: number; wallTime: number }) => {
        user.wallClockOffsetMs = e.wallTime * 1000 - e.timestamp * 1000;
      },
    );
    const onFrame = (dir: "sent" | "received") =>
    (
      e: { timestamp: number; response: { opcode: number; payloadData: string } },
    ) => {
      const { opcode, payloadData } = e.response;
      const bytes = opcode === 1
        ? new TextEncoder().encode(payloadData)
        : base64Decode(payloadData);
      user.frames.push({
        dir,
        opcode,
        raw: payloadData,
        bytes,
        at: performance.now(),
        browserTime: e.timestamp * 1000,
      });
    };
    cdp.on("Network.webSocketFrameSent", onFrame("sent"));
    cdp.on("Network.webSocketFrameReceived", onFrame("received"));
    await watchWorkers(cdp, {
      "Network.webSocketWillSendHandshakeRequest": (e) => {
        const { timestamp, wallTime } = e as { timestamp: number; wallTime: number };
        user.wallClockOffsetMs = wallTime * 1000 - timestamp * 1000;
      },
      "Network.webSocketFrameSent": onFrame("sent") as (e: unknown) => void,
      "Network.webSocketFrameReceived": onFrame("received") as (e: unknown) => void,
    });
    return user;
  }

  /**
   * Loads the page and waits for the Nick field.
   *
   * @param url The page's URL.
   * @returns The HTTP response of the document.
   */
  async open(url: string): Promise<Response> {
    const response = await this.page.goto(url, { waitUntil: "load", timeout: WEB_WAIT_MS });
    if (response === null) throw new Error(`no response for ${url}`);
    await this.page.getByRole("textbox", { name: "Nick" }).waitFor({ state: "visible" });
    return new Response(null, {
      status: response.status(),
      headers: new Headers(await response.allHeaders()),
    });
  }

  /** The status element named "Connection". */
  get connection(): Locator {
    return this.page.getByRole("status", { name: "Connection" });
  }

  /** The timeline (role log, named "Messages"). */
  get log(): Locator {
    return this.page.getByRole("log", { name: "Messages" });
  }

  /** The message box. */
  get messageBox(): Locator {
    return this.page.getByRole("textbox", { name: "Message" });
  }

  /**
   * Fills "Nick" (and "Passphrase" when given), clicks "Connect", and waits until the status
   * "Connection" says `connected as NICK`.
   *
   * @param nick The nick to ask for.
   * @param options Passphrase; `expectNick` when the relay grants another nick.
   * @returns The time from the click to connected, in ms.
   */
  async connect(nick: string, options: { passphrase?: string } = {}): Promise<number> {
    this.nick = nick;
    await this.page.getByRole("textbox", { name: "Nick" }).fill(nick);
    if (options.passphrase !== undefined) {
      await this.page.getByRole("textbox", { name: "Passphrase" }).fill(options.passphrase);
    }
    const t0 = performance.now();
    await this.page.getByRole("button", { name: "Connect" }).click();
    await this.waitConnected();
    return performance.now() - t0;
  }

  /**
   * Waits until the status "Connection" contains `connected as NICK`.
   *
   * @param timeoutMs Bound (default {@link WEB_WAIT_MS}).
   */
  async waitConnected(timeoutMs = WEB_WAIT_MS): Promise<void> {
    await this.waitUntil(
      async () =>
        (await this.connection.count()) > 0 &&
        (await this.connection.first().textContent() ?? "").includes(`connected as ${this.nick}`),
      `status "Connection" to say "connected as ${this.nick}"`,
      timeoutMs,
    );
  }

  /**
   * Types a line (a message or a command) in "Message" and clicks "Send".
   *
   * @param text The line.
   */
  async say(text: string): Promise<void> {
    await this.messageBox.fill(text);
    await this.page.getByRole("button", { name: "Send" }).click();
  }

  /**
   * The timeline's listitems that contain `text` (and `from`, when given).
   *
   * @param text Message text.
   * @param from Sender nick.
   * @returns The locator.
   */
  messages(text: string, from?: string): Locator {
    let items = this.log.getByRole("listitem").filter({ hasText: text });
    if (from !== undefined) items = items.filter({ hasText: from });
    return items;
  }

  /**
   * Waits until the timeline shows a message with `text` (and sender `from`).
   *
   * @param text Message text.
   * @param from Sender nick.
   * @param timeoutMs Bound.
   * @returns The first matching listitem.
   */
  async waitForMessage(text: string, from?: string, timeoutMs = WEB_WAIT_MS): Promise<Locator> {
    await this.waitUntil(
      async () => (await this.messages(text, from).count()) > 0,
      `a message "${text}"${from ? ` from ${from}` : ""} in the log "Messages"`,
      timeoutMs,
    );
    return this.messages(text, from).first();
  }

  /**
   * Opens the private conversation with `nick` from the list "Conversations".
   *
   * @param nick The peer.
   */
  async openConversation(nick: string): Promise<void> {
    const item = this.page.getByRole("list", { name: "Conversations" }).getByRole("listitem")
      .filter({ hasText: nick }).first();
    await item.waitFor({ state: "visible" });
    const button = item.getByRole("button");
    if (await button.count() > 0) await button.first().click();
    else await item.click();
  }

  /**
   * Opens a room from the list "Rooms" (written `#name`).
   *
   * @param room The room name, without `#`.
   */
  async openRoom(room: string): Promise<void> {
    const item = this.page.getByRole("list", { name: "Rooms" }).getByRole("listitem")
      .filter({ hasText: `#${room}` }).first();
    await item.waitFor({ state: "visible" });
    const button = item.getByRole("button");
    if (await button.count() > 0) await button.first().click();
    else await item.click();
  }

  /**
   * The CSP violations the page reported so far (listener plus console).
   *
   * @returns One line each.
   */
  async cspViolations(): Promise<string[]> {
    const fromEvents = await this.page.evaluate(
      () => [
        ...((globalThis as unknown as { __hushCspViolations?: string[] }).__hushCspViolations ??
          []),
      ],
    ).catch(() => [] as string[]);
    const fromConsole = this.console.filter((l) => /Content Security Policy/i.test(l));
    return [...fromEvents, ...fromConsole];
  }

  /**
   * Polls `condition` every 50 ms until it holds.
   *
   * @param condition What to wait for.
   * @param what Its description, for the error.
   * @param timeoutMs Bound.
   * @throws {Error} On timeout, with the page's recent console output.
   */
  async waitUntil(
    condition: () => Promise<boolean> | boolean,
    what: string,
    timeoutMs = WEB_WAIT_MS,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await condition()) return;
      if (Date.now() > deadline) {
        const status = await this.connection.first().textContent({ timeout: 500 }).catch(() =>
          "(none)"
        );
        const shown: string[] = await this.log.getByRole("listitem").allInnerTexts().catch(
          () => [],
        );
        if (shown.length === 0) {
          const body = await this.page.locator("body").innerText({ timeout: 1_000 }).catch(() =>
            ""
          );
          shown.push(`(no message in the log; the page says:) ${body.slice(0, 1_500)}`);
        }
        throw new Error(
          `${this.nick || "browser"}: timed out after ${timeoutMs} ms waiting for ${what}; ` +
            `status: ${status}; last messages shown:\n  ${
              shown.slice(-8).map((t) => t.replace(/\s+/g, " ")).join("\n  ")
            }\nconsole:\n  ${this.console.slice(-8).join("\n  ")}` +
            `\npage errors:\n  ${this.pageErrors.slice(-3).join("\n  ")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * From now on every IndexedDB write of the page's IO worker aborts (needs `failableIndexedDb`).
   */
  async failWrites(): Promise<void> {
    await this.page.evaluate(() => new BroadcastChannel("hush-test").postMessage("fail-writes"));
  }

  /** Closes the context (and its page). */
  async close(): Promise<void> {
    await this.cdp.detach().catch(() => {});
    await this.context.close().catch(() => {});
  }
}

/** A relay, its terminal clients (a {@link World}), and one browser with its users. */
export class WebWorld {
  readonly world: World;
  readonly browser: Browser;
  readonly users: WebUser[] = [];

  private constructor(world: World, browser: Browser) {
    this.world = world;
    this.browser = browser;
  }

  /**
   * Starts a relay (in a fresh temporary directory) and Chromium.
   *
   * @param options Relay options (`store: true` puts a SQLite store in the directory).
   * @returns The world.
   */
  static async create(
    options: Omit<ChildRelayOptions, "store"> & { store?: boolean } = {},
  ): Promise<WebWorld> {
    const world = await World.create(options);
    try {
      const browser = await launchChromium();
      return new WebWorld(world, browser);
    } catch (error) {
      await world.close();
      throw error;
    }
  }

  /** `http://127.0.0.1:PORT/`: the page, served by the relay on its WebSocket port. */
  get pageUrl(): string {
    return `http://127.0.0.1:${this.world.relay.port}/`;
  }

  /**
   * A new browser user with the page loaded (not yet connected).
   *
   * @param options Viewport and colour scheme.
   * @returns The user.
   */
  async user(options: WebUserOptions & { url?: string } = {}): Promise<WebUser> {
    const user = await WebUser.create(this.browser, options);
    this.users.push(user);
    await user.open(options.url ?? this.pageUrl);
    return user;
  }

  /** Closes every page, the browser, the clients and the relay, and deletes the directory. */
  async close(): Promise<void> {
    await Promise.all(this.users.map((u) => u.close()));
    await withTimeout(this.browser.close(), 10_000).catch(() => {});
    await this.world.close();
  }
}

/**
 * Runs a test body in a fresh relay + browser world and always cleans up.
 *
 * @param body The test body.
 * @param options Relay options.
 */
export async function withWebWorld(
  body: (web: WebWorld) => Promise<void>,
  options: Omit<ChildRelayOptions, "store"> & { store?: boolean } = {},
): Promise<void> {
  const web = await WebWorld.create(options);
  try {
    await body(web);
  } finally {
    await web.close();
  }
}

/** Registers a browser end-to-end test (sanitizers off: the browser's pipes close asynchronously). */
export function webTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/**
 * Every form in which `marker` could show in a frame: its UTF-8 bytes, and its text in base64
 * (at the three byte alignments), hex and UTF-16.
 *
 * @param frame The frame.
 * @param marker The text.
 * @returns The forms found (empty: none).
 */
export function markerForms(frame: WsFrame, marker: string): string[] {
  const found: string[] = [];
  const utf8 = new TextEncoder().encode(marker);
  if (indexOfBytes(frame.bytes, utf8) >= 0) found.push("utf-8 bytes");
  if (frame.raw.includes(marker)) found.push("payload text");
  const text = new TextDecoder("utf-8", { fatal: false }).decode(frame.bytes);
  if (text.includes(marker)) found.push("decoded text");
  const hex = [...utf8].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (text.toLowerCase().includes(hex) || frame.raw.toLowerCase().includes(hex)) found.push("hex");
  for (let shift = 0; shift < 3; shift++) {
    // The base64 of the marker preceded by `shift` bytes, minus the chars those bytes touch.
    const b64 = base64Encode(new Uint8Array([...new Uint8Array(shift), ...utf8]));
    const start = shift === 0 ? 0 : shift === 1 ? 2 : 3;
    const core = b64.slice(start, b64.length - 4);
    if (core.length >= 8 && (text.includes(core) || frame.raw.includes(core))) {
      found.push(`base64 (shift ${shift})`);
    }
  }
  const utf16 = new Uint8Array(marker.length * 2);
  for (let i = 0; i < marker.length; i++) utf16[i * 2] = marker.charCodeAt(i) & 0xff;
  if (indexOfBytes(frame.bytes, utf16) >= 0) found.push("utf-16le bytes");
  return found;
}

/** Position of `needle` in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function base64Decode(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function base64Encode(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * Rejects when `promise` takes longer than `ms`.
 *
 * @param promise The promise.
 * @param ms Bound.
 * @returns Its value.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
