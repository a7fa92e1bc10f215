/**
 * Generators of frame streams for the differential specs: mostly valid traffic (messages in one
 * frame or many, control frames between fragments, every length form) with targeted damage: the
 * rules of RFC 6455 §5 and RFC 7692 §6 a hostile peer can break, one (or a few) per stream.
 */
import { constants as zlibConstants, deflateRawSync } from "node:zlib";
import fc from "fast-check";
import { concat, frame } from "../support/wire";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, fragment, maskingKey } from "../fuzz/arbitraries";

/** One frame as written on the wire; `length` and `lengthForm` may lie about the payload. */
export interface WireFrame {
  opcode: number;
  fin: boolean;
  rsv: number;
  payload: Uint8Array;
  /** The length announced, when it is not the payload's (64-bit lengths too large to send). */
  length?: number;
  lengthForm?: 7 | 16 | 64;
  /** Masked the wrong way for the reader's role (RFC 6455 §5.1). */
  wrongMask?: boolean;
  /** On a compressed message's first frame: the message before compression (the peer's window). */
  plain?: Uint8Array;
  /**
   * A compressed message still to be compressed, with the messages before it as the window (RFC
   * 7692 §7.2.3.2, context takeover): `payload` is its text, cut at `points`, `between` between.
   */
  withContext?: { points: number[]; between: WireFrame[] };
  /** On the first frame of a compressed message whose payload is not DEFLATE data made for it. */
  junk?: boolean;
}

const bytesOf = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const encoder = new TextEncoder();

/** Valid UTF-8 text, with every width of character, sometimes after a byte order mark (kept as text). */
const text = fc.tuple(fc.constantFrom("", "", "", "\ufeff"), fc.string({ unit: "binary", maxLength: 40 })).map(([bom, s]) => encoder.encode(bom + s));

/** RFC 7692 §7.2.1: a message compressed on its own, with the 00 00 ff ff of the sync flush removed. */
export function compress(data: Uint8Array, window?: Uint8Array): Uint8Array {
  const out = deflateRawSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH, ...(window && window.length > 0 ? { dictionary: window } : {}) });
  return new Uint8Array(out.subarray(0, out.length - 4));
}

/** A compressed message: its frames, the first marked with the message before compression. */
function compressedMessage(opcode: number, plain: Uint8Array, points: number[], between: WireFrame[], window?: Uint8Array): WireFrame[] {
  const frames = message(opcode, compress(plain, window), points, between, 0x40);
  frames[0].plain = plain;
  return frames;
}

/** The LZ77 window of RFC 1951: the last 32 KiB a peer inflated. */
const WINDOW = 32768;

/**
 * Compresses the messages left to compress, in order, each with the ones before it as its window.
 * The stream ends with a message of bytes that are not DEFLATE data: a reader that takes them (zlib
 * may) is left in whatever state they put it in, and what it makes of later messages is noise.
 */
function compressInOrder(frames: WireFrame[]): WireFrame[] {
  let window = new Uint8Array(0);
  const out: WireFrame[] = [];
  let inJunk = false;
  for (const f of frames) {
    if (f.junk === true) inJunk = true;
    if (inJunk) {
      out.push(f);
      if (f.fin) break;
      continue;
    }
    const added = f.withContext === undefined ? [f] : compressedMessage(f.opcode, f.payload, f.withContext.points, f.withContext.between, window);
    const plain = added[0].plain;
    if (plain !== undefined) {
      const grown = new Uint8Array(window.length + plain.length);
      grown.set(window);
      grown.set(plain, window.length);
      window = grown.subarray(Math.max(0, grown.length - WINDOW));
    }
    out.push(...added);
  }
  return out;
}

/** A data message as frames: `rsv` on the first, control frames between fragments (§5.4). */
function message(opcode: number, payload: Uint8Array, points: number[], between: WireFrame[], rsv = 0): WireFrame[] {
  const parts = fragment(payload, points);
  const out: WireFrame[] = [];
  parts.forEach((part, i) => {
    out.push({ opcode: i === 0 ? opcode : CONTINUATION, fin: i === parts.length - 1, rsv: i === 0 ? rsv : 0, payload: part });
    if (i < parts.length - 1 && between[i]) out.push(between[i]);
  });
  return out;
}

const cuts = fc.oneof({ weight: 2, arbitrary: fc.constant<number[]>([]) }, { weight: 2, arbitrary: fc.array(fc.nat(), { maxLength: 4 }) });

const pingOrPong = fc.record({
  opcode: fc.constantFrom(PING, PONG),
  fin: fc.constant(true),
  rsv: fc.constant(0),
  payload: bytesOf(0, 125),
});

/** A valid close frame: empty, or a valid code (§7.4.1) and a UTF-8 reason of at most 123 bytes. */
const goodClose = fc.oneof(
  fc.constant<WireFrame>({ opcode: CLOSE, fin: true, rsv: 0, payload: new Uint8Array(0) }),
  fc.record({
    code: fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999),
    reason: fc.string({ unit: "binary", maxLength: 30 }),
  }).map(({ code, reason }) => closeFrame(code, encoder.encode(reason).subarray(0, 123))),
);

export function closeFrame(code: number, reason: Uint8Array): WireFrame {
  const payload = new Uint8Array(2 + reason.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(reason, 2);
  return { opcode: CLOSE, fin: true, rsv: 0, payload };
}

/** Sequences that are not valid UTF-8 (RFC 3629 §3, §4): stray, overlong, surrogate, too high, cut. */
const INVALID_UTF8 = [
  [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff],
  [0xfe], [0xc2], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc2, 0x41], [0xe2, 0x28, 0xa1],
].map((s) => Uint8Array.from(s));

/** Valid text with an invalid sequence put in at some place. */
const invalidText = fc.tuple(text, fc.nat(), fc.constantFrom(...INVALID_UTF8)).map(([valid, at, bad]) => {
  const i = valid.length === 0 ? 0 : at % (valid.length + 1);
  const out = new Uint8Array(valid.length + bad.length);
  out.set(valid.subarray(0, i));
  out.set(bad, i);
  out.set(valid.subarray(i), i + bad.length);
  return out;
});

/** A data message that is valid: text or binary, of a length around `max`, in one frame or many. */
function goodMessage(max: number, compressed: boolean): fc.Arbitrary<WireFrame[]> {
  const binary = fc.oneof(
    { weight: 3, arbitrary: bytesOf(0, 64) },
    { weight: 1, arbitrary: fc.integer({ min: Math.max(0, max - 2), max: max + 2 }).chain((n) => bytesOf(n, n)) },
    { weight: 1, arbitrary: fc.constantFrom(125, 126, 127, 65535, 65536).chain((n) => bytesOf(n, n)) },
  );
  return fc.record({
    isText: fc.boolean(),
    text,
    binary,
    points: cuts,
    between: fc.array(pingOrPong, { maxLength: 3 }),
    compress: compressed ? fc.constantFrom("no", "alone", "context") : fc.constant("no"),
  }).map(({ isText, text: t, binary: b, points, between, compress: z }): WireFrame[] => {
    const payload = isText ? t : b, opcode = isText ? TEXT : BINARY;
    if (z === "no") return message(opcode, payload, points, between);
    if (z === "alone") return compressedMessage(opcode, payload, points, between);
    return [{ opcode, fin: true, rsv: 0x40, payload, withContext: { points, between } }];
  });
}

/** One piece of damage: frames that break one rule (or lie near a limit, as `max` says). */
function damage(max: number, compressed: boolean): fc.Arbitrary<WireFrame[]> {
  const zlibDamage: Array<fc.Arbitrary<WireFrame[]>> = compressed ? [
    // RFC 7692 §6.1: RSV1 on a continuation frame or a control frame.
    fc.tuple(text, cuts.filter((p) => p.length > 0)).map(([t, points]) => {
      const frames = compressedMessage(TEXT, t, points, []);
      frames[frames.length - 1].rsv = 0x40;
      return frames;
    }),
    pingOrPong.map((f) => [{ ...f, rsv: 0x40 }]),
    // Data that is not DEFLATE, compressed invalid UTF-8, and a message that inflates past max.
    fc.tuple(bytesOf(1, 40), cuts).map(([junk, points]) => {
      const frames = message(BINARY, junk, points, [], 0x40);
      frames[0].junk = true;
      return frames;
    }),
    // A compressed message with an empty payload (RFC 7692 §7.2.3.6 sends an empty one as 00).
    fc.tuple(fc.constantFrom(TEXT, BINARY), text).map(([opcode, after]) => [
      { opcode, fin: true, rsv: 0x40, payload: new Uint8Array(0) }, ...compressedMessage(TEXT, after, [], []),
    ]),
    fc.tuple(invalidText, cuts).map(([t, points]) => message(TEXT, compress(t), points, [], 0x40)),
    fc.tuple(fc.integer({ min: max - 1, max: max + 1 }), cuts).map(([n, points]) => compressedMessage(BINARY, new Uint8Array(Math.max(0, n)), points, [])),
  ] : [];
  return fc.oneof(
    // RFC 6455 §5.2: RSV bits with no extension to define them (RSV1 too, without deflate).
    fc.tuple(fc.constantFrom(0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70), fc.constantFrom(TEXT, BINARY, CONTINUATION, PING, PONG, CLOSE), bytesOf(0, 8))
      .filter(([rsv, opcode]) => !(compressed && rsv === 0x40 && (opcode === TEXT || opcode === BINARY)))
      .map(([rsv, opcode, payload]) => [{ opcode, fin: true, rsv, payload }]),
    // §5.2: reserved opcodes.
    fc.tuple(fc.constantFrom(3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf), fc.boolean(), bytesOf(0, 8))
      .map(([opcode, fin, payload]) => [{ opcode, fin, rsv: 0, payload }]),
    // §5.5: control frames longer than 125 bytes (in any length form) or fragmented.
    fc.tuple(fc.constantFrom(PING, PONG, CLOSE), fc.integer({ min: 126, max: 200 }), fc.constantFrom<16 | 64 | undefined>(undefined, 16, 64))
      .map(([opcode, n, lengthForm]) => [{ opcode, fin: true, rsv: 0, payload: new Uint8Array(n), lengthForm }]),
    fc.tuple(fc.constantFrom(PING, PONG, CLOSE), bytesOf(0, 5)).map(([opcode, payload]) => [
      { opcode, fin: false, rsv: 0, payload }, { opcode: CONTINUATION, fin: true, rsv: 0, payload },
    ]),
    // §5.2: a length in a longer form than it needs (the RFC asks senders for the minimal one).
    fc.tuple(fc.constantFrom(TEXT, BINARY, PING, PONG), fc.constantFrom<16 | 64>(16, 64), text)
      .map(([opcode, lengthForm, payload]) => [{ opcode, fin: true, rsv: 0, payload, lengthForm }]),
    fc.tuple(goodClose, fc.constantFrom<16 | 64>(16, 64)).map(([close, lengthForm]) => [{ ...close, lengthForm }]),
    // §5.2: 64-bit lengths: with the most significant bit set, or beyond any message.
    fc.tuple(fc.constantFrom(TEXT, BINARY, CONTINUATION), fc.constantFrom(2 ** 63, 2 ** 63 + 2 ** 40, 2 ** 64 - 2 ** 12, 2 ** 53, 2 ** 62, 2 ** 32, max + 1))
      .map(([opcode, length]) => [{ opcode, fin: true, rsv: 0, payload: new Uint8Array(0), length, lengthForm: 64 as const }]),
    // §8.1: invalid UTF-8, in one frame or cut anywhere (inside the bad sequence too).
    fc.tuple(invalidText, cuts, fc.array(pingOrPong, { maxLength: 2 })).map(([t, points, between]) => message(TEXT, t, points, between)),
    // §5.4: a continuation with nothing to continue; a new message inside a fragmented one.
    bytesOf(0, 5).map((payload) => [{ opcode: CONTINUATION, fin: true, rsv: 0, payload }]),
    fc.tuple(fc.constantFrom(TEXT, BINARY), fc.constantFrom(TEXT, BINARY), text).map(([first, second, payload]) => [
      { opcode: first, fin: false, rsv: 0, payload }, { opcode: second, fin: true, rsv: 0, payload },
    ]),
    // A fragmented message that never ends (the stream stops inside it).
    fc.tuple(fc.constantFrom(TEXT, BINARY), text).map(([opcode, payload]) => [{ opcode, fin: false, rsv: 0, payload }]),
    // §5.5.1, §7.4: a close payload of 1 byte, reserved or invalid codes, an invalid UTF-8 reason.
    fc.integer({ min: 0, max: 255 }).map((b) => [{ opcode: CLOSE, fin: true, rsv: 0, payload: Uint8Array.of(b) }]),
    fc.tuple(fc.constantFrom(0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535), text)
      .map(([code, reason]) => [closeFrame(code, reason)]),
    fc.tuple(fc.constantFrom(1000, 3000), invalidText.filter((t) => t.length <= 123)).map(([code, reason]) => [closeFrame(code, reason)]),
    // §5.1: a frame masked the wrong way for the role.
    fc.tuple(fc.constantFrom(TEXT, BINARY, PING), text).map(([opcode, payload]) => [{ opcode, fin: true, rsv: 0, payload, wrongMask: true }]),
    // Messages at and just over maxPayload, whole or in fragments whose sum crosses it.
    fc.tuple(fc.integer({ min: max - 1, max: max + 1 }), cuts, fc.constantFrom(TEXT, BINARY))
      .map(([n, points, opcode]) => message(opcode, new Uint8Array(Math.max(0, n)).fill(0x61), points, [])),
    ...zlibDamage,
  );
}

export interface Stream {
  frames: WireFrame[];
  /** The masking keys to use, frame by frame (cycled). */
  keys: Uint8Array[];
}

/**
 * A stream: a few valid messages and control frames, some damage in between (mostly one piece),
 * and often a valid close at the end.
 */
export function stream(max: number, compressed: boolean): fc.Arbitrary<Stream> {
  const item = fc.oneof(
    { weight: 4, arbitrary: goodMessage(max, compressed) },
    { weight: 1, arbitrary: pingOrPong.map((f) => [f]) },
    { weight: 3, arbitrary: damage(max, compressed) },
  );
  return fc.record({
    items: fc.array(item, { minLength: 1, maxLength: 5 }),
    close: fc.option(goodClose, { freq: 2 }),
    keys: fc.array(maskingKey, { minLength: 1, maxLength: 4 }),
  }).map(({ items, close, keys }) => ({ frames: compressInOrder([...items.flat(), ...(close === null ? [] : [close])]), keys }));
}

/** The bytes of a stream as `role`'s peer writes them: masked to a server (RFC 6455 §5.3). */
export function wireBytes(s: Stream, toServer: boolean): Uint8Array {
  const parts = s.frames.map((f, i) => {
    const masked = f.wrongMask === true ? !toServer : toServer;
    return frame({ opcode: f.opcode, fin: f.fin, rsv: f.rsv, payload: f.payload, length: f.length, lengthForm: f.lengthForm, mask: masked ? s.keys[i % s.keys.length] : undefined });
  });
  return concat(...parts);
}

/** A frame a reader takes as it is: nothing about it breaks a rule of RFC 6455 §5. */
const wellFormed = (f: WireFrame): boolean => f.wrongMask !== true && f.length === undefined && f.rsv === 0
  && (f.opcode < 8 ? f.opcode <= 2 : f.opcode <= 0xa && f.fin && f.payload.length <= 125);

/**
 * The same stream with each compressed message that arrives in well-formed fragments sent as one
 * frame instead, the control frames between its fragments put before it: the message means the
 * same (RFC 6455 §5.4, RFC 7692 §6.1), and a reader that inflates fragment by fragment reads it in
 * one go.
 */
export function joinCompressed(s: Stream): Stream {
  const out: WireFrame[] = [];
  let i = 0;
  while (i < s.frames.length) {
    const first = s.frames[i];
    if (!(first.opcode >= 1 && first.opcode <= 2 && first.rsv === 0x40 && !first.fin && wellFormed({ ...first, rsv: 0 }))) {
      out.push(first);
      i++;
      continue;
    }
    const parts = [first.payload], controls: WireFrame[] = [];
    let j = i + 1, ended = false;
    for (; j < s.frames.length && !ended; j++) {
      const f = s.frames[j];
      if (!wellFormed(f) || f.opcode === CLOSE || (f.opcode >= 1 && f.opcode <= 2)) break;
      if (f.opcode === CONTINUATION) {
        parts.push(f.payload);
        ended = f.fin;
      } else {
        controls.push(f);
      }
    }
    if (!ended) {
      out.push(first);
      i++;
      continue;
    }
    const payload = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      payload.set(p, at);
      at += p.length;
    }
    out.push(...controls, { opcode: first.opcode, fin: true, rsv: 0x40, payload });
    i = j;
  }
  return { frames: out, keys: [s.keys[0]] };
}

/**
 * The same stream with each compressed message whose payload is empty given the payload RFC 7692
 * §7.2.3.6 gives an empty message (00): the message both mean is the empty one, but appending
 * 00 00 ff ff to nothing is not a whole DEFLATE block, and an inflater handed it waits inside a
 * stored block's header, which garbles the next message.
 */
export function emptyCompressedAsBlock(s: Stream): Stream {
  const frames = s.frames.map((f) => (f.rsv === 0x40 && f.fin && f.opcode >= 1 && f.opcode <= 2 && f.payload.length === 0
    ? { ...f, payload: Uint8Array.of(0x00) } : f));
  return { frames, keys: s.keys };
}
