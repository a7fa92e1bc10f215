/**
 * The package's main entry on Node (the `node` export condition): the core, with Node's fast paths
 * installed (`fast-paths.ts`). Everything exported is the core's own.
 * @packageDocumentation
 */
import "./fast-paths.js";

export * from "../index.js";
