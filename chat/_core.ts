/**
 * What every part of the engine reads from the engine itself. Private to the engine.
 *
 * @module
 */

import type { Hush } from "../sessions/mod.ts";
import type { Emitter } from "./_emitter.ts";

/** The engine as its parts see it. */
export interface EngineCore {
  /** The end-to-end layer (replaced when the default cipher changes: always ask). */
  hush(): Hush;
  /** Where events go. */
  emitter: Emitter;
  /** Clock in milliseconds. */
  now: () => number;
  /** Our nick: the granted one, or the one asked for before the first READY. */
  nick(): string;
  /** Saves the session state. */
  persist(): Promise<void>;
}
