/**
 * The interactive terminal: engine events rendered above a raw-mode input line, typed lines run
 * as commands. Falls back to plain line-by-line reading when stdin is not a terminal.
 *
 * @module
 */

import type { ChatEvent } from "../chat/events.ts";
import { COMMAND_NAMES } from "./commands.ts";
import { type CommandContext, errorEvent, runLine, unacknowledgedEvent } from "./dispatch.ts";
import type { ChatEngine } from "./engine.ts";
import { CIPHER_CHOICES } from "./help.ts";
import { readLines } from "./read_lines.ts";
import { type EditorInput, type EditorOutput, LineEditor } from "./line_editor.ts";
import { completionCandidates } from "./line_state.ts";
import { colorNick, paint, renderEvent } from "./render.ts";

/** Options of an {@link InteractiveUi}. */
export interface InteractiveOptions {
  /** The nick asked for (updated from `ready` and `nick` events). */
  nick: string;
  /** The room to start in (updated from `ready` and `room` events). */
  room: string;
  /** The cipher suite in use (updated from `cipher` events). */
  cipher: string;
  /** ANSI colours on. */
  color: boolean;
  /** Use the raw-mode line editor (stdin is a terminal). */
  raw: boolean;
  /** Ring the bell on a private message. */
  bell: boolean;
  /** Keys (raw mode) come from here (default `Deno.stdin`). */
  input?: EditorInput;
  /** Output goes here (default `Deno.stdout`). */
  output?: EditorOutput;
  /** Typed lines when not in raw mode (default `Deno.stdin.readable`). */
  lines?: () => ReadableStream<Uint8Array>;
  /** Terminal width (default `Deno.consoleSize().columns`). */
  columns?: () => number;
}

/** The interactive chat screen. */
export class InteractiveUi {
  #options: InteractiveOptions;
  #nick: string;
  #room: string;
  #cipher: string;
  #nicks = new Set<string>();
  #disconnected = false;
  #greeted = false;
  /** During an outage: what the status in the prompt says (raw mode), e.g. the next attempt. */
  #status: string | undefined;
  /** During an outage without the line editor: the one "reconnecting" line was printed. */
  #outageNoted = false;
  /** When the last READY came: messages written before it were sent while we were away. */
  #readyAt = 0;
  /** A "new messages" separator goes before the first message written while we were away. */
  #separatorDue = false;
  /** Conversations (and senders) whose `[unverified]` mark was shown once already. */
  #unverifiedShown = new Set<string>();
  #editor: LineEditor | undefined;
  #encoder = new TextEncoder();
  #columns: () => number;

  /**
   * Creates the screen; call {@link InteractiveUi.show} for every engine event and
   * {@link InteractiveUi.run} to read commands.
   *
   * @param options Nick, room, cipher and terminal abilities.
   */
  constructor(options: InteractiveOptions) {
    this.#options = options;
    this.#nick = options.nick;
    this.#room = options.room;
    this.#cipher = options.cipher;
    this.#columns = options.columns ?? columns;
    if (options.raw) {
      this.#editor = new LineEditor({
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.output === undefined ? {} : { output: options.output }),
        columns: this.#columns,
        prompt: this.#prompt(),
        complete: (word, before) =>
          completionCandidates(word, before, {
            commands: COMMAND_NAMES,
            nicks: [...this.#nicks],
            ciphers: CIPHER_CHOICES,
          }),
      });
    }
  }

  /**
   * Shows one engine event above the input line and follows the state it carries (nick, room,
   * cipher, known nicks for completion).
   *
   * @param event The event.
   */
  show(event: ChatEvent): void {
    // While reconnecting, each failed attempt is one "reconnecting" line, not two.
    if (event.type === "disconnected" && this.#disconnected) return;
    // During an outage the attempts update one status (the prompt), not one line each.
    if (this.#disconnected && (event.type === "reconnecting" || event.type === "connected")) {
      this.#status = event.type === "reconnecting"
        ? `offline: attempt ${event.attempt + 1} in ${(event.delayMs / 1000).toFixed(1)} s`
        : "offline: connecting";
      if (this.#editor !== undefined) {
        this.#editor.setPrompt(this.#prompt());
        return;
      }
      if (event.type === "connected" || this.#outageNoted) return;
      this.#outageNoted = true;
    }
    const extra: string[] = [];
    let markUnverified = true;
    if (event.type === "message" && !event.own) {
      if (this.#separatorDue && event.ts < this.#readyAt) {
        extra.push(
          paint(
            "-------- new messages (sent while you were away) --------",
            "1",
            this.#options.color,
          ),
        );
      }
      this.#separatorDue = false;
    }
    if (event.type === "message" && !event.verified) {
      // `[unverified]` once per conversation and sender, not on every line.
      const peer = event.own ? event.to : event.from;
      const key = event.private ? `pm:${peer}` : `room:${event.to}:${event.from}`;
      markUnverified = !this.#unverifiedShown.has(key);
      this.#unverifiedShown.add(key);
    }
    // The first READY gets the full greeting; later ones (reconnects) one line.
    const shown: ChatEvent = event.type === "ready" && this.#greeted && event.nick === this.#nick
      ? { type: "info", message: `back online as ${event.nick}, talking in ${event.room}` }
      : event;
    if (event.type === "ready") this.#greeted = true;
    this.#follow(event);
    const lines = renderEvent(shown, {
      color: this.#options.color,
      bell: this.#options.bell,
      currentRoom: this.#room,
      ownNick: this.#nick,
      width: this.#columns(),
      markUnverified,
    });
    this.print([...extra, ...lines]);
  }

  /**
   * Prints lines above the input line.
   *
   * @param lines The lines.
   */
  print(lines: readonly string[]): void {
    if (lines.length === 0) return;
    if (this.#editor !== undefined) this.#editor.print(...lines);
    else this.#write(lines.join("\n") + "\n");
  }

  /**
   * Reads and runs typed lines until `/quit`, Ctrl-D or the end of input, then closes the engine.
   *
   * @param engine The engine.
   * @returns When the engine is closed.
   */
  async run(engine: ChatEngine): Promise<void> {
    const context: CommandContext = {
      engine,
      emit: (event) => this.show(event),
      clear: () => this.#clear(),
      cipher: () => this.#cipher,
    };
    const lines = this.#editor?.lines() ??
      readLines(this.#options.lines?.() ?? Deno.stdin.readable);
    try {
      for await (const line of lines) {
        if (await runLine(line, context) === "quit") break;
      }
    } finally {
      this.#editor?.close();
      this.print([
        paint(
          "-- closing: waiting for the relay to acknowledge what you sent",
          "2",
          this.#options.color,
        ),
      ]);
      try {
        await engine.close();
      } catch (error) {
        this.show(errorEvent(error));
      }
      const pending = unacknowledgedEvent(engine);
      if (pending !== undefined) this.show(pending);
    }
  }

  /** Restores the terminal (raw mode off); safe to call twice. */
  close(): void {
    this.#editor?.close();
  }

  #follow(event: ChatEvent): void {
    const before = this.#prompt();
    switch (event.type) {
      case "disconnected":
        this.#disconnected = true;
        break;
      case "ready":
        this.#disconnected = false;
        this.#outageNoted = false;
        this.#status = undefined;
        this.#readyAt = Date.now();
        this.#separatorDue = true;
        this.#nick = event.nick;
        this.#room = event.room;
        break;
      case "identity-changed":
      case "trusted":
      case "verified":
        // Trust changed: the next unverified message of this peer is marked again.
        for (const key of [...this.#unverifiedShown]) {
          if (key === `pm:${event.peer}` || key.endsWith(`:${event.peer}`)) {
            this.#unverifiedShown.delete(key);
          }
        }
        break;
      case "room":
        this.#room = event.current;
        break;
      case "rooms":
        this.#room = event.current;
        break;
      case "cipher":
        this.#cipher = event.cipher;
        break;
      case "nick":
        this.#nicks.delete(event.old);
        if (event.old === this.#nick) this.#nick = event.new;
        else this.#nicks.add(event.new);
        break;
      case "users":
        for (const user of event.users) if (user.nick !== this.#nick) this.#nicks.add(user.nick);
        break;
      case "join":
      case "presence":
      case "whois":
        if (event.nick !== this.#nick) this.#nicks.add(event.nick);
        break;
      case "message":
        if (!event.own) this.#nicks.add(event.from);
        break;
      default:
        break;
    }
    const after = this.#prompt();
    if (after !== before) this.#editor?.setPrompt(after);
  }

  #prompt(): string {
    const color = this.#options.color;
    const insecure = this.#cipher === "caesar" ? paint(" INSECURE", "1;31", color) : "";
    const status = this.#status === undefined ? "" : paint(`[${this.#status}] `, "33", color);
    return `${status}${colorNick(this.#nick, color)}${
      paint(`@${this.#room}`, "1", color)
    }${insecure}> `;
  }

  #clear(): void {
    if (this.#editor !== undefined) this.#editor.clearScreen();
    else this.#write("\x1b[2J\x1b[H");
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    let offset = 0;
    const output = this.#options.output ?? Deno.stdout;
    while (offset < bytes.length) offset += output.writeSync(bytes.subarray(offset));
  }
}

function columns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}
