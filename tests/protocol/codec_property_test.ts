import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameSplitter,
  peekEnvelopeRoute,
  ProtocolError,
  toDeliverInPlace,
  withLengthPrefix,
} from "../../protocol/mod.ts";
import { frameToJson } from "../../tools/gen_protocol_vectors.ts";

const SLOW = Deno.permissions.querySync({ name: "env", variable: "SLOW" }).state === "granted" &&
  Deno.env.get("SLOW") === "1";
const RUNS = SLOW ? 5000 : 200;

const nameChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".split(""),
);
const name = fc.array(nameChar, { minLength: 1, maxLength: 32 }).map((a) => a.join(""));
const codeArb = fc.array(fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_".split("")), {
  minLength: 1,
  maxLength: 32,
}).map((a) => a.join(""));
const detail = fc.string({ maxLength: 200 });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const kind = fc.constantFrom("nick" as const, "room" as const);
const bundle = fc.record({
  identityDhKey: bytes(32),
  identityDhSignature: bytes(64),
  signedPrekeyId: u32,
  signedPrekey: bytes(32),
  signedPrekeySignature: bytes(64),
});
const otk = fc.record({ id: u32, key: bytes(32) });

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    type: fc.constant("hello" as const),
    version: u16,
    nick: name,
    identityKey: bytes(32),
    token: fc.uint8Array({ maxLength: 255 }),
  }),
  fc.record({ type: fc.constant("auth" as const), signature: bytes(64) }),
  fc.record({
    type: fc.constantFrom("ping" as const, "pong" as const, "relay-ping" as const),
    nonce: bytes(8),
  }),
  fc.record({
    type: fc.constantFrom("send" as const, "deliver" as const),
    id: bytes(16),
    cipher: fc.integer({ min: 1, max: 255 }),
    from: name,
    toKind: kind,
    to: name,
    body: fc.uint8Array({ maxLength: 600 }),
  }),
  fc.record({ type: fc.constantFrom("ack" as const, "accepted" as const), count: u32 }),
  fc.record({ type: fc.constantFrom("join" as const, "leave" as const), room: name }),
  fc.record({ type: fc.constant("list" as const), room: fc.oneof(name, fc.constant("")) }),
  fc.record({ type: fc.constant("list-rooms" as const) }),
  fc.tuple(bundle, fc.boolean(), fc.array(otk, { maxLength: 100 })).map((
    [b, replaceOneTimePrekeys, oneTimePrekeys],
  ) => ({ type: "publish-keys" as const, replaceOneTimePrekeys, ...b, oneTimePrekeys })),
  fc.record({
    type: fc.constantFrom("fetch-keys" as const, "fetch-identity" as const),
    nick: name,
  }),
  fc.record({ type: fc.constant("challenge" as const), nonce: bytes(32) }),
  fc.record({
    type: fc.constant("ready" as const),
    nick: name,
    maxFrameBytes: fc.integer({ min: 0, max: 16 * 1024 * 1024 }),
    heartbeatMs: u32,
    queued: u32,
    oneTimePrekeys: u16,
    hasBundle: fc.boolean(),
    durable: fc.boolean(),
    epoch: bytes(8),
  }),
  fc.record({
    type: fc.constant("undelivered" as const),
    id: bytes(16),
    from: name,
    toKind: kind,
    to: name,
    holder: name,
    reason: codeArb,
    enqueuedAt: u32,
  }),
  fc.record({
    type: fc.constant("rejected" as const),
    seq: u32,
    id: bytes(16),
    recipientKind: kind,
    recipient: name,
    code: codeArb,
    detail,
  }),
  fc.record({ type: fc.constantFrom("joined" as const, "left" as const), room: name, nick: name }),
  fc.record({
    type: fc.constant("roster" as const),
    room: fc.oneof(name, fc.constant("")),
    members: fc.array(fc.record({ nick: name, online: fc.boolean() }), { maxLength: 20 }),
  }),
  fc.record({
    type: fc.constant("rooms" as const),
    rooms: fc.array(fc.record({ room: name, members: u16 }), { maxLength: 20 }),
  }),
  fc.record({ type: fc.constant("presence" as const), nick: name, online: fc.boolean() }),
  fc.record({ type: fc.constant("prekey-count" as const), count: u16 }),
  fc.record({
    type: fc.constant("keys" as const),
    nick: name,
    status: fc.constant("no-such-user" as const),
  }),
  fc.record({
    type: fc.constant("keys" as const),
    nick: name,
    status: fc.constant("no-bundle" as const),
    identityKey: bytes(32),
  }),
  fc.record({
    type: fc.constant("keys" as const),
    nick: name,
    status: fc.constant("ok" as const),
    identityKey: bytes(32),
    bundle,
    oneTimePrekey: fc.oneof(fc.constant(null), otk),
  }),
  fc.record({ type: fc.constant("error" as const), fatal: fc.boolean(), code: codeArb, detail }),
) as fc.Arbitrary<Frame>;

Deno.test("decodeFrame(encodeFrame(x)) equals x for generated frames", () => {
  fc.assert(
    fc.property(frameArb, (frame) => {
      const encoded = encodeFrame(frame);
      assert.deepEqual(
        frameToJson(decodeFrame(encoded, { maxFrameBytes: 1 << 24 })),
        frameToJson(frame),
      );
    }),
    { numRuns: RUNS * 5 },
  );
});

Deno.test("decodeFrame() of arbitrary bytes returns a frame or throws ProtocolError, nothing else", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
      try {
        const frame = decodeFrame(input);
        assert.deepEqual(encodeFrame(frame), input);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }),
    { numRuns: RUNS * 10 },
  );
});

Deno.test("decodeFrame() of a mutated valid frame returns a frame or throws ProtocolError", () => {
  fc.assert(
    fc.property(
      frameArb,
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(),
      (frame, at, value, cut) => {
        const b = encodeFrame(frame);
        b[at % b.length] = value;
        const input = b.subarray(0, b.length - (cut % 3));
        try {
          decodeFrame(input, { maxFrameBytes: 1 << 24 });
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      },
    ),
    { numRuns: RUNS * 5 },
  );
});

Deno.test("peekEnvelopeRoute() agrees with decodeFrame() and never reads the body", () => {
  fc.assert(
    fc.property(
      bytes(16),
      name,
      kind,
      name,
      fc.uint8Array({ maxLength: 300 }),
      (id, from, toKind, to, body) => {
        const frame = encodeFrame({ type: "send", id, cipher: 1, from, toKind, to, body });
        const route = peekEnvelopeRoute(frame);
        assert.equal(route.toKind, toKind);
        assert.deepEqual(frame.subarray(route.bodyStart), body);
        const decoded = decodeFrame(toDeliverInPlace(frame));
        assert.deepEqual(decoded, { type: "deliver", id, cipher: 1, from, toKind, to, body });
      },
    ),
    { numRuns: RUNS },
  );
});

Deno.test("FrameSplitter returns the same frames however the stream is cut", () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (frames, cuts) => {
        const encoded = frames.map(encodeFrame);
        const stream = new Uint8Array(encoded.reduce((n, f) => n + 4 + f.length, 0));
        let o = 0;
        for (const f of encoded) {
          stream.set(withLengthPrefix(f), o);
          o += 4 + f.length;
        }
        const splitter = new FrameSplitter({ maxFrameBytes: 1 << 24 });
        const out: Uint8Array[] = [];
        let pos = 0;
        let i = 0;
        while (pos < stream.length) {
          const n = cuts[i++ % cuts.length]!;
          out.push(...splitter.push(stream.subarray(pos, pos + n)));
          pos += n;
        }
        assert.deepEqual(out.map((f) => Array.from(f)), encoded.map((f) => Array.from(f)));
        assert.equal(splitter.pendingBytes, 0);
      },
    ),
    { numRuns: RUNS },
  );
});
