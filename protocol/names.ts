/**
 * Rules for nicks and room names, shared by clients and the relay.
 *
 * A nick or room name is 1-32 bytes of ASCII `A-Z a-z 0-9 _ -`. On the wire both are compared
 * byte for byte; a relay binds at most one identity per nick **skeleton** ({@link nickSkeleton}),
 * so `Bob`, `bob`, `B0B` and `bob_` cannot belong to two people.
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

/**
 * The look-alike "skeleton" of a nick: two nicks with the same skeleton are one person to the
 * relay (docs/PROTOCOL.md section 1). In order:
 *
 * 1. ASCII case folding (`A-Z` to `a-z`);
 * 2. `0` becomes `o`; `1`, `i` (and so `I`) become `l`; `-` becomes `_`;
 * 3. `rn` becomes `m` and `vv` becomes `w` (left to right);
 * 4. runs of `_` become one `_`, and `_` at either end is removed (decoration: `_bob_`, `bob-`).
 *
 * The relay's own suffixes stay distinct: `bob_1` has the skeleton `bob_l`, never `bob`'s. A nick
 * made only of `_` and `-` has the empty skeleton (they are all one). Room names are not folded.
 *
 * @param nick A valid nick.
 * @returns Its skeleton (ASCII `a-z 0-9 _`, possibly empty).
 */
export function nickSkeleton(nick: string): string {
  let s = "";
  for (let i = 0; i < nick.length; i++) {
    let c = nick.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c === 0x30) c = 0x6f; // 0 -> o
    else if (c === 0x31 || c === 0x69) c = 0x6c; // 1, i -> l
    else if (c === 0x2d) c = 0x5f; // - -> _
    s += String.fromCharCode(c);
  }
  s = s.replaceAll("rn", "m").replaceAll("vv", "w").replace(/_+/g, "_");
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) === 0x5f) start++;
  while (end > start && s.charCodeAt(end - 1) === 0x5f) end--;
  return s.slice(start, end);
}

/**
 * Tells whether two nicks are the same person to the relay (equal skeletons).
 *
 * @param a A nick.
 * @param b Another nick.
 * @returns True when {@link nickSkeleton} gives the same for both.
 */
export function sameNick(a: string, b: string): boolean {
  return a === b || nickSkeleton(a) === nickSkeleton(b);
}
