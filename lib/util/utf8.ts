/**
 * UTF-8 decoding with validation (RFC 3629), on the platform's `TextDecoder` in fatal mode.
 *
 * The WHATWG decoder checks each byte against the ranges of RFC 3629 §4 as it goes (an overlong
 * lead, a surrogate, a code point above U+10FFFF are refused at the first byte that rules them
 * out), so in streaming mode it fails as soon as the bytes can no longer become valid, which is
 * what RFC 6455 §8.1 asks of a text message that arrives in fragments.
 */
import { type ByteSource, toBytes } from "./bytes.js";
import { fastPaths } from "./fast-paths.js";

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** The same decoder in replacement mode: each invalid sequence becomes U+FFFD instead of an error. */
const replacing = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Decodes a complete UTF-8 sequence; returns `null` if it is not valid UTF-8. Short ASCII text is
 * built here (`shortAscii`), the rest decoded by the fatal `TextDecoder`. A runtime's entry may lend
 * a faster way to the same answer (`fast-paths.ts`).
 */
export function decodeUtf8(bytes: Uint8Array): string | null {
  const decode = fastPaths.decodeUtf8;
  if (decode !== null) return decode(bytes);
  return (bytes.length <= SHORT_ASCII ? shortAscii(bytes) : null) ?? decodeUtf8Fatal(bytes);
}

/** `decodeUtf8` by the fatal `TextDecoder` alone: what Bun's entry installs (`lib/bun/fast-paths.ts`). */
export function decodeUtf8Fatal(bytes: Uint8Array): string | null {
  try {
    return fatal.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * `decodeUtf8` by the replacing decoder: the WHATWG decoder turns every invalid sequence into at
 * least one U+FFFD, so text without one was valid; text with one goes to the fatal decoder, since
 * U+FFFD may be the sender's own (EF BF BD). Deno's fatal decoder is the slow one: against it
 * this ran 2.0-2.3× as fast at 16 B and 8.7-9.6× at 16 KiB (`BENCH_ONLY=utf8 npm run bench`).
 */
export function decodeUtf8ByReplacement(bytes: Uint8Array): string | null {
  if (bytes.length <= SHORT_ASCII) {
    const text = shortAscii(bytes);
    if (text !== null) return text;
  }
  const text = replacing.decode(bytes);
  return text.indexOf("\uFFFD") === -1 ? text : decodeUtf8Fatal(bytes);
}

/** ASCII text up to this many bytes is built by `shortAscii`. */
const SHORT_ASCII = 16;
const fromCharCode = String.fromCharCode;

/**
 * The text of up to SHORT_ASCII bytes if all are ASCII (valid UTF-8 and one UTF-16 unit each), else
 * `null`. A call to `TextDecoder.decode` costs more than the bytes: against it, 16 B of ASCII
 * decoded 1.2-1.8× as fast on Node 20 and 8.3× on Deno, short text with an "é" 0.83-0.96× on Node;
 * on Bun 0.68×, so Bun's entry keeps the decoder alone (`BENCH_ONLY=utf8 npm run bench`). Parsing
 * 16 B text frames on the pure core: 1.25× on Node 20, 1.78× on Node 24 (A/B, 15 rounds). One call
 * with the bytes as arguments makes one flat string, where joining pieces would make a rope.
 */
function shortAscii(b: Uint8Array): string | null {
  const n = b.length;
  for (let i = 0; i < n; i++) if (b[i] >= 0x80) return null;
  switch (n) {
    case 0: return "";
    case 1: return fromCharCode(b[0]);
    case 2: return fromCharCode(b[0], b[1]);
    case 3: return fromCharCode(b[0], b[1], b[2]);
    case 4: return fromCharCode(b[0], b[1], b[2], b[3]);
    case 5: return fromCharCode(b[0], b[1], b[2], b[3], b[4]);
    case 6: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5]);
    case 7: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6]);
    case 8: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    case 9: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]);
    case 10: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]);
    case 11: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10]);
    case 12: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]);
    case 13: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12]);
    case 14: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13]);
    case 15: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14]);
    case 16: return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    default: return null;
  }
}

/**
 * Whether `bytes` are complete, valid UTF-8: by the runtime's checker when it lends one (nothing
 * decoded, no string made), else by decoding them.
 */
export function validUtf8(bytes: Uint8Array): boolean {
  const valid = fastPaths.validUtf8;
  return valid !== null ? valid(bytes) : decodeUtf8(bytes) !== null;
}

/**
 * Text given as bytes (`text(bytes)`): checked as UTF-8 (RFC 6455 §5.6: a text frame carries
 * UTF-8), a `TypeError` if it is not, so no peer fails the connection over our bytes.
 */
export function utf8Bytes(message: ByteSource): Uint8Array {
  const bytes = toBytes(message);
  if (!validUtf8(bytes)) throw new TypeError("text() was given bytes that are not valid UTF-8");
  return bytes;
}

/** Short decoded pieces are gathered this many at a time and joined into one flat string. */
const JOIN_EVERY = 1024;

/**
 * A streaming decoder for one message whose bytes arrive in pieces.
 *
 * Each piece is decoded whole, up to its last complete sequence, by the platform's non-streaming
 * decoder; the up to three bytes of a sequence cut by the piece's end are kept and checked byte
 * by byte (RFC 3629 §4) until the next piece completes them. The platform's streaming mode
 * (`decode(piece, { stream: true })`) would do the same in one call, but on Node 20 it leaves the
 * fast path for a slower general converter: 0.82 GB/s against 6.5 GB/s for whole decoding (16 KiB
 * of text in two pieces), which made every multi-piece text message the slow case.
 *
 * Decoded text is kept as a list of strings joined at the end, not built with `+=`: each `+=` of a
 * short piece costs a rope node of its own, so a message of one-byte fragments would hold some
 * thirty times its length. Short pieces are joined in batches, so the list stays short too.
 */
export class Utf8Stream {
  private parts: string[] = [];
  private batch: string[] = [];
  /** The start of a sequence the last piece cut off, and how many of its bytes have arrived. */
  private readonly cut = new Uint8Array(4);
  private cutLength = 0;

  /** Adds a piece; returns false as soon as the bytes so far cannot begin valid UTF-8. */
  push(piece: Uint8Array): boolean {
    const end = piece.length;
    let start = 0;
    if (this.cutLength > 0) {
      // Complete the sequence the last piece cut off, from the start of this one.
      const cut = this.cut;
      start = fillCut(cut, this.cutLength, piece);
      if (start < 0) return false;
      this.cutLength += start;
      const size = sequenceSize(cut[0]);
      if (this.cutLength < size) return true;
      const text = decodeUtf8(cut.subarray(0, size));
      if (text === null) return false;
      this.cutLength = 0;
      this.add(text);
    }
    const whole = completeEnd(piece, start, end);
    if (whole < 0) return false;
    if (whole > start) {
      const text = decodeUtf8(start === 0 && whole === end ? piece : piece.subarray(start, whole));
      if (text === null) return false;
      this.add(text);
    }
    // Keep the cut sequence, checking each byte of it now (RFC 6455 §8.1: fail fast).
    for (let i = whole; i < end; i++) {
      const byte = piece[i];
      if (i > whole && !continues(this.cut[0], this.cutLength, byte)) return false;
      this.cut[this.cutLength++] = byte;
    }
    return true;
  }

  /** Ends the message; returns its text, or `null` if it stops inside a sequence. */
  end(): string | null {
    if (this.cutLength > 0) return null;
    this.flushBatch();
    const parts = this.parts;
    this.parts = [];
    return parts.length === 0 ? "" : parts.length === 1 ? parts[0] : parts.join("");
  }

  private add(text: string): void {
    if (text.length >= JOIN_EVERY) {
      this.flushBatch();
      this.parts.push(text);
    } else if (text.length > 0) {
      this.batch.push(text);
      if (this.batch.length >= JOIN_EVERY) this.flushBatch();
    }
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    this.parts.push(this.batch.join(""));
    this.batch = [];
  }
}

/**
 * Checks a text message received in pieces (RFC 6455 §8.1) and hands on its bytes cut only between
 * characters: each piece up to its last complete sequence (checked by the runtime's UTF-8 checker,
 * or else by the platform's decoder as `Utf8Stream` does); the up to three bytes of a sequence the piece's end cuts off are kept, checked
 * byte by byte as they arrive (RFC 3629 §4), and handed on as a piece of their own once complete.
 * Nothing is copied but those few bytes, and nothing is held but them.
 */
export class Utf8Cutter {
  /**
   * Made by the first sequence a piece's end cuts: most text (all ASCII) never needs it, and a
   * typed array cost as much as the rest of the cutter (Utf8Cutter was 1.1% of a Deno 16 KiB text
   * echo's CPU profile, one cutter per message cut by a read).
   */
  private cut: Uint8Array | null = null;
  private cutLength = 0;

  /** Whether no sequence is left open: the text may end here. */
  get complete(): boolean {
    return this.cutLength === 0;
  }

  /**
   * Checks `piece` and hands its complete characters to `emit`; returns false, having handed on
   * only what came before, as soon as the bytes so far cannot begin valid UTF-8.
   */
  push(piece: Uint8Array, emit: (bytes: Uint8Array) => void): boolean {
    const end = piece.length;
    let start = 0;
    if (this.cutLength > 0) {
      const cut = this.cut as Uint8Array;
      start = fillCut(cut, this.cutLength, piece);
      if (start < 0) return false;
      this.cutLength += start;
      const size = sequenceSize(cut[0]);
      if (this.cutLength < size) return true;
      if (!validUtf8(cut.subarray(0, size))) return false;
      this.cutLength = 0;
      emit(cut.slice(0, size));
    }
    const whole = completeEnd(piece, start, end);
    if (whole < 0) return false;
    for (let i = whole; i < end; i++) {
      const byte = piece[i];
      if (i > whole && !continues(piece[whole], i - whole, byte)) return false;
    }
    if (whole > start) {
      const bytes = start === 0 && whole === end ? piece : piece.subarray(start, whole);
      if (!validUtf8(bytes)) return false;
      emit(bytes);
    }
    if (whole < end) {
      const cut = (this.cut ??= new Uint8Array(4));
      for (let i = whole; i < end; i++) cut[this.cutLength++] = piece[i];
    }
    return true;
  }
}

/**
 * Adds bytes from the start of `piece` to `cut`, which holds the first `held` bytes of a sequence,
 * until it holds the whole sequence or `piece` runs out: what `Utf8Stream` and `Utf8Cutter` do
 * when a piece ended inside a character. Returns how many bytes of `piece` it took, or -1 if one
 * of them cannot continue the sequence (RFC 3629 §4).
 */
function fillCut(cut: Uint8Array, held: number, piece: Uint8Array): number {
  const lead = cut[0];
  const take = Math.min(sequenceSize(lead) - held, piece.length);
  for (let i = 0; i < take; i++) {
    const byte = piece[i];
    if (!continues(lead, held + i, byte)) return -1;
    cut[held + i] = byte;
  }
  return take;
}

/**
 * The length of the sequence that lead byte `lead` begins (RFC 3629 §4), or 0 if no valid sequence
 * begins with it: a continuation byte, C0 and C1 (overlong), F5 to FF (beyond U+10FFFF).
 */
function sequenceSize(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead < 0xc2) return 0;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return lead < 0xf5 ? 4 : 0;
}

/**
 * Whether `byte` may be byte `index` (1–3) of a sequence that `lead` begins (RFC 3629 §4): the
 * second byte's range shuts out overlong forms (E0, F0), surrogates (ED) and code points beyond
 * U+10FFFF (F4); every other continuation byte is 80–BF.
 */
function continues(lead: number, index: number, byte: number): boolean {
  if (index === 1) {
    if (lead === 0xe0) return byte >= 0xa0 && byte <= 0xbf;
    if (lead === 0xed) return byte >= 0x80 && byte <= 0x9f;
    if (lead === 0xf0) return byte >= 0x90 && byte <= 0xbf;
    if (lead === 0xf4) return byte >= 0x80 && byte <= 0x8f;
  }
  return (byte & 0xc0) === 0x80;
}

/**
 * Where the last complete sequence of `bytes[start..end)` ends: `end`, or the start of a sequence
 * the end cuts off (whose lead byte is then known to be valid); -1 if a lead byte in the last three
 * can begin no sequence at all. What lies before is left to the decoder to check.
 */
function completeEnd(bytes: Uint8Array, start: number, end: number): number {
  for (let back = 1; back <= 3 && end - back >= start; back++) {
    const byte = bytes[end - back];
    if (byte < 0x80) return end;
    if ((byte & 0xc0) === 0x80) continue;
    const size = sequenceSize(byte);
    if (size === 0) return -1;
    return size > back ? end - back : end;
  }
  return end;
}
