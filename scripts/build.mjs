// Compiles lib/ twice: ES modules to dist/esm and CommonJS to dist/cjs, each folder marked with
// its module type so Node loads both from one package ("exports" in package.json picks one).
// The build goes to a fresh folder that then replaces dist/ in two renames, so a process reading
// dist/ meanwhile (a test, a benchmark, the demo) never finds it half-written or missing for long.
// `--out-dir DIR` builds elsewhere and leaves dist/ alone.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";

const outIndex = process.argv.indexOf("--out-dir");
const target = outIndex > 0 ? process.argv[outIndex + 1] : "dist";
const staging = `${target}.building-${process.pid}`;
const tsc = (project, outDir) => execFileSync(process.execPath,
  ["node_modules/typescript/bin/tsc", "-p", project, "--outDir", outDir], { stdio: "inherit" });

rmSync(staging, { recursive: true, force: true });
try {
  tsc("tsconfig.build.json", `${staging}/esm`);
  tsc("tsconfig.cjs.json", `${staging}/cjs`);
  // lib/node/require.ts is CommonJS's own require; an ES module finds its package by its URL.
  writeFileSync(`${staging}/esm/node/require.js`, [
    "// Written by scripts/build.mjs: the ES module form of lib/node/require.ts.",
    'import { createRequire } from "node:module";',
    "export const packageRequire = createRequire(import.meta.url);",
    "",
  ].join("\n"));
  mkdirSync(`${staging}/esm`, { recursive: true });
  writeFileSync(`${staging}/esm/package.json`, JSON.stringify({ type: "module" }) + "\n");
  writeFileSync(`${staging}/cjs/package.json`, JSON.stringify({ type: "commonjs" }) + "\n");
  const old = `${target}.old-${process.pid}`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(staging, target);
  rmSync(old, { recursive: true, force: true });
} finally {
  rmSync(staging, { recursive: true, force: true });
}
