/**
 * The package's main entry on Bun (the `bun` export condition): the core, with Bun's fast paths
 * installed (`fast-paths.ts`). Everything exported is the core's own.
 * @packageDocumentation
 */
import "./fast-paths.js";

export * from "../index.js";
