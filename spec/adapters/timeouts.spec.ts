/**
 * Time, liveness and backpressure on the Node adapter (acceptSocket, acceptUpgrade, connect,
 * connectThroughProxy): peers that trickle the handshake, fall silent, ignore a close, or flood
 * without reading are dropped in time or held within bounds, with the close code the RFC gives the
 * application (1006 when no close frame came back, 1008 for our own sends past maxBufferedAmount);
 * live peers that answer pings stay open through several idle periods. Loopback only, with limits
 * of 100-150 ms. (Deno and Bun run the same peers against their adapters in timeouts-runtimes.spec.ts.)
 */
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, type Socket, connect as connectNet, createServer } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { acceptSocket, acceptUpgrade, connect, type NodeServerOptions, TimeoutError } from "../../lib/adapters/node";
import { connectThroughProxy } from "../../lib/adapters/node-proxy";
import { watchedCount } from "../../lib/adapters/timeouts";
import type { ClientDriver } from "../../lib/types";
import { readFrames } from "../support/wire";
import { EARLY, askFlood, deafToClose, flood, listen, rawServer, silent, slowloris, stopWhenEmpty } from "./hostile";
import { type ServerReport, serveLimits } from "./runtimes/limits-app";

const LIMITS = { handshakeTimeout: 150, idleTimeout: 100, closeTimeout: 150, maxBufferedAmount: 1 << 20 };
/**
 * How late a limit may act: the sweep runs every quarter of the shortest limit, skips judging after
 * a late turn of the event loop, and the machine is shared.
 */
const SLACK = 600;

/** A server under test: its port, the reports of its application by request path, and how to stop it. */
interface Served {
  port: number;
  report(path: string): Promise<ServerReport>;
  stop(): Promise<void>;
}

function reports(): { add(report: ServerReport): void; report(path: string): Promise<ServerReport> } {
  const seen: ServerReport[] = [];
  const waiting: Array<() => void> = [];
  return {
    add(report) {
      seen.push(report);
      for (const wake of waiting.splice(0)) wake();
    },
    report(path) {
      return new Promise((resolve) => {
        const look = (): void => {
          const found = seen.find((report) => report.path === path);
          if (found) resolve(found);
          else waiting.push(look);
        };
        look();
      });
    },
  };
}

async function socketServer(options: NodeServerOptions): Promise<Served> {
  const { add, report } = reports();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serveLimits(acceptSocket(socket, options), add);
  });
  const port = await listen(server);
  return { port, report, stop: () => stopWhenEmpty(server, sockets) };
}

async function upgradeServer(options: NodeServerOptions): Promise<Served> {
  const { add, report } = reports();
  const sockets = new Set<Socket>();
  const server = createHttpServer();
  server.on("upgrade", (request, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A handler that never gets round to answering: handshakeTimeout drops it.
    const start = request.url !== "/never";
    serveLimits(acceptUpgrade(request, socket, head, { ...options, start }), add);
  });
  const port = await listen(server);
  return { port, report, stop: () => stopWhenEmpty(server, sockets) };
}

describe.each([
  { name: "acceptSocket", make: socketServer },
  { name: "acceptUpgrade", make: upgradeServer },
])("$name with handshakeTimeout 150, idleTimeout 100, closeTimeout 150, maxBufferedAmount 1 MiB", ({ name, make }) => {
  let served: Served;
  beforeAll(async () => { served = await make(LIMITS); });
  afterAll(async () => {
    await served.stop();
    expect(watchedCount()).toBe(0);
  });

  if (name === "acceptSocket") {
    it("drops a request trickled a byte every 40 ms (slowloris) after handshakeTimeout: close 1006", async () => {
      const { droppedAfter, sent } = await slowloris(served.port, 40);
      expect(droppedAfter).toBeGreaterThanOrEqual(LIMITS.handshakeTimeout - EARLY);
      expect(droppedAfter).toBeLessThan(LIMITS.handshakeTimeout + SLACK);
      expect(sent).toBeLessThan(20);
      expect(await served.report("")).toMatchObject({ code: 1006, error: "handshakeTimeout" });
    });
  } else {
    it("drops a connection whose handler never calls start() after handshakeTimeout (node:http read the request)", async () => {
      await expect(silentUntilDropped(served.port, "/never")).resolves.toBeGreaterThanOrEqual(LIMITS.handshakeTimeout - EARLY);
      expect(await served.report("/never")).toMatchObject({ code: 1006, error: "handshakeTimeout" });
    });
  }

  it("pings a silent peer after idleTimeout, and drops it after another: close 1006", async () => {
    const { droppedAfter, pings } = await silent(served.port);
    expect(pings).toBe(1);
    expect(droppedAfter).toBeGreaterThanOrEqual(2 * LIMITS.idleTimeout);
    expect(droppedAfter).toBeLessThan(2 * LIMITS.idleTimeout + SLACK);
    expect(await served.report("/silent")).toMatchObject({ code: 1006, error: "idleTimeout", pongs: 0 });
  });

  it("drops a peer deaf to its close frame after closeTimeout: close 1006", async () => {
    const { closeFrameAfter, droppedAfter } = await deafToClose(served.port);
    expect(closeFrameAfter).toBeGreaterThanOrEqual(0);
    expect(closeFrameAfter).toBeLessThan(100);
    expect(droppedAfter - closeFrameAfter).toBeGreaterThanOrEqual(LIMITS.closeTimeout - EARLY);
    expect(droppedAfter).toBeLessThan(LIMITS.closeTimeout + SLACK);
    expect(await served.report("/deaf")).toMatchObject({ code: 1006, error: "closeTimeout" });
  });

  it.each(["ping", "binary"] as const)("stops reading a %s flood from a peer that never reads; what it owes stays small", async (kind) => {
    const { sent, droppedAfter } = await flood(served.port, kind, 3000);
    const report = await served.report(`/flood-${kind}`);
    // The replies (pongs, echoes) never grow past a chunk's worth over the high-water mark…
    expect(report.maxBuffered).toBeLessThan(512 * 1024);
    // …because reading stopped: TCP pushed back, and the peer got only the kernel's buffers in.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    // Nothing more came from it, and nothing it owed us was taken: dead after idleTimeout twice.
    expect(report).toMatchObject({ code: 1006, error: "idleTimeout" });
    // Dropped once nothing more could come in: while it floods on a fast runtime, or two idle periods
    // after its 3 s of flooding where the runtime's writes take longer to fill the kernel's buffers.
    expect(droppedAfter).toBeLessThan(3000 + 2 * LIMITS.idleTimeout + SLACK);
  });

  it("fails a connection whose own sends pass maxBufferedAmount with 1008, and drops it after closeTimeout", async () => {
    const report = served.report("/overflow");
    const { droppedAfter } = await askFlood(served.port, report);
    expect(await report).toMatchObject({ code: 1008, error: `More than ${1 << 20} bytes waiting to be sent (maxBufferedAmount)` });
    expect((await report).maxBuffered).toBeLessThan(3 << 20);
    expect(droppedAfter).toBeLessThan(LIMITS.closeTimeout + 2 * SLACK);
  });

  it("keeps a ws client that answers pings open through seven idle periods, echoing", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${served.port}/live`);
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(String(data)));
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    await new Promise((resolve) => setTimeout(resolve, 7 * LIMITS.idleTimeout));
    ws.send("still here");
    await new Promise((resolve) => ws.once("message", resolve));
    ws.close(1000);
    const report = await served.report("/live");
    expect(messages).toEqual(["still here"]);
    expect(report).toMatchObject({ code: 1000, error: "" });
    expect(report.pongs).toBeGreaterThanOrEqual(3);
  });
});

async function silentUntilDropped(port: number, path: string): Promise<number> {
  const { connect: netConnect } = await import("node:net");
  const socket = netConnect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  await new Promise((resolve) => socket.once("connect", resolve));
  const started = Date.now();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  socket.resume();
  await new Promise((resolve) => socket.once("close", resolve));
  return Date.now() - started;
}

interface ClientOutcome { code: number; error: unknown; ms: number; pongs: number }

function outcome(connection: { driver: ClientDriver; on(type: "error", handler: (error: Error) => void): void }): Promise<ClientOutcome> {
  const started = Date.now();
  let error: unknown = null;
  let pongs = 0;
  connection.on("error", (cause) => { error ??= cause; });
  connection.driver.on("pong", () => { pongs++; });
  return new Promise((resolve) => connection.driver.on("close", ({ code }) => resolve({ code, error, ms: Date.now() - started, pongs })));
}

describe("connect() with handshakeTimeout 150, idleTimeout 100, closeTimeout 150", () => {
  afterAll(() => expect(watchedCount()).toBe(0));

  it("gives up on a server that never answers the handshake: TimeoutError, close 1006", async () => {
    const server = await rawServer(false);
    const result = await outcome(connect(`ws://127.0.0.1:${server.port}/`, LIMITS));
    expect(result.code).toBe(1006);
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect(result.error).toMatchObject({ option: "handshakeTimeout", timeout: 150 });
    expect(result.ms).toBeGreaterThanOrEqual(LIMITS.handshakeTimeout - 5);
    expect(result.ms).toBeLessThan(LIMITS.handshakeTimeout + SLACK);
    await server.stop();
  });

  it("pings a server gone silent, then drops it: close 1006", async () => {
    const server = await rawServer(true);
    const result = await outcome(connect(`ws://127.0.0.1:${server.port}/`, LIMITS));
    expect(result).toMatchObject({ code: 1006, error: { option: "idleTimeout" } });
    // The one ping, masked as a client's frames are (RFC 6455 §5.3).
    expect(readFrames(server.received()).map(({ opcode, masked }) => ({ opcode, masked }))).toEqual([{ opcode: 0x9, masked: true }]);
    await server.stop();
  });

  it("drops a server deaf to its close after closeTimeout: close 1006", async () => {
    const server = await rawServer(true);
    const connection = connect(`ws://127.0.0.1:${server.port}/`, LIMITS);
    const result = outcome(connection);
    connection.driver.on("open", () => connection.driver.close());
    expect(await result).toMatchObject({ code: 1006, error: { option: "closeTimeout" } });
    expect(readFrames(server.received()).map(({ opcode }) => opcode)).toEqual([0x8]);
    await server.stop();
  });

  it("stays open to a ws server through seven idle periods, its pings answered", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((resolve) => wss.once("listening", resolve));
    wss.on("connection", (ws) => ws.on("message", (data) => ws.send(String(data))));
    const connection = connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, LIMITS);
    const result = outcome(connection);
    const echoed = new Promise((resolve) => connection.driver.on("message", ({ data }) => resolve(data)));
    await new Promise((resolve) => connection.driver.on("open", resolve));
    await new Promise((resolve) => setTimeout(resolve, 7 * LIMITS.idleTimeout));
    connection.driver.text("still here");
    expect(await echoed).toBe("still here");
    connection.driver.close();
    expect(await result).toMatchObject({ code: 1000, error: null });
    expect((await result).pongs).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => wss.close(resolve));
  });

  it("connectThroughProxy gives up on a proxy that never answers the CONNECT: TimeoutError, close 1006", async () => {
    const proxy = await rawServer(false);
    const client = connectThroughProxy("ws://127.0.0.1:1/", `http://127.0.0.1:${proxy.port}`, LIMITS);
    const result = await outcome(client);
    expect(result).toMatchObject({ code: 1006, error: { option: "handshakeTimeout" } });
    expect(result.ms).toBeLessThan(LIMITS.handshakeTimeout + SLACK);
    await proxy.stop();
  });
});

describe("idleTimeout on the drafts, which have no ping", () => {
  it("drops a silent draft-75 peer after twice idleTimeout, and says no ping went", async () => {
    const errors: string[] = [];
    const server = createServer((socket: Socket) => {
      const connection = acceptSocket(socket, { allowDrafts: true, idleTimeout: 100 });
      connection.driver.on("connect", () => connection.driver.start());
      connection.on("error", (error) => errors.push(error.message));
    });
    const port = await listen(server);
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const client = connectNet(port, "127.0.0.1", () => resolve(client));
        client.once("error", reject);
      });
      socket.write("GET /demo HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n\r\n");
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      const started = Date.now();
      await new Promise((resolve) => socket.once("close", resolve));
      expect(Buffer.concat(received).toString("latin1")).toMatch(/^HTTP\/1\.1 101 Web Socket Protocol Handshake\r\n/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 100 - EARLY);
      expect(errors).toEqual(["Nothing received for 100 ms, nor within 100 ms more (idleTimeout; this protocol version has no ping)"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("limit options", () => {
  it.each(["handshakeTimeout", "idleTimeout", "closeTimeout", "maxBufferedAmount"])("refuses a negative %s with a RangeError, before connecting", (option) => {
    expect(() => connect("ws://127.0.0.1:1/", { [option]: -1 })).toThrow(RangeError);
  });
});
