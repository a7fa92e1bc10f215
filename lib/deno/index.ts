/**
 * The package's main entry on Deno (the `deno` export condition): the core, with Deno's fast paths
 * installed (`fast-paths.ts`). Everything exported is the core's own.
 * @packageDocumentation
 */
import "./fast-paths.js";

export * from "../index.js";
