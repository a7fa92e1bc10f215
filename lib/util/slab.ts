/**
 * Memory for small outgoing frames, carved from shared 64 KiB slabs (the scheme of Node's own
 * `Buffer` pool, which the core cannot use).
 *
 * `new Uint8Array(n)` allocates and zero-fills a backing store per call, which cost more than
 * framing a small message: handing out views of a slab took server `binary()` of 1 KiB from 1.3 M
 * to 3.4 M messages per second (npm run bench). A region is handed out once and never written
 * again by anyone but its caller, so sharing slabs between connections leaks nothing between them;
 * a slab is freed when the last frame cut from it is.
 */
import { newBuffer } from "./fast-paths.js";
import { wordView } from "./mask.js";

const SLAB_SIZE = 64 * 1024;

/** Larger requests get their own buffer: pooling them would waste slab space for little gain. */
export const SLAB_MAX = 8 * 1024;

// Uninitialised where the runtime lends that (`newBuffer`): every region is written whole by its
// caller before anyone sees it, as in Node's own Buffer pool. Client binary() of 1 KiB ran 1.10×
// (Node 24) and 1.24× (Node 20) as fast as on zero-filled slabs (A/B in one process, 11 rounds).
let slab = newBuffer(SLAB_SIZE);
/** The slab as 32-bit words, for masking a client's frames in place without a view per frame. */
let slabWords = new Int32Array(slab);
let used = 0;
/**
 * The last region cut from the current slab, for `wordsFor`: comparing a view with it is cheap,
 * where reading a view's `buffer` is not (V8 does not inline that getter): `wordsFor` took 11% of
 * client text() of 16 B through `region.buffer === slab` (--cpu-prof).
 */
let lastRegion: Uint8Array | null = null;

/**
 * A fresh region of `length` bytes, its contents unspecified: the caller writes all of it. Byte
 * `align` of the region falls on an 8-byte boundary, so a payload after a header of `align` bytes
 * starts on a word boundary for the word-at-a-time masking in `mask.ts`.
 */
export function allocFrame(length: number, align = 0): Uint8Array {
  const pad = (8 - (align & 7)) & 7;
  if (length > SLAB_MAX) {
    lastRegion = null;
    return new Uint8Array(newBuffer(pad + length), pad, length);
  }
  let start = ((used + 7) & ~7) + pad;
  if (start + length > SLAB_SIZE) {
    slab = newBuffer(SLAB_SIZE);
    slabWords = new Int32Array(slab);
    start = pad;
  }
  used = start + length;
  return (lastRegion = new Uint8Array(slab, start, length));
}

/**
 * A word view over the memory `region` lies in, for `maskRange`: the slab's own view if `region` is
 * the last region cut from the current slab (no allocation), a fresh one otherwise. Together with the masking key
 * kept as a number and the 16-word XOR loop, this took client binary() of 1 KiB from 0.83× to
 * 1.27× ws + bufferutil's messages per second (A/B in one process, medians of 9 rounds).
 */
export function wordsFor(region: Uint8Array): Int32Array {
  return region === lastRegion ? slabWords : wordView(region);
}
