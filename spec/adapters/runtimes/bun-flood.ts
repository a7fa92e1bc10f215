/**
 * Run by spec/adapters/backpressure.spec.ts with `bun`: a server on the Bun adapter that sends until
 * Bun's socket takes only part of a write, then waits for it to drain (see flood.ts).
 */
import { serveOneConnection } from "./bun-runtime.js";
import { flood } from "./flood.js";

await serveOneConnection((connection) => flood(connection, (line) => console.log(line)), true);
