/**
 * The real engine behind `client.ts`: the chat engine of `chat/` on a file-backed home.
 *
 * @module
 */

import { type ChatClientOptions, createChatClient, openFileHome } from "../chat/mod.ts";
import type { EngineHandle, EngineOptions } from "./run_client.ts";

/**
 * Opens the home and creates the chat engine; `start(listener)` subscribes the listener first
 * and then connects, so not one event is missed.
 *
 * @param options Server, nick, home directory, cipher, room, token and CA certificates.
 * @returns The engine and its start function.
 * @throws {ChatError} `HOME_LOCKED` (another client runs on this home), `BAD_HOME`, `BAD_SERVER_URL`, `BAD_NICK`, `BAD_ROOM`,
 *   `UNKNOWN_CIPHER_SUITE` from the engine.
 */
export async function createEngine(options: EngineOptions): Promise<EngineHandle> {
  // One home, one client: the lock refuses a second process; the generation claim makes an
  // older session's writes fail should two ever run (the lock off, or not honoured).
  const home = await openFileHome(options.home, { lock: options.lockHome !== false, claim: true });
  const clientOptions: ChatClientOptions = {
    server: options.server,
    nick: options.nick,
    home,
    cipher: options.cipher,
    room: options.room,
  };
  if (options.token !== undefined) clientOptions.token = options.token;
  if (options.caCerts !== undefined) clientOptions.caCerts = options.caCerts;
  if (options.refuseInsecure === true) clientOptions.refuseInsecure = true;
  if (options.roomKeys !== undefined) clientOptions.roomKeys = options.roomKeys;
  let client;
  try {
    client = await createChatClient(clientOptions);
  } catch (error) {
    await home.close();
    throw error;
  }
  return {
    notes: home.lockNote === undefined ? [] : [home.lockNote],
    engine: client,
    start: (listener) => {
      client.on(listener);
      return client.connect();
    },
  };
}
