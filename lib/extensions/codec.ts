/**
 * The one seam between permessage-deflate and a DEFLATE implementation (RFC 1951). The extension
 * speaks to a `DeflateEngine`; which engine runs is decided here, so it can be swapped without
 * touching the extension: per extension with `deflate({ engine })`, or for every connection with
 * `setDeflateEngine(engine)`.
 *
 * The default engine is the runtime's `node:zlib` (Node, Deno and Bun all provide it), reached
 * through `process.getBuiltinModule` so the core imports no `node:` module and still loads in a
 * browser; see `lib/node/zlib.ts` for why it is zlib and how it is driven synchronously.
 */
import { findBuiltinZlib, zlibEngine } from "../node/zlib.js";
import type { DeflateEngine } from "./engine.js";

let current: DeflateEngine | null = null;

/**
 * Sets the engine every `deflate()` extension uses unless given its own; `null` goes back to the
 * default (`node:zlib`, found when first needed).
 */
export function setDeflateEngine(engine: DeflateEngine | null): void {
  current = engine;
}

/** The engine in use; throws if none was set and the runtime has no `node:zlib` to find. */
export function getDeflateEngine(): DeflateEngine {
  if (current !== null) return current;
  const zlib = findBuiltinZlib();
  if (zlib === null) {
    throw new Error("permessage-deflate needs a DEFLATE engine: this runtime has no node:zlib reachable through "
      + "process.getBuiltinModule; pass one with deflate({ engine }) or setDeflateEngine(engine)");
  }
  current = zlibEngine(zlib);
  return current;
}
