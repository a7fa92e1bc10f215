/**
 * The demo server `npm start` runs: it serves the chat page, broadcasts every message on /chat to
 * every connected client (compressed with permessage-deflate when offered), refuses other upgrade paths, and on SIGINT closes every connection with
 * 1001 (RFC 6455 §7.4.1, going away) and exits 0. Its peers here are `ws` clients over loopback.
 */
import WebSocket from "ws";
import { type Demo, startDemo } from "./start";
import { ensureBuilt } from "../support/build";

interface ChatEvent {
  type: string;
  name?: string;
  from?: string;
  text?: string;
  count?: number;
}

/** A ws client that records the demo's JSON events. */
async function join(url: string) {
  const ws = new WebSocket(new URL("chat", url.replace(/^http/, "ws")));
  const events: ChatEvent[] = [];
  const waiters: Array<() => void> = [];
  ws.on("message", (data: Buffer) => {
    events.push(JSON.parse(data.toString()));
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  return {
    ws,
    events,
    /** Resolves once an event `match` accepts has arrived. */
    until: (match: (event: ChatEvent) => boolean): Promise<ChatEvent> => new Promise((resolve) => {
      const check = () => {
        const found = events.find(match);
        if (found) resolve(found);
        else waiters.push(check);
      };
      check();
    }),
  };
}

describe("the demo server", () => {
  let demo: Demo;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    ensureBuilt();
    demo = await startDemo();
  }, 120_000);
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    if (demo) await demo.stop();
  });

  it("prints its URL and serves the chat page, its script and its style", async () => {
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(demo.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain('<form id="compose"');
    expect((await fetch(new URL("app.js", demo.url))).status).toBe(200);
    expect((await fetch(new URL("style.css", demo.url))).status).toBe(200);
    expect((await fetch(new URL("package.json", demo.url))).status).toBe(404);
    expect((await fetch(new URL("missing.js", demo.url))).status).toBe(404);
  });

  it("broadcasts a message to every connected client, the sender included", async () => {
    const alice = await join(demo.url);
    const bob = await join(demo.url);
    sockets.push(alice.ws, bob.ws);
    // ws offers permessage-deflate by default, and the demo accepts it (RFC 7692).
    expect(alice.ws.extensions).toMatch(/^permessage-deflate/);
    const aliceName = (await alice.until((event) => event.type === "welcome")).name;
    await alice.until((event) => event.type === "presence" && event.count === 2);
    alice.ws.send("hello, everyone ☃");
    const isHello = (event: ChatEvent) => event.type === "message" && event.text === "hello, everyone ☃";
    expect(await bob.until(isHello)).toMatchObject({ from: aliceName });
    expect(await alice.until(isHello)).toMatchObject({ from: aliceName });
    alice.ws.close(1000);
    bob.ws.close(1000);
    await Promise.all([alice.ws, bob.ws].map((ws) => new Promise((resolve) => ws.once("close", resolve))));
  });

  it("refuses an upgrade on any other path with 404", async () => {
    const ws = new WebSocket(new URL("elsewhere", demo.url.replace(/^http/, "ws")));
    sockets.push(ws);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once("unexpected-response", (_request, response) => resolve(response.statusCode));
      ws.once("error", () => resolve(undefined));
    });
    expect(status).toBe(404);
  });

  it("lets in its own page's origin and clients that send none, and refuses other origins with 403", async () => {
    /** The status a handshake from `origin` gets: 101, or what the demo answered instead. */
    const statusFrom = (origin: string | undefined) => new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(new URL("chat", demo.url.replace(/^http/, "ws")), origin === undefined ? {} : { origin });
      sockets.push(ws);
      ws.once("open", () => {
        ws.close();
        resolve(101);
      });
      ws.once("unexpected-response", (_request, response) => resolve(response.statusCode!));
      ws.once("error", reject);
    });
    const port = new URL(demo.url).port;
    expect(await statusFrom(new URL(demo.url).origin)).toBe(101);
    expect(await statusFrom(`http://localhost:${port}`)).toBe(101);
    expect(await statusFrom(undefined)).toBe(101);
    expect(await statusFrom("https://evil.example")).toBe(403);
    expect(await statusFrom(`http://127.0.0.1:${Number(port) + 1}`)).toBe(403);
    expect(await statusFrom("null")).toBe(403);
    expect(demo.output()).toContain("Origin 'https://evil.example' is not allowed");
  });

  it("on SIGINT closes every connection with 1001 and exits 0", async () => {
    const carol = await join(demo.url);
    const dave = await join(demo.url);
    sockets.push(carol.ws, dave.ws);
    await carol.until((event) => event.type === "presence" && event.count === 2);
    const closes = [carol.ws, dave.ws].map((ws) =>
      new Promise<[number, string]>((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve([code, reason.toString()]))));
    demo.process.kill("SIGINT");
    expect(await Promise.all(closes)).toEqual([[1001, "server shutting down"], [1001, "server shutting down"]]);
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toContain("closed 2 connection(s) with 1001");
  });
});
