/**
 * The Node adapter over real loopback sockets: upgrades from `node:http` and `node:https` (with the
 * head bytes a fast client sends with its request), raw `net` servers, the client `connect`, failures
 * of the socket, and backpressure when `socket.write` returns false.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { type AddressInfo, type Server, type Socket, connect as netConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import * as tls from "node:tls";
import { join } from "node:path";
import WebSocket, { WebSocketServer } from "ws";
import { acceptSocket, acceptUpgrade, connect, type Connection } from "../../lib/adapters/node";
import type { ServerDriver } from "../../lib/types";
import { readUntil } from "../support/raw-socket";
import { upgradeRequest } from "../support/wire";

const listen = (server: Server | http.Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
const closeServer = (server: Server | http.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** Both ends of one loopback TCP connection: the accepted socket, then the connecting one. */
async function socketPair(): Promise<[Socket, Socket]> {
  const listener = createServer();
  const port = await listen(listener);
  const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
  const client = netConnect(port, "127.0.0.1");
  const server = await accepted;
  // No more connections; the listener's handle goes once these two sockets are closed.
  listener.close();
  return [server, client];
}

/** An echo endpoint on an http(s) server's `upgrade` event, keeping the connections for the test. */
function echoOnUpgrade(server: http.Server, connections: Array<Connection<ServerDriver>>): void {
  server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const connection = acceptUpgrade(request, socket, head, { protocols: ["echo"], allowDrafts: true });
    connections.push(connection);
    const { driver } = connection;
    driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
  });
}

// RFC 6455 §5.3: a masked client frame "Hello" (the example of §5.7 with mask 37 fa 21 3d).
const MASKED_HELLO = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
const UNMASKED_HELLO = Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
const HANDSHAKE = upgradeRequest({ Host: "127.0.0.1" }, "GET /chat HTTP/1.1");

describe("acceptUpgrade on a node:http server", () => {
  const server = http.createServer((_request, response) => response.end("not a websocket\n"));
  const connections: Array<Connection<ServerDriver>> = [];
  let port = 0;
  beforeAll(async () => {
    echoOnUpgrade(server, connections);
    port = await listen(server);
  });
  afterAll(async () => {
    for (const { socket } of connections) socket.destroy();
    await closeServer(server);
  });

  it("answers the handshake and echoes with the ws client, closing with its code", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ["echo"]);
    const messages: string[] = [];
    ws.on("message", (data: Buffer) => messages.push(data.toString()));
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    expect(ws.protocol).toBe("echo");
    const echoed = new Promise((resolve) => ws.once("message", resolve));
    ws.send("héllo ☃");
    await echoed;
    expect(messages).toEqual(["héllo ☃"]);
    const serverClose = new Promise<[number, string]>((resolve) =>
      connections[connections.length - 1].driver.on("close", ({ code, reason }) => resolve([code, reason])));
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.close(4000, "bye");
    expect(await serverClose).toEqual([4000, "bye"]);
    expect(await closed).toBe(4000);
  });

  it("passes on the head bytes: a frame sent in the same packet as the request is read", async () => {
    const socket = netConnect(port, "127.0.0.1");
    try {
      await new Promise((resolve) => socket.once("connect", resolve));
      // §4.1 lets a client send frames right after its handshake; Node hands them over as `head`.
      socket.write(Buffer.concat([Buffer.from(HANDSHAKE, "latin1"), MASKED_HELLO]));
      const reply = await readUntil(socket, (bytes) => bytes.includes(UNMASKED_HELLO));
      const text = reply.toString("latin1");
      expect(text.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
      expect(text).toContain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
      expect(reply.subarray(reply.length - UNMASKED_HELLO.length)).toEqual(UNMASKED_HELLO);
    } finally {
      socket.destroy();
    }
  });

  it("ends the driver with 1006 when the client's socket drops without a close frame", async () => {
    const socket = netConnect(port, "127.0.0.1");
    try {
      await new Promise((resolve) => socket.once("connect", resolve));
      const accepted = new Promise<Connection<ServerDriver>>((resolve) => server.once("upgrade", () =>
        setImmediate(() => resolve(connections[connections.length - 1]))));
      socket.write(HANDSHAKE);
      await readUntil(socket, (bytes) => bytes.includes("\r\n\r\n"));
      const connection = await accepted;
      const closed = new Promise<number>((resolve) => connection.driver.on("close", ({ code }) => resolve(code)));
      socket.destroy();
      expect(await closed).toBe(1006);
      expect(connection.driver.readyState).toBe(3);
    } finally {
      socket.destroy();
    }
  });
});

describe("acceptUpgrade on a node:https server", () => {
  let dir = "";
  let server: https.Server;
  const connections: Array<Connection<ServerDriver>> = [];
  let port = 0;
  beforeAll(async () => {
    // A throwaway self-signed certificate for 127.0.0.1.
    dir = mkdtempSync(join(tmpdir(), "wsdriver-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    server = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) });
    echoOnUpgrade(server, connections);
    port = await listen(server);
  });
  afterAll(async () => {
    for (const { socket } of connections) socket.destroy();
    await closeServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it("echoes over TLS with our own client (connect with wss:)", async () => {
    const ca = readFileSync(join(dir, "cert.pem"));
    const client = connect(`wss://127.0.0.1:${port}/secure`, { protocols: ["echo"], tls: { ca } });
    try {
      const got = new Promise<string | Uint8Array>((resolve) => client.driver.on("message", ({ data }) => resolve(data)));
      client.driver.binary(new Uint8Array([0, 1, 2, 253, 254, 255]));
      expect(Array.from(await got as Uint8Array)).toEqual([0, 1, 2, 253, 254, 255]);
      expect(client.driver.protocol).toBe("echo");
      expect(connections[connections.length - 1].driver.request?.url).toBe("/secure");
      // RFC 6455 §5.5.1: the server echoes the status code; `close` reports what the peer sent.
      const closed = new Promise<number>((resolve) => client.driver.on("close", ({ code }) => resolve(code)));
      client.driver.close("done", 1000);
      expect(await closed).toBe(1000);
    } finally {
      client.destroy();
    }
  });
  it("tells the drafts their location is wss: when the socket is TLS", async () => {
    const ca = readFileSync(join(dir, "cert.pem"));
    const socket = tls.connect({ host: "127.0.0.1", port, ca });
    try {
      await new Promise((resolve, reject) => { socket.once("secureConnect", resolve); socket.once("error", reject); });
      socket.write(`GET /old HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n` +
        "Origin: https://example.com\r\n\r\n");
      let response = "";
      await new Promise<void>((resolve) => socket.on("data", (chunk: Buffer) => {
        response += chunk.toString("latin1");
        if (response.includes("\r\n\r\n")) resolve();
      }));
      expect(response).toMatch(/^HTTP\/1\.1 101 /);
      expect(response).toContain(`WebSocket-Location: wss://127.0.0.1:${port}/old\r\n`);
    } finally {
      socket.destroy();
    }
  });
});

describe("acceptSocket on a raw net server", () => {
  const connections: Array<Connection<ServerDriver>> = [];
  const server = createServer((socket) => {
    const connection = acceptSocket(socket);
    connections.push(connection);
    connection.driver.on("connect", () => connection.driver.start());
    connection.driver.on("message", ({ data }) => connection.driver.text(`echo: ${String(data)}`));
  });
  let port = 0;
  beforeAll(async () => { port = await listen(server); });
  afterAll(async () => {
    for (const { socket } of connections) socket.destroy();
    await closeServer(server);
  });

  it("reads the request itself and echoes to our client", async () => {
    const client = connect(`ws://127.0.0.1:${port}/raw`);
    try {
      const got = new Promise<string | Uint8Array>((resolve) => client.driver.on("message", ({ data }) => resolve(data)));
      client.driver.text("ping me");
      expect(await got).toBe("echo: ping me");
      expect(connections[0].driver.request?.url).toBe("/raw");
    } finally {
      client.destroy();
    }
  });

  // Nagle's algorithm would hold small frames back for an ACK, as acceptUpgrade and connect avoid.
  it("turns Nagle's algorithm off on the socket it is given", async () => {
    const [server, client] = await socketPair();
    const setNoDelay = jest.spyOn(server, "setNoDelay");
    const connection = acceptSocket(server);
    try {
      expect(setNoDelay.mock.calls).toEqual([[true]]);
    } finally {
      connection.destroy();
      client.destroy();
    }
  });

  it("answers a malformed request with 400 and ends the socket", async () => {
    const socket = netConnect(port, "127.0.0.1");
    try {
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
      // RFC 9112 §5.1: no whitespace between a field name and its colon.
      socket.write("GET /raw HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n");
      await ended;
      expect(Buffer.concat(received).toString("latin1")).toMatch(/^HTTP\/1\.1 400 /);
    } finally {
      socket.destroy();
    }
  });

  it("ends the socket once the closing handshake is done, with every close handler removed", async () => {
    const socket = netConnect(port, "127.0.0.1");
    try {
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      socket.write(HANDSHAKE);
      await readUntil(socket, (bytes) => bytes.includes("\r\n\r\n"));
      const connection = connections[connections.length - 1];
      connection.driver.off("close");
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
      // A masked close frame, 1000 (RFC 6455 §5.5.1), mask 37 fa 21 3d.
      socket.write(Buffer.from([0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x03 ^ 0x37, 0xe8 ^ 0xfa]));
      await ended;
      // The server's answer: an unmasked close frame echoing 1000.
      expect([...Buffer.concat(received)]).toEqual([0x88, 0x02, 0x03, 0xe8]);
      expect(connection.driver.readyState).toBe(3);
    } finally {
      socket.destroy();
    }
  });
});

describe("connect: our client against the ws server", () => {
  let wss: WebSocketServer;
  let port = 0;
  beforeAll(async () => {
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => wss.once("listening", resolve));
    port = (wss.address() as AddressInfo).port;
    wss.on("connection", (ws) => {
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (!isBinary && data.toString() === "close please") ws.close(4321, "as you wish");
        else ws.send(data, { binary: isBinary });
      });
    });
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it("queues messages sent before open and hears the server's close code and reason", async () => {
    const client = connect(`ws://127.0.0.1:${port}/`);
    try {
      const messages: Array<string | Uint8Array> = [];
      client.driver.on("message", ({ data }) => messages.push(data));
      client.driver.text("first");
      client.driver.text("second");
      const closed = new Promise<[number, string]>((resolve) => client.driver.on("close", ({ code, reason }) => resolve([code, reason])));
      client.driver.text("close please");
      expect(await closed).toEqual([4321, "as you wish"]);
      expect(messages).toEqual(["first", "second"]);
    } finally {
      client.destroy();
    }
  });

  it("reports a refused connection as an error, then close 1006", async () => {
    // A port that was just free: listen, note it, close, then connect to it.
    const probe = createServer();
    const freePort = await listen(probe);
    await closeServer(probe);
    const client = connect(`ws://127.0.0.1:${freePort}/`);
    const error = new Promise<Error>((resolve) => client.on("error", resolve));
    const closed = new Promise<number>((resolve) => client.driver.on("close", ({ code }) => resolve(code)));
    expect((await error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(await closed).toBe(1006);
  });

  it("refuses a URL that is not ws: or wss:", () => {
    expect(() => connect("http://127.0.0.1/")).toThrow(TypeError);
  });

  // RFC 6455 §3: an absent port means 80 or 443; port 0 is no port at all, not the default.
  it("refuses port 0 rather than connecting to the default port", () => {
    expect(() => connect("ws://127.0.0.1:0/")).toThrow(/port 0/);
  });
});

describe("backpressure: socket.write returning false is exposed", () => {
  const connections: Array<Connection<ServerDriver>> = [];
  const server = http.createServer();
  server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
    connections.push(acceptUpgrade(request, socket, head));
  });
  let port = 0;
  beforeAll(async () => { port = await listen(server); });
  afterAll(async () => {
    for (const { socket } of connections) socket.destroy();
    await closeServer(server);
  });

  it("sets needsDrain and bufferedAmount while a paused peer reads nothing, then drains when it reads", async () => {
    const socket = netConnect(port, "127.0.0.1");
    try {
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(HANDSHAKE);
      await readUntil(socket, (bytes) => bytes.includes("\r\n\r\n"));
      socket.pause();
      const connection = connections[connections.length - 1];
      const chunk = new Uint8Array(1 << 20);
      let sent = 0;
      // Send until the socket says its buffer is full (bounded, so a broken adapter fails instead of hanging).
      while (!connection.needsDrain && sent < 512) {
        connection.driver.binary(chunk);
        sent++;
      }
      expect(connection.needsDrain).toBe(true);
      expect(connection.bufferedAmount).toBeGreaterThan(0);
      const drainEvent = new Promise<void>((resolve) => connection.on("drain", () => resolve()));
      const drained = connection.drained();
      // The peer starts reading: the kernel buffers empty and the socket drains.
      let received = 0;
      socket.on("data", (bytes: Buffer) => { received += bytes.length; });
      socket.resume();
      await drained;
      await drainEvent;
      expect(connection.needsDrain).toBe(false);
      expect(received).toBeGreaterThan(0);
      await expect(connection.drained()).resolves.toBeUndefined();
    } finally {
      socket.destroy();
    }
  });
});
