/**
 * Runs a script under another runtime (Deno or Bun, installed from npm into node_modules/.bin) as a
 * child process and collects its output. The child is killed if the spec ends first.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(__dirname, "../../..");
export const DENO = join(ROOT, "node_modules/.bin/deno");
export const BUN = join(ROOT, "node_modules/.bin/bun");

/** `deno run` with what our sources need: `.js` imports of `.ts` siblings, and the network. */
export const denoArgs = (script: string, ...args: string[]): [string, string[]] =>
  [DENO, ["run", "--quiet", "--sloppy-imports", "--allow-net", "--allow-env", script, ...args]];
export const bunArgs = (script: string, ...args: string[]): [string, string[]] => [BUN, [script, ...args]];

export interface Child {
  process: ChildProcess;
  /** Resolves with the first line of standard output that `match` accepts. */
  line(match: (line: string) => boolean): Promise<string>;
  /** Resolves with everything written to standard output and error once the child exits. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(): void;
}

const running = new Set<Child>();

/** Kills every child still running and waits for each to exit: for `afterEach`, so a test that timed out leaves nothing behind. */
export async function killChildren(): Promise<void> {
  const children = [...running];
  running.clear();
  for (const child of children) child.kill();
  await Promise.all(children.map((child) => child.exited));
}

export function run([command, args]: [string, string[]], env: Record<string, string> = {}): Child {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const listeners: Array<() => void> = [];
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => { stderr += text; });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("close", (code) => resolve({ code, stdout, stderr })));
  const handle: Child = {
    process: child,
    exited,
    line: (match) => new Promise((resolve, reject) => {
      const check = () => {
        const found = stdout.split("\n").find((line) => match(line));
        if (found !== undefined) resolve(found);
      };
      listeners.push(check);
      check();
      void exited.then(({ code }) => reject(new Error(`${command} exited (${code}) before the expected line:\n${stdout}\n${stderr}`)));
    }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** The port a child server printed as `listening <port>` once it was listening. */
export async function listeningPort(child: Child): Promise<number> {
  return Number((await child.line((line) => line.startsWith("listening "))).split(" ")[1]);
}
