/**
 * Run by spec/http2/runtimes.spec.ts under Deno and Bun: the built Node adapter's HTTP/2 path (the
 * package as a user installs it, dist/) on the runtime's own `node:http2`, both ends. A TLS server
 * with SETTINGS_ENABLE_CONNECT_PROTOCOL and `acceptStream`, three clients from
 * `connect(url, { http2: true })`; prints what they saw as JSON.
 */
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import { acceptStream, connect } from "../../../dist/esm/adapters/node.js";
import { deflate } from "../../../dist/esm/index.js";

const tls = new URL("../../adapters/runtimes/tls/", import.meta.url);
const server = http2.createSecureServer({
  key: readFileSync(new URL("localhost-key.pem", tls)),
  cert: readFileSync(new URL("localhost-cert.pem", tls)),
  settings: { enableConnectProtocol: true },
});
const serverCloses = [];
const requests = [];
server.on("stream", (stream, headers) => {
  const { driver } = acceptStream(stream, headers);
  driver.addExtension(deflate());
  driver.on("open", () => requests.push(`${driver.request.method} ${driver.request.url} HTTP/${driver.request.httpVersion}`));
  driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data.toUpperCase()) : driver.binary(data)));
  driver.on("close", (event) => serverCloses.push(event));
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = server.address().port;
const ca = readFileSync(new URL("ca-cert.pem", tls));

const clients = [0, 1, 2].map(() => {
  const connection = connect(`wss://localhost:${port}/rt`, { http2: true, tls: { ca } });
  connection.driver.addExtension(deflate());
  return connection;
});
const results = await Promise.all(clients.map((connection, i) => new Promise((resolve) => {
  const { driver } = connection;
  const replies = [];
  driver.on("open", () => {
    driver.text(`hello ${i}`);
    driver.binary(Uint8Array.of(i, 1, 2));
  });
  driver.on("message", ({ data }) => {
    replies.push(typeof data === "string" ? data : Array.from(data));
    if (replies.length === 2) driver.close("done", 4000 + i);
  });
  driver.on("close", (event) => resolve({ extensions: driver.headers["sec-websocket-extensions"], replies, close: event }));
})));
const shared = new Set(clients.map((c) => c.session)).size === 1;
await new Promise((resolve) => setTimeout(resolve, 100));
server.close();
console.log(JSON.stringify({ shared, results, requests, serverCloses: serverCloses.map((e) => e.code).sort() }));
process.exit(0);
