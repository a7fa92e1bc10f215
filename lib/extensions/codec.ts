/**
 * The one seam between permessage-deflate and a DEFLATE implementation (RFC 1951). The extension
 * speaks to a `DeflateEngine`; which engine runs is decided here, so it can be swapped without
 * touching the extension: per extension with `deflate({ engine })`. There is deliberately no
 * process-wide setter: the driver keeps no mutable global state, so one library in a process cannot
 * change another's compression.
 *
 * The default engine is the runtime's `node:zlib` (Node, Deno and Bun all provide it), reached
 * through `process.getBuiltinModule` so the core imports no `node:` module and still loads in a
 * browser; see `lib/node/zlib.ts` for why it is zlib and how it is driven synchronously.
 */
import { findBuiltinZlib, zlibEngine } from "../node/zlib.js";
import type { DeflateEngine } from "./engine.js";

/**
 * The runtime's `node:zlib` engine, looked up once: a cache of a built-in module, which never
 * changes, not a setting.
 */
let builtin: DeflateEngine | null = null;

/** The default engine; throws if the runtime has no `node:zlib` to find. */
export function getDeflateEngine(): DeflateEngine {
  if (builtin !== null) return builtin;
  const zlib = findBuiltinZlib();
  if (zlib === null) {
    throw new Error("permessage-deflate needs a DEFLATE engine: this runtime has no node:zlib reachable through "
      + "process.getBuiltinModule; pass one with deflate({ engine })");
  }
  builtin = zlibEngine(zlib);
  return builtin;
}
