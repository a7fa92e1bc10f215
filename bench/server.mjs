// A WebSocket echo server in a child process: ours on a bare node:net server (Driver.server reads
// the HTTP request itself), ours on node:http's `upgrade` event (Driver.fromRequest), or ws
// (WebSocketServer, which also reads the request with node:http). It prints nothing; it sends its port to the parent over IPC and answers
// `heap` requests with its heap use after a full collection (run with --expose-gc).
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { gc } from "./common.mjs";
import { WebSocketServer, ours } from "./peers.mjs";

const kind = process.argv[2];

function serve(driver, socket) {
  socket.setNoDelay(true);
  driver.on("message", ({ data }) => {
    if (typeof data === "string") driver.text(data);
    else driver.binary(data);
  });
  driver.on("close", () => socket.end());
  socket.on("data", (bytes) => driver.parse(bytes));
  socket.on("close", () => driver.end());
  socket.on("error", () => {});
}

function oursServer() {
  const { Driver } = ours;
  return createServer((socket) => {
    const driver = Driver.server(socket);
    driver.on("connect", () => { if (Driver.isWebSocket(driver.request)) driver.start(); });
    serve(driver, socket);
  });
}

function oursHttpServer() {
  const { Driver } = ours;
  const server = createHttpServer((_request, response) => response.writeHead(426).end());
  server.on("upgrade", (request, socket, head) => {
    const driver = Driver.fromRequest(request, socket);
    serve(driver, socket);
    driver.start();
    if (head.length > 0) driver.parse(head);
  });
  return server;
}

function wsServer() {
  const wss = new WebSocketServer({ noServer: false, port: 0, host: "127.0.0.1", clientTracking: false });
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on("error", () => {});
  });
  return wss;
}

let server;
if (kind === "wsdriver" || kind === "wsdriver-http") {
  server = kind === "wsdriver" ? oursServer() : oursHttpServer();
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
} else {
  server = wsServer();
  server.on("listening", () => process.send({ port: server.address().port }));
}

process.on("message", (message) => {
  if (message.type === "heap") {
    gc();
    process.send({ heap: process.memoryUsage().heapUsed });
  } else if (message.type === "exit") {
    server.close();
    process.exit(0);
  }
});
