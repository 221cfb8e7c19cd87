/**
 * What the terminal needs of a chat engine: the command methods of `chat/`'s `ChatClient`.
 * Declared here as a structural type so the terminal's dispatch and JSON mode are unit-tested
 * against a scripted engine without a relay.
 *
 * @module
 */

/** The chat engine's command methods, as the terminal calls them. */
export interface ChatEngine {
  /** Sends text to the current room. */
  sendRoom(text: string): unknown;
  /** Sends text privately to one nick. */
  sendPrivate(nick: string, text: string): unknown;
  /** Joins a room and makes it current. */
  join(room: string): unknown;
  /** Leaves a room (the current one when absent). */
  leave(room?: string): unknown;
  /** Asks for the users (of a room, or everybody known when absent). */
  listUsers(room?: string): unknown;
  /** Asks for the rooms this user is in. */
  listRooms(): unknown;
  /** Asks the relay for a new nick. */
  changeNick(nick: string): unknown;
  /** Asks about one peer. */
  whois(nick: string): unknown;
  /** Changes the cipher suite for messages sent from now on. */
  setCipher(id: string): unknown;
  /** Accepts a peer's changed identity key. */
  trust(nick: string): unknown;
  /** Approves a member for our room key (`--room-keys approve`). */
  approve?(nick: string, room?: string): unknown;
  /** Shows the safety number with a peer; with the digits (or the read-aloud words), compares them. */
  verify(nick: string, digits?: string): unknown;
  /** Turns the wire view on or off. */
  setWire(on: boolean): unknown;
  /** Flushes unacknowledged sends (bounded) and disconnects. */
  close(): unknown;
  /** The current room (what `/users` without an argument lists). */
  readonly room?: string;
  /** Envelopes the relay has not acknowledged yet (kept in the outbox for the next start). */
  readonly unacknowledged?: number;
}
