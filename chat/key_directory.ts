/**
 * Conversions between the relay's key-directory frames (`protocol/`) and the sessions
 * library's bundles (`sessions/`): what the engine publishes and what it fetched.
 *
 * @module
 */

import {
  type KeysFrame,
  MAX_ONE_TIME_PREKEYS_PER_FRAME,
  type PublishKeysFrame,
} from "../protocol/mod.ts";
import type { PrekeyBundle, PublishedBundle } from "../sessions/mod.ts";

/**
 * Builds a PUBLISH_KEYS frame from the local bundle.
 *
 * @param bundle The local user's bundle (`Hush.bundle()`).
 * @param options `replace`: the relay first drops every one-time prekey it holds for us, and
 *   the newest 100 of ours are published; otherwise only the prekeys whose ids are in `ids`
 *   (at most 100) are added. The signed parts are always included.
 * @returns The frame.
 */
export function publishKeysFrame(
  bundle: PublishedBundle,
  options: { replace: boolean; ids?: readonly number[] },
): PublishKeysFrame {
  const wanted = new Set(options.ids ?? []);
  const keys = options.replace
    ? bundle.oneTimePrekeys.slice(-MAX_ONE_TIME_PREKEYS_PER_FRAME)
    : bundle.oneTimePrekeys.filter((k) => wanted.has(k.id));
  return {
    type: "publish-keys",
    identityDhKey: bundle.identityDhKey,
    identityDhSignature: bundle.identityDhSignature,
    signedPrekeyId: bundle.signedPrekeyId,
    signedPrekey: bundle.signedPrekey,
    signedPrekeySignature: bundle.signedPrekeySignature,
    replaceOneTimePrekeys: options.replace,
    oneTimePrekeys: keys.slice(0, MAX_ONE_TIME_PREKEYS_PER_FRAME).map((k) => ({
      id: k.id,
      key: k.publicKey,
    })),
  };
}

/**
 * Turns a KEYS answer with status `ok` into the bundle the sessions library starts X3DH from.
 * (The library verifies the signatures against the identity key and pins that key.)
 *
 * @param keys The relay's answer.
 * @returns The peer's bundle, with the one-time prekey when the relay had one left.
 */
export function bundleFromKeys(keys: KeysFrame & { status: "ok" }): PrekeyBundle {
  return {
    identityKey: keys.identityKey,
    identityDhKey: keys.bundle.identityDhKey,
    identityDhSignature: keys.bundle.identityDhSignature,
    signedPrekeyId: keys.bundle.signedPrekeyId,
    signedPrekey: keys.bundle.signedPrekey,
    signedPrekeySignature: keys.bundle.signedPrekeySignature,
    ...(keys.oneTimePrekey === null
      ? {}
      : { oneTimePrekey: { id: keys.oneTimePrekey.id, publicKey: keys.oneTimePrekey.key } }),
  };
}
