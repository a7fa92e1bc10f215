// The wsdriver demo: `npm start` (after `npm run build`, which `prestart` runs).
//
// One Node process built from `node:http` and wsdriver only: it serves the chat page in
// demo/public/ and a WebSocket endpoint at /chat that broadcasts every message to every connected
// page (the sender included, so a lone page is an echo), compressed with permessage-deflate
// (RFC 7692) when the browser offers it, as every current one does. PORT picks the port (default 8080; 0 for
// any free one), HOST the address (default 127.0.0.1), IDLE_TIMEOUT how long a page may stay
// silent before it is pinged, and dropped after as long again (default 30000 ms). Ctrl-C closes
// every connection with 1001 (RFC 6455 §7.4.1, "going away") before exiting.
//
// Only pages served by this demo may open a socket (the `origins` option, docs/security.md): a page
// on another site would otherwise join the chat from the visitor's browser. ORIGINS (a
// comma-separated list) replaces the demo's own addresses; clients that are not browsers send no
// Origin and are let in.
//
// With TLS_CERT and TLS_KEY (paths to a PEM certificate and its key, such as a local one made as
// docs/http2.md shows) it serves HTTPS from `node:http2` instead: HTTP/2 for the browsers, which
// then open /chat as an extended CONNECT stream on the page's own connection (RFC 8441), and
// HTTP/1.1 with its upgrade for clients that do not speak HTTP/2.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createSecureServer } from "node:http2";
import { networkInterfaces } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Driver, deflate } from "../dist/esm/index.js";
import { acceptStream, acceptUpgrade } from "../dist/esm/adapters/node.js";

const PUBLIC = fileURLToPath(new URL("./public/", import.meta.url));
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? "127.0.0.1";
const secure = Boolean(process.env.TLS_CERT && process.env.TLS_KEY);

/**
 * The origins of this demo's own page, known once it listens (PORT may be 0): the address it
 * listens on, and for a loopback or wildcard address the names a browser may reach it by. A page
 * from anywhere else is refused with 403.
 */
const origins = [];

function ownOrigins(address, listeningPort) {
  const hosts = new Set([address]);
  if (["127.0.0.1", "::1", "localhost", "0.0.0.0", "::"].includes(host)) for (const name of ["localhost", "127.0.0.1", "::1"]) hosts.add(name);
  if (host === "0.0.0.0" || host === "::") {
    for (const addresses of Object.values(networkInterfaces())) for (const { address: own } of addresses ?? []) hosts.add(own);
  }
  hosts.delete("0.0.0.0");
  hosts.delete("::");
  const scheme = secure ? "https" : "http";
  return [...hosts].map((name) => `${scheme}://${name.includes(":") ? `[${name.replace(/%.*$/, "")}]` : name}:${listeningPort}`);
}

/**
 * The adapter's limits: a page must finish its handshake within 10 s; one silent for IDLE_TIMEOUT
 * is pinged and dropped if still silent after as long again (a laptop that went to sleep); one that
 * does not answer our close within 5 s is dropped; one that lets more than 1 MiB of broadcasts pile
 * up for it (it reads slowly or not at all) is closed with 1008. A page that floods messages without
 * reading the broadcasts back is not read while it is owed more than the socket's high-water mark.
 */
const LIMITS = {
  handshakeTimeout: 10_000,
  idleTimeout: Number(process.env.IDLE_TIMEOUT ?? 30_000),
  closeTimeout: 5_000,
  maxBufferedAmount: 1024 * 1024,
};

/** Every open connection: its driver and a display name. */
const peers = new Map();
let nextId = 1;

/**
 * The path of a request's target, or null for one the URL parser refuses: Node's HTTP parser takes
 * absolute-form targets such as ws://h:99999/chat, on which `new URL` throws.
 */
function pathOf(request) {
  try {
    return new URL(request.url ?? "/", "http://localhost").pathname;
  } catch {
    return null;
  }
}

async function serveFile(request, response) {
  const path = pathOf(request);
  if (path === null) return notFound(response);
  const file = path === "/" ? "index.html" : path.slice(1);
  // Only the files that are there, by name: no directories, no "..".
  if (!/^[a-z0-9-]+\.(html|js|css)$/.test(file)) return notFound(response);
  try {
    const body = await readFile(join(PUBLIC, file));
    response.writeHead(200, { "Content-Type": TYPES[extname(file)], "Content-Length": body.length, "Cache-Control": "no-cache" });
    response.end(body);
  } catch {
    notFound(response);
  }
}

// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) tells browsers they may open WebSockets as streams.
const server = secure
  ? createSecureServer({
    cert: readFileSync(process.env.TLS_CERT),
    key: readFileSync(process.env.TLS_KEY),
    allowHTTP1: true,
    settings: { enableConnectProtocol: true },
  }, serveFile)
  : createServer(serveFile);

function notFound(response) {
  response.writeHead(404, { "Content-Type": "text/plain" });
  response.end("Not found\n");
}

function broadcast(event) {
  const text = JSON.stringify(event);
  // A client that reads nothing (say one that floods messages and never reads the broadcasts back)
  // would have every broadcast held for it in this process, without bound: a page more than
  // LIMITS.maxBufferedAmount behind, over HTTP/1.1 or HTTP/2, is closed by the adapter (1008).
  for (const peer of peers.values()) peer.driver.text(text);
}

server.on("upgrade", (request, socket, head) => {
  if (pathOf(request) !== "/chat" || !Driver.isWebSocket(request)) {
    // Node has taken its own listeners off an upgraded socket: without one, a client that resets
    // the connection (before or after the 404) raises an 'error' nobody handles and ends the process.
    socket.on("error", () => socket.destroy());
    socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  addPeer(acceptUpgrade(request, socket, head, { maxLength: 64 * 1024, origins, ...LIMITS }));
});

// HTTP/2: with a request handler, node:http2 hands CONNECT streams to `connect` listeners.
server.on("connect", (request, response) => {
  if (request.httpVersion !== "2.0") {
    // An HTTP/1.1 CONNECT (a proxy request) comes with the socket, as on a node:http server.
    response.on("error", () => response.destroy());
    response.end("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  if (pathOf(request) !== "/chat") {
    response.writeHead(404, { "Content-Type": "text/plain" });
    response.end("Not found\n");
    return;
  }
  // acceptStream checks the extended CONNECT itself and answers 400 with the reason if it is not one.
  addPeer(acceptStream(request.stream, request.headers, { maxLength: 64 * 1024, origins, ...LIMITS }));
});

/** A new chat member on an HTTP/1.1 upgrade or an HTTP/2 stream: the same driver either way. */
function addPeer(connection) {
  const { driver } = connection;
  // The handshake is answered on the next tick, so the extension can still be added here.
  driver.addExtension(deflate());
  const id = nextId++;
  const name = `guest-${id}`;
  driver.on("open", () => {
    peers.set(id, { connection, driver, name });
    // Over HTTP/2 the request is the extended CONNECT (httpVersion "2.0"): the page says which it got.
    const over = driver.request?.httpVersion === "2.0" ? "HTTP/2" : "HTTP/1.1";
    driver.text(JSON.stringify({ type: "welcome", name, over }));
    broadcast({ type: "presence", count: peers.size });
  });
  driver.on("message", ({ data }) => {
    if (typeof data !== "string") return;
    broadcast({ type: "message", from: name, text: data.slice(0, 2000), at: new Date().toISOString() });
  });
  driver.on("error", (error) => console.error(`${name}: ${error.message}`));
  // A limit ran out (handshakeTimeout, idleTimeout, closeTimeout): the driver then closes with 1006.
  connection.on("error", (error) => console.error(`${name}: ${error.message}`));
  driver.on("close", () => {
    if (peers.delete(id)) broadcast({ type: "presence", count: peers.size });
  });
}

server.listen(port, host, () => {
  const address = server.address();
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  origins.push(...(process.env.ORIGINS ? process.env.ORIGINS.split(",").map((origin) => origin.trim()) : ownOrigins(address.address, address.port)));
  // A driver made now checks the list: an entry that is not an origin stops the demo here, with a
  // TypeError that names it, rather than failing every visitor's upgrade.
  Driver.server({ write() {} }, { origins });
  const scheme = secure ? "https" : "http";
  console.log(`wsdriver demo on ${scheme}://${shown}:${address.port}/ ${secure ? "over HTTP/2 " : ""}(Ctrl-C to stop)`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // RFC 6455 §7.4.1: 1001, the endpoint is going away. Each connection ends once its peer answers.
  const closing = [...peers.values()].map(({ driver }) =>
    new Promise((resolve) => {
      driver.on("close", resolve);
      driver.close("server shutting down", 1001);
    }));
  peers.clear();
  server.close();
  // A peer that never answers its close frame must not keep the process alive.
  const deadline = setTimeout(() => process.exit(0), 2000);
  deadline.unref();
  Promise.all(closing).then(() => {
    console.log(`closed ${closing.length} connection(s) with 1001`);
    process.exit(0);
  });
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
