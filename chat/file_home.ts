/**
 * A home in a directory (Deno): the directory is created owner-only (0o700), every file
 * owner-only (0o600), and every write is atomic (write a temporary file, flush it, rename it
 * over the old one).
 *
 * @module
 */

import { ChatError } from "./errors.ts";
import { fingerprint } from "../crypto/mod.ts";
import { type ChatHome, checkHomeName } from "./home.ts";
import { loadOrCreateIdentity } from "./identity.ts";

/** A {@linkcode ChatHome} backed by a directory. */
export class FileHome implements ChatHome {
  readonly location: string;

  private constructor(dir: string) {
    this.location = dir;
  }

  /**
   * Opens (creating when missing) a home directory.
   *
   * @param dir The directory path.
   * @returns The home.
   * @throws {ChatError} `BAD_HOME` when the directory cannot be created or is not a directory.
   */
  static async open(dir: string): Promise<FileHome> {
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      const info = await Deno.stat(dir);
      if (!info.isDirectory) throw new Error("not a directory");
      if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(dir, 0o700);
    } catch (error) {
      throw new ChatError(
        "BAD_HOME",
        `Cannot use home directory "${dir}": ${error instanceof Error ? error.message : error}`,
        { cause: error },
      );
    }
    return new FileHome(dir);
  }

  /**
   * Reads a file.
   *
   * @param name File name.
   * @returns The text or undefined when missing.
   * @throws {ChatError} `BAD_HOME` when the file exists but cannot be read.
   */
  async read(name: string): Promise<string | undefined> {
    checkHomeName(name);
    try {
      return await Deno.readTextFile(`${this.location}/${name}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new ChatError("BAD_HOME", `Cannot read "${this.location}/${name}"`, { cause: error });
    }
  }

  /**
   * Replaces a file atomically, owner-only.
   *
   * @param name File name.
   * @param text Contents.
   * @throws {ChatError} `BAD_HOME` when the write fails.
   */
  async write(name: string, text: string): Promise<void> {
    checkHomeName(name);
    const path = `${this.location}/${name}`;
    const temp = `${path}.tmp-${crypto.randomUUID()}`;
    try {
      const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
      try {
        const bytes = new TextEncoder().encode(text);
        let offset = 0;
        while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
        await file.syncData();
      } finally {
        file.close();
      }
      await Deno.rename(temp, path);
    } catch (error) {
      await Deno.remove(temp).catch(() => {});
      throw new ChatError("BAD_HOME", `Cannot write "${path}"`, { cause: error });
    }
  }

  /**
   * Deletes a file (missing is fine).
   *
   * @param name File name.
   * @throws {ChatError} `BAD_HOME` when the delete fails for another reason.
   */
  async remove(name: string): Promise<void> {
    checkHomeName(name);
    try {
      await Deno.remove(`${this.location}/${name}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw new ChatError("BAD_HOME", `Cannot delete "${this.location}/${name}"`, {
        cause: error,
      });
    }
  }
}

/**
 * Opens a home directory (see {@linkcode FileHome.open}).
 *
 * @param dir The directory path.
 * @returns The home.
 * @throws {ChatError} `BAD_HOME` when the directory is unusable.
 */
export function openFileHome(dir: string): Promise<FileHome> {
  return FileHome.open(dir);
}

/**
 * Reads (creating on first use) the identity in a home directory and returns its fingerprint,
 * without connecting: for `client.ts fingerprint`.
 *
 * @param dir The home directory.
 * @returns The short fingerprint and whether the identity was just created.
 * @throws {ChatError} `BAD_HOME` when the directory or identity file is unusable.
 */
export async function homeFingerprint(
  dir: string,
): Promise<{ fingerprint: string; created: boolean }> {
  const { identity, created } = await loadOrCreateIdentity(await openFileHome(dir));
  return { fingerprint: fingerprint(identity.publicKey), created };
}
