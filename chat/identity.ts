/**
 * The local identity in a home: read it, or create it on first use.
 *
 * @module
 */

import {
  decodeIdentity,
  encodeIdentity,
  generateIdentityKeyPair,
  type IdentityKeyPair,
} from "../crypto/mod.ts";
import { ChatError } from "./errors.ts";
import type { ChatHome } from "./home.ts";

/** Home file holding the identity (`encodeIdentity()` text). */
export const IDENTITY_FILE = "identity";

/**
 * Reads the identity from a home, creating and saving a new one when there is none.
 *
 * @param home The home.
 * @returns The identity and whether it was just created.
 * @throws {ChatError} `BAD_HOME` when the identity file is unreadable or corrupt.
 */
export async function loadOrCreateIdentity(
  home: ChatHome,
): Promise<{ identity: IdentityKeyPair; created: boolean }> {
  const text = await home.read(IDENTITY_FILE);
  if (text === undefined) {
    const identity = generateIdentityKeyPair();
    await home.write(IDENTITY_FILE, encodeIdentity(identity) + "\n");
    return { identity, created: true };
  }
  try {
    return { identity: decodeIdentity(text.trim()), created: false };
  } catch (error) {
    throw new ChatError(
      "BAD_HOME",
      `Cannot read the identity in "${home.location}/${IDENTITY_FILE}"`,
      { cause: error },
    );
  }
}
