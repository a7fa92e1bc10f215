/**
 * `node:buffer`'s primitives for the fast-path seam (`lib/util/fast-paths.ts`), found through
 * `process.getBuiltinModule` on whichever runtime has it (Deno and Bun do), as the default DEFLATE
 * engine finds `node:zlib`: `null` for each one the runtime lacks.
 * - `isUtf8` (Rust on Deno, simdutf on Bun): 16 KiB of ASCII checked in 0.5 µs on Deno and 0.2 µs
 *   on Bun, where the fatal `TextDecoder` takes 7.8 and 2.5 µs;
 * - uninitialised memory (`Buffer.allocUnsafeSlow`): on Bun 160 KiB in 2.3 µs against 4-30 µs
 *   zero-filled, 16 KiB in 0.3-0.5 against 0.7-3 µs. Deno's ran no faster than `new Uint8Array`,
 *   so Deno's entry does not take it.
 */
import type { FastPaths } from "../util/fast-paths.js";

interface NodeBuffer {
  isUtf8?: (bytes: Uint8Array) => boolean;
  Buffer?: { allocUnsafeSlow?(length: number): Uint8Array };
}

/** The runtime's `node:buffer`, or null. */
function nodeBuffer(): NodeBuffer | null {
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  if (process === undefined || typeof process.getBuiltinModule !== "function") return null;
  try {
    return (process.getBuiltinModule("node:buffer") as NodeBuffer | undefined) ?? null;
  } catch {
    return null;
  }
}

/** `isUtf8` (as `validUtf8`) and `allocUninitialised` from the runtime's `node:buffer`, each null where it has none. */
export function bufferFastPaths(): Pick<FastPaths, "validUtf8" | "allocUninitialised"> {
  const buffer = nodeBuffer();
  const isUtf8 = buffer?.isUtf8;
  const alloc = buffer?.Buffer?.allocUnsafeSlow;
  return {
    validUtf8: typeof isUtf8 === "function" ? isUtf8 : null,
    allocUninitialised: typeof alloc === "function" ? (length) => alloc(length).buffer as ArrayBuffer : null,
  };
}
