/**
 * `deno task web:screenshots`: screenshots of the real web client for the README and docs, in
 * headless Chromium (Debian's), with a realistic conversation: a browser user (alice) and two
 * terminal users (`client.ts --json`: bob and carol) in #lobby, a private conversation with bob,
 * and bob's safety number verified. Writes `docs/img/web-{desktop,phone}-{light,dark}.png`.
 * Not part of the test suite (its name does not end in `_e2e.ts`).
 *
 * Usage: `deno run --allow-all tests/e2e/web_screenshots.ts [--out docs/img]`. Emoji need a colour
 * emoji font (Debian: `apt-get install fonts-noto-color-emoji`), else they show as boxes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { WAIT_MS, type WebUser, WebWorld } from "./_web_harness.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { out: { type: "string", default: "docs/img" } },
});
const OUT = new URL(`../../${values.out}/`, import.meta.url).pathname;
const wait = { timeoutMs: WAIT_MS };

interface Shot {
  name: string;
  viewport: { width: number; height: number };
  colorScheme: "light" | "dark";
  isMobile: boolean;
  /** What is on screen: the room, the private conversation, or the safety number. */
  view: "room" | "private" | "safety";
}

const SHOTS: Shot[] = [
  {
    name: "web-desktop-light",
    viewport: { width: 1280, height: 800 },
    colorScheme: "light",
    isMobile: false,
    view: "room",
  },
  {
    name: "web-desktop-dark",
    viewport: { width: 1280, height: 800 },
    colorScheme: "dark",
    isMobile: false,
    view: "safety",
  },
  {
    name: "web-phone-light",
    viewport: { width: 390, height: 844 },
    colorScheme: "light",
    isMobile: true,
    view: "room",
  },
  {
    name: "web-phone-dark",
    viewport: { width: 390, height: 844 },
    colorScheme: "dark",
    isMobile: true,
    view: "private",
  },
];

async function conversation(web: WebWorld, shot: Shot): Promise<WebUser> {
  const bob = await web.world.client("bob");
  const carol = await web.world.client("carol");
  const alice = await web.user({
    viewport: shot.viewport,
    colorScheme: shot.colorScheme,
    isMobile: shot.isMobile,
    deviceScaleFactor: shot.isMobile ? 2 : 1,
  });
  await alice.connect("alice");
  // Speak once alice is seen in #lobby (else bob's first room key may cross her join, and the
  // timeline shows the engine asking for it again before the message).
  await bob.waitForType("join", (e) => e.nick === "alice", wait);
  await carol.waitForType("join", (e) => e.nick === "alice", wait);
  await bob.send("morning all 👋 the relay is back up");
  await alice.waitForMessage("the relay is back up", "bob");
  await alice.say("hi bob! writing from the browser this time");
  await carol.waitForType("message", (e) => e.text.includes("from the browser this time"), wait);
  await carol.send("nice, and I am still in my terminal 🙂");
  await alice.waitForMessage("still in my terminal", "carol");
  await bob.send("same chat, same keys, no server can read it");
  await alice.waitForMessage("no server can read it", "bob");

  await alice.say("@bob can we compare safety numbers?");
  await bob.waitForType("message", (e) => e.text === "can we compare safety numbers?", wait);
  await bob.send("@alice sure, here is mine: reading it out now");
  await bob.send("/verify alice");
  const number = await bob.waitForType("safety-number", (e) => e.peer === "alice", wait);
  await alice.say("/verify bob");
  const dialog = alice.page.getByRole("dialog", { name: "Safety number" }).or(
    alice.page.getByRole("region", { name: "Safety number" }),
  ).first();
  await dialog.waitFor({ state: "visible" });
  if (shot.view === "safety") return alice;
  await dialog.getByRole("textbox", { name: "Their number" }).fill(
    number.formatted.replace(/\s+/g, " "),
  );
  await dialog.getByRole("button", { name: "Verify" }).click();
  await alice.page.keyboard.press("Escape");
  if (shot.view === "private") {
    await alice.openConversation("bob");
    await alice.waitForMessage("reading it out now", "bob");
    await alice.say("@bob matches. verified ✓");
    await bob.waitForType("message", (e) => e.text === "matches. verified ✓", wait);
  } else {
    await alice.openRoom("lobby");
    await alice.waitForMessage("no server can read it", "bob");
  }
  return alice;
}

await Deno.mkdir(OUT, { recursive: true });
for (const shot of SHOTS) {
  const web = await WebWorld.create();
  try {
    const alice = await conversation(web, shot);
    await alice.page.waitForTimeout(300);
    const path = `${OUT}${shot.name}.png`;
    await alice.page.screenshot({ path, fullPage: false });
    const size = (await Deno.stat(path)).size;
    console.log(`${path}: ${Math.round(size / 1024)} KB`);
    if (size > 300 * 1024) console.warn(`  over 300 KB`);
  } finally {
    await web.close();
  }
}
