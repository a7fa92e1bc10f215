/**
 * `npx wsdriver connect`: the command-line client (bin/wsdriver.mjs) run as a child process with
 * its input piped, against a `ws` server over loopback, directly and through the `proxy` package.
 */
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import WebSocket, { WebSocketServer } from "ws";
import { ensureBuilt } from "../support/build";
import { startProxy } from "../proxy/peers";

const ROOT = join(__dirname, "../..");

/**
 * Runs the CLI with `args`, writes `lines` to its input and closes it (once what it wrote to
 * standard error satisfies `until`, or after 10 s), and collects what it printed.
 */
function cli(
  args: string[], lines: string[] = [], until?: (stderr: string) => boolean,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["bin/wsdriver.mjs", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => { stdout += text; });
  for (const line of lines) child.stdin.write(`${line}\n`);
  const timer = until ? setTimeout(() => child.stdin.end(), 10_000) : undefined;
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    if (until && !child.stdin.writableEnded && until(stderr)) child.stdin.end();
  });
  if (!until) child.stdin.end();
  child.once("close", () => clearTimeout(timer));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

describe("wsdriver connect", () => {
  let wss: WebSocketServer;
  let port = 0;
  const requests: Array<{ url: string | undefined; headers: Record<string, unknown> }> = [];
  beforeAll(async () => {
    ensureBuilt();
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: true, handleProtocols: (offered) => (offered.has("chat") ? "chat" : false) });
    await new Promise((resolve) => wss.once("listening", resolve));
    port = (wss.address() as AddressInfo).port;
    wss.on("connection", (ws: WebSocket, request) => {
      requests.push({ url: request.url, headers: request.headers });
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        const text = data.toString();
        if (text === "binary please") ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
        else if (text === "bye") ws.close(4000, "as requested");
        else ws.send(isBinary ? data : `echo: ${text}`);
      });
    });
  }, 120_000);
  afterAll(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it("sends typed lines as text, prints messages, offers --protocol and --header, and closes with 1000 at end of input", async () => {
    const { code, stdout, stderr } = await cli(
      ["connect", `ws://127.0.0.1:${port}/cli?room=1`, "--protocol", "chat", "-H", "X-Team: wsdriver", "--origin", "http://example.test"],
      ["hello", "héllo ☃", "binary please"],
    );
    expect(stdout).toBe("< echo: hello\n< echo: héllo ☃\n< [binary, 4 bytes] deadbeef\n");
    expect(stderr).toBe(`connected to ws://127.0.0.1:${port}/cli?room=1 (protocol: chat)\nclosed 1000\n`);
    expect(code).toBe(0);
    const request = requests[requests.length - 1];
    expect(request.url).toBe("/cli?room=1");
    expect(request.headers).toMatchObject({ "x-team": "wsdriver", origin: "http://example.test", "sec-websocket-protocol": "chat" });
  });

  it("offers permessage-deflate with --deflate, and messages round-trip compressed", async () => {
    const { code, stdout, stderr } = await cli(["connect", `ws://127.0.0.1:${port}/`, "--deflate"], ["squeeze ".repeat(100)]);
    expect(stderr).toMatch(/^connected to .* \(extensions: permessage-deflate[^)]*\)\n/);
    expect(stdout).toBe(`< echo: ${"squeeze ".repeat(100)}\n`);
    expect(requests[requests.length - 1].headers["sec-websocket-extensions"]).toMatch(/^permessage-deflate/);
    expect(code).toBe(0);
  });

  it("reports the server's close code and reason and exits 1 for a code other than 1000/1001", async () => {
    const { code, stdout, stderr } = await cli(["connect", `ws://127.0.0.1:${port}/`], ["bye"]);
    expect(stdout).toBe("");
    expect(stderr).toContain("closed 4000 as requested\n");
    expect(code).toBe(1);
  });

  it("reads /ping and /close as commands with --slash", async () => {
    const { code, stderr } = await cli(["connect", `ws://127.0.0.1:${port}/`, "--slash"], ["/ping 01", "/close 1001 leaving"]);
    expect(stderr).toContain(`< pong ${Buffer.from("01").toString("hex")}\n`);
    expect(stderr).toContain("closed 1001 leaving\n");
    expect(code).toBe(0);
  });

  it("says so when a --slash command cannot be sent, instead of dropping it without a word", async () => {
    // RFC 6455 §5.5: a control frame's payload is at most 125 bytes; §7.4: 99 and 1005 are not codes to send.
    const { code, stderr } = await cli(["connect", `ws://127.0.0.1:${port}/`, "--slash"],
      [`/ping ${"x".repeat(126)}`, "/close 99", "/close 1005 reserved", "/close abc"]);
    expect(stderr).toContain("/ping not sent: a ping's data is at most 125 bytes\n");
    expect(stderr).toContain("/close 99 not sent: the code must be 1000-1003, 1007-1014 or 3000-4999 and the reason at most 123 bytes\n");
    expect(stderr).toContain("/close 1005 reserved not sent: the code must be");
    expect(stderr).toContain("/close abc not sent: the code must be");
    // End of input still closes with 1000.
    expect(stderr).toContain("closed 1000\n");
    expect(code).toBe(0);
  });

  it("connects through an HTTP proxy with --proxy", async () => {
    const proxy = await startProxy({ PROXY_USER: "ada", PROXY_PASS: "s3cret" });
    try {
      const { code, stdout } = await cli(
        ["connect", `ws://127.0.0.1:${port}/tunnelled`, "--proxy", `http://ada:s3cret@127.0.0.1:${proxy.port}`], ["through the tunnel"]);
      expect(stdout).toBe("< echo: through the tunnel\n");
      expect(code).toBe(0);
      expect(proxy.requests.map(({ method, url }) => [method, url])).toEqual([["CONNECT", `127.0.0.1:${port}`]]);
      expect(requests[requests.length - 1].url).toBe("/tunnelled");
    } finally {
      await proxy.stop();
    }
  });

  it("fails with a message when nothing listens", async () => {
    const probe = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => probe.once("listening", resolve));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const { code, stderr } = await cli(["connect", `ws://127.0.0.1:${freePort}/`]);
    expect(stderr).toContain("error: connect ECONNREFUSED");
    expect(stderr).toContain("closed 1006");
    expect(code).toBe(1);
  });

  it("pings a quiet server every --idle milliseconds and shows its pongs", async () => {
    const pongs = (text: string): number => text.split("\n").filter((line) => line === "< pong ").length;
    const { code, stderr } = await cli(["connect", `ws://127.0.0.1:${port}/`, "--idle", "100"], [], (text) => pongs(text) >= 3);
    // ws answers each empty ping with an empty pong (RFC 6455 §5.5.3), and the connection stays open.
    expect(pongs(stderr)).toBeGreaterThanOrEqual(3);
    expect(stderr).toContain("closed 1000\n");
    expect(code).toBe(0);
  });

  it("gives up on a server that does not answer within --handshake-timeout", async () => {
    const { createServer } = await import("node:net");
    const held: Array<import("node:net").Socket> = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    try {
      const { code, stderr } = await cli(["connect", `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/`, "--handshake-timeout", "100"]);
      expect(stderr).toBe("error: The opening handshake did not complete within 100 ms (handshakeTimeout)\nclosed 1006\n");
      expect(code).toBe(1);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe("an option the library refuses is a bad command line: a message and exit 2, before connecting", () => {
    it.each([
      [["--protocol", "a,b"], "Invalid subprotocol name: a,b"],
      [["-p", "chat", "-p", "chat"], "Subprotocol offered twice: chat"],
      [["--proxy", "not a url"], "Invalid URL"],
      [["--proxy", "ftp://127.0.0.1:21"], "A proxy URL must be http: or https:"],
      [["--ca", "no-such-file.pem"], "no-such-file.pem"],
      [["--idle", "soon"], "--idle takes a number of milliseconds"],
    ])("%j", async (options, message) => {
      const { code, stderr } = await cli(["connect", `ws://127.0.0.1:${port}/refused`, ...options]);
      expect(stderr).toMatch(/^wsdriver: /);
      expect(stderr).toContain(message);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(code).toBe(2);
      expect(requests.map(({ url }) => url)).not.toContain("/refused");
    });

    it.each([
      ["X Team: wsdriver", "X Team"],
      ["X-Team: a\r\nInjected: yes", "X-Team"],
    ])("a --header the driver would not send: %j", async (header, name) => {
      const { code, stderr } = await cli(["connect", `ws://127.0.0.1:${port}/refused`, "--header", header]);
      expect(stderr).toBe(`wsdriver: cannot send the header ${JSON.stringify(name)}: a name must be an HTTP token, a value must not hold CR, LF or NUL\n`);
      expect(code).toBe(2);
      expect(requests.map(({ url }) => url)).not.toContain("/refused");
    });

    it("a URL with port 0", async () => {
      const { code, stderr } = await cli(["connect", "ws://127.0.0.1:0/"]);
      expect(stderr).toMatch(/^wsdriver: Cannot connect to port 0/);
      expect(code).toBe(2);
    });
  });

  it("explains its usage for a bad command line", async () => {
    const { code, stderr } = await cli(["connect", "http://127.0.0.1/"]);
    expect(stderr).toContain("not a ws: or wss: URL");
    expect(code).toBe(2);
    const help = await cli(["--help"]);
    expect(help.stdout).toContain("Usage: wsdriver connect");
    expect(help.code).toBe(0);
  });
});
