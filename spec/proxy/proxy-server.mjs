// A real HTTP proxy for the integration specs: the `proxy` package from npm (CONNECT, Basic auth),
// run in its own process because it is an ES module. It listens on 127.0.0.1, an ephemeral port,
// prints {"port": n} once listening, then one JSON line per CONNECT request it receives.
//
// PROXY_USER / PROXY_PASS: when set, a CONNECT must carry exactly these Basic credentials, or the
// proxy answers 407. PROXY_TLS_CERT / PROXY_TLS_KEY: when set, the proxy itself speaks TLS.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { createProxy } from "proxy";

const { PROXY_USER: user, PROXY_PASS: pass, PROXY_TLS_CERT: cert, PROXY_TLS_KEY: key } = process.env;
const server = createProxy(cert && key
  ? https.createServer({ cert: readFileSync(cert), key: readFileSync(key) })
  : http.createServer());

if (user !== undefined) {
  const expected = "Basic " + Buffer.from(`${user}:${pass ?? ""}`, "utf8").toString("base64");
  server.authenticate = (req) => req.headers["proxy-authorization"] === expected;
}

server.on("connect", (req) => {
  process.stdout.write(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }) + "\n");
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});

// The spec ends the proxy by closing our stdin (or by a signal).
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
