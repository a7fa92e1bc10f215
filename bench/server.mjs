// A WebSocket echo server in a child process: ours on a bare node:net server (Driver.server reads
// the HTTP request itself), ours on node:http's `upgrade` event through the wsdriver/node adapter,
// ours on node:http2 streams (RFC 8441) through the same adapter's acceptStream,
// or ws (WebSocketServer, which also reads the request with node:http). It prints nothing; it sends its port to the parent over IPC and answers
// `heap` requests with its heap use after a full collection (run with --expose-gc).
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import { createServer } from "node:net";
import { gc } from "./common.mjs";
import { WebSocketServer, nodeAdapter, ours } from "./peers.mjs";

const kind = process.argv[2];

/**
 * BENCH_DEFLATE=default|nocontext: the server negotiates permessage-deflate, as shipped (`deflate()`
 * for ours, `perMessageDeflate: true` for ws) or with no context takeover both ways.
 */
const DEFLATE = process.env.BENCH_DEFLATE || null;
const NO_CONTEXT = { serverNoContextTakeover: true, clientNoContextTakeover: true };

/**
 * Our drivers' options: text as its checked UTF-8 bytes (`textData: "bytes"`), as ws hands text to
 * its users, so an echo sends the bytes it got without a decode and an encode.
 */
const OPTIONS = { textData: "bytes" };

/** Echoes every message back as it came (text as text, binary as binary), bytes as they came. */
function echoMessages(driver) {
  driver.on("message", ({ data, binary }) => {
    if (binary) driver.binary(data);
    else driver.text(data);
  });
}

/** Where the bare server's socket listeners find the socket's driver. */
const DRIVER = Symbol("driver");

/**
 * The bare server's socket listeners: one set of functions for every socket (Node calls them with
 * the socket as `this`), as ws does, rather than three closures per connection (168 bytes per idle
 * connection; heap snapshot of this server). The socket is corked while a chunk is
 * parsed, so the echoes of all the frames in one chunk leave in one `writev` (an embedder's choice
 * the sans-I/O design leaves open; ws writes each frame itself). Everything that closes this
 * server's drivers happens in `parse` (the peer's close, a protocol error, a refused handshake in
 * the `connect` handler), so the socket is ended when `parse` leaves the driver closed, rather than
 * from a `close` handler kept by every connection (112 bytes; heap snapshot).
 */
function onSocketData(bytes) {
  const driver = this[DRIVER];
  this.cork();
  driver.parse(bytes);
  this.uncork();
  if (driver.readyState === 3) this.end();
}

function onSocketClose() {
  this[DRIVER].end();
}

/** A reset or a write after the peer left: the `close` that follows ends the driver. */
function onSocketError() {}

/**
 * Ours on a bare node:net server: Driver.server reads the HTTP request itself. The driver's two
 * handlers are closures over one context: the echo, and answering on `connect` (which the driver
 * drops once it has run).
 */
function oursServer() {
  const { Driver } = ours;
  return createServer((socket) => {
    socket.setNoDelay(true);
    const driver = Driver.server(socket, OPTIONS);
    socket[DRIVER] = driver;
    driver.on("connect", () => { if (Driver.isWebSocket(driver.request)) driver.start(); });
    driver.on("message", ({ data, binary }) => {
      if (binary) driver.binary(data);
      else driver.text(data);
    });
    socket.on("data", onSocketData);
    socket.on("close", onSocketClose);
    socket.on("error", onSocketError);
  });
}

/**
 * Ours on node:http's `upgrade` event through the shipped Node adapter (wsdriver/node), as it is.
 * The adapter listens for the socket's errors itself (they end the driver and reach
 * `connection.on("error")`), so the server adds no listener of its own to the socket.
 */
function oursNodeAdapterServer() {
  const server = createHttpServer((_request, response) => response.writeHead(426).end());
  server.on("upgrade", (request, socket, head) => {
    const { driver } = nodeAdapter.acceptUpgrade(request, socket, head, OPTIONS);
    if (DEFLATE !== null) driver.addExtension(ours.deflate(DEFLATE === "nocontext" ? NO_CONTEXT : {}));
    echoMessages(driver);
  });
  return server;
}

const HTTP2_WINDOW = 16 * 1024 * 1024;

/**
 * Ours over HTTP/2 (RFC 8441): a cleartext node:http2 server whose extended CONNECT streams go to
 * the Node adapter's acceptStream. Every session's connection-level window is raised to 16 MiB
 * (Chromium opens its own at 15 MiB), so the 65,535-byte default shared by all the streams of the
 * connection is not what is measured.
 */
function oursHttp2Server() {
  const server = createHttp2Server({ settings: { enableConnectProtocol: true } });
  server.on("session", (session) => session.setLocalWindowSize(HTTP2_WINDOW));
  server.on("stream", (stream, headers) => echoMessages(nodeAdapter.acceptStream(stream, headers, OPTIONS).driver));
  return server;
}

function wsServer() {
  const perMessageDeflate = DEFLATE === null ? false : DEFLATE === "nocontext" ? NO_CONTEXT : true;
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", clientTracking: false, perMessageDeflate });
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on("error", () => {});
  });
  return wss;
}

let server;
if (kind === "wsdriver" || kind === "wsdriver-node" || kind === "wsdriver-http2") {
  server = kind === "wsdriver" ? oursServer() : kind === "wsdriver-node" ? oursNodeAdapterServer() : oursHttp2Server();
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
} else {
  server = wsServer();
  server.on("listening", () => process.send({ port: server.address().port }));
}

process.on("message", (message) => {
  if (message.type === "heap") {
    gc();
    process.send({ heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
  } else if (message.type === "rss") {
    process.send({ rss: process.memoryUsage().rss });
  } else if (message.type === "exit") {
    server.close();
    process.exit(0);
  }
});
