/**
 * Starts the demo (`demo/server.mjs`, what `npm start` runs) as a child process on a free port and
 * reads the URL it prints. The demo runs from dist/, so a local run without a build gets one first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { ROOT } from "../support/build";


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
      const match = /on (https?:\/\/\S+\/)/.exec(output);
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
