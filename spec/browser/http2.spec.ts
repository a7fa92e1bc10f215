/**
 * A real browser against our server over HTTP/2 (RFC 8441): Debian's Chromium, driven headless by
 * playwright-core, loads a page from a `node:http2` server with SETTINGS_ENABLE_CONNECT_PROTOCOL
 * and opens its `wss:` WebSockets as extended CONNECT streams of the page's own HTTP/2 connection,
 * which `acceptStream` answers. Text, binary, permessage-deflate and close codes both ways.
 * Without a local Chromium the test is skipped with a notice, except under CI=true where it fails.
 */
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { acceptStream, type StreamConnection } from "../../lib/adapters/node";
import type { CloseEvent } from "../../lib/events";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { ServerDriver } from "../../lib/types";
import { type Demo, startDemo } from "../demo/start";
import { ensureBuilt } from "../support/build";
import { CHROMIUM, describeWithChromium, requireChromium } from "./headless";

const describeWithBrowser = describeWithChromium("HTTP/2 browser test");

const TLS = join(__dirname, "../adapters/runtimes/tls");

interface Accepted {
  connection: StreamConnection<ServerDriver>;
  session: http2.Http2Session;
  closed: Promise<CloseEvent>;
  messages: Array<string | Uint8Array>;
}

/** What the page's script reports of one WebSocket: its protocol, extensions, replies and close. */
interface PageResult {
  protocol: string;
  extensions: string;
  replies: Array<string | number[]>;
  close: [number, string, boolean];
}

describeWithBrowser("Chromium opens WebSockets over HTTP/2 to acceptStream", () => {
  let server: http2.Http2SecureServer;
  let browser: Browser;
  let page: Page;
  let origin = "";
  const accepted: Accepted[] = [];
  /** The session each plain request (the page, its favicon) came on. */
  const pageSessions: http2.Http2Session[] = [];

  beforeAll(async () => {
    requireChromium();
    server = http2.createSecureServer({
      key: readFileSync(join(TLS, "localhost-key.pem")),
      cert: readFileSync(join(TLS, "localhost-cert.pem")),
      settings: { enableConnectProtocol: true },
    });
    server.on("stream", (stream, headers) => {
      if (headers[":method"] !== "CONNECT") {
        pageSessions.push(stream.session!);
        stream.respond({ ":status": 200, "content-type": "text/html; charset=utf-8" });
        stream.end("<!doctype html><meta charset=utf-8><title>wsdriver over HTTP/2</title>");
        return;
      }
      const connection = acceptStream(stream, headers, { protocols: ["echo"] });
      const { driver } = connection;
      driver.addExtension(deflate());
      const messages: Array<string | Uint8Array> = [];
      accepted.push({ connection, session: stream.session!, closed: new Promise((resolve) => driver.on("close", resolve)), messages });
      driver.on("message", ({ data }) => {
        messages.push(data);
        if (typeof data !== "string") driver.binary(data);
        else if (data.startsWith("close ")) driver.close("server says bye", Number(data.slice(6)));
        else driver.text(data);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `https://localhost:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    // The test CA is not in Chromium's store; the certificate is otherwise valid for localhost.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
    await page.goto(`${origin}/`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  /** Opens a WebSocket in the page, sends `sends` one by one waiting for each reply, then closes as `close` says. */
  function run(sends: Array<string | number[]>, close: { code: number; reason: string } | "server"): Promise<PageResult> {
    return page.evaluate(async ({ url, sends, close }) => {
      const ws = new WebSocket(url, ["echo"]);
      ws.binaryType = "arraybuffer";
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error("WebSocket failed to open"));
      });
      const replies: Array<string | number[]> = [];
      for (const message of sends) {
        const reply = new Promise<string | ArrayBuffer>((resolve) => (ws.onmessage = (event) => resolve(event.data)));
        ws.send(typeof message === "string" ? message : new Uint8Array(message));
        const data = await reply;
        replies.push(typeof data === "string" ? data : Array.from(new Uint8Array(data)));
      }
      const closed = new Promise<[number, string, boolean]>((resolve) =>
        (ws.onclose = (event) => resolve([event.code, event.reason, event.wasClean])));
      if (close === "server") ws.send("close 4002");
      else ws.close(close.code, close.reason);
      return { protocol: ws.protocol, extensions: ws.extensions, replies, close: await closed };
    }, { url: origin.replace("https:", "wss:") + "/echo?from=chromium", sends, close });
  }

  it("opens an extended CONNECT on the page's own HTTP/2 connection, with the subprotocol and permessage-deflate", async () => {
    const before = accepted.length;
    const result = await run(["hello ☃"], { code: 1000, reason: "" });
    const { connection, session } = accepted[before];
    const request = connection.driver.request!;
    expect(request).toMatchObject({ method: "CONNECT", url: "/echo?from=chromium", httpVersion: "2.0" });
    expect(request.headers[":protocol"]).toBe("websocket");
    expect(request.headers["sec-websocket-version"]).toBe("13");
    expect(request.headers["sec-websocket-key"]).toBeUndefined();
    expect(request.headers["sec-websocket-extensions"]).toMatch(/^permessage-deflate/);
    expect(pageSessions).toContain(session);
    expect(result.protocol).toBe("echo");
    expect(result.extensions).toBe("permessage-deflate");
    expect(result.replies).toEqual(["hello ☃"]);
  });

  it("round-trips text, binary and a large compressed message", async () => {
    const bytes = Array.from({ length: 256 }, (_, i) => i);
    const large = "wsdriver over HTTP/2 ".repeat(20_000);
    const before = accepted.length;
    const result = await run(["ünïcödé ✓", bytes, large], { code: 1000, reason: "" });
    expect(result.replies).toEqual(["ünïcödé ✓", bytes, large]);
    expect(accepted[before].messages).toEqual(["ünïcödé ✓", Uint8Array.from(bytes), large]);
  });

  it("carries the browser's close code and reason to the server, and the closing handshake is clean", async () => {
    const before = accepted.length;
    const result = await run([], { code: 4001, reason: "browser says bye" });
    expect(await accepted[before].closed).toEqual({ code: 4001, reason: "browser says bye" });
    expect(result.close).toEqual([4001, "", true]);
  });

  it("carries the server's close code and reason to the browser", async () => {
    const before = accepted.length;
    const result = await run([], "server");
    expect(result.close).toEqual([4002, "server says bye", true]);
    // Chromium echoes the code and the reason in its answering close frame.
    expect(await accepted[before].closed).toEqual({ code: 4002, reason: "server says bye" });
  });

  it("several WebSockets of one page share the page's HTTP/2 connection, each on its own stream", async () => {
    const before = accepted.length;
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => run([`socket ${i}`], { code: 1000, reason: "" })));
    expect(results.map((r) => r.replies)).toEqual([0, 1, 2, 3, 4].map((i) => [`socket ${i}`]));
    const mine = accepted.slice(before);
    expect(mine).toHaveLength(5);
    expect(new Set(mine.map((a) => a.session)).size).toBe(1);
    expect(pageSessions).toContain(mine[0].session);
    expect(new Set(mine.map((a) => a.connection.stream!.id)).size).toBe(5);
  });
});

describeWithBrowser("the demo with a local certificate, in Chromium", () => {
  let demo: Demo | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    requireChromium();
    ensureBuilt();
    demo = await startDemo({ TLS_CERT: join(TLS, "localhost-cert.pem"), TLS_KEY: join(TLS, "localhost-key.pem") });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-quic"] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it("loads the page over h2 and chats on a WebSocket over HTTP/2", async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(demo!.url.replace("127.0.0.1", "localhost"));
    await page.locator("#status", { hasText: "1 online" }).waitFor();
    expect(await page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")).toBe("h2");
    // The server tells each member which handshake it answered: here the extended CONNECT.
    await page.locator("#log li", { hasText: "WebSocket over HTTP/2" }).waitFor();
    expect(await page.evaluate("socket.extensions")).toMatch(/^permessage-deflate/);
    await page.fill("#message", "Hello over one HTTP/2 connection");
    await page.click("#send");
    await page.locator("#log li.mine", { hasText: "Hello over one HTTP/2 connection" }).waitFor();
    await context.close();
  });
});
