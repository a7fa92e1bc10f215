/**
 * Starts the demo (`demo/server.mjs`, what `npm start` runs) as a child process on a free port and
 * reads the URL it prints. The demo runs from dist/, so a local run without a build gets one first.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(__dirname, "../..");

const built = (): boolean => existsSync(join(ROOT, "dist/esm/index.js")) && existsSync(join(ROOT, "dist/esm/adapters/node.js"))
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

export interface Demo {
  process: ChildProcess;
  /** The page's URL, as printed: http://127.0.0.1:<port>/ */
  url: string;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startDemo(env: Record<string, string> = {}): Promise<Demo> {
  const child = spawn(process.execPath, ["demo/server.mjs"], {
    cwd: ROOT, env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (text: string) => {
      output += text;
      const match = /on (http:\/\/\S+\/)/.exec(output);
      if (match) {
        resolve({
          process: child,
          url: match[1],
          output: () => output,
          exited,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
            return exited;
          },
        });
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", (text: string) => { output += text; });
    void exited.then((code) => reject(new Error(`the demo exited (${code}) before listening:\n${output}`)));
  });
}
