/**
 * The docs' complete server examples (every unmarked block that listens on a port 8xxx, and the
 * TLS one, given a certificate) run for real: each is transpiled as written, its port patched to an
 * ephemeral one on 127.0.0.1, started in its runtime (Node; Deno and Bun for their adapters' pages)
 * against the built package, and a `ws` client over loopback exchanges a message with it and closes.
 * The other runnable examples are in examples.spec.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import ts from "typescript";
import WebSocket from "ws";
import { CERT, CERT_FILE, KEY_FILE } from "../proxy/peers";
import { ensureBuilt } from "../support/build";
import { type Block, allBlocks, label, ROOT } from "./blocks";

/** A fragment that needs only a certificate runs with the fixture one (spec/proxy/fixtures/), over TLS. */
const needsOnlyCertificate = (block: Block): boolean => block.fragment?.join(",") === "key,cert";
const servers = allBlocks().filter((block) => block.lang === "ts" && !block.skip
  && (!block.fragment || needsOnlyCertificate(block)) && /listen\(8\d{3}\)|port: 8080/.test(block.code));

type Runtime = "node" | "deno" | "bun";
const runtimeOf = (block: Block): Runtime =>
  block.file.endsWith("deno.md") ? "deno" : block.file.endsWith("bun.md") ? "bun" : "node";

/** The block as written, but listening on a port the kernel picks, which it prints. */
function patched(block: Block): string {
  let code = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const replace = (from: RegExp, to: string) => {
    if (!from.test(code)) throw new Error(`${label(block)}: no ${from} to patch`);
    code = code.replace(from, to);
  };
  if (needsOnlyCertificate(block)) {
    code = `import { readFileSync } from "node:fs";\n`
      + `const key = readFileSync(${JSON.stringify(KEY_FILE)});\nconst cert = readFileSync(${JSON.stringify(CERT_FILE)});\n${code}`;
  }
  if (runtimeOf(block) === "node") {
    replace(/\.listen\(8\d{3}\)/, `.listen(0, "127.0.0.1", function () { console.log("listening " + this.address().port); })`);
  } else if (runtimeOf(block) === "deno") {
    replace(/port: 8080/, "port: 0");
    replace(/(const listener = Deno\.listen\([^;]*;)/, `$1\nconsole.log("listening " + listener.addr.port);`);
  } else {
    replace(/port: 8080/, "port: 0");
    replace(/^Bun\.listen\(/m, "const listening = Bun.listen(");
    code += `\nconsole.log("listening " + listening.port);\n`;
  }
  return code;
}

function command(runtime: Runtime, file: string, dir: string): [string, string[]] {
  if (runtime === "node") return [process.execPath, [file]];
  if (runtime === "bun") return [join(ROOT, "node_modules/.bin/bun"), [file]];
  // As an npm project would: package.json names the dependency, node_modules holds it.
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", dependencies: { wsdriver: "*" } }));
  return [join(ROOT, "node_modules/.bin/deno"), ["run", "--quiet", "--allow-net", "--allow-read", "--node-modules-dir=manual", file]];
}

function start(block: Block, dir: string, index: number): { child: ChildProcess; port: Promise<number>; output: () => string } {
  const file = join(dir, `server-${index}.mjs`);
  writeFileSync(file, patched(block));
  const [program, args] = command(runtimeOf(block), file, dir);
  const child = spawn(program, args, { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      output += text;
      const found = /listening (\d+)/.exec(output);
      if (found) resolve(Number(found[1]));
    });
    child.stderr!.setEncoding("utf8").on("data", (text: string) => { output += text; });
    child.once("close", (code) => reject(new Error(`${label(block)} exited (${code}) before listening:\n${output}`)));
  });
  return { child, port, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once("close", resolve));
  child.kill("SIGKILL");
  await closed;
}

/** Everything a server answers to a plain GET (the connection is closed after it), as text. */
async function plainRequest(port: number, secure: boolean): Promise<string> {
  const socket = secure
    ? tlsConnect({ host: "127.0.0.1", port, ca: CERT })
    : netConnect(port, "127.0.0.1");
  let answer = "";
  socket.setEncoding("utf8").on("data", (text: string) => { answer += text; });
  socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  await new Promise<void>((resolve, reject) => {
    socket.once("close", () => resolve());
    socket.once("error", reject);
  });
  return answer;
}

describe("the docs' server examples run as written", () => {
  let dir: string;
  let started: Array<ReturnType<typeof start>> = [];

  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "wsdriver-docs-run-"));
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules/wsdriver"), "dir");
    // Every example starts at once, so the runtimes' start-up times overlap; each test talks to its own.
    started = servers.map((block, index) => start(block, dir, index));
    for (const server of started) server.port.catch(() => {});
  });

  afterAll(async () => {
    await Promise.all(started.map((server) => stop(server.child)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds the examples", () => {
    expect(servers.map(label).map((where) => where.replace(/:\d+$/, ""))).toEqual(expect.arrayContaining([
      "README.md", "docs/getting-started.md", "docs/adapters/node.md", "docs/adapters/deno.md", "docs/adapters/bun.md",
    ]));
  });

  servers.forEach((block, index) => {
    it(`${label(block)} (${runtimeOf(block)}${needsOnlyCertificate(block) ? ", TLS" : ""}) echoes a message and closes with 1000`, async () => {
      const server = started[index]!;
      try {
        const port = await server.port;
        const welcome = block.code.includes('driver.text("welcome")');
        const echo = block.code.includes("`echo: ${data}`") ? "echo: hi" : "hi";
        const protocols = block.code.includes('protocols: ["chat"]') ? ["chat"] : [];
        const secure = needsOnlyCertificate(block);
        const client = new WebSocket(`${secure ? "wss" : "ws"}://127.0.0.1:${port}/chat`, protocols, secure ? { ca: CERT } : {});
        const messages: string[] = [];
        const echoed = new Promise<void>((resolve, reject) => {
          client.on("message", (data, isBinary) => {
            messages.push(isBinary ? `[binary]` : String(data));
            if (String(data) === echo) resolve();
          });
          client.once("error", reject);
          client.once("close", (code) => reject(new Error(`closed with ${code} before the echo; messages ${messages}; server said:\n${server.output()}`)));
        });
        await new Promise<void>((resolve, reject) => {
          client.once("open", resolve);
          client.once("error", reject);
        });
        expect(client.protocol).toBe(protocols[0] ?? "");
        // An extension added right after acceptUpgrade is in place for the handshake (it answers on the next tick).
        expect(client.extensions).toBe(block.code.includes("addExtension(deflate())") ? "permessage-deflate" : "");
        client.send("hi");
        await echoed;
        expect(messages).toEqual(welcome ? ["welcome", echo] : [echo]);
        const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
        client.close(1000);
        expect(await closed).toBe(1000);

        // A request that is not a WebSocket one gets what the example answers it with.
        const refusal = /socket\.end\("(HTTP\/1\.1 \d+ [^\\]+)\\r\\n/.exec(block.code)?.[1];
        const page = /response\.end\("([^"\\]*)\\n"\)/.exec(block.code)?.[1];
        if (refusal !== undefined || page !== undefined) {
          const answer = await plainRequest(port, secure);
          if (refusal !== undefined) expect(answer).toBe(`${refusal}\r\n\r\n`);
          else expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\r\n[\\s\\S]*\r\n\r\n${page}\n$`));
        }
      } finally {
        await stop(server.child);
      }
    });
  });
});
