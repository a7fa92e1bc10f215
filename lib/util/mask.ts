/**
 * XOR masking (RFC 6455 §5.3): byte i of the payload is XORed with byte (i mod 4) of the key.
 * Masking and unmasking are the same operation. Both work in place.
 *
 * Payloads of 64 bytes and more are XORed a 32-bit word at a time through a `Uint32Array` view,
 * which needs a 4-byte-aligned start: the unaligned head and tail go byte by byte, and the key is
 * rotated to line up with the first aligned byte. The key word is built in the platform's byte
 * order (checked once below), so the word XOR touches the same bytes on either byte order.
 */
import { fastPaths } from "./fast-paths.js";

const WORD_THRESHOLD = 64;

/**
 * From this many bytes on, a runtime's native masking (`fast-paths.ts`) is used when there is one:
 * below it the call into native code costs what the pure loop saves. Unmasking pieces of a 64 KiB
 * chunk with bufferutil against the pure loop (Node 20, two runs): 256 B 0.81-0.97×, 512 B
 * 1.19-1.92×, 1 KiB 2.0-10×.
 */
const NATIVE_FROM = 512;

/** The key handed to native masking, rotated to the piece's first byte; reused, never kept. */
const keyBytes = new Uint8Array(4);

function nativeKey(k: number): Uint8Array {
  keyBytes[0] = k >>> 24; keyBytes[1] = k >>> 16; keyBytes[2] = k >>> 8; keyBytes[3] = k;
  return keyBytes;
}

/** Whether a `Uint32Array` stores its low byte first, as on x86 and ARM. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XORs `data` in place with `key`, starting at key byte `keyOffset` (0–3): a frame's payload may
 * arrive in pieces, and each later piece continues where the key left off.
 */
export function applyMask(data: Uint8Array, key: Uint8Array, keyOffset = 0): void {
  applyPackedMask(data, packKey(key, 0), keyOffset);
}

/** The key's four bytes as one number, first byte highest: what the parser keeps per frame. */
export function packKey(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * `applyMask` with the key packed by `packKey`. Keeping the key as a number rather than a
 * 4-byte array saves the parser a typed array (about 200 bytes of heap) per connection.
 */
export function applyPackedMask(data: Uint8Array, key: number, keyOffset = 0): void {
  if (data.length < WORD_THRESHOLD) {
    xorBytes(data, 0, data.length, rotate(key, keyOffset));
    return;
  }
  applyPackedMaskIn(data, key, keyOffset, wordView(data));
}

/**
 * `applyPackedMask` through `words`, a word view the caller holds over the memory `data` lies in
 * (from a word boundary at or before it to one at or after its last whole word): the parser makes
 * one per input chunk, not one per frame. Parsing 1 KiB binary frames went 1.08–1.16× faster in
 * four of five A/B runs against a view per frame (one 0.90×; medians of 7 rounds, same process).
 */
export function applyPackedMaskIn(data: Uint8Array, key: number, keyOffset: number, words: Int32Array): void {
  const unmask = fastPaths.unmask;
  if (unmask !== null && data.length >= NATIVE_FROM) {
    unmask(data, nativeKey(rotate(key, keyOffset)));
    return;
  }
  maskRange(data, 0, data.length, rotate(key, keyOffset), words);
}

/**
 * XORs `bytes[from..to)` in place with the packed key `k`, its first byte on `bytes[from]`, through
 * `words` (a word view over the memory `bytes` lies in, as for `applyPackedMaskIn`). Working on a
 * range of a larger array spares the caller a view object per call.
 */
export function maskRange(bytes: Uint8Array, from: number, to: number, k: number, words: Int32Array): void {
  const length = to - from;
  if (length < WORD_THRESHOLD) {
    xorBytes(bytes, from, to, k);
    return;
  }
  const head = (4 - ((bytes.byteOffset + from) & 3)) & 3;
  xorBytes(bytes, from, from + head, k);
  k = rotate(k, head);
  const wordCount = (length - head) >>> 2;
  xorWords(words, (bytes.byteOffset + from + head - words.byteOffset) >>> 2, wordCount, (LITTLE_ENDIAN ? swapBytes(k) : k) | 0);
  xorBytes(bytes, from + head + wordCount * 4, to, k);
}

/**
 * A word view over every whole, aligned word of `bytes`, for `applyPackedMaskIn`. Signed words: a
 * key word above 2^31 is then a small integer to V8 rather than a heap number, and the loop below
 * ran as fast or faster on `Int32Array` in every A/B run.
 */
export function wordView(bytes: Uint8Array): Int32Array {
  const start = (bytes.byteOffset + 3) & ~3;
  const end = (bytes.byteOffset + bytes.length) & ~3;
  // No whole word: an empty view at 0, since `start` may lie past the end of the buffer when the
  // bytes end short of a word boundary at the buffer's very end. `maskRange` reads words only for
  // runs of WORD_THRESHOLD bytes or more, which always hold whole words.
  return end > start ? new Int32Array(bytes.buffer, start, (end - start) >>> 2) : new Int32Array(bytes.buffer, 0, 0);
}

/**
 * XORs `count` words from `words[from]` with `word`. Sixteen words per turn: the loop test and the
 * index arithmetic are paid once for 64 bytes. On 64 KiB pieces (Node 20, x64, medians of 11
 * interleaved runs) one word per turn ran at 3.0 GB/s, four at 4.5, eight at 5.4 and sixteen at
 * 5.9; on 1 KiB, four at 7.1 and sixteen at 9.8. The key word is a plain number, not a typed-array
 * read: building it with two fresh typed arrays cost 0.6 → 3.4 GB/s on 1 KiB payloads.
 */
function xorWords(words: Int32Array, from: number, count: number, word: number): void {
  let w = from;
  const end = from + count;
  for (const end16 = end - 15; w < end16; w += 16) {
    words[w] ^= word; words[w + 1] ^= word; words[w + 2] ^= word; words[w + 3] ^= word;
    words[w + 4] ^= word; words[w + 5] ^= word; words[w + 6] ^= word; words[w + 7] ^= word;
    words[w + 8] ^= word; words[w + 9] ^= word; words[w + 10] ^= word; words[w + 11] ^= word;
    words[w + 12] ^= word; words[w + 13] ^= word; words[w + 14] ^= word; words[w + 15] ^= word;
  }
  for (; w < end; w++) words[w] ^= word;
}

/** XORs `data[from..to)` with the packed key `k`, its first byte on `data[from]`. */
function xorBytes(data: Uint8Array, from: number, to: number, k: number): void {
  const b0 = k >>> 24, b1 = (k >>> 16) & 0xff, b2 = (k >>> 8) & 0xff, b3 = k & 0xff;
  let i = from;
  for (; i + 3 < to; i += 4) {
    data[i] ^= b0;
    data[i + 1] ^= b1;
    data[i + 2] ^= b2;
    data[i + 3] ^= b3;
  }
  if (i < to) data[i] ^= b0;
  if (i + 1 < to) data[i + 1] ^= b1;
  if (i + 2 < to) data[i + 2] ^= b2;
}

/** The packed key as seen from key byte `offset` (0–3) on. */
function rotate(k: number, offset: number): number {
  const bits = (offset & 3) << 3;
  return bits === 0 ? k : ((k << bits) | (k >>> (32 - bits))) >>> 0;
}

function swapBytes(k: number): number {
  return ((k >>> 24) | ((k >>> 8) & 0xff00) | ((k << 8) & 0xff0000) | (k << 24)) >>> 0;
}

/**
 * Writes `source` XOR the key into `target` at `at`, for a client frame whose payload is not ours
 * to change.
 */
export function maskInto(source: Uint8Array, target: Uint8Array, at: number, key: Uint8Array, keyOffset = 0): void {
  maskPackedInto(source, target, at, packKey(key, 0), keyOffset);
}

/**
 * Payloads up to this size are copied (natively) and then masked in place; larger ones are masked
 * on the way across in one pass (`xorCopyWords`), or, if source and target do not share a word
 * alignment, copied and masked a block of this size at a time, each block while it is still in the
 * first-level cache.
 */
const COPY_BLOCK = 16 * 1024;

/**
 * `maskInto` with a packed key; `words` is a word view over `target`'s memory if the caller has
 * one (a slab's). The payload sizes decide between two ways, by measurement (Node 20, x64,
 * medians of 9 interleaved runs, target freshly allocated as a client frame's is):
 * - copy, then XOR in place: 1 KiB 3.1 GB/s against 2.8 for the single pass, 64 KiB 3.1 against
 *   3.05; the copy is a native memcpy and the in-place loop is the one V8 compiles best;
 * - the single pass, `target[w] = source[w] ^ key`: 16 MiB 2.4 GB/s against 1.8 for copy-then-XOR
 *   (1.9 in 16 KiB blocks), since each byte crosses the memory bus once each way instead of twice.
 */
export function maskPackedInto(source: Uint8Array, target: Uint8Array, at: number, key: number, keyOffset = 0, words?: Int32Array): void {
  const length = source.length;
  const k = rotate(key, keyOffset);
  const mask = fastPaths.mask;
  if (mask !== null && length >= NATIVE_FROM) {
    mask(source, nativeKey(k), target, at, length);
    return;
  }
  if (length < WORD_THRESHOLD) {
    xorCopyBytes(source, 0, target, at, length, k);
    return;
  }
  if (length <= COPY_BLOCK) {
    target.set(source, at);
    maskRange(target, at, at + length, k, words ?? wordView(target));
    return;
  }
  const view = words ?? wordView(target);
  const sourceStart = source.byteOffset, targetStart = target.byteOffset + at;
  if (((sourceStart ^ targetStart) & 3) === 0) {
    const head = (4 - (sourceStart & 3)) & 3;
    xorCopyBytes(source, 0, target, at, head, k);
    const rotated = rotate(k, head);
    const wordCount = (length - head) >>> 2;
    const sourceWords = new Int32Array(source.buffer, sourceStart + head, wordCount);
    xorCopyWords(sourceWords, view, (targetStart + head - view.byteOffset) >>> 2, wordCount, (LITTLE_ENDIAN ? swapBytes(rotated) : rotated) | 0);
    const done = head + wordCount * 4;
    xorCopyBytes(source, done, target, at + done, length - done, rotated);
    return;
  }
  for (let done = 0; done < length; done += COPY_BLOCK) {
    const size = Math.min(COPY_BLOCK, length - done);
    target.set(new Uint8Array(source.buffer, source.byteOffset + done, size), at + done);
    // COPY_BLOCK is a multiple of 4, so every block starts on the key byte `k` starts on.
    maskRange(target, at + done, at + done + size, k, view);
  }
}

/** `to[at + w] = from[w] ^ word` for w below `count`, sixteen words per turn as in `xorWords`. */
function xorCopyWords(from: Int32Array, to: Int32Array, at: number, count: number, word: number): void {
  let w = 0;
  for (const end16 = count - 15; w < end16; w += 16) {
    to[at + w] = from[w] ^ word; to[at + w + 1] = from[w + 1] ^ word;
    to[at + w + 2] = from[w + 2] ^ word; to[at + w + 3] = from[w + 3] ^ word;
    to[at + w + 4] = from[w + 4] ^ word; to[at + w + 5] = from[w + 5] ^ word;
    to[at + w + 6] = from[w + 6] ^ word; to[at + w + 7] = from[w + 7] ^ word;
    to[at + w + 8] = from[w + 8] ^ word; to[at + w + 9] = from[w + 9] ^ word;
    to[at + w + 10] = from[w + 10] ^ word; to[at + w + 11] = from[w + 11] ^ word;
    to[at + w + 12] = from[w + 12] ^ word; to[at + w + 13] = from[w + 13] ^ word;
    to[at + w + 14] = from[w + 14] ^ word; to[at + w + 15] = from[w + 15] ^ word;
  }
  for (; w < count; w++) to[at + w] = from[w] ^ word;
}

/** `target[at + j] = source[from + j] ^ key byte j`, for j below `count`; `k` packed, its first byte on j = 0. */
function xorCopyBytes(source: Uint8Array, from: number, target: Uint8Array, at: number, count: number, k: number): void {
  const b0 = k >>> 24, b1 = (k >>> 16) & 0xff, b2 = (k >>> 8) & 0xff, b3 = k & 0xff;
  let j = 0;
  for (; j + 3 < count; j += 4) {
    target[at + j] = source[from + j] ^ b0;
    target[at + j + 1] = source[from + j + 1] ^ b1;
    target[at + j + 2] = source[from + j + 2] ^ b2;
    target[at + j + 3] = source[from + j + 3] ^ b3;
  }
  if (j < count) target[at + j] = source[from + j] ^ b0;
  if (j + 1 < count) target[at + j + 1] = source[from + j + 1] ^ b1;
  if (j + 2 < count) target[at + j + 2] = source[from + j + 2] ^ b2;
}
