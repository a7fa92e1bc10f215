/**
 * Deno's fast paths for the core (`lib/util/fast-paths.ts`), installed when this module loads:
 * UTF-8 decoding by the replacing `TextDecoder` with a check for U+FFFD (`decodeUtf8ByReplacement`),
 * since Deno's fatal decoder runs at a fraction of its replacing one's speed. Web-standard code
 * only, as in the core; it is chosen here because on Node and Bun the fatal decoder is as fast or
 * faster. And Deno's `isUtf8` (`lib/node/buffer.ts`), to check text without decoding it. Set
 * `WSDRIVER_NO_FAST_PATHS=1` (readable with `--allow-env`) to run the pure core.
 */
import { bufferFastPaths } from "../node/buffer.js";
import { useFastPaths } from "../util/fast-paths.js";
import { decodeUtf8ByReplacement } from "../util/utf8.js";

/** The part of the `Deno` namespace read here. */
interface DenoEnv {
  permissions: { querySync?(descriptor: { name: "env"; variable: string }): { state: string } };
  env: { get(name: string): string | undefined };
}

/** Whether `WSDRIVER_NO_FAST_PATHS` is set, asked without a permission prompt. */
function turnedOff(deno: DenoEnv): boolean {
  try {
    const status = deno.permissions.querySync?.({ name: "env", variable: "WSDRIVER_NO_FAST_PATHS" });
    return status?.state === "granted" && Boolean(deno.env.get("WSDRIVER_NO_FAST_PATHS"));
  } catch {
    return false;
  }
}

let installed = false;

/** Installs Deno's fast paths once, on Deno only, unless `WSDRIVER_NO_FAST_PATHS` is set. */
export function installDenoFastPaths(): void {
  if (installed) return;
  installed = true;
  const deno = (globalThis as { Deno?: DenoEnv }).Deno;
  if (deno === undefined || turnedOff(deno)) return;
  // Deno's `isUtf8` (`lib/node/buffer.ts`), to check text without decoding it; not its
  // `allocUnsafeSlow`, which ran no faster than `new Uint8Array`.
  useFastPaths({ decodeUtf8: decodeUtf8ByReplacement, validUtf8: bufferFastPaths().validUtf8 });
}

installDenoFastPaths();
