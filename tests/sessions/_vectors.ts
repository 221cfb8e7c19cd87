/**
 * Builds `tests/vectors/sessions_kdf.json` from fixed inputs, using only crypto/ primitives and
 * the formulas of docs/E2E.md (an independent second implementation of the formats, so the
 * vectors check `sessions/` rather than repeat it).
 *
 * Regenerate: `deno run --allow-write=tests/vectors tests/sessions/_vectors.ts`.
 * `vectors_test.ts` checks that regenerating gives exactly the committed file.
 *
 * @module
 */
import {
  concatBytes,
  getCipherSuite,
  hkdf,
  hmacSha256,
  identityFromSeed,
  sign,
  toHex,
  x25519PublicKey,
  x25519SharedSecret,
} from "../../crypto/mod.ts";

const enc = new TextEncoder();
const fill = (byte: number) => new Uint8Array(32).fill(byte);
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
const u16 = (n: number) => Uint8Array.of(n >>> 8, n & 255);
const zeros32 = new Uint8Array(32);

function kdfRk(rk: Uint8Array, dhOut: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdf(dhOut, { salt: rk, info: "hush-ratchet-root-v1", length: 64 });
  return [out.slice(0, 32), out.slice(32)];
}

function kdfCk(ck: Uint8Array): [Uint8Array, Uint8Array] {
  return [hmacSha256(ck, Uint8Array.of(1)), hmacSha256(ck, Uint8Array.of(2))];
}

function expand(mk: Uint8Array, suiteId: string, label: string) {
  const s = getCipherSuite(suiteId);
  const macLength = s.tagLength === 0 ? 32 : 0;
  const okm = hkdf(mk, {
    salt: zeros32,
    info: concatBytes(enc.encode(label), Uint8Array.of(s.wireId)),
    length: s.keyLength + s.nonceLength + macLength,
  });
  return {
    suite: s,
    key: okm.slice(0, s.keyLength),
    nonce: okm.slice(s.keyLength, s.keyLength + s.nonceLength),
    macKey: okm.slice(s.keyLength + s.nonceLength),
  };
}

function seal(
  mk: Uint8Array,
  suiteId: string,
  label: string,
  content: Uint8Array,
  aad: Uint8Array,
) {
  const { suite, key, nonce, macKey } = expand(mk, suiteId, label);
  const sealed = suite.seal(key, nonce, content, aad);
  if (suite.tagLength !== 0) return sealed;
  return concatBytes(sealed, hmacSha256(macKey, concatBytes(aad, sealed)).slice(0, 16));
}

function flip(hex: string, index: number, bit = 1): string {
  const bytes = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  bytes[index]! ^= bit;
  return toHex(bytes);
}

/** The whole vector file as a JSON-safe object. */
export function buildVectors(): Record<string, unknown> {
  // Fixed keys.
  const ikA = identityFromSeed(fill(0x01));
  const ikB = identityFromSeed(fill(0x02));
  const ikdhA = fill(0x11), ekA = fill(0x12), dhsA = fill(0x13);
  const ikdhB = fill(0x21), spkB = fill(0x22), opkB = fill(0x23);
  const pub = x25519PublicKey;
  const spkId = 7, opkId = 42;

  const dh1 = x25519SharedSecret(ikdhA, pub(spkB));
  const dh2 = x25519SharedSecret(ekA, pub(ikdhB));
  const dh3 = x25519SharedSecret(ekA, pub(spkB));
  const dh4 = x25519SharedSecret(ekA, pub(opkB));
  const x3dhInfo = { salt: zeros32, info: "hush-x3dh-v1", length: 32 };
  const sk = hkdf(concatBytes(new Uint8Array(32).fill(0xff), dh1, dh2, dh3, dh4), x3dhInfo);
  const skNoOpk = hkdf(concatBytes(new Uint8Array(32).fill(0xff), dh1, dh2, dh3), x3dhInfo);
  // Both nicks are bound (initial body version 2): u8 length || UTF-8, initiator's first.
  const nickField = (nick: string) =>
    concatBytes(Uint8Array.of(enc.encode(nick).length), enc.encode(nick));
  const ad = concatBytes(
    ikA.publicKey,
    ikB.publicKey,
    pub(ikdhA),
    pub(ikdhB),
    nickField("alice"),
    nickField("bob"),
  );
  const idSig = sign(ikA.privateKey, concatBytes(enc.encode("hush-identity-dh-v1"), pub(ikdhA)));

  // Alice's first message.
  const [, cks] = kdfRk(sk, x25519SharedSecret(dhsA, pub(spkB)));
  const [mk0, cks1] = kdfCk(cks);
  const content0 = concatBytes(Uint8Array.of(0x01), enc.encode("hello bob, from the vectors"));
  const header0 = concatBytes(Uint8Array.of(0x02, 0x01, 0x01), pub(dhsA), u32(0), u32(0));
  const ratchet0 = concatBytes(
    header0,
    seal(mk0, "aes-256-gcm", "hush-message-keys-v1", content0, concatBytes(ad, header0)),
  );
  const prefix = concatBytes(
    Uint8Array.of(0x01, 0x02),
    ikA.publicKey,
    pub(ikdhA),
    idSig,
    pub(ekA),
    u32(spkId),
    Uint8Array.of(1),
    u32(opkId),
  );
  const initial = concatBytes(prefix, ratchet0);
  // Alice's second message (n = 1), under Caesar, as a plain ratchet body.
  const [mk1] = kdfCk(cks1);
  const content1 = concatBytes(Uint8Array.of(0x01), enc.encode("Caesar hides nothing"));
  const header1 = concatBytes(Uint8Array.of(0x02, 0x01, 0xca), pub(dhsA), u32(0), u32(1));
  const ratchet1 = concatBytes(
    header1,
    seal(mk1, "caesar", "hush-message-keys-v1", content1, concatBytes(ad, header1)),
  );

  const initialHex = toHex(initial);
  const ratchet1Hex = toHex(ratchet1);
  const keyTop = 171 + 3 + 31; // last byte of the embedded ratchet key

  // Rooms.
  const room = "lobby";
  const roomField = concatBytes(u16(enc.encode(room).length), enc.encode(room));
  const signing = identityFromSeed(fill(0x32));
  const chain0 = fill(0x31);
  const keyId = 0x01020304;
  const roomBody = (chainKey: Uint8Array, iteration: number, text: string, suiteId: string) => {
    const [mk] = kdfCk(chainKey);
    const header = concatBytes(
      Uint8Array.of(0x03, 0x01, getCipherSuite(suiteId).wireId),
      u32(keyId),
      u32(iteration),
    );
    const sealed = seal(
      mk,
      suiteId,
      "hush-sender-message-keys-v1",
      concatBytes(Uint8Array.of(0x01), enc.encode(text)),
      concatBytes(roomField, ikA.publicKey, header),
    );
    const signed = concatBytes(header, sealed);
    return toHex(
      concatBytes(
        signed,
        sign(
          signing.privateKey,
          concatBytes(enc.encode("hush-room-message-v1"), roomField, signed),
        ),
      ),
    );
  };
  const [, chain1] = kdfCk(chain0);
  const [, chain2] = kdfCk(chain1);
  const room0 = roomBody(chain0, 0, "hello room", "aes-256-gcm");
  const room2 = roomBody(chain2, 2, "third, under chacha", "chacha20-poly1305");

  const mkFixed = fill(0x41);
  return {
    comment:
      "Hush end-to-end vectors (docs/E2E.md). All bytes hex. Generated by tests/sessions/_vectors.ts from fixed inputs; do not edit by hand.",
    kdf_ck: {
      chainKey: toHex(fill(0x51)),
      messageKey: toHex(kdfCk(fill(0x51))[0]),
      nextChainKey: toHex(kdfCk(fill(0x51))[1]),
    },
    kdf_rk: (() => {
      const [rk, ck] = kdfRk(fill(0x61), fill(0x62));
      return {
        rootKey: toHex(fill(0x61)),
        dhOutput: toHex(fill(0x62)),
        nextRootKey: toHex(rk),
        chainKey: toHex(ck),
      };
    })(),
    message_keys: ["aes-256-gcm", "chacha20-poly1305", "xchacha20-poly1305", "caesar"].map(
      (suite) => {
        const e = expand(mkFixed, suite, "hush-message-keys-v1");
        const r = expand(mkFixed, suite, "hush-sender-message-keys-v1");
        return {
          suite,
          messageKey: toHex(mkFixed),
          pairwise: { key: toHex(e.key), nonce: toHex(e.nonce), macKey: toHex(e.macKey) },
          room: { key: toHex(r.key), nonce: toHex(r.nonce), macKey: toHex(r.macKey) },
        };
      },
    ),
    x3dh: {
      initiator: {
        identitySeed: toHex(fill(0x01)),
        identityKey: toHex(ikA.publicKey),
        identityDhPrivate: toHex(ikdhA),
        identityDhKey: toHex(pub(ikdhA)),
        identityDhSignature: toHex(idSig),
        ephemeralPrivate: toHex(ekA),
        ephemeralKey: toHex(pub(ekA)),
        ratchetPrivate: toHex(dhsA),
      },
      responder: {
        identitySeed: toHex(fill(0x02)),
        identityKey: toHex(ikB.publicKey),
        identityDhPrivate: toHex(ikdhB),
        identityDhKey: toHex(pub(ikdhB)),
        signedPrekeyId: spkId,
        signedPrekeyPrivate: toHex(spkB),
        signedPrekey: toHex(pub(spkB)),
        oneTimePrekeyId: opkId,
        oneTimePrekeyPrivate: toHex(opkB),
        oneTimePrekey: toHex(pub(opkB)),
      },
      initiatorNick: "alice",
      responderNick: "bob",
      sharedSecret: toHex(sk),
      sharedSecretWithoutOneTimePrekey: toHex(skNoOpk),
      associatedData: toHex(ad),
    },
    pairwise: [
      {
        comment:
          "initial message (X3DH with one-time prekey) wrapping ratchet message n=0, aes-256-gcm",
        hex: initialHex,
        expect: "ok",
        content: toHex(content0),
      },
      {
        comment: "then ratchet message n=1 under caesar (session MAC appended)",
        hex: ratchet1Hex,
        expect: "ok",
        content: toHex(content1),
        after: 0,
      },
      {
        comment: "initial message, last tag byte flipped",
        hex: flip(initialHex, initial.length - 1),
        expect: "DECRYPT_FAILED",
      },
      {
        comment: "initial message, identity DH signature altered",
        hex: flip(initialHex, 70),
        expect: "BAD_INITIAL_SIGNATURE",
      },
      {
        comment: "initial message, signed prekey id 7 -> 6",
        hex: flip(initialHex, 165),
        expect: "UNKNOWN_PREKEY",
      },
      {
        comment: "initial message, embedded header's message number changed",
        hex: flip(initialHex, 171 + 42),
        expect: "DECRYPT_FAILED",
      },
      {
        comment: "initial message, embedded ratchet key with its top bit set",
        hex: flip(initialHex, keyTop, 0x80),
        expect: "BAD_MESSAGE",
      },
      {
        comment: "initial message, version byte 1 (an older Hush that did not bind the nicks)",
        hex: flip(initialHex, 1, 0x03),
        expect: "UNSUPPORTED_VERSION",
      },
      {
        comment: "initial message, version byte 3 (unknown)",
        hex: flip(initialHex, 1, 0x01),
        expect: "UNSUPPORTED_VERSION",
      },
      {
        comment: "initial message relabelled: delivered as from zed (nicks bound in the AD)",
        hex: initialHex,
        from: "zed",
        expect: "DECRYPT_FAILED",
      },
      {
        comment: "initial message written to bob, delivered as written to carol",
        hex: initialHex,
        to: "carol",
        expect: "DECRYPT_FAILED",
      },
      { comment: "unknown body type 0x07", hex: "07" + initialHex.slice(2), expect: "BAD_MESSAGE" },
      {
        comment: "initial message truncated inside the X3DH fields",
        hex: initialHex.slice(0, 2 * 100),
        expect: "BAD_MESSAGE",
      },
      {
        comment: "initial message, flags 0 with a one-time prekey id",
        hex: flip(initialHex, 166),
        expect: "BAD_MESSAGE",
      },
      {
        comment: "initial message, embedded suite byte 0x09 (unknown)",
        hex: flip(initialHex, 173, 0x08),
        expect: "UNKNOWN_CIPHER_SUITE",
      },
      {
        comment: "caesar message, one ciphertext letter changed (session MAC)",
        hex: flip(ratchet1Hex, 44),
        expect: "DECRYPT_FAILED",
        after: 0,
      },
    ],
    room: {
      name: room,
      senderIdentityKey: toHex(ikA.publicKey),
      distribution: {
        keyId,
        iteration: 0,
        chainKey: toHex(chain0),
        signingKey: toHex(signing.publicKey),
      },
      messages: [
        {
          comment: "iteration 2 first (skips 0 and 1), chacha20-poly1305",
          hex: room2,
          expect: "ok",
          content: toHex(concatBytes(Uint8Array.of(1), enc.encode("third, under chacha"))),
        },
        {
          comment: "iteration 0, aes-256-gcm, opened from the skipped store",
          hex: room0,
          expect: "ok",
          content: toHex(concatBytes(Uint8Array.of(1), enc.encode("hello room"))),
        },
        { comment: "iteration 0 again", hex: room0, expect: "DUPLICATE_MESSAGE" },
        {
          comment: "signature byte altered",
          hex: flip(room2, room2.length / 2 - 1),
          expect: "BAD_ROOM_SIGNATURE",
        },
        {
          comment: "ciphertext byte altered (signature no longer matches)",
          hex: flip(room2, 12),
          expect: "BAD_ROOM_SIGNATURE",
        },
        {
          comment: "too short to hold a signature",
          hex: room2.slice(0, 2 * 40),
          expect: "BAD_MESSAGE",
        },
      ],
    },
  };
}

if (import.meta.main) {
  const path = new URL("../vectors/sessions_kdf.json", import.meta.url);
  await Deno.writeTextFile(path, JSON.stringify(buildVectors(), null, 2) + "\n");
  console.log(`wrote ${path.pathname}`);
}
