/**
 * Chunking invariance: the parser is a state machine over bytes, so however a byte stream is split
 * into `parse` calls — one call, a few, one byte each — the driver emits exactly the same events
 * and writes exactly the same frames. Checked for random sequences of valid frames (all opcodes,
 * every length form, fragmented messages with control frames between fragments), masked to a
 * server and unmasked to a client, and for the same sequences followed by random bytes, so the
 * failure, too, comes at the same point with the same close code.
 */
import fc from "fast-check";
import { type CollectingIO, type Recorded, openClient, openServer, readFrames } from "../support/wire";
import { encode, fuzzParameters, normalize, splitBy, splits, validFrames } from "./arbitraries";

/** Everything observable: the events, and the frames written (unmasked, so random keys do not matter). */
function observe(open: () => { driver: { parse(b: Uint8Array): void }; io: CollectingIO; events: Recorded[] }, pieces: Uint8Array[]): unknown {
  const { driver, io, events } = open();
  for (const piece of pieces) driver.parse(piece);
  const written = readFrames(io.all()).map((f) => [f.opcode, f.fin, f.rsv, Buffer.from(f.payload).toString("base64")]);
  return { events: normalize(events), written };
}

describe("chunking invariance", () => {
  for (const [side, open, masked] of [["server", openServer, true], ["client", openClient, false]] as const) {
    test(`${side}: any split of valid frames gives the events of one call`, () => {
      fc.assert(fc.property(validFrames(masked), splits, (frames, cuts) => {
        const data = encode(frames);
        // parse() unmasks in place, so each run gets its own copy of the bytes.
        const whole = observe(open, [data.slice()]);
        const split = observe(open, splitBy(data, cuts));
        expect(split).toEqual(whole);
      }), fuzzParameters(60));
    });

    test(`${side}: any split of valid frames and a random tail fails at the same point`, () => {
      fc.assert(fc.property(validFrames(masked), fc.uint8Array({ minLength: 1, maxLength: 40 }), splits, (frames, tail, cuts) => {
        const data = new Uint8Array([...encode(frames), ...tail]);
        const whole = observe(open, [data.slice()]);
        const split = observe(open, splitBy(data, cuts));
        expect(split).toEqual(whole);
      }), fuzzParameters(60));
    });
  }

  // A handler may hand the driver bytes itself (two drivers wired in memory do): they follow the
  // chunk being read, so handing each piece over from a handler of the event before it changes
  // nothing either.
  for (const [side, open, masked] of [["server", openServer, true], ["client", openClient, false]] as const) {
    test(`${side}: any split, its pieces handed over from event handlers, gives the events of one call`, () => {
      fc.assert(fc.property(validFrames(masked), splits, fc.array(fc.boolean(), { maxLength: 64 }), (frames, cuts, nest) => {
        const data = encode(frames);
        const whole = observe(open, [data.slice()]);
        const pieces = splitBy(data, cuts);
        const { driver, io, events } = open();
        let event = 0;
        const handOver = (): void => {
          if (nest[event++ % Math.max(nest.length, 1)] && pieces.length > 0) driver.parse(pieces.shift() as Uint8Array);
        };
        for (const type of ["message", "ping", "pong"] as const) driver.on(type, handOver);
        while (pieces.length > 0) driver.parse(pieces.shift() as Uint8Array);
        const written = readFrames(io.all()).map((f) => [f.opcode, f.fin, f.rsv, Buffer.from(f.payload).toString("base64")]);
        expect({ events: normalize(events), written }).toEqual(whole);
      }), fuzzParameters(60));
    });
  }

  test("server: a valid sequence delivers each message once, in order, and answers each ping", () => {
    fc.assert(fc.property(validFrames(true), (frames) => {
      const { driver, events, io } = openServer();
      driver.parse(encode(frames));
      const expected: unknown[] = [];
      const pongs: string[] = [];
      let opcode = 0;
      let pieces: Uint8Array[] = [];
      for (const f of frames) {
        const payload = Buffer.from(f.payload).toString("base64");
        if (f.opcode >= 8) {
          expected.push([f.opcode === 9 ? "ping" : "pong", payload]);
          if (f.opcode === 9) pongs.push(payload);
          continue;
        }
        if (f.opcode !== 0) opcode = f.opcode;
        pieces.push(f.payload);
        if (!f.fin) continue;
        const joined = Buffer.concat(pieces);
        pieces = [];
        expected.push(["message", opcode === 1 ? `text:${joined.toString("utf8")}` : `binary:${joined.toString("base64")}`]);
      }
      expect(normalize(events)).toEqual(expected);
      // RFC 6455 §5.5.2: each ping answered by a pong with its payload, and nothing else written.
      expect(readFrames(io.all()).map((f) => [f.opcode, Buffer.from(f.payload).toString("base64")])).toEqual(pongs.map((p) => [0xa, p]));
    }), fuzzParameters(60));
  });
});
