/**
 * `origins` through every adapter, over real loopback sockets: Node's `acceptSocket` (a raw `net`
 * server) and `acceptUpgrade` (a `node:http` server's `upgrade` event) in this process, Bun's
 * `serverHandlers` and Deno's `accept` in child processes (spec/adapters/runtimes/*-origins.ts).
 * Each serves two listeners: one allowing https://app.example, one whose `origins` function throws.
 * A raw client sends its request, a masked text frame and a close frame in one write, and reads
 * until the server ends the connection: a refused request must get its status and nothing else.
 */
import * as http from "node:http";
import { type AddressInfo, type Server, type Socket, connect as netConnect, createServer } from "node:net";
import { acceptSocket, acceptUpgrade } from "../../lib/adapters/node";
import { ALLOWED, LISTENERS, serve } from "./runtimes/origins";
import { bunArgs, denoArgs, killChildren, listeningPort, run, type Child } from "./runtimes/child";
import { bytes, clientFrame, concat, upgradeRequest, utf8 } from "../support/wire";

/** What a server connection saw, as runtimes/origins.ts prints it when the connection closes. */
interface Report {
  listener: string;
  url: string | null;
  events: string[];
  errors: Array<{ status: number | undefined; message: string }>;
  code: number;
}

/** A masked text frame "Hello" and a masked close frame (1000). */
const FRAMES = concat(clientFrame({ opcode: 1, payload: utf8("Hello") }), clientFrame({ opcode: 8, payload: bytes(0x03, 0xe8) }));
/** The server's unmasked echo of "Hello", then its close frame (1000). */
const ECHO_AND_CLOSE = Buffer.from([0x81, 0x05, ...Buffer.from("Hello"), 0x88, 0x02, 0x03, 0xe8]);

/** Sends a request from `origin` (none if null) and the frames, and reads until the server ends the connection. */
async function exchange(port: number, path: string, origin: string | null): Promise<{ head: string; body: Buffer }> {
  const socket = netConnect(port, "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  await new Promise<void>((resolve, reject) => { socket.once("connect", resolve); socket.once("error", reject); });
  socket.write(concat(utf8(upgradeRequest({ Host: "127.0.0.1", Origin: origin }, `GET ${path} HTTP/1.1`)), FRAMES));
  await new Promise<void>((resolve, reject) => { socket.once("end", resolve); socket.once("error", reject); });
  socket.destroy();
  const all = Buffer.concat(received);
  const end = all.indexOf("\r\n\r\n") + 4;
  return { head: all.subarray(0, end).toString("latin1"), body: all.subarray(end) };
}

interface Served {
  /** The ports of the `list` and `throwing` listeners. */
  ports: Record<string, number>;
  /** Resolves with the report of the connection whose request target was `url`. */
  report(url: string): Promise<Report>;
}

/** The five requests every adapter answers: a throwing function first, so a crash would fail the rest. */
function itRefusesAndAllows(served: () => Served): void {
  it("a throwing origins function: 500 with no detail for the peer, an error event with it, and the server goes on", async () => {
    const { ports, report } = served();
    const { head, body } = await exchange(ports.throwing!, "/throwing", ALLOWED);
    expect(head).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(body.toString()).toBe("Internal Server Error");
    expect(await report("/throwing")).toEqual({
      listener: "throwing", url: "/throwing", events: ["error", "close"], code: 1002,
      errors: [{ status: 500, message: "The origins function threw on Origin 'https://app.example': origin store unreachable" }],
    });
  });

  it("a foreign origin: 403, its frames unread", async () => {
    const { ports, report } = served();
    const { head, body } = await exchange(ports.list!, "/foreign", "https://evil.example");
    expect(head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(body.toString()).toBe("Origin 'https://evil.example' is not allowed");
    expect(await report("/foreign")).toEqual({
      listener: "list", url: "/foreign", events: ["error", "close"], code: 1002,
      errors: [{ status: 403, message: "Origin 'https://evil.example' is not allowed" }],
    });
  });

  it("the null origin: 403", async () => {
    const { ports, report } = served();
    const { head } = await exchange(ports.list!, "/null", "null");
    expect(head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect((await report("/null")).errors.map(({ status }) => status)).toEqual([403]);
  });

  it.each([["an allowed origin", "/allowed", ALLOWED], ["no Origin (not a browser)", "/absent", null]])(
    "%s: 101, the frame echoed, then the close", async (_, path, origin) => {
      const { ports, report } = served();
      const { head, body } = await exchange(ports.list!, path, origin);
      expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(body).toEqual(ECHO_AND_CLOSE);
      expect(await report(path)).toEqual({ listener: "list", url: path, events: ["open", "message", "close"], errors: [], code: 1000 });
    });
}

/** Reports of connections in this process, and whoever waits for one. */
function reportBoard(): { print: (line: string) => void; report: (url: string) => Promise<Report> } {
  const reports = new Map<string, Report>();
  const waiting = new Map<string, (report: Report) => void>();
  return {
    print: (line) => {
      const report = JSON.parse(line.replace(/^closed /, "")) as Report;
      reports.set(report.url!, report);
      waiting.get(report.url!)?.(report);
    },
    report: (url) => reports.has(url) ? Promise.resolve(reports.get(url)!) : new Promise((resolve) => waiting.set(url, resolve)),
  };
}

const listen = (server: Server | http.Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

describe.each([
  ["acceptSocket on a node:net server", (options: (typeof LISTENERS)[number][1], accepted: (driver: Parameters<typeof serve>[1]) => void) => {
    const server = createServer((socket: Socket) => accepted(acceptSocket(socket, options).driver));
    return server;
  }],
  ["acceptUpgrade on a node:http server", (options: (typeof LISTENERS)[number][1], accepted: (driver: Parameters<typeof serve>[1]) => void) => {
    const server = http.createServer();
    server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const { driver } = acceptUpgrade(request, socket, head, options);
      accepted(driver);
    });
    return server;
  }],
])("wsdriver/node: %s", (_, make) => {
  const board = reportBoard();
  const servers: Array<Server | http.Server> = [];
  const ports: Record<string, number> = {};
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    for (const [name, options] of LISTENERS) {
      const server = make(options, (driver) => serve(name, driver, board.print));
      server.on("connection", (socket: Socket) => sockets.add(socket));
      servers.push(server);
      ports[name] = await listen(server);
    }
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  });

  itRefusesAndAllows(() => ({ ports, report: board.report }));
});

describe.each([
  ["wsdriver/bun's serverHandlers on Bun", bunArgs("spec/adapters/runtimes/bun-origins.ts")],
  ["wsdriver/deno's accept on Deno", denoArgs("spec/adapters/runtimes/deno-origins.ts")],
])("%s", (_, args) => {
  let child: Child;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    child = run(args);
    const line = await child.line((text) => text.startsWith("listening "));
    const numbers = line.split(" ").slice(1).map(Number);
    LISTENERS.forEach(([name], index) => { ports[name] = numbers[index]!; });
    expect(await listeningPort(child)).toBe(ports.list);
  }, 60_000);
  afterAll(killChildren);

  const report = async (url: string): Promise<Report> => {
    const line = await child.line((text) => text.startsWith("closed ") && (JSON.parse(text.slice(7)) as Report).url === url);
    return JSON.parse(line.slice(7)) as Report;
  };

  itRefusesAndAllows(() => ({ ports, report }));
});
