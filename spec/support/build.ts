/**
 * Specs that run the built package (dist/) build it first when it is missing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(__dirname, "../..");

const built = (): boolean => existsSync(join(ROOT, "dist/esm/index.js")) && existsSync(join(ROOT, "dist/esm/adapters/node.js"))
  && existsSync(join(ROOT, "dist/esm/testing/index.js"))
  && existsSync(join(ROOT, "dist/cjs/adapters/node.js"));

/**
 * Builds dist/ unless it is there. Several spec files may ask at once (jest runs them in parallel
 * workers), so one builds while the others wait on a lock directory.
 */
export function ensureBuilt(): void {
  const lock = join(ROOT, ".build.lock");
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; !built(); waited += 100) {
    try {
      mkdirSync(lock);
    } catch {
      if (waited > 120_000) throw new Error(`dist/ was not built within 2 minutes (is ${lock} stale?)`);
      Atomics.wait(pause, 0, 0, 100);
      continue;
    }
    try {
      if (!built()) execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "ignore" });
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

