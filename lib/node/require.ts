/**
 * `require` as seen from this package, for optional packages the user may have installed beside
 * it (bufferutil). Resolving from here, not from the working directory, finds them wherever the
 * package manager put them for this package.
 *
 * This source is CommonJS's own `require` (the CommonJS build, and the specs). TypeScript cannot
 * emit `import.meta.url` in a CommonJS build from the same source, so the ES module build replaces
 * this file's output with `createRequire(import.meta.url)` (scripts/build.mjs).
 */
declare const require: NodeJS.Require;

export const packageRequire: NodeJS.Require = require;
