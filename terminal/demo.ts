/**
 * `deno task demo`: Hush working end to end with nothing else running. Starts a relay on free
 * loopback ports and two scripted clients, Alice and Bob (`client.ts --json`, temporary homes),
 * which verify each other's safety numbers and exchange a few messages. Prints each side's
 * screen and the relay's view of every envelope, then stops and cleans up by itself.
 *
 * @module
 */

import type { ChatEvent } from "../chat/events.ts";
import { ChildClient } from "./child_client.ts";
import { ChildRelay } from "./child_relay.ts";
import { paint, renderEvent, shouldColor } from "./render.ts";
import { grantedEnv } from "./env.ts";

const STEP_TIMEOUT_MS = 20_000;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Writes one line of output. */
  out: (line: string) => void;
  /** Colours on. */
  color: boolean;
  /** Pause between steps so a human can follow (default 0). */
  pauseMs?: number;
}

/**
 * Runs the demo to its end.
 *
 * @param options Output, colour and pacing.
 * @returns When everything is stopped and deleted.
 * @throws {Error} When a step does not happen in time (the child processes are stopped first).
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { out, color } = options;
  const pause = () => new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 0));
  const dir = await Deno.makeTempDir({ prefix: "hush-demo-" });
  const column = (name: string) => paint(name.padEnd(6), name === "relay" ? "36" : "1", color);
  const say = (text: string) => out(`\n${paint(`== ${text}`, "1", color)}`);
  const shownNumbers = new Set<string>();
  const show = (who: string, event: ChatEvent) => {
    if (event.type === "safety-number") {
      // Shown once per side; the repeat after a successful /verify adds nothing here.
      if (shownNumbers.has(who)) return;
      shownNumbers.add(who);
    }
    if (event.type === "wire") {
      // The relay's view: print each envelope once, as the sender hands it over.
      if (event.wire.direction !== "out") return;
      for (const line of renderEvent(event, { color, bell: false, width: 88, wireBytes: 96 })) {
        out(`${column("relay")}| ${line}`);
      }
      return;
    }
    if (event.type === "sent") return;
    const view = { color, bell: false, currentRoom: "lobby", ownNick: who };
    for (const line of renderEvent(event, view)) {
      out(`${column(who)}| ${line}`);
    }
  };

  let relay: ChildRelay | undefined;
  const clients: ChildClient[] = [];
  try {
    say("Starting a relay on free loopback ports (it only ever sees ciphertext)");
    relay = await ChildRelay.start();
    out(`relay listening on ${relay.wsUrl} and ${relay.tcpUrl}`);

    say("Alice and Bob connect, each with a fresh identity in a temporary home");
    const alice = ChildClient.start(
      { nick: "alice", server: relay.wsUrl, home: `${dir}/alice` },
      (e) => show("alice", e),
    );
    clients.push(alice);
    await alice.waitForType("ready", () => true, { timeoutMs: STEP_TIMEOUT_MS });
    const bob = ChildClient.start(
      { nick: "bob", server: relay.tcpUrl, home: `${dir}/bob` },
      (e) => show("bob", e),
    );
    clients.push(bob);
    await bob.waitForType("ready", () => true, { timeoutMs: STEP_TIMEOUT_MS });
    for (const client of [alice, bob]) {
      const since = client.events.length;
      await client.send("/wire on");
      await client.waitForType("info", (e) => e.message.startsWith("Wire view on"), {
        since,
        timeoutMs: STEP_TIMEOUT_MS,
      });
    }
    await pause();

    say("Both look at their safety number: the same 60 digits on both screens");
    const since = { alice: alice.events.length, bob: bob.events.length };
    await alice.send("/verify bob");
    const aliceView = await alice.waitForType("safety-number", (e) => e.peer === "bob", {
      since: since.alice,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    await bob.send("/verify alice");
    const bobView = await bob.waitForType("safety-number", (e) => e.peer === "alice", {
      since: since.bob,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    out(
      aliceView.safetyNumber === bobView.safetyNumber
        ? paint("The numbers are equal: nobody sits in the middle.", "1;32", color)
        : paint("The numbers DIFFER: someone may be in the middle!", "1;31", color),
    );
    await pause();

    say("Each types the number the other read out: both are now verified");
    await alice.send(`/verify bob ${bobView.safetyNumber}`);
    await bob.send(`/verify alice ${aliceView.safetyNumber}`);
    await alice.waitForType("verified", (e) => e.peer === "bob", {
      since: since.alice,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    await bob.waitForType("verified", (e) => e.peer === "alice", {
      since: since.bob,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    await pause();

    say("Alice writes to the room; the relay forwards bytes it cannot read");
    const roomText = "Hi Bob! This goes to everyone in the lobby, end-to-end encrypted.";
    await alice.send(roomText);
    await bob.waitForType("message", (e) => e.text === roomText, { timeoutMs: STEP_TIMEOUT_MS });
    await pause();

    say("Bob answers privately (a Double Ratchet session between the two of them)");
    const privateText = "Hi Alice 👋 only you can read this.";
    await bob.send(`@alice ${privateText}`);
    await alice.waitForType("message", (e) => e.text === privateText, {
      timeoutMs: STEP_TIMEOUT_MS,
    });
    await pause();

    say("Alice switches to the Caesar cipher, a teaching toy: every line is flagged insecure");
    out("(look at the text column of the relay's view: shifted letters, readable structure)");
    await alice.send("/cipher caesar");
    const caesarText = "Caesar shifts letters: look at the relay's view, this is barely hidden";
    await alice.send(`/pm bob ${caesarText}`);
    await bob.waitForType("message", (e) => e.text === caesarText, { timeoutMs: STEP_TIMEOUT_MS });
    await alice.send("/cipher aes-256-gcm");
    await alice.waitForType("cipher", (e) => e.cipher === "aes-256-gcm", {
      timeoutMs: STEP_TIMEOUT_MS,
    });
    await pause();

    say("Both leave; the relay stops; the temporary homes are deleted");
    const codes = await Promise.all(clients.map((c) => c.end()));
    clients.length = 0;
    out(`clients exited with ${codes.join(" and ")}`);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
    await relay?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  out(
    paint(
      "\nDone. Try it yourself: deno task server, then deno task client --nick YOU",
      "1",
      color,
    ),
  );
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  const color = shouldColor(grantedEnv(["NO_COLOR", "TERM"]), Deno.stdout.isTerminal());
  try {
    await runDemo({
      out: (line) => {
        const bytes = encoder.encode(line + "\n");
        let offset = 0;
        while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
      },
      color,
      pauseMs: Deno.stdout.isTerminal() ? 600 : 0,
    });
  } catch (error) {
    console.error(`hush: error: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
