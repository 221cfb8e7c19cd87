/**
 * What the browser puts on the wire: a marker text, sent and received in a room and privately,
 * never appears in any WebSocket frame the page sends or receives (read from the DevTools
 * protocol), in any encoding; the "Wire view" panel shows what the relay saw, without it.
 */

import assert from "node:assert/strict";
import { markerForms, WAIT_MS, webTest, withWebWorld } from "./_web_harness.ts";

const wait = { timeoutMs: WAIT_MS };

webTest(
  "web: a marker text never appears in the WebSocket frames the page sends or receives",
  async () => {
    await withWebWorld(async (web) => {
      const marker = `HUSHMARKER${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
      const bob = await web.world.client("bob");
      const alice = await web.user();
      await alice.connect("alice");
      // The wire view records from when it is on.
      const toggle = alice.page.getByRole("checkbox", { name: "Wire view" }).or(
        alice.page.getByRole("switch", { name: "Wire view" }),
      ).first();
      await toggle.check();
      const panel = alice.page.getByRole("region", { name: "What the relay saw" });
      await panel.waitFor({ state: "visible" });

      // Room and private, both ways, the first private one with X3DH.
      await alice.say(`room ${marker} from alice`);
      await bob.waitForType("message", (e) => e.text === `room ${marker} from alice`, wait);
      await bob.send(`room ${marker} from bob`);
      await alice.waitForMessage(`room ${marker} from bob`, "bob");
      await alice.say(`@bob pm ${marker} from alice`);
      await bob.waitForType("message", (e) => e.text === `pm ${marker} from alice`, wait);
      await bob.send(`@alice pm ${marker} from bob`);
      await alice.openConversation("bob");
      await alice.waitForMessage(`pm ${marker} from bob`, "bob");
      // The marker is on screen (so it really went through)...
      assert.ok((await alice.log.innerText()).includes(marker));

      // ...and the wire view shows what the relay saw, without it.
      await alice.waitUntil(
        async () => /[0-9a-f]{32}/i.test(await panel.innerText()),
        "ciphertext hex in the wire view",
      );
      assert.ok(!(await panel.innerText()).includes(marker), "the wire view shows the plaintext");

      // Not one frame, either way, holds the marker in any form.
      const sent = alice.frames.filter((f) => f.dir === "sent");
      const received = alice.frames.filter((f) => f.dir === "received");
      assert.ok(sent.length >= 4, `only ${sent.length} frames sent`);
      assert.ok(received.length >= 4, `only ${received.length} frames received`);
      const bytes = alice.frames.reduce((n, f) => n + f.bytes.length, 0);
      assert.ok(bytes > 4 * marker.length, "the frames are too small to have carried the messages");
      for (const [i, frame] of alice.frames.entries()) {
        assert.deepEqual(
          markerForms(frame, marker),
          [],
          `frame ${i} (${frame.dir}) holds the marker`,
        );
      }
      // The check itself finds a marker where there is one.
      const probe = { ...alice.frames[0]!, bytes: new TextEncoder().encode(`x${marker}y`) };
      assert.ok(markerForms(probe, marker).length > 0);
      const probe64 = { ...probe, bytes: new TextEncoder().encode(btoa(`ab${marker}`)) };
      assert.ok(markerForms(probe64, marker).length > 0);
    });
  },
);
