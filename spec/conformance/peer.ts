/**
 * The conformance test peer: real loopback sockets on 127.0.0.1, a wsdriver endpoint on one side
 * and hand-built bytes on the other.
 *
 * - `startEchoServer` runs `Driver.server` on every accepted `node:net` socket and echoes each
 *   message back, as the Autobahn test suite expects of the server under test. `RawClient` is the
 *   peer that talks to it: it writes the opening handshake, then raw frame bytes, and collects
 *   every byte the server writes until the server closes the TCP connection.
 * - `startRawServer` is the reverse: it answers a `Driver.client`'s handshake by hand, writes raw
 *   frames, and collects what the client writes (`connectEchoClient` runs the client and echoes).
 *
 * Nothing here waits on a clock: a test waits for the peer to close the connection, or, to make
 * the driver read its input in given pieces, for the other side to have read the previous piece.
 */
import * as net from "node:net";
import { WebSocketServer } from "ws";
import { Driver } from "../../lib/driver";
import type { ClientOptions, ServerOptions } from "../../lib/options";
import type { ClientDriver, ServerDriver } from "../../lib/types";
import { acceptKey } from "../../lib/hybi/accept";
import { type DecodedFrame, closeOf } from "../../lib/testing";
import { type Recorded, concat, readFrames, record, upgradeRequest } from "../support/wire";

export type WireFrame = DecodedFrame;
/** The close code and reason of a close frame's payload (null code for an empty payload); anything else throws. */
export { closeOf };

const HEAD_END = Uint8Array.from([13, 10, 13, 10]);

function indexOfHeadEnd(data: Uint8Array): number {
  outer: for (let i = 0; i + 3 < data.length; i++) {
    for (let j = 0; j < 4; j++) if (data[i + j] !== HEAD_END[j]) continue outer;
    return i + 4;
  }
  return -1;
}

/** Counts the bytes one side has read, and lets the other side wait until a count is reached. */
class ReadCounter {
  count = 0;
  private waiters: Array<{ target: number; resolve: () => void }> = [];

  add(n: number): void {
    this.count += n;
    this.waiters = this.waiters.filter((w) => {
      if (this.count < w.target) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `target` bytes have been read, or the socket has closed (`release`). */
  reach(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  release(): void {
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}

// --- a wsdriver server and its raw client --------------------------------------------------------

export interface ServerConnection {
  driver: ServerDriver;
  events: Recorded[];
  /** Bytes the server socket has read so far. */
  read: ReadCounter;
  /** Exceptions thrown out of `parse` (there must be none). */
  thrown: unknown[];
  /** Bytes read, the opening handshake included, up to the end of the chunk in which `error` fired. */
  errorAt: number | undefined;
}

export interface EchoServer {
  port: number;
  /** Server-side connections, by the client's local port. */
  connections: Map<number, ServerConnection>;
  close(): Promise<void>;
}

/**
 * A `node:net` server running `Driver.server` that echoes every message, and closes the socket on
 * `close`. `setup` runs on each new driver before it reads anything (to add extensions).
 */
export function startEchoServer(options: ServerOptions = {}, setup?: (driver: ServerDriver) => void): Promise<EchoServer> {
  const connections = new Map<number, ServerConnection>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const driver = Driver.server(socket, options);
    setup?.(driver);
    const events = record(driver);
    const connection: ServerConnection = { driver, events, read: new ReadCounter(), thrown: [], errorAt: undefined };
    let readingTo = 0;
    driver.on("error", () => { connection.errorAt ??= readingTo; });
    connections.set(socket.remotePort ?? -1, connection);
    driver.on("connect", () => driver.start());
    driver.on("message", ({ data }) => {
      if (typeof data === "string") driver.text(data);
      else driver.binary(data);
    });
    driver.on("close", () => socket.end());
    socket.on("data", (chunk: Buffer) => {
      readingTo = connection.read.count + chunk.length;
      try {
        driver.parse(chunk);
      } catch (error) {
        connection.thrown.push(error);
        socket.destroy();
      }
      connection.read.add(chunk.length);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      sockets.delete(socket);
      connection.read.release();
      driver.end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        connections,
        close: () => new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

/**
 * The same echo service from the `ws` package, the reference the matrix is meant to agree with.
 * There is no driver to look into, so `connections` stays empty.
 */
export function startWsEchoServer(): Promise<EchoServer> {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    wss.on("connection", (ws) => {
      ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      ws.on("error", () => undefined);
    });
    wss.on("listening", () => resolve({
      port: (wss.address() as net.AddressInfo).port,
      connections: new Map(),
      close: () => new Promise<void>((done) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => done());
      }),
    }));
  });
}

/** A hand-driven WebSocket client on a real socket: writes raw bytes, collects raw bytes. */
export class RawClient {
  /** Everything the server wrote after its handshake response. */
  private received: Uint8Array[] = [];
  private readonly ended: Promise<void>;
  /** The server's handshake response head. */
  response = "";
  /** The length of the request the client wrote. */
  private requestLength = 0;

  private readonly localPort: number;

  /** Resolves once the response head has been read, or the connection has closed without one. */
  private readonly responseRead: Promise<void>;

  private constructor(private readonly socket: net.Socket, private readonly echo: EchoServer) {
    this.localPort = socket.localPort ?? -2;
    this.ended = new Promise((resolve) => socket.once("close", () => resolve()));
    let head: Uint8Array = new Uint8Array(0);
    this.responseRead = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        if (this.response !== "") {
          this.received.push(Uint8Array.from(chunk));
          return;
        }
        head = concat(head, chunk);
        const end = indexOfHeadEnd(head);
        if (end < 0) return;
        this.response = new TextDecoder("latin1").decode(head.subarray(0, end));
        if (end < head.length) this.received.push(head.slice(end));
        resolve();
      });
      socket.once("close", () => {
        if (this.response === "") this.response = new TextDecoder("latin1").decode(head);
        resolve();
      });
    });
  }

  /** The server side of this connection (known once the server has accepted it). */
  get server(): ServerConnection | undefined {
    return this.echo.connections.get(this.localPort);
  }

  /**
   * Connects, writes `request` (a valid RFC 6455 upgrade by default) and reads the response head.
   * With `endOnClose`, the client ends its side of the TCP connection once a close frame has come
   * in, as a peer that has nothing more to say does (a server that waits for the closing handshake
   * to finish, as `ws` does, then closes at once).
   */
  static async connect(server: EchoServer, request: string | Uint8Array = upgradeRequest(), endOnClose = false): Promise<RawClient> {
    const client = await RawClient.connectOnly(server);
    if (endOnClose) client.endOnClose();
    const requestBytes = typeof request === "string" ? new TextEncoder().encode(request) : request;
    client.requestLength = requestBytes.length;
    client.socket.write(requestBytes);
    await client.responseRead;
    return client;
  }

  /**
   * Connects and writes nothing: the test writes the request itself (`send`, `sendInPieces`); the
   * response head, whenever it comes, is read into `response` all the same.
   */
  static async connectOnly(server: EchoServer): Promise<RawClient> {
    const socket = net.connect(server.port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    return new RawClient(socket, server);
  }

  private endOnClose(): void {
    this.socket.on("data", () => {
      if (this.response === "" || !this.socket.writable) return;
      if (readFrames(concat(...this.received)).some((f) => f.opcode === 0x8)) this.socket.end();
    });
  }

  /** Writes bytes as they are (the kernel may join or split them). */
  send(...chunks: Uint8Array[]): void {
    for (const chunk of chunks) this.socket.write(chunk);
  }

  /**
   * Writes `data` in pieces of `size` bytes, each only once the server has read the one before, so
   * the driver is handed its input in pieces of at most that size.
   */
  async sendInPieces(data: Uint8Array, size: number): Promise<void> {
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += size) pieces.push(data.subarray(at, Math.min(at + size, data.length)));
    await this.sendPaced(pieces);
  }

  /** Writes each piece only once the server has read the one before. */
  async sendPaced(pieces: Uint8Array[]): Promise<void> {
    const server = this.server;
    if (!server) throw new Error("no server-side connection to pace against");
    let target = server.read.count;
    for (const piece of pieces) {
      if (this.socket.destroyed || !this.socket.writable) return;
      this.socket.write(piece);
      target += piece.length;
      await server.read.reach(target);
    }
  }

  /** How many bytes after the handshake the server had read when it reported an error. */
  get errorOffset(): number | undefined {
    const at = this.server?.errorAt;
    return at === undefined ? undefined : at - this.requestLength;
  }

  /** Waits until the server closes the connection; returns every frame it wrote. */
  async framesUntilClosed(): Promise<WireFrame[]> {
    await this.ended;
    return readFrames(concat(...this.received));
  }

  /** Every byte the server wrote after its handshake, once the connection has closed. */
  async bytesUntilClosed(): Promise<Uint8Array> {
    await this.ended;
    return concat(...this.received);
  }

  /** Ends our side of the TCP connection (the drafts close by closing the connection). */
  endWrite(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// --- a raw server and a wsdriver client ----------------------------------------------------------

export interface RawServerConnection {
  /** The client's request head. */
  request: string;
  /** Writes bytes to the client. */
  send(...chunks: Uint8Array[]): void;
  /** Waits for the client to close; returns every frame it wrote after its request. */
  framesUntilClosed(): Promise<WireFrame[]>;
}

export interface RawServer {
  port: number;
  /** Resolves with the next connection once its request head has been read and answered. */
  accept(): Promise<RawServerConnection>;
  close(): Promise<void>;
}

/**
 * A hand-driven server: reads a request head and answers it with `respond(key)` (a valid 101 by
 * default), then lets the test write raw frames.
 */
export function startRawServer(
  respond: (key: string) => string = (key) =>
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const ready: RawServerConnection[] = [];
  const waiting: Array<(c: RawServerConnection) => void> = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("error", () => undefined);
    const ended = new Promise<void>((resolve) => socket.once("close", () => {
      sockets.delete(socket);
      resolve();
    }));
    let head: Uint8Array = new Uint8Array(0);
    let request = "";
    const received: Uint8Array[] = [];
    socket.on("data", (chunk: Buffer) => {
      if (request !== "") {
        received.push(Uint8Array.from(chunk));
        return;
      }
      head = concat(head, chunk);
      const end = indexOfHeadEnd(head);
      if (end < 0) return;
      request = new TextDecoder("latin1").decode(head.subarray(0, end));
      if (end < head.length) received.push(head.slice(end));
      const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? "";
      // The response is written byte for byte (latin1), so a test may append raw frame bytes to it.
      socket.write(Buffer.from(respond(key), "latin1"));
      const connection: RawServerConnection = {
        request,
        send: (...chunks) => { for (const c of chunks) socket.write(c); },
        framesUntilClosed: async () => {
          await ended;
          return readFrames(concat(...received));
        },
      };
      const next = waiting.shift();
      if (next) next(connection);
      else ready.push(connection);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        accept: () => {
          const next = ready.shift();
          return next ? Promise.resolve(next) : new Promise((r) => waiting.push(r));
        },
        close: () => new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

export interface EchoClient {
  driver: ClientDriver;
  events: Recorded[];
  thrown: unknown[];
  /** Resolves once the client socket has closed. */
  closed: Promise<void>;
}

/**
 * Connects a `Driver.client` to `port` over a real socket; it echoes every message and closes the
 * socket on `close`. `setup` runs on the driver before its handshake is sent (to add extensions).
 */
export function connectEchoClient(port: number, options: ClientOptions = {}, setup?: (driver: ClientDriver) => void): EchoClient {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const driver = Driver.client(`ws://127.0.0.1:${port}/`, socket, options);
  setup?.(driver);
  const events = record(driver);
  const thrown: unknown[] = [];
  driver.on("message", ({ data }) => {
    if (typeof data === "string") driver.text(data);
    else driver.binary(data);
  });
  driver.on("close", () => socket.end());
  socket.on("connect", () => driver.start());
  socket.on("data", (chunk: Buffer) => {
    try {
      driver.parse(chunk);
    } catch (error) {
      thrown.push(error);
      socket.destroy();
    }
  });
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => {
    driver.end();
    resolve();
  }));
  return { driver, events, thrown, closed };
}

// --- the tally printed at the end of each group --------------------------------------------------

/**
 * `describe` for one group of the matrix: every case registered through the returned `test` is
 * counted, and `<group>: N passed, N failed` is printed when the group ends.
 */
export function group(name: string, body: (testCase: (title: string, fn: () => Promise<void> | void) => void) => void): void {
  describe(name, () => {
    const tally = { passed: 0, failed: 0 };
    const testCase = (title: string, fn: () => Promise<void> | void): void => {
      test(title, async () => {
        try {
          await fn();
          tally.passed++;
        } catch (error) {
          tally.failed++;
          throw error;
        }
      });
    };
    body(testCase);
    afterAll(() => {
      process.stdout.write(`conformance ${name}: ${tally.passed} passed, ${tally.failed} failed\n`);
    });
  });
}
