/**
 * The docs' other runnable examples, as written: cli.md's transcript against the demo, extensions.md's
 * x-reverse extension between our client and server, and proxy.md's two clients through the `proxy`
 * package to a `ws` server (the server examples are in run.spec.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import type { Extension } from "../../lib/index";
import { decodeFrames, pair } from "../../lib/testing";
import { startDemo } from "../demo/start";
import { CERT_FILE, type Peer, type ProxyProcess, startProxy, startWsServer } from "../proxy/peers";
import { ensureBuilt } from "../support/build";
import { allBlocks, ROOT } from "./blocks";

/** Ends a child that is still running and waits for it. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once("close", resolve));
  child.kill("SIGKILL");
  await closed;
}

/** Runs `code` (TypeScript) in Node, in `dir`, and resolves with standard output once it has printed `until`; then ends it. */
async function run(dir: string, name: string, code: string, until: RegExp, env: Record<string, string> = {}): Promise<string> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
  const child = spawn(process.execPath, [file], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  try {
    return await new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding("utf8").on("data", (text: string) => {
        output += text;
        if (until.test(output)) resolve(output);
      });
      child.stderr!.setEncoding("utf8").on("data", (text: string) => { output += text; });
      child.once("close", (code) => reject(new Error(`${name} exited (${code}):\n${output}`)));
    });
  } finally {
    await stop(child);
  }
}

/** A scratch directory whose node_modules/wsdriver is this checkout, as an installed package. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "wsdriver-docs-examples-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules/wsdriver"), "dir");
  return dir;
}

// The demo, the client and the proxy examples run from dist/.
beforeAll(() => ensureBuilt(), 120_000);

describe("cli.md's transcript, against the demo", () => {
  const block = allBlocks().find((candidate) => candidate.file === "docs/cli.md" && candidate.code.startsWith("$ "));

  it("prints what the transcript shows, and exits 0", async () => {
    expect(block).toBeDefined();
    const [command, ...shown] = block!.code.trimEnd().split("\n");
    const demo = await startDemo();
    try {
      const port = new URL(demo.url).port;
      const line = command!.slice(2).replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`);
      const child = spawn("sh", ["-c", line], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (text: string) => { stdout += text; });
      child.stderr!.setEncoding("utf8").on("data", (text: string) => { stderr += text; });
      const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
      // The transcript interleaves the two streams: messages ("< …") go to stdout, notices to stderr.
      const pattern = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("…", ".+").replaceAll("8080", port)}$`);
      const lines = (text: string) => text.trimEnd().split("\n");
      const messages = shown.filter((text) => text.startsWith("< "));
      const notices = shown.filter((text) => !text.startsWith("< "));
      expect(lines(stdout)).toHaveLength(messages.length);
      lines(stdout).forEach((text, index) => expect(text).toMatch(pattern(messages[index]!)));
      expect(lines(stderr)).toHaveLength(notices.length);
      lines(stderr).forEach((text, index) => expect(text).toMatch(pattern(notices[index]!)));
      expect(code).toBe(0);
    } finally {
      await demo.stop();
    }
  });
});

describe("extensions.md's x-reverse extension, as written", () => {
  const block = allBlocks().find((candidate) => candidate.file === "docs/extensions.md" && candidate.code.includes('name: "x-reverse"'));

  it("is negotiated by our client and server, reverses each message on the wire with RSV1 and back", () => {
    expect(block).toBeDefined();
    const js = ts.transpileModule(`${block!.code}\nexport { reverse };\n`, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const exports: { reverse?: Extension } = {};
    new Function("exports", "require", js)(exports, (name: string) => {
      throw new Error(`the block requires ${name} at run time`);
    });
    const reverse = exports.reverse!;

    const { client, server, clientEvents, serverEvents, toServer } = pair({ open: false });
    expect(server.addExtension(reverse)).toBe(true);
    expect(client.addExtension(reverse)).toBe(true);
    client.start();
    expect(client.headers["sec-websocket-extensions"]).toBe("x-reverse");

    const text = "héllo wörld €𝄞";
    toServer.take();
    client.text(text);
    client.binary(new Uint8Array([1, 2, 3]));
    expect([...clientEvents.errors, ...serverEvents.errors]).toEqual([]);
    expect(serverEvents.messages).toEqual([text, new Uint8Array([1, 2, 3])]);
    // RFC 6455 §5.2: FIN, RSV1 and the opcode; the masked payload, unmasked, is the UTF-8 reversed.
    const [frame] = decodeFrames(toServer.take());
    expect(frame).toMatchObject({ fin: true, rsv: 0x40, opcode: 1, masked: true });
    expect([...frame!.payload]).toEqual([...new TextEncoder().encode(text)].reverse());
  });
});

describe("proxy.md's examples, through the `proxy` package to a `ws` server", () => {
  // The docs' hosts are patched to loopback: the proxy (with the docs' credentials) and a ws echo
  // server, both on ephemeral ports; the WebSocket URL becomes ws: as there is no certificate for it.
  let proxy: ProxyProcess;
  let echo: Peer;
  let dir: string;

  beforeAll(async () => {
    dir = project();
    [proxy, echo] = await Promise.all([startProxy({ PROXY_USER: "alice", PROXY_PASS: "s3cret" }), startWsServer()]);
  });

  afterAll(async () => {
    await Promise.all([proxy?.stop(), echo?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const local = (code: string): string => code
    .replaceAll(/wss?:\/\/chat\.example\.com\//g, `ws://127.0.0.1:${echo.port}/`)
    .replaceAll("proxy.corp:3128", `127.0.0.1:${proxy.port}`);

  it("connectThroughProxy: the driver opens through the proxy with the URL's credentials and prints the echo", async () => {
    const block = allBlocks().find((candidate) => candidate.file === "docs/proxy.md" && candidate.code.includes("connectThroughProxy(\n"));
    expect(block).toBeDefined();
    expect(block!.fragment).toBeUndefined();
    const output = await run(dir, "through", local(block!.code), /^hello$/m);
    // The proxy answers 407 to a CONNECT without alice's credentials, so the echo shows they were sent.
    expect(output).toBe("hello\n");
  });

  it("the sans-I/O helper on a net socket: the tunnel opens, the driver starts and a message echoes", async () => {
    const block = allBlocks().find((candidate) => candidate.file === "docs/proxy.md" && candidate.code.includes("driver.proxy(\"http://alice"));
    expect(block).toBeDefined();
    expect(block!.fragment).toEqual(["io", "socket"]);
    const prelude = [
      `import { connect as connectTcp } from "node:net";`,
      `const socket = connectTcp(${proxy.port}, "127.0.0.1");`,
      `const io = { write: (bytes: Uint8Array) => socket.write(bytes) };`,
    ].join("\n");
    // What the reader adds: a message once open, printed when it comes back.
    const after = `driver.on("open", () => driver.text("hello"));\ndriver.on("message", ({ data }) => console.log(data));\n`;
    const output = await run(dir, "helper", `${prelude}\n${local(block!.code)}\n${after}`, /^hello$/m);
    expect(output).toBe("hello\n");
  });
});

describe("the Node clients of getting-started.md and node.md, against a `ws` echo server over TLS", () => {
  // The docs' hosts become the loopback address, which the fixture certificate names.
  let echo: Peer;
  let dir: string;

  beforeAll(async () => {
    dir = project();
    echo = await startWsServer(true);
  });

  afterAll(async () => {
    await echo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const clientBlock = (file: string) => {
    const block = allBlocks().find((candidate) => candidate.file === file && /connect\("wss:/.test(candidate.code));
    expect(block).toBeDefined();
    return block!;
  };

  it("getting-started.md: the queued message is sent once open and comes back (the CA trusted as a user would, NODE_EXTRA_CA_CERTS)", async () => {
    const block = clientBlock("docs/getting-started.md");
    const code = block.code.replace("wss://echo.example.com/", `wss://127.0.0.1:${echo.port}/`);
    const output = await run(dir, "client", code, /^got /m, { NODE_EXTRA_CA_CERTS: CERT_FILE });
    expect(output).toBe("got queued until the handshake completes\n");
    expect(echo.requests.at(-1)!["sec-websocket-protocol"]).toBe("chat");
  });

  it("node.md: the client opens with its CA and header, and says hi", async () => {
    const block = clientBlock("docs/adapters/node.md");
    expect(block.fragment).toEqual(["myCaCert"]);
    const prelude = `import { readFileSync } from "node:fs";\nconst myCaCert = readFileSync(${JSON.stringify(CERT_FILE)});\n`;
    const code = block.code.replace("wss://example.com/socket", `wss://127.0.0.1:${echo.port}/socket`);
    // What the reader adds: the echo printed.
    const output = await run(dir, "node-client", `${prelude}${code}\ndriver.on("message", ({ data }) => console.log(data));\n`, /^hi$/m);
    expect(output).toBe("hi\n");
    // Node reads header bytes as latin1; the doc's "…" went out as its UTF-8 bytes.
    expect(echo.requests.at(-1)!.authorization).toBe(Buffer.from("Bearer …").toString("latin1"));
  });
});
