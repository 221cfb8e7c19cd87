import type { ChatEngine } from "../../terminal/engine.ts";
import type { HushError } from "../../crypto/errors.ts";

/** A scripted engine that records every call; `fail` makes the named method throw. */
export class FakeEngine implements ChatEngine {
  calls: unknown[][] = [];
  fail: Record<string, HushError | Error> = {};
  closed = false;
  pending = 0;

  get unacknowledged(): number {
    return this.pending;
  }

  #record(name: string, ...args: unknown[]): Promise<void> {
    this.calls.push([name, ...args]);
    const error = this.fail[name];
    return error === undefined ? Promise.resolve() : Promise.reject(error);
  }
  sendRoom(text: string) {
    return this.#record("sendRoom", text);
  }
  sendPrivate(nick: string, text: string) {
    return this.#record("sendPrivate", nick, text);
  }
  join(room: string) {
    return this.#record("join", room);
  }
  leave(room?: string) {
    return room === undefined ? this.#record("leave") : this.#record("leave", room);
  }
  listUsers(room?: string) {
    return room === undefined ? this.#record("listUsers") : this.#record("listUsers", room);
  }
  listRooms() {
    return this.#record("listRooms");
  }
  changeNick(nick: string) {
    return this.#record("changeNick", nick);
  }
  whois(nick: string) {
    return this.#record("whois", nick);
  }
  setCipher(id: string) {
    return this.#record("setCipher", id);
  }
  trust(nick: string) {
    return this.#record("trust", nick);
  }
  verify(nick: string, digits?: string) {
    return digits === undefined
      ? this.#record("verify", nick)
      : this.#record("verify", nick, digits);
  }
  setWire(on: boolean) {
    return this.#record("setWire", on);
  }
  close() {
    this.closed = true;
    return this.#record("close");
  }
}
