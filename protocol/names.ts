/**
 * Rules for nicks and room names, shared by clients and the relay.
 *
 * A nick or room name is 1-32 bytes of ASCII `A-Z a-z 0-9 _ -`, compared byte for byte
 * (case-sensitive).
 *
 * @module
 */

import { isName } from "./_names.ts";

/**
 * Tells whether a string is a valid nick (1-32 of `A-Z a-z 0-9 _ -`).
 *
 * @param nick Candidate nick.
 * @returns True when it may appear on the wire.
 */
export function isValidNick(nick: string): boolean {
  return isName(nick);
}

/**
 * Tells whether a string is a valid room name (same rule as nicks).
 *
 * @param room Candidate room name.
 * @returns True when it may appear on the wire.
 */
export function isValidRoom(room: string): boolean {
  return isName(room);
}
