import assert from "node:assert/strict";
import { runDemo } from "../../terminal/demo.ts";

Deno.test("the demo runs by itself: both sides verify, talk, and the relay sees only ciphertext", async () => {
  const lines: string[] = [];
  await runDemo({ out: (line) => lines.push(line), color: false });
  const text = lines.join("\n");
  assert.match(text, /relay listening on ws:\/\/127\.0\.0\.1:\d+\/ and tcp:\/\/127\.0\.0\.1:\d+/);
  assert.match(text, /The numbers are equal/);
  assert.match(text, /^alice \| .*bob is verified: the safety numbers match$/m);
  assert.match(text, /^bob {3}\| .*alice is verified: the safety numbers match$/m);
  assert.match(text, /^bob {3}\| .*<alice> Hi Bob! This goes to everyone in the lobby/m);
  assert.match(text, /^alice \| .*\[pm from bob\] <bob> Hi Alice 👋 only you can read this\.$/m);
  assert.match(text, /^bob {3}\| .*\[insecure: caesar\] <alice> Caesar shifts letters/m);
  assert.match(text, /clients exited with 0 and 0/);
  const relayView = lines.filter((l) => l.startsWith("relay |"));
  assert.ok(relayView.some((l) => l.includes("[wire out] what the relay sees")));
  assert.ok(relayView.some((l) => l.includes("cipher aes-256-gcm  kind room")));
  for (const secret of ["Hi Bob", "only you can read"]) {
    assert.ok(!relayView.some((l) => l.includes(secret)), `the relay view shows "${secret}"`);
  }
});
