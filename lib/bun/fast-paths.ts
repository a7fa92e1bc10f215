/**
 * Bun's fast paths for the core (`lib/util/fast-paths.ts`), installed when this module loads: UTF-8
 * decoding by the fatal `TextDecoder` alone, at every length. Bun's decoder (JavaScriptCore's) is
 * fast on short text too, where the core's own building of short ASCII strings, which wins on V8,
 * ran at 0.65-0.9× its speed (`bench/utf8.mjs`). And from Bun's `node:buffer` (`lib/node/buffer.ts`):
 * `isUtf8`, to check text without decoding it, and uninitialised memory. Masking stays pure. Set
 * `WSDRIVER_NO_FAST_PATHS=1` to run the pure core.
 */
import { bufferFastPaths } from "../node/buffer.js";
import { useFastPaths } from "../util/fast-paths.js";
import { decodeUtf8Fatal } from "../util/utf8.js";

let installed = false;

/** Installs Bun's fast paths once, on Bun only, unless `WSDRIVER_NO_FAST_PATHS` is set. */
export function installBunFastPaths(): void {
  if (installed) return;
  installed = true;
  const runtime = globalThis as { Bun?: unknown; process?: { env: Record<string, string | undefined> } };
  if (runtime.Bun === undefined || runtime.process?.env.WSDRIVER_NO_FAST_PATHS) return;
  useFastPaths({ decodeUtf8: decodeUtf8Fatal, ...bufferFastPaths() });
}

installBunFastPaths();
