/// <reference lib="dom" />
/**
 * The browser client's screen: the connect form, then the chat (rooms, private conversations,
 * users, timeline, safety numbers, key-change banners, cipher picker, wire view). It drives the
 * same engine as the terminal (`chat/engine.ts`) and shows its events (`chat/events.ts`); every
 * piece of state on screen comes from an event.
 *
 * Accessible names are a contract (docs/WEB.md, the browser tests rely on them).
 *
 * @module
 */

import { type ChatClient, type ChatClientOptions, createChatClient } from "../chat/engine.ts";
import type { ChatEvent, UserInfo, WireView } from "../chat/events.ts";
import type { ChatHome } from "../chat/home.ts";
import { type Child, el, replace } from "./dom.ts";
import { CIPHER_CHOICES, parseLine, USAGE, type WebCommand } from "./commands.ts";
import { qrSvg } from "./qr.ts";
import { ChatError } from "../chat/errors.ts";

/** What the page needs from its surroundings (a browser; tests may pass fakes). */
export interface AppEnvironment {
  /** The relay's WebSocket URL. */
  relayUrl: string;
  /** Opens the home of a nick (IndexedDB, with the passphrase lock). */
  openHome(
    nick: string,
    passphrase: string,
  ): Promise<ChatHome & { release?(): void; readonly name?: string }>;
  /** Notes the nick the relay granted to a home's identity (to find the home by it later). */
  noteNick?(home: string, nick: string): void;
  /** The bundle's SHA-256, shown on the page. */
  bundleSha256: string;
  /** Opens the relay connection (the page's IO worker); default: the engine's own. */
  connectTransport?: ChatClientOptions["connectTransport"];
}

/** One line of a conversation. */
interface Line {
  id: string;
  from: string;
  text: string;
  ts: number;
  own: boolean;
  state: "pending" | "sent" | "undelivered" | "received";
  insecure: boolean;
  cipher: string;
  /** Perhaps shown before the page (or the browser) died: the engine's `repeat` flag. */
  repeat?: boolean;
  /** Written before a message of this conversation shown above it: the engine's `late` flag. */
  late?: boolean;
  node?: HTMLLIElement;
}

/** A conversation: a room (`#name`) or a private one (`@nick`). */
interface Conversation {
  key: string;
  lines: Line[];
  unread: number;
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const MAX_LINES = 2000;
const MAX_WIRE = 200;

/** The page. */
export class App {
  readonly #env: AppEnvironment;
  readonly #root: HTMLElement;
  #client: ChatClient | undefined;
  #home: (ChatHome & { release?(): void; readonly name?: string }) | undefined;
  #nick = "";
  #fingerprint = "";
  /** The open conversation's key. */
  #view = "#lobby";
  #rooms: string[] = [];
  #conversations = new Map<string, Conversation>();
  #users = new Map<string, UserInfo>();
  #usersRoom: string | null = null;
  #pendingKeys = new Map<string, { oldFingerprint: string; newFingerprint: string }>();
  #verifyPeer: string | undefined;
  /** The last comparison's result per peer, shown again when the dialog is redrawn. */
  #verifyResults = new Map<string, { text: string; ok: boolean }>();
  #wire = false;
  #badge = 0;

  // Elements of the chat screen.
  #status!: HTMLElement;
  #roomsList!: HTMLUListElement;
  #convList!: HTMLUListElement;
  #usersList!: HTMLUListElement;
  #title!: HTMLElement;
  #log!: HTMLElement;
  #lines!: HTMLUListElement;
  #alerts!: HTMLElement;
  #banners!: HTMLElement;
  #input!: HTMLInputElement;
  #cipher!: HTMLSelectElement;
  #wireBox!: HTMLInputElement;
  #wirePanel!: HTMLElement;
  #wireList!: HTMLOListElement;
  #dialog!: HTMLDialogElement;
  #dialogBody!: HTMLElement;
  #me!: HTMLElement;
  #unreadAll!: HTMLButtonElement;

  /**
   * Shows the connect form in `root`.
   *
   * @param root The element the page lives in.
   * @param env Relay URL, home opener, bundle hash.
   */
  constructor(root: HTMLElement, env: AppEnvironment) {
    this.#root = root;
    this.#env = env;
    this.#showConnect();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.#markRead(this.#view);
    });
  }

  // ---------------------------------------------------------------- connect form

  #showConnect(error?: string): void {
    const nick = el("input", {
      id: "nick",
      name: "nick",
      autocomplete: "username",
      required: true,
      maxlength: 32,
      spellcheck: "false",
      autocapitalize: "off",
    });
    const passphrase = el("input", {
      id: "passphrase",
      name: "passphrase",
      type: "password",
      autocomplete: "current-password",
    });
    const alert = el("p", { role: "alert", class: "error" }, error ?? "");
    const button = el("button", { type: "submit" }, "Connect");
    const form = el(
      "form",
      {
        class: "connect",
        "aria-label": "Connect",
        onsubmit: (event: Event) => {
          event.preventDefault();
          button.disabled = true;
          alert.textContent = passphrase.value === "" ? "" : "Opening the locked home…";
          this.#connect(nick.value.trim(), passphrase.value).catch((e) => {
            button.disabled = false;
            alert.textContent = errorText(e);
          });
        },
      },
      el("h1", {}, "Hush"),
      el("p", { class: "lead" }, "End-to-end encrypted chat. The relay only sees ciphertext."),
      el("label", { for: "nick" }, "Nick"),
      nick,
      el("label", { for: "passphrase" }, "Passphrase"),
      passphrase,
      el(
        "p",
        { class: "hint", id: "passphrase-hint" },
        "Optional: locks your keys in this browser (asked again on each visit). " +
          "Empty: they are kept unencrypted in this browser's storage.",
      ),
      button,
      alert,
      el("p", { class: "hint" }, "Relay: ", el("code", {}, this.#env.relayUrl)),
    );
    passphrase.setAttribute("aria-describedby", "passphrase-hint");
    replace(this.#root, el("main", { class: "connect-page" }, form));
    nick.focus();
  }

  async #connect(nick: string, passphrase: string): Promise<void> {
    if ("Notification" in globalThis && Notification.permission === "default") {
      // Asked on the Connect click (a user gesture); the answer does not block connecting.
      Promise.resolve(Notification.requestPermission()).catch(() => {});
    }
    const home = await this.#env.openHome(nick, passphrase);
    let client: ChatClient;
    try {
      client = await createChatClient({
        server: this.#env.relayUrl,
        nick,
        home,
        ...(this.#env.connectTransport === undefined
          ? {}
          : { connectTransport: this.#env.connectTransport }),
      });
    } catch (error) {
      home.release?.();
      throw error;
    }
    this.#home = home;
    this.#client = client;
    this.#buildChat();
    client.on((event) => this.#onEvent(event));
    try {
      await client.connect();
    } catch (error) {
      this.#client = undefined;
      await client.close().catch(() => {});
      home.release?.();
      this.#home = undefined;
      this.#conversations.clear();
      this.#rooms = [];
      this.#users.clear();
      this.#pendingKeys.clear();
      this.#view = "#lobby";
      this.#showConnect(errorText(error));
      return;
    }
    client.listRooms();
  }

  // ---------------------------------------------------------------- chat screen

  #buildChat(): void {
    this.#status = el(
      "p",
      { role: "status", "aria-label": "Connection", class: "status" },
      "connecting…",
    );
    this.#me = el("p", { class: "me" });
    this.#unreadAll = el("button", {
      type: "button",
      class: "unread-all",
      hidden: true,
      onclick: () => {
        const next = [...this.#conversations.values()].find((c) => c.unread > 0);
        if (next === undefined) return;
        if (next.key.startsWith("#")) this.#switchRoom(next.key.slice(1));
        else this.#open(next.key);
        this.#input.focus();
      },
    });
    this.#cipher = el(
      "select",
      {
        id: "cipher",
        "aria-label": "Cipher",
        onchange: () => void this.#client?.setCipher(this.#cipher.value),
      },
      ...CIPHER_CHOICES.map((id) =>
        el(
          "option",
          { value: id, class: id === "caesar" ? "insecure" : undefined },
          id === "caesar" ? "caesar (insecure)" : id,
        )
      ),
    );
    this.#wireBox = el("input", {
      type: "checkbox",
      id: "wire",
      onchange: () => this.#setWire(this.#wireBox.checked),
    });
    this.#roomsList = el("ul", { "aria-label": "Rooms", class: "rooms" });
    this.#convList = el("ul", { "aria-label": "Conversations", class: "conversations" });
    this.#usersList = el("ul", { "aria-label": "Users", class: "users" });
    const joinInput = el("input", {
      id: "join-room",
      placeholder: "#room",
      "aria-label": "Room to join",
      spellcheck: "false",
      autocapitalize: "off",
    });
    const joinForm = el(
      "form",
      {
        class: "join",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const line = joinInput.value.trim();
          if (line === "") return;
          joinInput.value = "";
          this.#run(`/join ${line}`);
        },
      },
      joinInput,
      el("button", { type: "submit" }, "Join"),
    );
    this.#title = el("h2", { class: "title", id: "title" });
    this.#lines = el("ul", { class: "lines" });
    this.#log = el(
      "section",
      { role: "log", "aria-label": "Messages", "aria-live": "polite", class: "log", tabindex: 0 },
      this.#lines,
    );
    this.#alerts = el("div", { class: "alerts" });
    this.#banners = el("div", { class: "banners" });
    this.#input = el("input", {
      id: "message",
      "aria-label": "Message",
      autocomplete: "off",
      placeholder: "Message, or /help",
      enterkeyhint: "send",
    });
    const compose = el(
      "form",
      {
        class: "compose",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const line = this.#input.value;
          if (line.trim() === "") return;
          this.#input.value = "";
          this.#run(line);
        },
      },
      this.#input,
      el("button", { type: "submit" }, "Send"),
    );
    this.#wireList = el("ol", { class: "wire-list" });
    this.#wirePanel = el(
      "section",
      { "aria-label": "What the relay saw", class: "wire", hidden: true },
      el("h2", {}, "What the relay saw"),
      el(
        "p",
        { class: "hint" },
        "Every envelope as the relay handles it: the clear header, then the opaque body.",
      ),
      this.#wireList,
    );
    this.#dialogBody = el("div");
    this.#dialog = el(
      "dialog",
      { "aria-label": "Safety number", class: "safety", onclose: () => this.#input.focus() },
      this.#dialogBody,
    );
    const shell = el(
      "div",
      { class: "shell" },
      el(
        "header",
        { class: "top" },
        el("h1", {}, "Hush"),
        this.#status,
        this.#me,
        this.#unreadAll,
        el(
          "div",
          { class: "controls" },
          el("label", { for: "cipher" }, "Cipher "),
          this.#cipher,
          el("label", { class: "switch" }, this.#wireBox, " Wire view"),
        ),
      ),
      el(
        "nav",
        { class: "side", "aria-label": "Conversations and rooms" },
        el("h2", {}, "Rooms"),
        this.#roomsList,
        joinForm,
        el("h2", {}, "Private"),
        this.#convList,
        el("h2", {}, "Users"),
        this.#usersList,
      ),
      el(
        "main",
        { class: "chat" },
        this.#title,
        this.#banners,
        this.#log,
        this.#alerts,
        compose,
      ),
      this.#wirePanel,
      this.#dialog,
    );
    replace(this.#root, shell);
    shell.addEventListener("keydown", (event) => this.#onKey(event));
    this.#wireBox.setAttribute("aria-label", "Wire view");
    this.#renderView();
    this.#input.focus();
  }

  /** Alt+ArrowUp / Alt+ArrowDown: the previous / next conversation (rooms, then private). */
  #onKey(event: KeyboardEvent): void {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const keys = [
      ...this.#rooms.map((room) => `#${room}`),
      ...[...this.#conversations.keys()].filter((key) => key.startsWith("@")),
    ];
    if (keys.length === 0) return;
    event.preventDefault();
    const at = keys.indexOf(this.#view);
    const next = keys[(at + (event.key === "ArrowUp" ? keys.length - 1 : 1)) % keys.length]!;
    if (next.startsWith("#")) this.#switchRoom(next.slice(1));
    else this.#open(next);
    this.#input.focus();
  }

  // ---------------------------------------------------------------- commands

  #run(line: string): void {
    const parsed = parseLine(line);
    if (!parsed.ok) return this.#error("BAD_COMMAND", parsed.message);
    if (parsed.command === null) return;
    this.#clearAlerts();
    this.#command(parsed.command).catch((error) => this.#error(codeOf(error), errorText(error)));
  }

  async #command(command: WebCommand): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    switch (command.kind) {
      case "say":
        if (this.#view.startsWith("@")) return this.#sendPrivate(this.#view.slice(1), command.text);
        await client.sendRoom(command.text);
        return;
      case "private":
        this.#open(`@${client.canonicalNick(command.nick)}`);
        return this.#sendPrivate(command.nick, command.text);
      case "open":
        this.#open(`@${client.canonicalNick(command.nick)}`);
        return;
      case "join":
        await client.join(command.room);
        return;
      case "leave":
        await (command.room === undefined
          ? client.leave(this.#view.startsWith("#") ? this.#view.slice(1) : client.room)
          : client.leave(command.room));
        client.listRooms();
        return;
      case "users":
        client.listUsers(command.everyone ? undefined : client.room);
        return;
      case "rooms":
        client.listRooms();
        return;
      case "nick":
        client.changeNick(command.nick);
        return;
      case "whois":
        await client.whois(command.nick);
        return;
      case "cipher":
        if (command.suite === undefined) {
          this.#notice(`Cipher: ${client.cipher}`);
        } else {
          await client.setCipher(command.suite);
        }
        return;
      case "trust":
        await client.trust(command.nick);
        return;
      case "verify":
        this.#verifyPeer = client.canonicalNick(command.nick);
        await (command.digits === undefined
          ? client.verify(command.nick)
          : client.verify(command.nick, command.digits));
        return;
      case "wire":
        this.#setWire(command.on);
        return;
      case "clear": {
        const conversation = this.#conversation(this.#view);
        conversation.lines = [];
        this.#renderView();
        return;
      }
      case "help":
        for (const usage of Object.values(USAGE)) this.#notice(usage);
        return;
    }
  }

  async #sendPrivate(nick: string, text: string): Promise<void> {
    const client = this.#client!;
    const peer = client.canonicalNick(nick);
    const pending = this.#pendingKeys.get(peer);
    if (pending !== undefined) {
      // Nothing goes on the wire until the user accepts the new key (the engine refuses too).
      this.#error(
        "IDENTITY_CHANGED",
        `Not sent: ${peer}'s identity key changed (${pending.oldFingerprint} → ` +
          `${pending.newFingerprint}). Compare safety numbers, then press "Accept new key"`,
      );
      return;
    }
    await client.sendPrivate(peer, text);
  }

  #setWire(on: boolean): void {
    this.#wire = on;
    this.#wireBox.checked = on;
    this.#wirePanel.hidden = !on;
    this.#client?.setWire(on);
  }

  // ---------------------------------------------------------------- events

  #onEvent(event: ChatEvent): void {
    switch (event.type) {
      case "ready":
        this.#nick = event.nick;
        if (this.#home?.name !== undefined) this.#env.noteNick?.(this.#home.name, event.nick);
        this.#fingerprint = event.fingerprint;
        this.#setStatus(`connected as ${event.nick}`, "online");
        replace(
          this.#me,
          "You: ",
          el("strong", {}, event.nick),
          " · key ",
          el("code", {}, event.fingerprint),
        );
        if (!this.#view.startsWith("@")) this.#open(`#${event.room}`);
        this.#client?.listRooms();
        this.#client?.listUsers(this.#client.room);
        return;
      case "connected":
        this.#setStatus("connected, signing in…", "connecting");
        return;
      case "disconnected":
        this.#setStatus(`disconnected: ${event.reason}`, "offline");
        return;
      case "reconnecting":
        this.#setStatus(
          `reconnecting (attempt ${event.attempt}, in ${Math.round(event.delayMs / 100) / 10} s)`,
          "offline",
        );
        return;
      case "message":
        return this.#onMessage(event);
      case "sent":
        return this.#setState(event.id, "sent");
      case "undelivered":
        if (!event.retrying) this.#setState(event.id, "undelivered");
        this.#notice(
          `Not delivered to ${event.to}: ${event.message}${event.retrying ? " (retrying)" : ""}`,
        );
        return;
      case "join":
        this.#lineNotice(`#${event.room}`, `${event.nick} joined #${event.room}`);
        if (event.room === this.#usersRoom) this.#upsertUser(event.nick, { online: true });
        return;
      case "leave":
        this.#lineNotice(`#${event.room}`, `${event.nick} left #${event.room}`);
        if (event.room === this.#usersRoom) {
          this.#users.delete(event.nick);
          this.#renderUsers();
        }
        return;
      case "presence":
        if (this.#users.has(event.nick)) this.#upsertUser(event.nick, { online: event.online });
        return;
      case "nick":
        this.#notice(`${event.old} is now ${event.new}`);
        if (event.old === this.#nick) {
          this.#nick = event.new;
          if (this.#home?.name !== undefined) this.#env.noteNick?.(this.#home.name, event.new);
          this.#setStatus(`connected as ${event.new}`, "online");
        }
        this.#client?.listUsers(this.#client.room);
        return;
      case "users":
        this.#usersRoom = event.room;
        this.#users = new Map(event.users.map((u) => [u.nick, u]));
        this.#renderUsers();
        return;
      case "rooms":
        this.#rooms = [...event.rooms];
        // A room just left is not shown any more: the engine's current room is.
        if (this.#view.startsWith("#") && !this.#rooms.includes(this.#view.slice(1))) {
          this.#open(`#${event.current}`);
        }
        this.#renderRooms();
        return;
      case "room":
        if (!this.#rooms.includes(event.current)) this.#rooms.push(event.current);
        this.#open(`#${event.current}`);
        this.#client?.listRooms();
        return;
      case "safety-number":
        return this.#showSafety(event);
      case "verified":
        this.#verifyResults.set(event.peer, {
          text: event.match
            ? `Verified: ${event.peer}'s number matches. Marked verified.`
            : `Does NOT match: this may not be ${event.peer}'s key. Not verified.`,
          ok: event.match,
        });
        this.#dialogResult(
          event.match
            ? `Verified: ${event.peer}'s number matches. Marked verified.`
            : `Does NOT match: this may not be ${event.peer}'s key. Not verified.`,
          event.match,
        );
        this.#notice(
          event.match
            ? `${event.peer} is verified`
            : `Safety number of ${event.peer} does not match`,
        );
        if (event.match) this.#upsertUser(event.peer, { verified: true });
        return;
      case "whois":
        this.#notice(
          `${event.nick}: key ${event.fingerprint}, ${
            event.verified ? "verified" : "not verified"
          }, ` +
            `${event.online ? "online" : "offline"}, cipher ${event.cipher}`,
        );
        return;
      case "identity-changed":
        this.#pendingKeys.set(event.peer, {
          oldFingerprint: event.oldFingerprint,
          newFingerprint: event.newFingerprint,
        });
        this.#renderBanners();
        if (this.#users.has(event.peer)) this.#upsertUser(event.peer, { verified: false });
        return;
      case "trusted":
        this.#pendingKeys.delete(event.peer);
        this.#renderBanners();
        this.#notice(`Accepted ${event.peer}'s new key ${event.fingerprint}`);
        return;
      case "same-identity":
        this.#notice(event.message, "warning");
        return;
      case "cipher":
        this.#cipher.value = event.cipher;
        this.#cipher.classList.toggle("insecure", event.insecure);
        // The engine says it in words too (an `info` event), loudly for Caesar.
        if (!event.insecure) this.#notice(`Cipher: ${event.cipher}`);
        return;
      case "wire":
        return this.#addWire(event.wire);
      case "key-shared":
        this.#lineNotice(
          `#${event.room}`,
          `Our key for #${event.room} goes to ${event.nick}` +
            (event.fingerprint
              ? ` (key ${event.fingerprint}${event.verified ? ", verified" : ""})`
              : ""),
        );
        return;
      case "key-withheld":
        this.#lineNotice(
          `#${event.room}`,
          `${event.nick} does not get our key for #${event.room} (${event.reason})`,
        );
        return;
      case "info":
        this.#notice(event.message);
        return;
      case "error":
        this.#error(event.code, event.message);
        return;
    }
  }

  #onMessage(event: Extract<ChatEvent, { type: "message" }>): void {
    const key = event.private ? `@${event.own ? event.to : event.from}` : `#${event.to}`;
    const conversation = this.#conversation(key);
    if (conversation.lines.some((line) => line.id === event.id)) return;
    const line: Line = {
      id: event.id,
      from: event.from,
      text: event.text,
      ts: event.ts,
      own: event.own,
      state: event.own ? "pending" : "received",
      insecure: event.insecure,
      cipher: event.cipher,
      // `repeat` (newer engines): shown again after a crash in the instant it was first shown.
      repeat: (event as { repeat?: boolean }).repeat === true,
      late: event.late === true,
    };
    conversation.lines.push(line);
    if (conversation.lines.length > MAX_LINES) conversation.lines.shift();
    const mention = !event.own && !event.private && mentions(event.text, this.#nick);
    const visible = key === this.#view && !document.hidden;
    if (!event.own && !visible) {
      conversation.unread++;
      if (event.private || mention) this.#notify(event.from, event.text, key);
    }
    if (key === this.#view) this.#appendLine(line, conversation.lines.at(-2));
    if (event.private && !this.#rooms.includes(key)) this.#renderConversations();
    else this.#renderRooms();
  }

  #setState(id: string, state: Line["state"]): void {
    for (const conversation of this.#conversations.values()) {
      const line = conversation.lines.find((l) => l.id === id && l.own);
      if (line === undefined) continue;
      if (line.state === "undelivered" && state === "sent") continue;
      line.state = state;
      if (line.node !== undefined) {
        line.node.dataset.state = state;
        const mark = line.node.querySelector(".state");
        if (mark) mark.textContent = stateText(state);
      }
      return;
    }
  }

  // ---------------------------------------------------------------- rendering

  #conversation(key: string): Conversation {
    let conversation = this.#conversations.get(key);
    if (conversation === undefined) {
      conversation = { key, lines: [], unread: 0 };
      this.#conversations.set(key, conversation);
    }
    return conversation;
  }

  #open(key: string): void {
    this.#conversation(key);
    if (this.#view === key) {
      this.#markRead(key);
      return;
    }
    this.#view = key;
    this.#renderView();
  }

  #markRead(key: string): void {
    const conversation = this.#conversations.get(key);
    if (conversation === undefined || conversation.unread === 0) return;
    conversation.unread = 0;
    this.#badge = 0;
    document.title = "Hush";
    this.#renderRooms();
    this.#renderConversations();
  }

  #renderView(): void {
    if (this.#title === undefined) return;
    const key = this.#view;
    const conversation = this.#conversation(key);
    conversation.unread = 0;
    replace(
      this.#title,
      key.startsWith("#") ? `Room ${key}` : `Private with ${key.slice(1)}`,
    );
    replace(this.#lines);
    let previous: Line | undefined;
    for (const line of conversation.lines) {
      this.#appendLine(line, previous);
      previous = line;
    }
    this.#input.placeholder = key.startsWith("#")
      ? `Message ${key}, or /help`
      : `Message ${key.slice(1)} privately`;
    this.#renderRooms();
    this.#renderConversations();
    this.#badge = 0;
    document.title = "Hush";
  }

  #appendLine(line: Line, previous: Line | undefined): void {
    if (line.from === "" && line.id.startsWith("notice:")) {
      const item = el("li", { role: "note", class: `notice ${line.cipher}` }, line.text);
      this.#lines.appendChild(item);
      line.node = item as HTMLLIElement;
      this.#scroll();
      return;
    }
    const grouped = previous !== undefined && previous.from === line.from &&
      !previous.id.startsWith("notice:") && line.ts - previous.ts < 5 * 60_000;
    const time = new Date(line.ts);
    const item = el(
      "li",
      {
        class: `msg${line.own ? " own" : ""}${grouped ? " grouped" : ""}${
          line.insecure ? " insecure" : ""
        }${!line.own && mentions(line.text, this.#nick) ? " mention" : ""}`,
        "data-id": line.id,
        "data-state": line.own ? line.state : undefined,
      },
      el("time", { datetime: time.toISOString(), title: time.toLocaleString() }, TIME.format(time)),
      " ",
      el("span", { class: "from" }, line.from),
      el("span", { class: "sep" }, ": "),
      el("span", { class: "text", dir: "auto" }, line.text),
      line.insecure ? " " : null,
      line.insecure ? el("span", { class: "badge insecure" }, `insecure (${line.cipher})`) : null,
      line.own ? " " : null,
      line.own ? el("span", { class: "state" }, stateText(line.state)) : null,
      line.repeat
        ? el("span", { class: "badge repeat", title: "Perhaps shown before a crash" }, " (repeat)")
        : null,
      line.late
        ? el(
          "span",
          { class: "badge late", title: "Written before messages shown above it: it came late" },
          " (late)",
        )
        : null,
    );
    line.node = item;
    this.#lines.appendChild(item);
    this.#scroll();
  }

  #scroll(): void {
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  #renderRooms(): void {
    if (this.#roomsList === undefined) return;
    const items: Child[] = this.#rooms.map((room) => {
      const key = `#${room}`;
      const unread = this.#conversations.get(key)?.unread ?? 0;
      return el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: key === this.#view ? "current" : undefined,
            "aria-current": key === this.#view ? "true" : undefined,
            onclick: () => this.#switchRoom(room),
          },
          key,
          unread > 0 ? el("span", { class: "unread" }, ` ${unread} unread`) : null,
        ),
        el(
          "button",
          {
            type: "button",
            class: "leave",
            "aria-label": `Leave #${room}`,
            title: `Leave #${room}`,
            onclick: () => this.#run(`/leave ${room}`),
          },
          "×",
        ),
      );
    });
    replace(this.#roomsList, ...items);
    this.#renderUnread();
  }

  #switchRoom(room: string): void {
    if (this.#client !== undefined && this.#client.room !== room) {
      void this.#client.join(room);
    } else {
      this.#open(`#${room}`);
    }
    this.#input.focus();
  }

  #renderConversations(): void {
    if (this.#convList === undefined) return;
    const items: Child[] = [];
    for (const conversation of this.#conversations.values()) {
      if (!conversation.key.startsWith("@")) continue;
      const peer = conversation.key.slice(1);
      items.push(
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: conversation.key === this.#view ? "current" : undefined,
              "aria-current": conversation.key === this.#view ? "true" : undefined,
              onclick: () => {
                this.#open(conversation.key);
                this.#input.focus();
              },
            },
            peer,
            conversation.unread > 0
              ? el("span", { class: "unread" }, ` ${conversation.unread} unread`)
              : null,
          ),
        ),
      );
    }
    replace(this.#convList, ...items);
    this.#renderUnread();
  }

  /** The header's total of unread messages elsewhere (on a phone the lists are below). */
  #renderUnread(): void {
    if (this.#unreadAll === undefined) return;
    let total = 0;
    for (const conversation of this.#conversations.values()) total += conversation.unread;
    this.#unreadAll.hidden = total === 0;
    this.#unreadAll.textContent = `${total} unread elsewhere`;
  }

  #upsertUser(nick: string, change: Partial<UserInfo>): void {
    const user = this.#users.get(nick) ?? { nick, online: true, verified: false };
    this.#users.set(nick, { ...user, ...change });
    this.#renderUsers();
  }

  #renderUsers(): void {
    const users = [...this.#users.values()].sort((a, b) => a.nick.localeCompare(b.nick));
    replace(
      this.#usersList,
      ...users.map((user) =>
        el(
          "li",
          { class: user.online ? "online" : "offline" },
          el(
            "span",
            { class: "who" },
            el("span", { class: "dot", "aria-hidden": "true" }, user.online ? "●" : "○"),
            " ",
            el("span", { class: "nick" }, user.nick),
            user.nick === this.#nick ? " (you)" : null,
            el("span", { class: "presence" }, user.online ? " online" : " offline"),
            user.verified ? el("span", { class: "verified" }, " verified") : null,
          ),
          user.nick === this.#nick ? null : el(
            "span",
            { class: "actions" },
            el("button", {
              type: "button",
              "aria-label": `Message ${user.nick} privately`,
              onclick: () => {
                this.#open(`@${user.nick}`);
                this.#input.focus();
              },
            }, "PM"),
            el("button", {
              type: "button",
              "aria-label": `Safety number of ${user.nick}`,
              onclick: () => this.#run(`/verify ${user.nick}`),
            }, "Verify"),
          ),
        )
      ),
    );
  }

  #renderBanners(): void {
    replace(
      this.#banners,
      ...[...this.#pendingKeys].map(([peer, change]) =>
        el(
          "div",
          { role: "alert", class: "banner" },
          el("strong", {}, `${peer}: identity key changed`),
          ` (old key ${change.oldFingerprint}, new key ${change.newFingerprint}). `,
          "They may have reinstalled, or someone may be posing as them: compare safety numbers. " +
            "Sending to them is blocked until you accept. ",
          el("button", {
            type: "button",
            onclick: () => void this.#client?.trust(peer),
          }, "Accept new key"),
          " ",
          el("button", {
            type: "button",
            onclick: () => this.#run(`/verify ${peer}`),
          }, "Compare safety numbers"),
        )
      ),
    );
  }

  #showSafety(event: Extract<ChatEvent, { type: "safety-number" }>): void {
    this.#verifyPeer = event.peer;
    const groups = event.safetyNumber.match(/.{5}/g) ?? [];
    const theirs = el("input", {
      id: "their-number",
      inputmode: "numeric",
      autocomplete: "off",
      "aria-describedby": "their-number-hint",
    });
    const last = this.#verifyResults.get(event.peer);
    const result = el(
      "p",
      { class: `result${last === undefined ? "" : last.ok ? " ok" : " bad"}`, role: "status" },
      last?.text ?? "",
    );
    replace(
      this.#dialogBody,
      el("h2", {}, `Safety number with ${event.peer}`),
      el("p", { class: "digits" }, groups.join(" ")),
      el("p", { class: "words" }, event.words.join(" ")),
      qrSvg(event.safetyNumber),
      el(
        "p",
        { class: "hint", id: "their-number-hint" },
        `${event.peer} sees the same number. Have them read theirs out (or scan the QR code), ` +
          "type it here and press Verify.",
      ),
      el(
        "form",
        {
          onsubmit: (e: Event) => {
            e.preventDefault();
            const digits = theirs.value.replace(/\s+/g, "");
            if (!/^[0-9]{60}$/.test(digits)) {
              result.textContent = "Type the 60 digits (spaces do not matter)";
              return;
            }
            void this.#client?.verify(event.peer, digits);
          },
        },
        el("label", { for: "their-number" }, "Their number"),
        theirs,
        el("button", { type: "submit" }, "Verify"),
      ),
      result,
      el(
        "p",
        {},
        event.verified ? `${event.peer} is verified.` : `${event.peer} is not verified yet.`,
      ),
      el("button", { type: "button", onclick: () => this.#dialog.close() }, "Close"),
    );
    if (!this.#dialog.open) this.#dialog.showModal();
    theirs.focus();
  }

  #dialogResult(text: string, ok: boolean): void {
    const result = this.#dialogBody.querySelector(".result");
    if (result !== null) {
      result.textContent = text;
      result.className = `result ${ok ? "ok" : "bad"}`;
    }
  }

  #addWire(wire: WireView): void {
    if (!this.#wire) return;
    const item = el(
      "li",
      { class: `wire-${wire.direction}` },
      el(
        "dl",
        {},
        el("dt", {}, "direction"),
        el("dd", {}, wire.direction === "out" ? "sent by you" : "received"),
        el("dt", {}, "from"),
        el("dd", {}, wire.from),
        el("dt", {}, "to"),
        el("dd", {}, `${wire.toKind === "room" ? "#" : ""}${wire.to} (${wire.toKind})`),
        el("dt", {}, "cipher"),
        el("dd", { class: wire.cipher === "caesar" ? "insecure" : undefined }, wire.cipher),
        el("dt", {}, "kind"),
        el("dd", {}, wire.kind),
        el("dt", {}, "id"),
        el("dd", {}, el("code", {}, wire.id)),
        el("dt", {}, "size"),
        el("dd", {}, `${wire.size} bytes`),
      ),
      el("code", { class: "hex" }, wire.bodyHex),
    );
    this.#wireList.prepend(item);
    while (this.#wireList.children.length > MAX_WIRE) this.#wireList.lastChild?.remove();
  }

  #setStatus(text: string, state: string): void {
    if (this.#status === undefined) return;
    this.#status.textContent = text;
    this.#status.dataset.connection = state;
  }

  /** A line in the open conversation that is not a message (joins, info). */
  #notice(text: string, kind = "info"): void {
    this.#lineNotice(this.#view, text, kind);
  }

  #lineNotice(key: string, text: string, kind = "info"): void {
    const conversation = this.#conversation(key);
    const line: Line = {
      id: `notice:${Math.random()}`,
      from: "",
      text,
      ts: Date.now(),
      own: false,
      state: "received",
      insecure: false,
      cipher: kind,
    };
    conversation.lines.push(line);
    if (conversation.lines.length > MAX_LINES) conversation.lines.shift();
    if (key === this.#view && this.#lines !== undefined) this.#appendLine(line, undefined);
  }

  #error(code: string, message: string): void {
    if (this.#alerts === undefined) return;
    this.#alerts.appendChild(
      el("p", { role: "alert", class: "error", "data-code": code }, message),
    );
    while (this.#alerts.children.length > 3) this.#alerts.firstChild?.remove();
  }

  #clearAlerts(): void {
    replace(this.#alerts);
  }

  #notify(from: string, text: string, key: string): void {
    this.#badge++;
    document.title = `(${this.#badge}) Hush`;
    if (!("Notification" in globalThis) || Notification.permission !== "granted") return;
    try {
      const note = new Notification(`Hush: ${from}`, { body: text.slice(0, 200), tag: key });
      note.onclick = () => {
        globalThis.focus();
        this.#open(key);
      };
    } catch {
      // Some browsers only allow notifications from a service worker: the title badge remains.
    }
  }

  /**
   * The page can no longer save (its IO worker refused a write): says so, loudly and for good.
   * The worker has closed the connection and sends nothing more; the engine stops with the same
   * reason.
   *
   * @param error The `BAD_HOME` error.
   */
  fatal(error: ChatError): void {
    this.#error(error.code, error.message);
    this.#setStatus(`stopped: ${error.message}`, "offline");
  }

  /** Closes the engine (page unload). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
    this.#home?.release?.();
  }

  /** The local fingerprint (for tests and the page's header). */
  get fingerprint(): string {
    return this.#fingerprint;
  }
}

/**
 * Whether a room message mentions a nick (`@nick` or the nick as a word).
 *
 * @param text The message.
 * @param nick Our nick.
 * @returns True for a mention.
 */
export function mentions(text: string, nick: string): boolean {
  if (nick === "") return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${escaped}($|[^\\p{L}\\p{N}_])`, "iu").test(text);
}

function stateText(state: Line["state"]): string {
  return state === "pending"
    ? "pending"
    : state === "sent"
    ? "✓ sent"
    : state === "undelivered"
    ? "✗ undelivered"
    : "";
}

function errorText(error: unknown): string {
  if (error instanceof ChatError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? "ERROR";
}
