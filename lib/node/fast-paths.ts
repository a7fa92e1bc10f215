/**
 * Node's fast paths for the core (`lib/util/fast-paths.ts`), installed when this module loads:
 * - masking and unmasking by bufferutil's native code (vector instructions), when the user has
 *   installed it: it is optional, as for ws, and without it the pure masking runs;
 * - UTF-8 checked without decoding (`buffer.isUtf8`) for text messages taken in pieces;
 * - uninitialised memory (`Buffer.allocUnsafeSlow`) for buffers whose every byte is written at
 *   once: a large message joined from its pieces, a large client frame.
 * Set `WSDRIVER_NO_FAST_PATHS=1` to run the pure core. Only on Node itself: Deno and Bun also
 * answer to the `node` export condition, and Deno asks for a permission to load native code.
 */
import * as nodeBuffer from "node:buffer";
import { Buffer } from "node:buffer";
import { type FastPaths, useFastPaths } from "../util/fast-paths.js";
import { packageRequire } from "./require.js";

interface BufferUtil {
  mask(source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number): void;
  unmask(buffer: Uint8Array, mask: Uint8Array): void;
}

/** bufferutil's native functions, or null when it is missing or only its JavaScript fallback loaded. */
export function loadBufferUtil(): BufferUtil | null {
  try {
    const bufferUtil = packageRequire("bufferutil") as BufferUtil;
    // Without a prebuilt or compiled addon, bufferutil falls back to a byte loop slower than ours.
    const native = /\[native code\]/.test(Function.prototype.toString.call(bufferUtil.unmask));
    return native ? bufferUtil : null;
  } catch {
    return null;
  }
}

/** The fast paths this Node process can have: uninitialised memory always, masking with bufferutil. */
export function nodeFastPaths(): FastPaths {
  const bufferUtil = loadBufferUtil();
  return {
    // A buffer per message filled by a copy, uninitialised against zero-filled: 16 MiB 4.65 against
    // 2.10 GB/s, 64 KiB 6.23 against 4.21 (docs/benchmarks.md, two runs).
    allocUninitialised: (length) => Buffer.allocUnsafeSlow(length).buffer as ArrayBuffer,
    unmask: bufferUtil === null ? null : bufferUtil.unmask,
    mask: bufferUtil === null ? null : bufferUtil.mask,
    // The core's fatal TextDecoder: decoding by replacement, Deno's choice, ran 0.82-1.05× its
    // speed on Node 20, 16 B to 16 KiB (`BENCH_ONLY=utf8 npm run bench`).
    decodeUtf8: null,
    // A text message in pieces is checked, not decoded: 64 KiB of mixed-width text 33.6 GB/s
    // against 0.85 GB/s for the fatal TextDecoder (docs/streaming.md, "Measured"). Node 18.14+.
    validUtf8: typeof nodeBuffer.isUtf8 === "function" ? nodeBuffer.isUtf8 : null,
  };
}

/** Whether this is Node itself, not Deno or Bun running Node's modules. */
function isNode(): boolean {
  const versions = process.versions as Record<string, string | undefined>;
  return typeof versions.node === "string" && versions.bun === undefined && versions.deno === undefined;
}

let installed = false;

/** Installs Node's fast paths once, unless `WSDRIVER_NO_FAST_PATHS` is set or this is not Node. */
export function installNodeFastPaths(): void {
  if (installed) return;
  installed = true;
  if (!isNode() || process.env.WSDRIVER_NO_FAST_PATHS) return;
  useFastPaths(nodeFastPaths());
}

installNodeFastPaths();
