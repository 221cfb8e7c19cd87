/**
 * The teaching view of one envelope: exactly what the relay sees (the clear routing header, the
 * opaque body as hex, the frame size), never the plaintext.
 *
 * @module
 */

import { getCipherSuiteByWireId, toHex } from "../crypto/mod.ts";
import type { EnvelopeFrame } from "../protocol/mod.ts";
import { describeBody } from "../sessions/mod.ts";
import type { WireView } from "./events.ts";

/**
 * Describes an envelope for a `wire` event.
 *
 * @param direction `out` for a SEND, `in` for a DELIVER.
 * @param frame The decoded envelope.
 * @param size The size of the whole encoded frame in bytes.
 * @param kind What the body holds, when the sender knows it (e.g. `initial/sender-key`);
 *   otherwise read from the body's type byte (`initial`, `ratchet`, `room`, or `unknown`).
 * @returns The view; `cipher` is the suite id, or `0xNN` for a wire id the registry lacks.
 */
export function wireView(
  direction: "in" | "out",
  frame: EnvelopeFrame,
  size: number,
  kind?: string,
): WireView {
  let cipher: string;
  try {
    cipher = getCipherSuiteByWireId(frame.cipher).id;
  } catch {
    cipher = `0x${frame.cipher.toString(16).padStart(2, "0")}`;
  }
  let bodyKind = kind;
  if (bodyKind === undefined) {
    try {
      bodyKind = describeBody(frame.body).kind;
    } catch {
      bodyKind = "unknown";
    }
  }
  return {
    direction,
    id: toHex(frame.id),
    from: frame.from,
    to: frame.to,
    toKind: frame.toKind,
    cipher,
    bodyHex: toHex(frame.body),
    size,
    kind: bodyKind,
  };
}
