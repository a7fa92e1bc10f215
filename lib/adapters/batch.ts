/**
 * Write batching for the adapters whose transport has no `cork` (Bun's and Deno's sockets): the
 * frames written while a chunk is parsed (or while one frame's header and payload are written) are
 * gathered and handed over in as few writes as is cheap. Each Bun `socket.write` is a system call
 * and each Deno `writer.write` a promise and a write of its own: echoing the 50 frames of one read
 * one by one made Bun's adapter 0.08-0.11x `Bun.serve` at 64 B; gathered, 0.4-1.0x (four runs).
 */

import { allocBytes } from "../util/fast-paths.js";

/**
 * Gathered bytes past this are handed over at once, so a sender looping in a handler still meets
 * backpressure. Ten 16 KiB echoes of one read fit: at 64 KiB, with each large payload written
 * apart from its header, a 16 KiB echo on Bun measured 0.58-0.64x Bun.serve; joined, 0.58-1.23x
 * (noisy, three rounds each).
 */
export const BATCH_LIMIT = 256 * 1024;

/** A chunk this large goes out as it is: copying it into a joined chunk would cost more than a write. */
const JOIN_BELOW = 64 * 1024;

/** Hands `chunks` to `send`: runs of small chunks joined into one, large chunks alone and uncopied. */
export function sendBatch(chunks: readonly Uint8Array[], send: (chunk: Uint8Array) => unknown): void {
  let runStart = 0, runBytes = 0;
  for (let i = 0; i <= chunks.length; i++) {
    const chunk = i < chunks.length ? chunks[i] : null;
    if (chunk !== null && chunk.length < JOIN_BELOW) {
      runBytes += chunk.length;
      continue;
    }
    if (i - runStart === 1) send(chunks[runStart]);
    else if (i > runStart) send(join(chunks, runStart, i, runBytes));
    if (chunk !== null) send(chunk);
    runStart = i + 1;
    runBytes = 0;
  }
}

function join(chunks: readonly Uint8Array[], from: number, to: number, length: number): Uint8Array {
  // Every byte is written: uninitialised memory where the runtime lends it (Bun).
  const out = allocBytes(length);
  let at = 0;
  for (let i = from; i < to; i++) {
    out.set(chunks[i], at);
    at += chunks[i].length;
  }
  return out;
}
