/**
 * The adapters' time and buffer limits on WebSockets over HTTP/2 (RFC 8441): `acceptStream` and
 * `connect(url, { http2: true })` take `handshakeTimeout`, `idleTimeout`, `closeTimeout` and
 * `maxBufferedAmount` as the HTTP/1.1 adapters do, and a limit that runs out resets that
 * WebSocket's stream alone: the other WebSockets on the same HTTP/2 session go on. Real
 * `node:http2` over loopback TLS, with limits of 100-150 ms.
 */
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type StreamOptions, TimeoutError, acceptStream, connect, type StreamConnection } from "../../lib/adapters/node";
import { watchedCount } from "../../lib/adapters/timeouts";
import type { CloseEvent } from "../../lib/events";
import type { Http2ClientDriver, ServerDriver } from "../../lib/types";
import { clientFrame, readFrames } from "../support/wire";

const TLS = join(__dirname, "../adapters/runtimes/tls");
const key = readFileSync(join(TLS, "localhost-key.pem"));
const cert = readFileSync(join(TLS, "localhost-cert.pem"));
const ca = readFileSync(join(TLS, "ca-cert.pem"));

const LIMITS = { handshakeTimeout: 150, idleTimeout: 100, closeTimeout: 150, maxBufferedAmount: 64 * 1024 };
/** How late a limit may act: the sweep runs every quarter of the shortest limit, and the machine is shared. */
const SLACK = 600;

interface Accepted {
  connection: StreamConnection<ServerDriver>;
  errors: Error[];
  closed: Promise<CloseEvent>;
}

interface Origin {
  port: number;
  url: string;
  accepted: Accepted[];
  sessions: http2.ServerHttp2Session[];
  /** Resolves with the next WebSocket the server accepts. */
  next(): Promise<Accepted>;
  stop(): Promise<void>;
}

/** An echo server over HTTP/2 on loopback; `flood N` answers with N binary messages of 16 KiB in one tick. */
async function startOrigin(options: StreamOptions): Promise<Origin> {
  const server = http2.createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
  const accepted: Accepted[] = [];
  const sessions: http2.ServerHttp2Session[] = [];
  const waiting: Array<(accepted: Accepted) => void> = [];
  server.on("session", (session) => sessions.push(session));
  server.on("stream", (stream, headers) => {
    const connection = acceptStream(stream, headers, options);
    const errors: Error[] = [];
    const { driver } = connection;
    connection.on("error", (error) => errors.push(error));
    driver.on("error", (error) => errors.push(error));
    const closed = new Promise<CloseEvent>((resolve) => driver.on("close", resolve));
    driver.on("message", ({ data }) => {
      if (typeof data !== "string") return;
      if (data.startsWith("flood ")) {
        for (let i = 0; i < Number(data.slice(6)); i++) driver.binary(new Uint8Array(16 * 1024));
      } else driver.text(data.toUpperCase());
    });
    const entry = { connection, errors, closed };
    accepted.push(entry);
    waiting.shift()?.(entry);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port, accepted, sessions, url: `wss://localhost:${port}/echo`,
    next: () => new Promise((resolve) => waiting.push(resolve)),
    stop: () => new Promise<void>((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    }),
  };
}

function open(url: string, options = {}): StreamConnection<Http2ClientDriver> {
  return connect(url, { http2: true, tls: { ca }, ...options });
}

const opened = (connection: StreamConnection<Http2ClientDriver>): Promise<void> =>
  new Promise((resolve, reject) => {
    connection.driver.on("open", () => resolve());
    connection.driver.on("close", (event) => reject(new Error(`closed before open: ${JSON.stringify(event)}`)));
  });

const echo = (connection: StreamConnection<Http2ClientDriver>, text: string): Promise<unknown> =>
  new Promise((resolve) => {
    connection.driver.on("message", ({ data }) => resolve(data));
    connection.driver.text(text);
  });

/**
 * A hand-made WebSocket on `session` (the one a live client of ours uses): it opens the stream
 * with an extended CONNECT and reads what comes, but never sends a byte itself unless told.
 */
async function rawWebSocket(session: http2.ClientHttp2Session, port: number): Promise<{ stream: http2.ClientHttp2Stream; received: Uint8Array[] }> {
  const stream = session.request({
    ":method": "CONNECT", ":protocol": "websocket", ":scheme": "https", ":path": "/echo",
    ":authority": `localhost:${port}`, "sec-websocket-version": "13",
  }, { endStream: false });
  const received: Uint8Array[] = [];
  stream.on("data", (chunk: Uint8Array) => received.push(chunk));
  stream.on("error", () => undefined);
  const response = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
  expect(response[":status"]).toBe(200);
  return { stream, received };
}

const rstCode = (stream: http2.Http2Stream): Promise<number> =>
  new Promise((resolve) => (stream.closed ? resolve(stream.rstCode ?? 0) : stream.once("close", () => resolve(stream.rstCode ?? 0))));

const opcodes = (received: Uint8Array[]): number[] =>
  readFrames(Buffer.concat(received)).map((frame) => frame.opcode);

describe("acceptStream with handshakeTimeout 150, idleTimeout 100, closeTimeout 150, maxBufferedAmount 64 KiB", () => {
  let origin: Origin;
  beforeEach(async () => {
    origin = await startOrigin(LIMITS);
  });
  afterEach(async () => {
    await origin.stop();
  });

  it("pings a silent WebSocket, then resets its stream alone: close 1006, while another on the same session keeps echoing", async () => {
    const live = open(origin.url);
    const liveAccepted = origin.next();
    await opened(live);
    await liveAccepted;
    const silentAccepted = origin.next();
    const silent = await rawWebSocket(live.session as http2.ClientHttp2Session, origin.port);
    const server = await silentAccepted;
    const started = Date.now();
    const event = await server.closed;
    const took = Date.now() - started;
    expect(event.code).toBe(1006);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(200 + SLACK);
    expect(server.errors).toHaveLength(1);
    expect(server.errors[0]).toBeInstanceOf(TimeoutError);
    expect((server.errors[0] as TimeoutError).option).toBe("idleTimeout");
    // It was pinged first (0x9), and its stream was reset with CANCEL (RFC 8441 §5.1).
    expect(opcodes(silent.received)).toEqual([0x9]);
    expect(await rstCode(silent.stream)).toBe(http2.constants.NGHTTP2_CANCEL);
    // The live WebSocket, which answers pings, is still there on the same session, several idle periods on.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await echo(live, "still here")).toBe("STILL HERE");
    expect(live.session?.closed).toBe(false);
    expect(origin.sessions).toHaveLength(1);
    expect(origin.accepted[0].connection.driver.readyState).toBe(1);
    live.destroy();
  });

  it("resets the stream of a peer deaf to its close frame after closeTimeout: close 1006", async () => {
    const live = open(origin.url);
    await opened(live);
    const deafAccepted = origin.next();
    const deaf = await rawWebSocket(live.session as http2.ClientHttp2Session, origin.port);
    const server = await deafAccepted;
    // A sign of life, then our close frame, which the peer never answers.
    deaf.stream.write(clientFrame({ opcode: "text", payload: "hi" }));
    await new Promise<void>((resolve) => server.connection.driver.on("message", () => resolve()));
    const started = Date.now();
    server.connection.driver.close("bye", 1000);
    const event = await server.closed;
    const took = Date.now() - started;
    expect(event.code).toBe(1006);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(150 + SLACK);
    expect(server.errors.map((error) => (error as TimeoutError).option)).toEqual(["closeTimeout"]);
    expect(opcodes(deaf.received)).toEqual([0x1, 0x8]);
    expect(await rstCode(deaf.stream)).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(await echo(live, "after")).toBe("AFTER");
    live.destroy();
  });

  it("fails a WebSocket whose sends pass maxBufferedAmount with 1008, then drops it after closeTimeout", async () => {
    const reader = open(origin.url);
    await opened(reader);
    const stuckAccepted = origin.next();
    const stuck = await rawWebSocket(reader.session as http2.ClientHttp2Session, origin.port);
    const server = await stuckAccepted;
    // The peer stops reading: its flow-control window (64 KiB) fills and holds the rest on our side.
    stuck.stream.pause();
    stuck.stream.removeAllListeners("data");
    stuck.stream.write(clientFrame({ opcode: "text", payload: "flood 32" }));
    // The application hears 1008 at once (RFC 6455 §7.4.1); the close frame waits behind the rest.
    const event = await server.closed;
    expect(event.code).toBe(1008);
    expect(server.errors[0].message).toBe("More than 65536 bytes waiting to be sent (maxBufferedAmount)");
    // The peer never takes it, so closeTimeout resets the stream.
    expect(await rstCode(stuck.stream)).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(server.errors.map((error) => error.message)).toContain("The peer did not close the connection within 150 ms of our close (closeTimeout)");
    expect(await echo(reader, "unharmed")).toBe("UNHARMED");
    reader.destroy();
  });

  it("reports the 1008 close to the application when the peer reads and answers the close", async () => {
    const client = open(origin.url);
    const serverAccepted = origin.next();
    await opened(client);
    const server = await serverAccepted;
    const clientClosed = new Promise<CloseEvent>((resolve) => client.driver.on("close", resolve));
    client.driver.text("flood 32");
    const [serverEvent, clientEvent] = await Promise.all([server.closed, clientClosed]);
    expect(serverEvent.code).toBe(1008);
    expect(clientEvent.code).toBe(1008);
    expect(server.errors[0].message).toBe("More than 65536 bytes waiting to be sent (maxBufferedAmount)");
  });

  it("stops reading a peer that floods pings and never reads: the pongs owed stay bounded, and flow control holds the peer back", async () => {
    const reader = open(origin.url);
    await opened(reader);
    const floodAccepted = origin.next();
    const flooder = await rawWebSocket(reader.session as http2.ClientHttp2Session, origin.port);
    const server = await floodAccepted;
    flooder.stream.pause();
    flooder.stream.removeAllListeners("data");
    // 4 MiB of pings (125 B each), written as fast as the stream takes them, 64 KiB at a time.
    const ping = clientFrame({ opcode: "ping", payload: new Uint8Array(125) });
    const burst = Buffer.concat(Array.from({ length: 64 * 1024 / ping.length | 0 }, () => ping));
    let owedMost = 0;
    for (let sent = 0; sent < 4 * 1024 * 1024; sent += burst.length) {
      flooder.stream.write(burst);
      owedMost = Math.max(owedMost, server.connection.bufferedAmount);
      await new Promise((resolve) => setImmediate(resolve));
      if (flooder.stream.writableLength > 1024 * 1024) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    owedMost = Math.max(owedMost, server.connection.bufferedAmount);
    // The server answered what it read, then stopped reading: the peer's own writes wait on its side.
    expect(flooder.stream.writableLength).toBeGreaterThan(1024 * 1024);
    expect(owedMost).toBeGreaterThan(0);
    expect(owedMost).toBeLessThan(1024 * 1024);
    expect(server.connection.driver.readyState).toBe(1);
    expect(await echo(reader, "unharmed")).toBe("UNHARMED");
    flooder.stream.close(http2.constants.NGHTTP2_CANCEL);
    expect((await server.closed).code).toBe(1006);
    reader.destroy();
  });

  it("keeps a live client that answers pings open through seven idle periods, echoing", async () => {
    const client = open(origin.url);
    const serverAccepted = origin.next();
    await opened(client);
    const server = await serverAccepted;
    let pings = 0;
    client.driver.on("ping", () => pings++);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(await echo(client, "alive")).toBe("ALIVE");
    expect(server.connection.driver.readyState).toBe(1);
    expect(server.errors).toEqual([]);
    const serverClosed = server.closed;
    client.driver.close();
    expect((await serverClosed).code).toBe(1000);
  });

  it("drops a stream whose handler never calls start() after handshakeTimeout", async () => {
    await origin.stop();
    const server = http2.createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
    const sessions: http2.ServerHttp2Session[] = [];
    server.on("session", (session) => sessions.push(session));
    const accepted = new Promise<{ errors: Error[]; closed: Promise<CloseEvent> }>((resolve) => {
      server.on("stream", (stream, headers) => {
        const connection = acceptStream(stream, headers, { ...LIMITS, start: false });
        const errors: Error[] = [];
        connection.on("error", (error) => errors.push(error));
        resolve({ errors, closed: new Promise((done) => connection.driver.on("close", done)) });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    origin = { ...origin, stop: () => new Promise<void>((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    }) };
    const client = open(`wss://localhost:${port}/echo`);
    const clientClosed = new Promise<CloseEvent>((resolve) => client.driver.on("close", resolve));
    const { errors, closed } = await accepted;
    expect((await closed).code).toBe(1006);
    expect((errors[0] as TimeoutError).option).toBe("handshakeTimeout");
    expect((await clientClosed).code).toBe(1006);
  });
});

describe("connect(url, { http2: true }) with limits", () => {
  it("gives up on a server that never answers the extended CONNECT: TimeoutError, close 1006", async () => {
    const server = http2.createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
    const sessions: http2.ServerHttp2Session[] = [];
    server.on("session", (session) => sessions.push(session));
    server.on("stream", () => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = open(`wss://localhost:${port}/echo`, { handshakeTimeout: 150 });
      const errors: Error[] = [];
      client.on("error", (error) => errors.push(error));
      const started = Date.now();
      const event = await new Promise<CloseEvent>((resolve) => client.driver.on("close", resolve));
      expect(event.code).toBe(1006);
      expect(Date.now() - started).toBeLessThan(150 + SLACK);
      expect((errors[0] as TimeoutError).option).toBe("handshakeTimeout");
    } finally {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("pings a server gone silent, then resets its stream: close 1006", async () => {
    const server = http2.createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
    const sessions: http2.ServerHttp2Session[] = [];
    const received: Uint8Array[] = [];
    server.on("session", (session) => sessions.push(session));
    // A server that answers 200 and then never sends a byte.
    server.on("stream", (stream) => {
      stream.respond({ ":status": 200 });
      stream.on("data", (chunk: Uint8Array) => received.push(chunk));
      stream.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const client = open(`wss://localhost:${port}/echo`, { idleTimeout: 100 });
      const errors: Error[] = [];
      client.on("error", (error) => errors.push(error));
      await opened(client).catch(() => undefined);
      const event = await new Promise<CloseEvent>((resolve) => client.driver.on("close", resolve));
      expect(event.code).toBe(1006);
      expect((errors[0] as TimeoutError).option).toBe("idleTimeout");
      expect(readFrames(Buffer.concat(received)).map((frame) => frame.opcode)).toEqual([0x9]);
    } finally {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("the sweep after the HTTP/2 specs", () => {
  it("watches no WebSocket once every stream has closed", async () => {
    for (let i = 0; i < 50 && watchedCount() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(watchedCount()).toBe(0);
  });
});
