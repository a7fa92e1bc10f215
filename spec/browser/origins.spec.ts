/**
 * Cross-site WebSocket hijacking, with a real browser: Debian's Chromium (`/usr/bin/chromium`,
 * installed by `.ci/run`), headless, driven by playwright-core. A `node:http` server on the Node
 * adapter serves a page and a WebSocket endpoint that allows only its own origin; a second server on
 * another port (another origin, RFC 6454 §4) serves the same page. The browser sends each page's
 * origin itself, as a page cannot forge it: the page of the allowed origin connects and is echoed;
 * the other's socket fails, and the server says why. Without a local Chromium the test is skipped
 * with a notice, except under CI=true where it fails.
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Browser, Page } from "playwright-core";
import { acceptUpgrade } from "../../lib/adapters/node";
import { describeWithChromium, launchChromium } from "./headless";

const describeWithBrowser = describeWithChromium("browser origin test");

const PAGE = "<!doctype html><meta charset=utf-8><title>origin test</title><p>origin test</p>";

function pageServer(): http.Server {
  return http.createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(PAGE) });
    response.end(PAGE);
  });
}

const listen = (server: http.Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

/** Opens a WebSocket from the page, sends one message and resolves with what happened. */
function connectFrom(page: Page, url: string): Promise<{ opened: boolean; echo: string | null; code: number }> {
  return page.evaluate((target) => new Promise<{ opened: boolean; echo: string | null; code: number }>((resolve) => {
    const socket = new WebSocket(target);
    let opened = false;
    let echo: string | null = null;
    socket.onopen = () => {
      opened = true;
      socket.send("hello from the page");
    };
    socket.onmessage = (event) => {
      echo = String(event.data);
      socket.close(1000);
    };
    socket.onclose = (event) => resolve({ opened, echo, code: event.code });
  }), url);
}

describeWithBrowser("origins, with headless Chromium's own Origin header", () => {
  const app = pageServer();
  const foreign = pageServer();
  const sockets = new Set<Socket>();
  const refusals: string[] = [];
  let appOrigin = "";
  let foreignOrigin = "";
  let browser: Browser | undefined;

  beforeAll(async () => {
    appOrigin = `http://127.0.0.1:${await listen(app)}`;
    foreignOrigin = `http://127.0.0.1:${await listen(foreign)}`;
    app.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
      sockets.add(socket);
      const { driver } = acceptUpgrade(request, socket, head, { origins: [appOrigin] });
      driver.on("error", (error) => refusals.push(error.message));
      driver.on("message", ({ data }) => driver.text(`echo: ${String(data)}`));
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const socket of sockets) socket.destroy();
    app.closeAllConnections();
    foreign.closeAllConnections();
    await Promise.all([app, foreign].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  });

  it("connects a page of the allowed origin, and refuses one of another origin with 403", async () => {
    const context = await browser!.newContext();
    try {
      const own = await context.newPage();
      await own.goto(`${appOrigin}/`);
      expect(await connectFrom(own, `ws://127.0.0.1:${new URL(appOrigin).port}/chat`))
        .toEqual({ opened: true, echo: "echo: hello from the page", code: 1000 });
      expect(refusals).toEqual([]);

      const other = await context.newPage();
      const console: string[] = [];
      other.on("console", (message) => console.push(message.text()));
      await other.goto(`${foreignOrigin}/`);
      // The page sees a failed connection (1006) and nothing else; the browser's console has the status.
      expect(await connectFrom(other, `ws://127.0.0.1:${new URL(appOrigin).port}/chat`))
        .toEqual({ opened: false, echo: null, code: 1006 });
      expect(console).toEqual([expect.stringMatching(/WebSocket connection to .* failed: .*Unexpected response code: 403/)]);
      expect(refusals).toEqual([`Origin '${foreignOrigin}' is not allowed`]);
    } finally {
      await context.close();
    }
  });
});
