/**
 * `client.ts fingerprint`: prints the user's own identity fingerprint, reading the identity in the
 * home directory, without connecting to a relay. When there is none it says so and creates
 * nothing, unless `--create` asks for a new identity.
 *
 * @module
 */

import { homeFingerprint } from "../chat/mod.ts";

/** The user's identity fingerprint and whether the identity was just created. */
export interface OwnFingerprint {
  /** Short fingerprint, e.g. `3f2a 9c01 77be 12d4`. */
  fingerprint: string;
  /** True when no identity existed and one was created now. */
  created: boolean;
  /** The home directory. */
  home: string;
}

/**
 * Reads the identity in a home and returns its fingerprint; with `create` (the default here),
 * creates the identity (owner-only file) when there is none yet, as the first chat session would.
 *
 * @param home The home directory.
 * @param options `create: false` throws `NO_IDENTITY` instead of creating one.
 * @returns The fingerprint and whether the identity is new.
 * @throws {ChatError} `BAD_HOME` when the home cannot be used.
 * @throws {CryptoError} `BAD_IDENTITY_ENCODING` when the identity file is corrupt.
 */
export async function ownFingerprint(
  home: string,
  options: { create?: boolean } = {},
): Promise<OwnFingerprint> {
  const { fingerprint, created } = await homeFingerprint(home, {
    create: options.create ?? true,
  });
  return { fingerprint, created, home };
}

/**
 * The lines `client.ts fingerprint` prints.
 *
 * @param nick The nick the home belongs to.
 * @param result What {@link ownFingerprint} returned.
 * @returns Lines of text.
 */
export function fingerprintLines(nick: string, result: OwnFingerprint): string[] {
  return [
    `${nick}: ${result.fingerprint}`,
    ...(result.created ? [`(a new identity was created in ${result.home})`] : []),
    "Your peers see this fingerprint in /whois; compare it, or better the safety number",
    `(/verify ${nick} in their chat), in person or on a call.`,
  ];
}
