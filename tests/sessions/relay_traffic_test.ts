import assert from "node:assert/strict";
import { containsBytes, leakedPlaintexts, RelayDouble } from "./_relay_double.ts";

Deno.test("the recorded relay traffic never contains any plaintext the parties exchanged", async () => {
  const relay = new RelayDouble();
  const nicks = ["alice", "bob", "carol"];
  for (const nick of nicks) {
    relay.addParty(nick);
    relay.join("lobby", nick);
  }
  relay.party("carol").hush.setSuite("alice", "chacha20-poly1305");
  const sent: string[] = [];
  for (let round = 0; round < 6; round++) {
    for (const from of nicks) {
      for (const to of nicks) {
        if (from === to) continue;
        const text = `private note ${round} from ${from} to ${to}: the vault code is hidden`;
        sent.push(text);
        await relay.pm(from, to, text);
      }
      const roomText = `room line ${round} by ${from}, with emoji \u{1F510} and accents \u00e9`;
      sent.push(roomText);
      await relay.say(from, "lobby", roomText);
    }
    const received = nicks.flatMap((nick) => relay.receiveAll(nick).map((m) => m.text));
    for (const text of received) assert.ok(sent.includes(text));
  }
  assert.ok(relay.traffic.length > 50);
  assert.deepEqual(leakedPlaintexts(relay, sent), []);
  // Shorter fragments too: no 12-byte window of any plaintext appears.
  for (const text of sent) {
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i + 12 <= bytes.length; i += 6) {
      const window = bytes.subarray(i, i + 12);
      assert.ok(!relay.traffic.some((b) => containsBytes(b, window)), `leaked part of "${text}"`);
    }
  }
});

Deno.test("the leak check itself finds a plaintext that is present", () => {
  const relay = new RelayDouble();
  relay.traffic.push(new TextEncoder().encode("xx the vault code yy"));
  assert.deepEqual(leakedPlaintexts(relay, ["the vault code", "absent"]), ["the vault code"]);
});
