/**
 * `client.ts` with a wall clock the test can step: every SIGUSR2 sets `Date.now()` back one
 * hour (what NTP, a resumed VM or a user can do). The monotonic clock (`performance.now()`) is
 * left alone. For tests/e2e/client_heartbeat_e2e.ts only.
 */

import { createEngine, main } from "../../terminal/mod.ts";

const realNow = Date.now;
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;
Deno.addSignalListener("SIGUSR2", () => {
  offsetMs -= 3_600_000;
});

Deno.exit(await main(Deno.args, { createEngine }));
