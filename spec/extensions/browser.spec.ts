/**
 * permessage-deflate with a real browser: headless Chromium (`/usr/bin/chromium`, driven by
 * playwright-core) opens its own WebSocket to our server over loopback, and echoes of binary and
 * text from 0 bytes to 1 MiB are compared inside the page, with context takeover on and off.
 * Without a local Chromium the test is skipped with a notice, except under CI=true where it fails.
 */
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type Browser, chromium } from "playwright-core";
import { Driver } from "../../lib/driver";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import { CHROMIUM, describeWithChromium, requireChromium } from "../browser/headless";

const describeWithBrowser = describeWithChromium("permessage-deflate browser test");

interface EchoServer { server: Server; port: number; sockets: Set<Socket>; written: () => number }

/** A node:http server: a blank page on GET, our server driver with `deflate(options)` on upgrade. */
function startServer(options: DeflateOptions): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  let written = 0;
  const server = createServer((_, response) => {
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end("<!doctype html><title>echo</title>");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const io = { write: (chunk: Uint8Array) => { written += chunk.length; return socket.write(chunk); } };
    const driver = Driver.fromRequest(request, io);
    driver.addExtension(deflate(options));
    driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
    driver.on("close", () => socket.end());
    socket.on("data", (chunk) => driver.parse(chunk));
    socket.on("close", () => driver.end());
    socket.on("error", () => driver.end());
    driver.start();
    if (head.length > 0) driver.parse(head);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () =>
    resolve({ server, port: (server.address() as AddressInfo).port, sockets, written: () => written })));
}

/** Runs in the page: echoes each size as binary and as text and reports what came back. */
const exercise = async ({ url, sizes }: { url: string; sizes: number[] }) => {
  const payloadOf = (size: number, seed: number) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = 97 + ((i * seed + (i >> 5)) % 11);
    return out;
  };
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  const sent: Array<Uint8Array<ArrayBuffer> | string> = [];
  sizes.forEach((size, i) => {
    sent.push(payloadOf(size, i + 2));
    sent.push(new TextDecoder().decode(payloadOf(size, i + 5)) + "☃😀");
  });
  const received: Array<ArrayBuffer | string> = [];
  const done = new Promise<void>((resolve) => {
    socket.onmessage = (event) => {
      received.push(event.data);
      if (received.length === sent.length) resolve();
    };
  });
  let bytes = 0;
  for (const message of sent) {
    socket.send(message);
    bytes += typeof message === "string" ? new TextEncoder().encode(message).length : message.length;
  }
  await done;
  const same = sent.map((message, i) => {
    const got = received[i];
    if (typeof message === "string") return got === message;
    if (!(got instanceof ArrayBuffer)) return false;
    const view = new Uint8Array(got);
    return view.length === message.length && view.every((b, j) => b === message[j]);
  });
  const extensions = socket.extensions;
  const closed = new Promise<number>((resolve) => { socket.onclose = (event) => resolve(event.code); });
  socket.close(1000);
  return { extensions, same, bytes, close: await closed };
};

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 0];

describeWithBrowser("permessage-deflate with headless Chromium", () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    requireChromium();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"],
    });
  }, 60_000);
  afterAll(async () => { await browser?.close(); });

  it.each([
    ["context takeover", {}, "permessage-deflate"],
    ["no context takeover", { serverNoContextTakeover: true, clientNoContextTakeover: true },
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
  ] as Array<[string, DeflateOptions, string]>)("echoes 0 B to 1 MiB with %s, compressed both ways", async (_, options, negotiated) => {
    const echo = await startServer(options);
    const page = await browser!.newPage();
    try {
      await page.goto(`http://127.0.0.1:${echo.port}/`);
      const result = await page.evaluate(exercise, { url: `ws://127.0.0.1:${echo.port}/`, sizes: SIZES });
      expect(result.extensions).toBe(negotiated);
      expect(result.same).toEqual(SIZES.flatMap(() => [true, true]));
      expect(result.close).toBe(1000);
      // The payloads are repetitive: our server wrote a small fraction of what it echoed.
      expect(echo.written()).toBeLessThan(result.bytes / 4);
    } finally {
      await page.close();
      for (const socket of echo.sockets) socket.destroy();
      await new Promise((resolve) => echo.server.close(resolve));
    }
  });
});
