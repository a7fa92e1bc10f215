/**
 * Generators for the property-based specs, and the settings every property runs with.
 *
 * `npm test` runs each property with a fixed seed and a modest number of runs, so it is fast and
 * the same on every run. `npm run fuzz` sets FUZZ_SEED (random) and FUZZ_SCALE (more runs); a
 * failure's message carries the seed and path that reproduce it.
 */
import fc from "fast-check";
import type { Recorded } from "../support/wire";
import { concat, frame } from "../support/wire";

export const FIXED_SEED = 0x5eed6455;

/** fast-check parameters: the seed from FUZZ_SEED or the fixed one; `runs` times FUZZ_SCALE runs. */
export function fuzzParameters(runs: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : FIXED_SEED;
  const scale = process.env.FUZZ_SCALE ? Number(process.env.FUZZ_SCALE) : 1;
  return { seed, numRuns: Math.max(1, Math.round(runs * scale)), endOnFailure: false };
}

export const TEXT = 0x1, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xa, CONTINUATION = 0x0;

/** Payload lengths: mostly small, with every length-form boundary of RFC 6455 §5.2 well covered. */
export const payloadLength: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 200 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 125, 126, 127, 128) },
  { weight: 1, arbitrary: fc.integer({ min: 65530, max: 65540 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }) },
);

const bytesOfLength = (length: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: length, maxLength: length });
export const anyBytes = payloadLength.chain(bytesOfLength);

/** Text as valid UTF-8 bytes: any code point (any width), kept roughly under `max` bytes. */
export const utf8Text = (max = 300): fc.Arbitrary<string> => fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: max / 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", minLength: 120, maxLength: 130 }) },
);

export const maskingKey = fc.uint8Array({ minLength: 4, maxLength: 4 });

/** One frame as the spec of a frame builder. */
export interface FrameItem {
  opcode: number;
  fin: boolean;
  payload: Uint8Array;
  key: Uint8Array | null;
}

const controlFrame = (masked: boolean): fc.Arbitrary<FrameItem> => fc.record({
  opcode: fc.constantFrom(PING, PONG),
  fin: fc.constant(true),
  payload: fc.integer({ min: 0, max: 125 }).chain(bytesOfLength),
  key: masked ? maskingKey : fc.constant(null),
});

/** Splits a payload into `cuts + 1` fragments at arbitrary byte offsets (inside characters too). */
export function fragment(payload: Uint8Array, cutPoints: number[]): Uint8Array[] {
  const points = [...new Set(cutPoints.map((p) => (payload.length === 0 ? 0 : p % (payload.length + 1))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(payload.subarray(from, p));
    from = p;
  }
  out.push(payload.subarray(from));
  return out;
}

/** A data message (text or binary), fragmented or not, with control frames between its fragments. */
const dataMessage = (masked: boolean): fc.Arbitrary<FrameItem[]> => fc.record({
  binary: fc.boolean(),
  text: utf8Text(),
  bytes: anyBytes,
  cuts: fc.oneof({ weight: 3, arbitrary: fc.constant<number[]>([]) }, { weight: 2, arbitrary: fc.array(fc.nat(), { maxLength: 5 }) }),
  interleaved: fc.array(controlFrame(masked), { maxLength: 3 }),
  keys: fc.array(maskingKey, { minLength: 8, maxLength: 8 }),
}).map(({ binary, text, bytes, cuts, interleaved, keys }) => {
  const payload = binary ? bytes : new TextEncoder().encode(text);
  const parts = fragment(payload, cuts);
  const frames: FrameItem[] = [];
  parts.forEach((part, i) => {
    frames.push({ opcode: i === 0 ? (binary ? BINARY : TEXT) : CONTINUATION, fin: i === parts.length - 1, payload: part, key: masked ? keys[i % 8] : null });
    // A control frame may come between fragments (RFC 6455 §5.4).
    if (i < parts.length - 1 && interleaved[i]) frames.push(interleaved[i]);
  });
  return frames;
});

/** A sequence of valid frames: messages and control frames, masked (to a server) or not (to a client). */
export const validFrames = (masked: boolean): fc.Arbitrary<FrameItem[]> =>
  fc.array(fc.oneof({ weight: 3, arbitrary: dataMessage(masked) }, { weight: 1, arbitrary: controlFrame(masked).map((f) => [f]) }), { maxLength: 8 })
    .map((groups) => groups.flat());

/** The bytes of a frame sequence. */
export function encode(frames: FrameItem[]): Uint8Array {
  const parts = frames.map((f) => frame({ opcode: f.opcode, fin: f.fin, payload: f.payload, mask: f.key ?? undefined }));
  return concat(...parts);
}

/** Cut points for a byte string of unknown length: an arbitrary split into `parse` calls. */
export const splits = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant("every-byte" as const) },
);

/**
 * A copy of `piece` that ends its own ArrayBuffer and starts `offset` bytes into it: socket reads
 * and `Buffer.concat` hand out such views, and a word-at-a-time reader must not reach past the end.
 */
function atEndOfBuffer(piece: Uint8Array, offset: number): Uint8Array {
  const backing = new Uint8Array(offset + piece.length);
  backing.set(piece, offset);
  return backing.subarray(offset);
}

/**
 * Splits `data` into pieces at the given cut points (modulo its length), or into single bytes. Each
 * piece is a view that ends its buffer, at an offset 0–3 that varies from piece to piece, so the
 * pieces meet every alignment.
 */
export function splitBy(data: Uint8Array, cuts: number[] | "every-byte"): Uint8Array[] {
  // One byte per call; past a few KiB, every 61st byte alone and the rest in runs, to stay fast.
  if (cuts === "every-byte" && data.length <= 4096) {
    return Array.from({ length: data.length }, (_, i) => atEndOfBuffer(data.subarray(i, i + 1), i & 3));
  }
  if (cuts === "every-byte") cuts = Array.from({ length: Math.ceil(data.length / 61) }, (_, i) => i * 61 + (i % 2));
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, data.length]) {
    out.push(atEndOfBuffer(data.subarray(from, p), (from + out.length) & 3));
    from = p;
  }
  return out;
}

/** Events in a comparable form: payloads as base64, errors as their message and close code. */
export function normalize(events: Recorded[]): unknown[] {
  return events.map(([type, event]) => {
    if (event instanceof Error) return [type, event.name, event.message, (event as { code?: number }).code];
    if (type === "message") {
      const data = (event as { data: string | Uint8Array }).data;
      return [type, typeof data === "string" ? `text:${data}` : `binary:${Buffer.from(data).toString("base64")}`];
    }
    if (type === "ping" || type === "pong") return [type, Buffer.from((event as { data: Uint8Array }).data).toString("base64")];
    return [type, event];
  });
}

/** Random mutations of a byte string: flipped bits, changed, inserted and removed bytes, a cut. */
export const mutation = fc.array(fc.record({
  kind: fc.constantFrom("flip", "set", "insert", "delete", "truncate"),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
}), { minLength: 1, maxLength: 4 });

export function mutate(data: Uint8Array, edits: Array<{ kind: string; at: number; value: number }>): Uint8Array {
  let bytes = data.slice();
  for (const { kind, at, value } of edits) {
    const i = bytes.length === 0 ? 0 : at % bytes.length;
    if (kind === "flip" && bytes.length > 0) bytes[i] ^= 1 << (value & 7);
    else if (kind === "set" && bytes.length > 0) bytes[i] = value;
    else if (kind === "insert") {
      const grown = new Uint8Array(bytes.length + 1);
      grown.set(bytes.subarray(0, i));
      grown[i] = value;
      grown.set(bytes.subarray(i), i + 1);
      bytes = grown;
    } else if (kind === "delete" && bytes.length > 0) {
      const shrunk = new Uint8Array(bytes.length - 1);
      shrunk.set(bytes.subarray(0, i));
      shrunk.set(bytes.subarray(i + 1), i);
      bytes = shrunk;
    } else if (kind === "truncate") bytes = bytes.slice(0, i);
  }
  return bytes;
}
