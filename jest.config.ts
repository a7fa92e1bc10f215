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

const config: Config = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
  },
  // Sources import siblings as "./x.js" (what Node's ESM loader needs in dist/); jest resolves the .ts.
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  testTimeout: 30000,
  reporters: ["default", "<rootDir>/scripts/summary-reporter.cjs"],
};

export default config;
