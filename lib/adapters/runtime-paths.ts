/**
 * What the Deno and Bun adapters lend the core (`lib/util/fast-paths.ts`) from their runtime's
 * `node:buffer`, found through `process.getBuiltinModule` as the default DEFLATE engine finds
 * `node:zlib`:
 * - `isUtf8` on both (Rust on Deno, simdutf on Bun): 16 KiB of ASCII in 0.5 µs on Deno and 0.2 µs
 *   on Bun, where the fatal `TextDecoder` takes 7.8 and 2.5 µs;
 * - on Bun, uninitialised memory (`Buffer.allocUnsafeSlow`): 160 KiB in 2.3 µs against 4-30 µs
 *   zero-filled, 16 KiB in 0.3-0.5 against 0.7-3 µs. Deno's ran no faster than `new Uint8Array`.
 * Masking stays pure. `WSDRIVER_NO_FAST_PATHS=1` leaves the core pure.
 */
import { fastPaths, useFastPaths } from "../util/fast-paths.js";

interface NodeBuffer {
  isUtf8?: (bytes: Uint8Array) => boolean;
  Buffer?: { allocUnsafeSlow?(length: number): Uint8Array };
}

interface ProcessLike {
  env?: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}

interface DenoPermissions {
  permissions?: { querySync?(descriptor: { name: "env"; variable: string }): { state: string } };
}

/** Whether the variable may be read without Deno asking the user (it prompts on a terminal). */
function envAllowed(): boolean {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  if (deno === undefined) return true;
  try {
    return deno.permissions?.querySync?.({ name: "env", variable: "WSDRIVER_NO_FAST_PATHS" }).state === "granted";
  } catch {
    return false;
  }
}

let installed = false;

/** Installs the runtime's primitives once (uninitialised memory only if `uninitialised`). */
export function installRuntimePaths(uninitialised: boolean): void {
  if (installed) return;
  installed = true;
  const process = (globalThis as { process?: ProcessLike }).process;
  if (process === undefined || typeof process.getBuiltinModule !== "function") return;
  if (envAllowed()) {
    try {
      if (process.env?.WSDRIVER_NO_FAST_PATHS) return;
    } catch {
      // Reading the environment is not allowed: go on.
    }
  }
  let buffer: NodeBuffer | undefined;
  try {
    buffer = process.getBuiltinModule("node:buffer") as NodeBuffer | undefined;
  } catch {
    // No node:buffer: the pure paths stay.
  }
  const isUtf8 = buffer?.isUtf8;
  if (typeof isUtf8 === "function" && fastPaths.validUtf8 === null) useFastPaths({ validUtf8: isUtf8 });
  const alloc = buffer?.Buffer?.allocUnsafeSlow;
  if (uninitialised && typeof alloc === "function" && fastPaths.allocUninitialised === null) {
    useFastPaths({ allocUninitialised: (length) => alloc(length).buffer as ArrayBuffer });
  }
}
