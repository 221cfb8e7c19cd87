import assert from "node:assert/strict";
import data from "../vectors/protocol_frames.json" with { type: "json" };

const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
const vectors = (data as { hex: string; expect: string }[]).filter((v) => v.expect === "ok");

/** Whether the pieces of an elided hex example ("aa...bb") appear in order in some vector. */
function matchesVector(example: string): boolean {
  const pieces = example.split("...");
  return vectors.some((v) => {
    if (!v.hex.startsWith(pieces[0]!)) return false;
    let at = pieces[0]!.length;
    for (const p of pieces.slice(1)) {
      const i = v.hex.indexOf(p, at);
      if (i < 0) return false;
      at = i + p.length;
    }
    return pieces.length > 1 || at === v.hex.length;
  });
}

Deno.test("every hex example in docs/PROTOCOL.md is a frame vector", () => {
  const section = doc.slice(doc.indexOf("### 4.6 Hex examples"), doc.indexOf("## 5."));
  const examples = [...section.matchAll(/\|\s+`([0-9a-f .]+)`\s+\|/g)].map((m) =>
    m[1]!.replaceAll(" ", "")
  );
  assert.ok(examples.length >= 24, `found ${examples.length} examples`);
  for (const e of examples) assert.ok(matchesVector(e), `no vector matches ${e}`);
  // Every row is written out in full: a second implementation copies them as vectors.
  for (const e of examples) assert.ok(!e.includes("..."), `abbreviated example ${e}`);
  for (const e of examples) assert.ok(vectors.some((v) => v.hex === e), `not a whole vector: ${e}`);
  const rows = section.split("\n").filter((l) => /^\| [A-Z]/.test(l));
  assert.equal(rows.length, examples.length, "every row has a hex example");
});

Deno.test("the SEND and DELIVER examples of section 4.3 are frame vectors", () => {
  const section = doc.slice(doc.indexOf("### 4.3 Envelope"), doc.indexOf("### 4.4"));
  const blocks = [...section.matchAll(/```\n([0-9a-f ]+)\n```/g)].map((m) =>
    m[1]!.replaceAll(" ", "")
  );
  assert.equal(blocks.length, 1);
  assert.ok(vectors.some((v) => v.hex === blocks[0]), blocks[0]);
});
