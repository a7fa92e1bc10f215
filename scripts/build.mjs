// Compiles lib/ twice: ES modules to dist/esm and CommonJS to dist/cjs, each folder marked with
// its module type so Node loads both from one package ("exports" in package.json picks one).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const tsc = (project) => execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", project], { stdio: "inherit" });
tsc("tsconfig.build.json");
tsc("tsconfig.cjs.json");
mkdirSync("dist/esm", { recursive: true });
writeFileSync("dist/esm/package.json", JSON.stringify({ type: "module" }) + "\n");
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n");
