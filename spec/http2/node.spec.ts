/**
 * WebSockets over HTTP/2 (RFC 8441) with the Node adapter, over real loopback TLS: a `node:http2`
 * server with `acceptStream`, clients from `connect(url, { http2: true })` sharing one session, and
 * the failures: malformed requests, a server without SETTINGS_ENABLE_CONNECT_PROTOCOL, resets,
 * a lost session, a flood of streams, and flow control.
 */
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { acceptStream, connect, type StreamConnection } from "../../lib/adapters/node";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { CloseEvent } from "../../lib/events";
import type { Http2ClientDriver, ServerDriver } from "../../lib/types";
import { clientFrame } from "../support/wire";

const TLS = join(__dirname, "../adapters/runtimes/tls");
const key = readFileSync(join(TLS, "localhost-key.pem"));
const cert = readFileSync(join(TLS, "localhost-cert.pem"));
const ca = readFileSync(join(TLS, "ca-cert.pem"));

interface Origin {
  server: http2.Http2SecureServer;
  url: string;
  port: number;
  /** The server's side of every WebSocket accepted, in order. */
  accepted: Array<StreamConnection<ServerDriver>>;
  /** The `error` events of the server's drivers. */
  errors: Error[];
  /** HTTP/2 sessions (TLS connections) the server has seen. */
  sessions: http2.ServerHttp2Session[];
  stop(): Promise<void>;
}

/** An echo server over HTTP/2 on loopback: text upper-cased back, binary as it came, with permessage-deflate. */
async function startOrigin(settings: http2.Settings = { enableConnectProtocol: true }): Promise<Origin> {
  const server = http2.createSecureServer({ key, cert, settings });
  const accepted: Array<StreamConnection<ServerDriver>> = [];
  const sessions: http2.ServerHttp2Session[] = [];
  const errors: Error[] = [];
  server.on("session", (session) => sessions.push(session));
  server.on("stream", (stream, headers) => {
    const connection = acceptStream(stream, headers, { protocols: ["echo"] });
    accepted.push(connection);
    const { driver } = connection;
    driver.addExtension(deflate());
    driver.on("error", (error) => errors.push(error));
    driver.on("message", ({ data }) => {
      if (typeof data !== "string") driver.binary(data);
      else if (data.startsWith("close ")) driver.close("server says bye", Number(data.slice(6)));
      else driver.text(data.toUpperCase());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server, accepted, errors, sessions, port, url: `wss://localhost:${port}/echo`,
    stop: () => new Promise<void>((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    }),
  };
}

function open(url: string, options = {}): StreamConnection<Http2ClientDriver> {
  const connection = connect(url, { http2: true, tls: { ca }, protocols: ["echo"], ...options });
  connection.driver.addExtension(deflate());
  return connection;
}

const opened = (connection: StreamConnection<Http2ClientDriver>): Promise<void> =>
  new Promise((resolve, reject) => {
    connection.driver.on("open", () => resolve());
    connection.driver.on("close", (event) => reject(new Error(`closed before open: ${JSON.stringify(event)}`)));
  });

const closed = (driver: { on(type: "close", handler: (event: CloseEvent) => void): void }): Promise<CloseEvent> =>
  new Promise((resolve) => driver.on("close", resolve));

const nextMessage = (driver: Http2ClientDriver): Promise<string | Uint8Array> =>
  new Promise((resolve) => {
    const handler = ({ data }: { data: string | Uint8Array }) => {
      driver.off("message", handler);
      resolve(data);
    };
    driver.on("message", handler);
  });

/** A raw node:http2 request on its own session: the response's headers and body. */
async function rawRequest(origin: Origin, headers: http2.OutgoingHttpHeaders): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  const session = http2.connect(`https://localhost:${origin.port}`, { ca });
  await new Promise<void>((resolve) => session.once("remoteSettings", () => resolve()));
  try {
    const stream = session.request(headers, { endStream: false });
    const response = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      stream.once("response", resolve);
      stream.once("error", reject);
    });
    let body = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (body += chunk));
    await new Promise<void>((resolve) => stream.once("end", () => resolve()));
    return { status: Number(response[":status"]), headers: response, body };
  } finally {
    session.close();
  }
}

describe("acceptStream and connect(url, { http2: true }) over loopback TLS", () => {
  let origin: Origin;
  beforeEach(async () => (origin = await startOrigin()));
  afterEach(() => origin.stop());

  it("opens with 200, the subprotocol and permessage-deflate, and echoes text and binary", async () => {
    const client = open(origin.url);
    await opened(client);
    expect(client.driver.statusCode).toBe(200);
    expect(client.driver.protocol).toBe("echo");
    expect(client.driver.headers["sec-websocket-extensions"]).toBe("permessage-deflate");
    expect(client.driver.version).toBe("hybi-13");
    expect(origin.accepted[0].driver.request).toMatchObject({ method: "CONNECT", url: "/echo", httpVersion: "2.0" });
    client.driver.text("hello ☃ ".repeat(1000));
    expect(await nextMessage(client.driver)).toBe("HELLO ☃ ".repeat(1000));
    const binary = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
    client.driver.binary(binary);
    expect(Buffer.from(await nextMessage(client.driver) as Uint8Array).equals(Buffer.from(binary))).toBe(true);
  });

  it("carries the close code and reason both ways, and ends only its own stream", async () => {
    const [a, b] = [open(origin.url), open(origin.url)];
    await Promise.all([opened(a), opened(b)]);
    expect(a.session).toBe(b.session);
    const serverA = origin.accepted.find((c) => c.stream === origin.accepted[0].stream)!;
    const serverClosed = closed(serverA.driver);
    a.driver.close("client says bye", 4000);
    expect(await closed(a.driver)).toEqual({ code: 4000, reason: "" });
    expect(await serverClosed).toEqual({ code: 4000, reason: "client says bye" });
    // A server-initiated close with its own code, on the other stream of the same session.
    b.driver.text("still here");
    expect(await nextMessage(b.driver)).toBe("STILL HERE");
    const bClosed = closed(b.driver);
    const serverBClosed = closed(origin.accepted[1].driver);
    b.driver.text("close 1001");
    expect(await bClosed).toEqual({ code: 1001, reason: "server says bye" });
    // The client's answering close frame reached the server before its stream ended.
    expect(await serverBClosed).toEqual({ code: 1001, reason: "" });
    expect(origin.sessions).toHaveLength(1);
  });

  it("answers on the next tick unless start: false, then when the embedder calls start()", async () => {
    origin.server.removeAllListeners("stream");
    origin.server.on("stream", (stream, headers) => {
      const connection = acceptStream(stream, headers, { start: false });
      origin.accepted.push(connection);
      setTimeout(() => {
        connection.driver.setHeader("x-checked", "yes");
        connection.driver.start();
      }, 20);
    });
    const client = open(origin.url, { protocols: [] });
    await opened(client);
    expect(client.driver.headers["x-checked"]).toBe("yes");
    client.driver.close();
    await closed(client.driver);
  });

  it("ten clients to one origin share one HTTP/2 session", async () => {
    const clients = Array.from({ length: 10 }, () => open(origin.url));
    await Promise.all(clients.map(opened));
    expect(new Set(clients.map((c) => c.session)).size).toBe(1);
    expect(origin.sessions).toHaveLength(1);
    expect(new Set(origin.accepted.map((c) => c.stream!.id)).size).toBe(10);
    const replies = await Promise.all(clients.map((c, i) => {
      const reply = nextMessage(c.driver);
      c.driver.text(`client ${i}`);
      return reply;
    }));
    expect(replies).toEqual(clients.map((_, i) => `CLIENT ${i}`));
    const session = clients[0].session!;
    const all = await Promise.all(clients.map((c) => {
      const done = closed(c.driver);
      c.driver.close();
      return done;
    }));
    expect(all.every((event) => event.code === 1000)).toBe(true);
    // The last WebSocket to close closes the shared session.
    await new Promise<void>((resolve) => (session.closed ? resolve() : session.once("close", () => resolve())));
    expect(session.closed).toBe(true);
  });

  it("a stream reset mid-message is 1006 on that WebSocket alone; the others on the session carry on", async () => {
    const [a, b] = [open(origin.url), open(origin.url)];
    await Promise.all([opened(a), opened(b)]);
    const serverA = origin.accepted[0];
    const serverB = origin.accepted[1];
    const serverAClosed = closed(serverA.driver);
    // Half a frame (a 100-byte masked text frame, 10 bytes of it), then RST_STREAM CANCEL.
    a.stream!.write(clientFrame({ opcode: 1, payload: "x".repeat(100) }).subarray(0, 16));
    const aClosed = closed(a.driver);
    a.destroy();
    expect(await aClosed).toEqual({ code: 1006, reason: "" });
    expect(await serverAClosed).toEqual({ code: 1006, reason: "" });
    expect(origin.errors).toEqual([]);
    b.driver.text("after the reset");
    expect(await nextMessage(b.driver)).toBe("AFTER THE RESET");
    expect(serverB.driver.readyState).toBe(1);

    // The server resets a stream: its client closes 1006, the other does not notice.
    const c = open(origin.url);
    await opened(c);
    const cClosed = closed(c.driver);
    origin.accepted[2].destroy();
    expect(await cClosed).toEqual({ code: 1006, reason: "" });
    b.driver.text("after the second reset");
    expect(await nextMessage(b.driver)).toBe("AFTER THE SECOND RESET");
  });

  it("a lost session closes every WebSocket on it with 1006", async () => {
    const clients = Array.from({ length: 4 }, () => open(origin.url));
    await Promise.all(clients.map(opened));
    const events = Promise.all([...clients.map((c) => closed(c.driver)), ...origin.accepted.map((c) => closed(c.driver))]);
    origin.sessions[0].destroy();
    expect(await events).toEqual(Array(8).fill({ code: 1006, reason: "" }));
    // A new WebSocket to the origin opens a new session.
    const next = open(origin.url);
    await opened(next);
    expect(next.session).not.toBe(clients[0].session);
    next.driver.close();
    await closed(next.driver);
  });

  it("flow control: a reader that stops makes the sender wait (needsDrain, drained()), and nothing is lost", async () => {
    const client = open(origin.url, { protocols: [] });
    await opened(client);
    const server = origin.accepted[0];
    client.stream!.pause();
    const chunk = new Uint8Array(256 * 1024).fill(7);
    let sent = 0;
    // Bounded: the stream's window (64 KiB) and buffer fill long before 64 MiB.
    while (!server.needsDrain && sent < 256) {
      server.driver.binary(chunk);
      sent++;
    }
    expect(server.needsDrain).toBe(true);
    expect(server.bufferedAmount).toBeGreaterThan(0);
    let received = 0;
    const all = new Promise<void>((resolve) => client.driver.on("message", ({ data }) => {
      expect((data as Uint8Array).length).toBe(chunk.length);
      if (++received === sent) resolve();
    }));
    const drained = server.drained();
    client.stream!.resume();
    await drained;
    expect(server.needsDrain).toBe(false);
    await all;
    expect(received).toBe(sent);
    client.driver.close();
    await closed(client.driver);
  });

  it("a flood of streams on one session: every WebSocket echoes and closes cleanly past the server's stream limit", async () => {
    await origin.stop();
    origin = await startOrigin({ enableConnectProtocol: true, maxConcurrentStreams: 16 });
    const clients = Array.from({ length: 100 }, () => open(origin.url, { protocols: [] }));
    const results = await Promise.all(clients.map(async (c, i) => {
      const reply = nextMessage(c.driver);
      c.driver.text(`m${i}`); // queued until open
      const message = await reply;
      const done = closed(c.driver);
      c.driver.close();
      return [message, (await done).code];
    }));
    expect(results).toEqual(clients.map((_, i) => [`M${i}`, 1000]));
    expect(origin.sessions).toHaveLength(1);
  }, 30_000);

  it("a flood of malformed streams on the session of open WebSockets: each gets its 400, the WebSockets lose nothing", async () => {
    const clients = Array.from({ length: 5 }, () => open(origin.url, { protocols: [] }));
    await Promise.all(clients.map(opened));
    const session = clients[0].session as http2.ClientHttp2Session;
    // 200 extended CONNECTs with version 8 on the same connection, while every WebSocket echoes 200 messages.
    const refusals = Promise.all(Array.from({ length: 200 }, () => new Promise<number>((resolve, reject) => {
      const stream = session.request({ ":method": "CONNECT", ":protocol": "websocket", ":path": "/echo", "sec-websocket-version": "8" }, { endStream: false });
      stream.on("response", (headers) => resolve(Number(headers[":status"])));
      stream.on("error", reject);
      stream.resume();
    })));
    const echoes = Promise.all(clients.map((client, c) => new Promise<string[]>((resolve) => {
      const got: string[] = [];
      client.driver.on("message", ({ data }) => {
        got.push(String(data));
        if (got.length === 200) resolve(got);
      });
      for (let i = 0; i < 200; i++) client.driver.text(`c${c} m${i}`);
    })));
    expect(await refusals).toEqual(Array(200).fill(400));
    // Refused, the server's streams do not stay half-open waiting for the client's END_STREAM.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = origin.accepted.filter((connection) => connection.driver.readyState === 3 && connection.driver.protocol === "" && connection.stream!.closed);
    expect(refused).toHaveLength(200);
    expect(await echoes).toEqual(clients.map((_, c) => Array.from({ length: 200 }, (__, i) => `C${c} M${i}`)));
    expect(origin.errors).toHaveLength(200);
    expect(new Set(origin.errors.map((error) => error.message))).toEqual(new Set(["Unsupported sec-websocket-version: 8"]));
    const codes = await Promise.all(clients.map((client) => {
      const done = closed(client.driver);
      client.driver.close();
      return done;
    }));
    expect(codes.map((event) => event.code)).toEqual(Array(5).fill(1000));
  }, 30_000);
});

describe("ws: URLs: cleartext HTTP/2 with prior knowledge", () => {
  it("echoes through a node:http2 createServer (h2c)", async () => {
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    server.on("stream", (stream, headers) => {
      const { driver } = acceptStream(stream, headers);
      driver.on("message", ({ data }) => driver.text(`h2c ${String(data)}`));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/plain`, { http2: true });
      await opened(client);
      expect((client.session as unknown as { encrypted: boolean }).encrypted).toBe(false);
      client.driver.text("hi");
      expect(await nextMessage(client.driver)).toBe("h2c hi");
      client.driver.close();
      expect(await closed(client.driver)).toEqual({ code: 1000, reason: "" });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("bad input over HTTP/2: each a clear status, the session unharmed", () => {
  let origin: Origin;
  beforeAll(async () => (origin = await startOrigin()));
  afterAll(() => origin.stop());

  const good: http2.OutgoingHttpHeaders = {
    ":method": "CONNECT", ":protocol": "websocket", ":scheme": "https", ":path": "/echo", "sec-websocket-version": "13",
  };

  it.each([
    ["a GET", { ":method": "GET", ":path": "/echo" }, /:method CONNECT, not GET/],
    ["a plain CONNECT (no :protocol)", { ":method": "CONNECT", ":authority": "localhost:1" }, /Missing :protocol/],
    ["another :protocol", { ...good, ":protocol": "webtransport" }, /:protocol must be 'websocket', not 'webtransport'/],
    ["no version", { ...good, "sec-websocket-version": undefined }, /Missing sec-websocket-version/],
    ["version 8", { ...good, "sec-websocket-version": "8" }, /Unsupported sec-websocket-version: 8/],
    ["a sec-websocket-key", { ...good, "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" }, /sec-websocket-key is not used over HTTP\/2/],
  ])("%s is refused with 400 and a body saying why", async (_name, headers, message) => {
    const response = await rawRequest(origin, headers);
    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(response.body).toMatch(message);
    // The driver's error event says the same.
    expect(origin.accepted[origin.accepted.length - 1].driver.readyState).toBe(3);
    expect(origin.errors[origin.errors.length - 1].message).toBe(response.body);
  });

  it("a client whose options the driver refuses throws before any session is opened", async () => {
    const before = origin.sessions.length;
    expect(() => connect(`wss://localhost:${origin.port}/`, { http2: true, protocols: ["bad name"] }))
      .toThrow("Invalid subprotocol name: bad name");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(origin.sessions).toHaveLength(before);
  });
});

describe("a server without SETTINGS_ENABLE_CONNECT_PROTOCOL", () => {
  it("fails each waiting WebSocket with an error that names the setting, and close 1006; no stream is sent", async () => {
    const origin = await startOrigin({});
    let streams = 0;
    origin.server.removeAllListeners("stream");
    origin.server.on("stream", () => streams++);
    try {
      const clients = [open(origin.url), open(origin.url)];
      const session = clients[0].session!;
      expect(clients[1].session).toBe(session);
      const outcomes = await Promise.all(clients.map((c) => new Promise<[string, CloseEvent]>((resolve) => {
        let message = "";
        c.on("error", (error) => (message = error.message));
        c.driver.on("close", (event) => resolve([message, event]));
      })));
      for (const [message, event] of outcomes) {
        expect(message).toBe(`https://localhost:${origin.port} does not offer WebSockets over HTTP/2: its SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)`);
        expect(event).toEqual({ code: 1006, reason: "" });
      }
      expect(streams).toBe(0);
      // Given up on, the session is closed, and no longer offered to the next WebSocket.
      expect(session.closed || session.destroyed).toBe(true);
      expect(clients[0].session).toBeNull();
    } finally {
      await origin.stop();
    }
  });

  it("a TLS server without HTTP/2 at all refuses the session in its ALPN: an error and 1006", async () => {
    const server = https.createServer({ key, cert }, (_request, response) => response.end("HTTP/1.1 only\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = open(`wss://localhost:${(server.address() as AddressInfo).port}/`);
      const errors: Array<Error & { code?: string }> = [];
      client.on("error", (error) => errors.push(error));
      expect(await closed(client.driver)).toEqual({ code: 1006, reason: "" });
      expect(errors[0]?.code).toBe("ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a refused TCP connection is an error and 1006", async () => {
    const origin = await startOrigin();
    const port = origin.port;
    await origin.stop();
    const client = open(`wss://localhost:${port}/`);
    const errors: Error[] = [];
    client.on("error", (error) => errors.push(error));
    expect(await closed(client.driver)).toEqual({ code: 1006, reason: "" });
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/);
  });
});
