// Echo servers on Deno and Bun for npm run bench: ours through the runtime's adapter and the server
// that runtime's users already have, each in a child process of its own runtime (the binaries the
// `deno` and `bun` npm packages ship), driven by the same load generator as Node's (load.mjs).
import { execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bin = (name) => join(here, "..", "node_modules", ".bin", name);

export const RUNTIMES = {
  deno: {
    title: "Deno",
    peer: "`Deno.serve` + `Deno.upgradeWebSocket`",
    ours: "`wsdriver/deno` `accept` on `Deno.listen`",
    command: (kind) => [bin("deno"), ["run", "--allow-net", "--allow-read", "--allow-env", join(here, "runtimes", "deno-server.mjs"), kind]],
    version: () => execFileSync(bin("deno"), ["--version"], { encoding: "utf8" }).split("\n")[0].replace(/^deno /, "").replace(/ \(.*/, ""),
  },
  bun: {
    title: "Bun",
    peer: "`Bun.serve` websocket (uWebSockets)",
    ours: "`wsdriver/bun` `serverHandlers` on `Bun.listen`",
    command: (kind) => [bin("bun"), [join(here, "runtimes", "bun-server.mjs"), kind]],
    version: () => execFileSync(bin("bun"), ["--version"], { encoding: "utf8" }).trim(),
  },
};

/** Starts one server ("wsdriver" or "native") on `runtime`; resolves once it prints its port. */
export function startRuntimeServer(runtime, kind) {
  const [command, args] = RUNTIMES[runtime].command(kind);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NO_COLOR: "1" } });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${runtime} ${kind} server did not start`)); }, 30_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners("data");
      child.stdout.resume();
      resolve({
        port: Number(match[1]),
        close: () => new Promise((done) => { child.once("exit", done); child.kill(); }),
      });
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`${runtime} ${kind} server exited (${code})`)); });
  });
}
