/**
 * Fingerprints and safety numbers: what two people compare to know they hold each other's real
 * identity key. See docs/CRYPTO.md for the exact algorithms and a committed vector.
 *
 * @module
 */
import { concatBytes, toHex, utf8Encode } from "./bytes.ts";
import { CryptoError } from "./errors.ts";
import { sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { sha256 } from "./hkdf.ts";

/** Domain label hashed in front of the key by {@link fingerprint}. */
export const FINGERPRINT_LABEL = "hush-fingerprint-v1";

/**
 * Domain label hashed in front of each identity's 30 digits by {@link safetyNumberWords}. (v1
 * hashed the whole 60 digits into 8 words, 64 bits: a man in the middle could make two numbers
 * share their words with about 2^33 keys per side.)
 */
export const SAFETY_WORDS_LABEL = "hush-safety-words-v2";

/** SHA-512 iterations per identity in {@link safetyNumber} (Signal's figure). */
export const SAFETY_NUMBER_ITERATIONS = 5200;

/** Safety-number format version, the u16 big-endian prefix of the first hash input. */
export const SAFETY_NUMBER_VERSION = 0;

/**
 * Words per identity in {@link safetyNumberWords}: 13 bytes = 104 bits, more than the 99.7 bits of
 * that identity's 30 digits, so the words are as strong as the digits.
 */
export const SAFETY_WORDS_PER_IDENTITY = 13;

/** Number of words {@link safetyNumberWords} returns (two identities of 13). */
export const SAFETY_WORD_COUNT = 2 * SAFETY_WORDS_PER_IDENTITY;

/**
 * The 256 read-aloud words, indexed by byte value. Frozen: changing it changes every rendering.
 */
export const SAFETY_WORDS: readonly string[] = Object.freeze([
  "acorn",
  "actor",
  "adult",
  "agent",
  "alarm",
  "album",
  "alley",
  "amber",
  "angel",
  "ankle",
  "apple",
  "apron",
  "arena",
  "arrow",
  "atlas",
  "attic",
  "autumn",
  "badge",
  "bagel",
  "baker",
  "bamboo",
  "banana",
  "banjo",
  "barrel",
  "basket",
  "beach",
  "beaver",
  "bell",
  "berry",
  "bicycle",
  "bishop",
  "blanket",
  "blossom",
  "board",
  "bonnet",
  "border",
  "bottle",
  "branch",
  "bread",
  "breeze",
  "brick",
  "bridge",
  "broom",
  "bubble",
  "bucket",
  "bugle",
  "butter",
  "button",
  "cabin",
  "cactus",
  "camel",
  "camera",
  "candle",
  "canoe",
  "canyon",
  "carpet",
  "carrot",
  "castle",
  "cedar",
  "cello",
  "chain",
  "chalk",
  "cherry",
  "chess",
  "circus",
  "cliff",
  "clock",
  "cloud",
  "clover",
  "cobra",
  "coconut",
  "comet",
  "copper",
  "coral",
  "cotton",
  "cousin",
  "coyote",
  "crab",
  "crane",
  "crayon",
  "crown",
  "crystal",
  "cup",
  "curtain",
  "daisy",
  "dancer",
  "desert",
  "diamond",
  "dinner",
  "doctor",
  "dolphin",
  "donkey",
  "dragon",
  "drum",
  "eagle",
  "echo",
  "elbow",
  "engine",
  "falcon",
  "farmer",
  "feather",
  "fence",
  "ferry",
  "fiddle",
  "finger",
  "flag",
  "flute",
  "forest",
  "fossil",
  "fountain",
  "fox",
  "frog",
  "galaxy",
  "garden",
  "garlic",
  "giant",
  "ginger",
  "giraffe",
  "glacier",
  "globe",
  "goat",
  "gravel",
  "guitar",
  "hammer",
  "harbor",
  "harp",
  "hazel",
  "helmet",
  "heron",
  "honey",
  "horse",
  "hotel",
  "island",
  "ivory",
  "jacket",
  "jaguar",
  "jelly",
  "jungle",
  "kettle",
  "kitten",
  "koala",
  "ladder",
  "lagoon",
  "lamp",
  "lantern",
  "lemon",
  "leopard",
  "letter",
  "lily",
  "lion",
  "lizard",
  "lobster",
  "magnet",
  "mango",
  "maple",
  "marble",
  "meadow",
  "melon",
  "mirror",
  "monkey",
  "moon",
  "mountain",
  "muffin",
  "museum",
  "needle",
  "nest",
  "noodle",
  "novel",
  "oasis",
  "ocean",
  "olive",
  "onion",
  "orange",
  "orbit",
  "otter",
  "owl",
  "oyster",
  "paddle",
  "palace",
  "panda",
  "paper",
  "parrot",
  "peach",
  "peanut",
  "pebble",
  "pencil",
  "penguin",
  "pepper",
  "piano",
  "pickle",
  "pigeon",
  "pillow",
  "pilot",
  "pirate",
  "planet",
  "plum",
  "pocket",
  "pony",
  "potato",
  "pumpkin",
  "puzzle",
  "quartz",
  "rabbit",
  "radio",
  "rainbow",
  "raven",
  "rhino",
  "ribbon",
  "river",
  "robin",
  "rocket",
  "saddle",
  "salmon",
  "sandal",
  "scarf",
  "shadow",
  "shark",
  "shell",
  "silver",
  "sketch",
  "sparrow",
  "spider",
  "spoon",
  "squirrel",
  "stamp",
  "statue",
  "stone",
  "sugar",
  "summer",
  "sunset",
  "swan",
  "table",
  "teapot",
  "tiger",
  "timber",
  "toast",
  "tomato",
  "tractor",
  "trumpet",
  "tulip",
  "tunnel",
  "turtle",
  "valley",
  "velvet",
  "violin",
  "volcano",
  "wagon",
  "walnut",
  "walrus",
  "whale",
  "window",
  "winter",
  "wizard",
  "wolf",
  "yacht",
  "zebra",
]);

function checkPublicKey(publicKey: Uint8Array, name: string): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new CryptoError(
      "BAD_PUBLIC_KEY",
      `Invalid ${name} public key length "${
        publicKey instanceof Uint8Array ? publicKey.length : typeof publicKey
      }": expected 32 bytes`,
    );
  }
}

/**
 * A short fingerprint of one identity key: the first 8 bytes of
 * `SHA-256(utf8("hush-fingerprint-v1") || publicKey)` as lowercase hex in four groups of four,
 * e.g. `"3f2a 9c01 77be 12d4"`. For display and logs; to verify a peer compare the safety
 * number, which is far stronger.
 *
 * @param publicKey A 32-byte Ed25519 identity public key.
 * @returns 19 characters: `xxxx xxxx xxxx xxxx`.
 * @throws {CryptoError} `BAD_PUBLIC_KEY` if `publicKey` is not 32 bytes.
 */
export function fingerprint(publicKey: Uint8Array): string {
  checkPublicKey(publicKey, "identity");
  const hex = toHex(sha256(concatBytes(utf8Encode(FINGERPRINT_LABEL), publicKey)).subarray(0, 8));
  return `${hex.slice(0, 4)} ${hex.slice(4, 8)} ${hex.slice(8, 12)} ${hex.slice(12, 16)}`;
}

/** Most per-key results {@link identityDigits} remembers (keys are public, results fixed). */
const DIGITS_CACHE_LIMIT = 256;
const digitsCache = new Map<string, string>();

/**
 * The three methods of noble's SHA-512 object (`@noble/hashes` 2.4.0 `HashMD`; `protected` in
 * its types) the fast chain drives directly: the 16 state words as 32-bit halves, and the
 * compression of one 128-byte block.
 */
interface Sha512Engine {
  get(): number[];
  set(...words: number[]): void;
  process(view: DataView, offset: number): void;
}

/**
 * Runs `h = SHA-512(h || publicKey)` {@link SAFETY_NUMBER_ITERATIONS} times with noble's
 * SHA-512 compression and nothing else: every input is exactly 96 bytes, so it is one block
 * with a fixed FIPS 180-4 §5.1.2 padding (`0x80`, zeros, the 128-bit length 768), and each
 * round is "reset to the IV, compress the block, read the state". About 20% faster than the
 * streaming API (no buffering, no per-round padding); {@link chainStreaming} is the fallback.
 */
function chainCompress(first: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const engine = nobleSha512.create() as unknown as Sha512Engine;
  const iv = engine.get();
  const block = new Uint8Array(128);
  const view = new DataView(block.buffer);
  block.set(first, 0);
  block.set(publicKey, 64);
  block[96] = 0x80; // padding starts right after the 96 message bytes
  block[126] = 0x03; // message length in bits: 768 = 0x0300, big-endian in bytes 112..127
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) {
    engine.set(...iv);
    engine.process(view, 0);
    const words = engine.get();
    for (let j = 0; j < 16; j++) view.setUint32(j * 4, words[j]! >>> 0, false);
  }
  return block.slice(0, 64);
}

/** The same chain through noble's public streaming API (one hasher reset per round). */
function chainStreaming(first: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const digest = first.slice();
  const input = new Uint8Array(64 + publicKey.length);
  input.set(publicKey, 64);
  const template = nobleSha512.create();
  const hasher = nobleSha512.create();
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) {
    input.set(digest, 0);
    template._cloneInto(hasher);
    hasher.update(input).digestInto(digest);
  }
  return digest;
}

/**
 * Whether {@link chainCompress} computes plain SHA-512 here: checked once, on one round, against
 * `sha512()` (a noble without these methods, or with another state layout, fails it).
 */
function compressWorks(): boolean {
  try {
    const engine = nobleSha512.create() as unknown as Sha512Engine;
    if (typeof engine.process !== "function" || typeof engine.get !== "function") return false;
    const input = new Uint8Array(96).map((_, i) => i * 7 + 1);
    const block = new Uint8Array(128);
    const view = new DataView(block.buffer);
    block.set(input, 0);
    block[96] = 0x80;
    block[126] = 0x03;
    engine.set(...engine.get());
    engine.process(view, 0);
    const words = engine.get();
    const out = new Uint8Array(64);
    const outView = new DataView(out.buffer);
    for (let j = 0; j < 16; j++) outView.setUint32(j * 4, words[j]! >>> 0, false);
    return toHex(out) === toHex(nobleSha512(input));
  } catch {
    return false;
  }
}

/** The chain {@link identityDigits} runs: the compression loop if it checks out, else streaming. */
export const SAFETY_NUMBER_CHAIN: "compress" | "streaming" = compressWorks()
  ? "compress"
  : "streaming";

/**
 * The 30 digits of one identity (Signal's numeric fingerprint, stable id = the key). Costs
 * 5,201 SHA-512 blocks, so results are memoized per key (bounded, oldest evicted first).
 *
 * SHA-512 here is noble's, not `node:crypto`'s: measured per call in this loop, Deno's
 * `createHash("sha512")` costs about 2.4-4 µs (a hash object and a Buffer per call), noble's
 * compression about 1.7 µs (docs/CRYPTO.md).
 */
function identityDigits(publicKey: Uint8Array): string {
  const cacheKey = toHex(publicKey);
  const cached = digitsCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const first = nobleSha512(
    concatBytes(new Uint8Array([0, SAFETY_NUMBER_VERSION]), publicKey, publicKey),
  );
  const digest = SAFETY_NUMBER_CHAIN === "compress"
    ? chainCompress(first, publicKey)
    : chainStreaming(first, publicKey);
  let digits = "";
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let j = 0; j < 5; j++) value = value * 256 + digest[chunk * 5 + j]!;
    digits += String(value % 100000).padStart(5, "0");
  }
  if (digitsCache.size >= DIGITS_CACHE_LIMIT) {
    digitsCache.delete(digitsCache.keys().next().value!);
  }
  digitsCache.set(cacheKey, digits);
  return digits;
}

/**
 * Both chains of {@link identityDigits}, for tests: `h` after 5,200 rounds from `first`.
 *
 * @param first The 64-byte `SHA-512(0x00 0x00 || key || key)`.
 * @param publicKey The 32-byte key.
 * @returns `{ compress, streaming }`, each 64 bytes (equal when the compression path works).
 */
export function safetyNumberChains(
  first: Uint8Array,
  publicKey: Uint8Array,
): { compress: Uint8Array; streaming: Uint8Array } {
  return {
    compress: chainCompress(first, publicKey),
    streaming: chainStreaming(first, publicKey),
  };
}

/**
 * The safety number of two identities: 60 decimal digits, the same on both sides whichever
 * key is "mine" (Signal's numeric fingerprint, adapted: the stable id is the key itself).
 *
 * For each key: `h = SHA-512(u16be(0) || key || key)`, then 5,200 times
 * `h = SHA-512(h || key)`; bytes 0..30 of `h` give six 5-byte big-endian integers, each taken
 * mod 100000 and zero-padded to 5 digits (30 digits). The two 30-digit strings are joined
 * with the smaller (as a string, equivalently as a number) first.
 *
 * @param myPublicKey My 32-byte Ed25519 identity public key.
 * @param peerPublicKey The peer's 32-byte identity public key.
 * @returns 60 digits, no spaces (see {@link formatSafetyNumber}).
 * @throws {CryptoError} `BAD_PUBLIC_KEY` if a key is not 32 bytes.
 */
export function safetyNumber(myPublicKey: Uint8Array, peerPublicKey: Uint8Array): string {
  checkPublicKey(myPublicKey, "my");
  checkPublicKey(peerPublicKey, "peer");
  const mine = identityDigits(myPublicKey);
  const theirs = identityDigits(peerPublicKey);
  return mine <= theirs ? mine + theirs : theirs + mine;
}

/**
 * Lays out a 60-digit safety number as 12 groups of 5 digits, 4 groups per line, 3 lines
 * (groups separated by one space, lines by `\n`).
 *
 * @param digits Exactly 60 ASCII digits.
 * @returns e.g. `"12345 67890 12345 67890\n...\n..."`.
 * @throws {RangeError} If `digits` is not exactly 60 ASCII digits.
 */
export function formatSafetyNumber(digits: string): string {
  if (typeof digits !== "string" || !/^[0-9]{60}$/.test(digits)) {
    throw new RangeError(`Invalid safety number: expected 60 digits`);
  }
  const groups: string[] = [];
  for (let i = 0; i < 60; i += 5) groups.push(digits.slice(i, i + 5));
  return [0, 4, 8].map((start) => groups.slice(start, start + 4).join(" ")).join("\n");
}

/**
 * The read-aloud form of a safety number: for each 30-digit half, in the order of the number,
 * 13 words from {@link SAFETY_WORDS}, one per byte of
 * `SHA-256(utf8("hush-safety-words-v2") || utf8(half))[0..13]` (26 words). Each identity's words
 * come from its own digits only, so matching them is as hard as matching that identity's digits
 * (no birthday search over both keys at once). Same on both sides, like the digits.
 *
 * @param myPublicKey My 32-byte identity public key.
 * @param peerPublicKey The peer's 32-byte identity public key.
 * @returns 26 words: the first half's 13, then the second half's 13.
 * @throws {CryptoError} `BAD_PUBLIC_KEY` if a key is not 32 bytes.
 */
export function safetyNumberWords(myPublicKey: Uint8Array, peerPublicKey: Uint8Array): string[] {
  const digits = safetyNumber(myPublicKey, peerPublicKey);
  return [digits.slice(0, 30), digits.slice(30)].flatMap((half) => {
    const digest = sha256(concatBytes(utf8Encode(SAFETY_WORDS_LABEL), utf8Encode(half)));
    return Array.from(
      digest.subarray(0, SAFETY_WORDS_PER_IDENTITY),
      (byte) => SAFETY_WORDS[byte]!,
    );
  });
}
