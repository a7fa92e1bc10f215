/**
 * `idleTimeout` with a real browser: Debian's Chromium (`/usr/bin/chromium`, installed by
 * `.ci/run`), headless, driven by playwright-core. A page opens a WebSocket to a `node:http` server
 * on the Node adapter whose `idleTimeout` is short, then stays silent for many idle periods: the
 * server pings each time nothing has arrived, Chromium answers each ping with a pong by itself
 * (RFC 6455 §5.5.2), and the connection stays open and keeps echoing. Without a local Chromium the
 * test is skipped with a notice, except under CI=true where it fails.
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Browser } from "playwright-core";
import { acceptUpgrade } from "../../lib/adapters/node";
import { describeWithChromium, launchChromium } from "./headless";

const describeWithBrowser = describeWithChromium("browser liveness test");

const PAGE = "<!doctype html><meta charset=utf-8><title>liveness test</title><p>liveness test</p>";
/** Short enough that a few seconds of silence cover several idle periods. */
const IDLE_TIMEOUT = 300;
/** How long the page stays silent: more than six idle periods. */
const SILENCE = 2_000;

describeWithBrowser("idleTimeout, with headless Chromium answering the server's pings", () => {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(PAGE) });
    response.end(PAGE);
  });
  const sockets = new Set<Socket>();
  const serverSide = { pings: 0, pongs: 0, errors: [] as string[], closes: [] as number[] };
  let origin = "";
  let browser: Browser | undefined;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
      sockets.add(socket);
      const { driver } = acceptUpgrade(request, socket, head, { idleTimeout: IDLE_TIMEOUT });
      driver.on("pong", () => serverSide.pongs++);
      driver.on("error", (error) => serverSide.errors.push(error.message));
      driver.on("close", ({ code }) => serverSide.closes.push(code));
      driver.on("message", ({ data }) => driver.text(`echo: ${String(data)}`));
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("keeps a silent page's connection open through several idle periods, and it still echoes", async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/`);
      const seen = await page.evaluate(({ target, silence }) => new Promise<{ before: string; after: string; code: number }>((resolve) => {
        const socket = new WebSocket(target);
        const echoes: string[] = [];
        socket.onopen = () => {
          socket.send("before the silence");
          // Nothing from the page for `silence` ms: only the browser's own pongs go out.
          setTimeout(() => socket.send("after the silence"), silence);
        };
        socket.onmessage = (event) => {
          echoes.push(String(event.data));
          if (echoes.length === 2) socket.close(1000, "done");
        };
        socket.onclose = (event) => resolve({ before: echoes[0] ?? "", after: echoes[1] ?? "", code: event.code });
      }), { target: `ws://127.0.0.1:${new URL(origin).port}/live`, silence: SILENCE });

      expect(seen).toEqual({ before: "echo: before the silence", after: "echo: after the silence", code: 1000 });
      // A ping goes after each IDLE_TIMEOUT of silence (up to a quarter late, timeouts.ts), and each
      // one was answered: at least three in SILENCE ms, where a dropped connection would show 1006.
      expect(serverSide.pongs).toBeGreaterThanOrEqual(3);
      expect(serverSide.errors).toEqual([]);
      expect(serverSide.closes).toEqual([1000]);
    } finally {
      await context.close();
    }
  });
});
