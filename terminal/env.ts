/**
 * The environment variables the client reads, and nothing else: `deno task client` grants exactly
 * these (`--allow-env=...`), and the client only reads a variable whose permission is granted, so
 * `deno run client.ts` never asks for the whole environment.
 *
 * @module
 */

/**
 * What the client reads: the home lookup (`HOME`, `XDG_CONFIG_HOME`), colours (`NO_COLOR`,
 * `TERM`), stack traces on errors (`HUSH_DEBUG`), and the two the `ws` package reads when it is
 * loaded for `ws://` and `wss://` (`WS_NO_BUFFER_UTIL`, `WS_NO_UTF_8_VALIDATE`).
 */
export const CLIENT_ENV_VARS: readonly string[] = [
  "HOME",
  "XDG_CONFIG_HOME",
  "NO_COLOR",
  "TERM",
  "HUSH_DEBUG",
  "WS_NO_BUFFER_UTIL",
  "WS_NO_UTF_8_VALIDATE",
];

/** Read only by the end-to-end tests' clients (never set them otherwise). */
export const CLIENT_TEST_ENV_VARS: readonly string[] = [
  "HUSH_TEST_NO_HOME_LOCK",
  "HUSH_TEST_CRASH_AFTER",
];

/** The variables the `ws` package reads when it loads. */
export const WS_ENV_VARS: readonly string[] = ["WS_NO_BUFFER_UTIL", "WS_NO_UTF_8_VALIDATE"];

/**
 * Reads the variables whose permission is granted already, without asking.
 *
 * @param names Variable names.
 * @returns Their values (undefined when unset or not granted).
 */
export function grantedEnv(
  names: readonly string[] = [...CLIENT_ENV_VARS, ...CLIENT_TEST_ENV_VARS],
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of names) {
    try {
      if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") continue;
      env[name] = Deno.env.get(name);
    } catch {
      // not readable: leave it unset
    }
  }
  return env;
}

/**
 * Asks for the variables (Deno prompts for those not granted yet, when there is a terminal) and
 * reads the granted ones. Call it before the raw-mode line editor starts.
 *
 * @param names Variable names.
 * @returns Their values (undefined when unset or refused).
 */
export function requestEnv(names: readonly string[]): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of names) {
    try {
      if (Deno.permissions.requestSync({ name: "env", variable: name }).state !== "granted") {
        continue;
      }
      env[name] = Deno.env.get(name);
    } catch {
      // not readable: leave it unset
    }
  }
  return env;
}
