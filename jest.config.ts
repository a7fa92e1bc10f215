import type { Config } from "jest";
import { lstatSync, readlinkSync } from "node:fs";

// The devDependencies node22, node24 and node26 are Node binaries whose bin is called "node", and
// npm puts node_modules/.bin first on the PATH of every script: with that link in place `npm test`
// would run on one of them, not on the Node that ran npm. scripts/prepare.mjs removes it after
// `npm install`; `npm install <package>` links it again.
// The path is the working folder's (npm runs scripts at the package root): from Node 22 on, jest
// loads this file as an ES module, where there is no __dirname.
const nodeLink = "node_modules/.bin/node";
let linked: string | null = null;
try {
  if (lstatSync(nodeLink).isSymbolicLink()) linked = readlinkSync(nodeLink);
} catch {
  // No link: scripts run on the Node that ran npm.
}
if (linked !== null && /^\.\.\/node\d+\/bin\/node$/.test(linked)) {
  throw new Error(`node_modules/.bin/node links to ${linked}, so npm scripts would run on that Node `
    + `(${process.version} here) instead of yours: run \`npm run prepare\` to remove the link.`);
}

/** What every project shares: TypeScript through ts-jest, the specs under spec/. */
const base = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
  },
  // Sources import siblings as "./x.js" (what Node's ESM loader needs in dist/); jest resolves the .ts.
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
} satisfies Config;

const config: Config = {
  testTimeout: 30000,
  reporters: ["default", "<rootDir>/scripts/summary-reporter.cjs"],
  projects: [
    // Every spec, on the pure core (the core as Deno, Bun and browsers run it) where a spec imports
    // lib/ directly; specs of the Node adapter and of dist/ get Node's fast paths as users do.
    { ...base, displayName: "pure", testMatch: ["**/*.spec.ts"] },
    // The suites that judge correctness byte by byte, again with Node's fast paths installed
    // (bufferutil's native masking, uninitialised buffers): spec/support/fast-paths.ts.
    {
      ...base,
      displayName: "fast paths",
      testMatch: ["<rootDir>/spec/{conformance,fuzz,differential,perf}/**/*.spec.ts"],
      // Not again, to keep the suite's time modest: the closing handshake (35 s; close frames hold
      // at most 125 bytes, below native masking), memory limits (19 s; the fast paths change no
      // size held), the drafts (never masked) and the UTF-8 stream decoder (no masking or joining).
      testPathIgnorePatterns: ["/spec/conformance/(close|memory|hixie)\\.spec\\.ts$", "/spec/perf/utf8-stream\\.spec\\.ts$"],
      setupFiles: ["<rootDir>/spec/support/fast-paths.ts"],
    },
  ],
};

export default config;
