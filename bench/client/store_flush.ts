/**
 * What one save of the client's session state costs when the state is large (issue 10 item 11):
 * the `sessions.json` snapshot (every key rewritten per save) against the per-key store
 * (`sessions.sqlite`, one transaction of the keys that changed). Not a timed test: a measurement
 * printed as a table.
 *
 * ```sh
 * deno run --allow-all bench/client/store_flush.ts       # about a minute
 * deno run --allow-all bench/client/store_flush.ts --sender-keys 1000 --sessions 2 --flushes 5
 * ```
 *
 * The state: `--sender-keys` room sender keys (`room/r<i>/in/peer<i>`, each a real serialized
 * inbound sender key), `--sessions` pairwise sessions holding about 2,000 skipped message keys each
 * (a real Double Ratchet that skipped 1,998 messages: 10 sessions = about 20,000 skipped keys), and
 * `chat/seen` at its cap of 10,000 message ids (`--seen`). Each save then changes what receiving one private
 * message changes: one small session, `chat/seen` (one id more) and `chat/inbox`. Both stores are
 * real file homes in a temporary directory (`openFileHome`, generation claimed, so each save also
 * checks the generation as the client does). Bytes written are the process's `wchar` from
 * `/proc/self/io` (every write() call: the temporary file, or SQLite's WAL; Deno grants
 * `/proc/self` only with `--allow-all`, else the column says NaN).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { generateIdentityKeyPair, randomBytes } from "../../crypto/mod.ts";
import { toHex } from "../../crypto/bytes.ts";
import { openFileHome } from "../../chat/file_home.ts";
import type { ChatHome } from "../../chat/home.ts";
import { HomeSessionStore } from "../../chat/home_session_store.ts";
import {
  Hush,
  InboundSenderKey,
  MemorySessionStore,
  OutboundSenderKey,
} from "../../sessions/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "sender-keys": { type: "string", default: "15000" },
    sessions: { type: "string", default: "10" },
    flushes: { type: "string", default: "30" },
    seen: { type: "string", default: "10000" },
  },
});
const SENDER_KEYS = Number(values["sender-keys"]);
const SESSIONS = Number(values.sessions);
const FLUSHES = Number(values.flushes);
const SEEN = Number(values.seen);

/** A real session value with about 2,000 skipped keys, and a small one. */
async function sessionValues(): Promise<{ big: string; small: string }> {
  const bobStore = new MemorySessionStore();
  const bob = new Hush({ store: bobStore, identity: generateIdentityKeyPair(), nick: "bob" });
  const { oneTimePrekeys: _unused, ...bundle } = bob.bundle();
  const alice = new Hush({
    store: new MemorySessionStore(),
    identity: generateIdentityKeyPair(),
    nick: "alice",
    fetchBundle: () => Promise.resolve(bundle),
  });
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < 2_000; i++) bodies.push((await alice.encryptTo("bob", `m${i}`)).body);
  bob.decryptFrom("alice", bodies[0]!);
  const small = bobStore.get("session/alice") as string;
  bob.decryptFrom("alice", bodies[999]!); // 998 skipped
  bob.decryptFrom("alice", bodies[1_999]!); // 999 more
  return { big: bobStore.get("session/alice") as string, small };
}

function senderKeyValue(): string {
  const outbound = OutboundSenderKey.create();
  const inbound = InboundSenderKey.fromDistribution(
    outbound.distribution("room"),
    generateIdentityKeyPair().publicKey,
  );
  return JSON.stringify([inbound.toJSON()]);
}

/** Bytes this process wrote so far (`wchar`; NaN where `/proc/self/io` cannot be read). */
function written(): number {
  try {
    const io = Deno.readTextFileSync("/proc/self/io");
    return Number(/wchar:\s*(\d+)/.exec(io)?.[1] ?? NaN);
  } catch {
    return NaN; // not Linux, or no --allow-all (Deno asks for it for /proc/self)
  }
}

function snapshotOnly(home: ChatHome): ChatHome {
  return {
    location: home.location,
    read: (name) => home.read(name),
    write: (name, text) => home.write(name, text),
    remove: (name) => home.remove(name),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const { big, small } = await sessionValues();
const senderKey = senderKeyValue();
const seen = Array.from({ length: SEEN }, () => toHex(randomBytes(16)));

async function measure(kind: "snapshot" | "per-key", dir: string) {
  const file = await openFileHome(dir, { claim: true });
  const home = kind === "snapshot" ? snapshotOnly(file) : file;
  const store = await HomeSessionStore.load(home);
  for (let i = 0; i < SENDER_KEYS; i++) store.set(`room/r${i}/in/peer${i}`, senderKey);
  for (let i = 0; i < SESSIONS; i++) store.set(`session/peer${i}`, big);
  store.set("session/alice", small);
  store.set("chat/seen", JSON.stringify(seen));
  store.set("chat/inbox", "[]");
  const firstStart = performance.now();
  await store.flush();
  const first = performance.now() - firstStart;
  const times: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < FLUSHES; i++) {
    seen.shift();
    seen.push(toHex(randomBytes(16)));
    store.set("session/alice", small.replace(/"n":\d+/, `"n":${i}`));
    store.set("chat/seen", JSON.stringify(seen));
    store.set("chat/inbox", i % 2 === 0 ? '[{"id":"x"}]' : "[]");
    const w = written();
    const start = performance.now();
    await store.flush();
    times.push(performance.now() - start);
    bytes.push(written() - w);
  }
  const loadStart = performance.now();
  const again = await HomeSessionStore.load(home);
  const load = performance.now() - loadStart;
  await file.close(); // SQLite checkpoints its WAL into the file and removes it
  let size = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith("sessions")) size += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  return {
    kind,
    keys: again.keys("").length,
    firstSaveMs: Math.round(first),
    saveMedianMs: Number(median(times).toFixed(2)),
    saveMaxMs: Number(Math.max(...times).toFixed(2)),
    bytesPerSaveMedian: median(bytes),
    loadMs: Math.round(load),
    onDiskBytes: size,
  };
}

const tmp = await Deno.makeTempDir({ prefix: "hush-store-flush-" });
try {
  const rows = [];
  for (const kind of ["snapshot", "per-key"] as const) {
    rows.push(await measure(kind, `${tmp}/${kind}`));
  }
  let load = "";
  try {
    load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  } catch {
    load = "unknown";
  }
  console.log(
    `${SENDER_KEYS} sender keys, ${SESSIONS} sessions of ~2,000 skipped keys, chat/seen ${SEEN} ids; ` +
      `${FLUSHES} saves of one received message each; deno ${Deno.version.deno}, ` +
      `${navigator.hardwareConcurrency} CPUs, load ${load}`,
  );
  console.log(
    "| store | keys | first save (ms) | save, median (ms) | save, max (ms) | bytes written per save | load (ms) | on disk, closed (bytes) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(
      `| ${r.kind} | ${r.keys} | ${r.firstSaveMs} | ${r.saveMedianMs} | ${r.saveMaxMs} | ${r.bytesPerSaveMedian} | ${r.loadMs} | ${r.onDiskBytes} |`,
    );
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
}
