/**
 * The Hush terminal client: `deno task client --nick alice` (or `deno run client.ts`).
 * Parses the command line and runs the chat; see `docs/CLIENT.md` and `--help`.
 *
 * @module
 */

import { createEngine, HELP_TEXT, main } from "./terminal/mod.ts";

export { HELP_TEXT };

if (import.meta.main) Deno.exit(await main(Deno.args, { createEngine }));
