#!/usr/bin/env node
// wsdriver's command-line client, in the spirit of wscat, built on the Node adapter:
//
//   npx wsdriver connect ws://127.0.0.1:8080/chat [--protocol chat] [--header "Name: value"]
//                                                  [--origin URL] [--proxy http://user:pass@host:port]
//                                                  [--deflate] [--idle MS] [--handshake-timeout MS]
//
// Every line typed is sent as a text message; every message received is printed on stdout
// ("< text", binary as hex). Notices go to stderr. With --slash, "/ping [data]" sends a ping and
// "/close [code [reason]]" closes. End of input (Ctrl-D) closes with 1000; Ctrl-C closes at once.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
// The library is loaded from the build in dist/ (`npm run build`; `npm start` and `npm pack` make it).
// Imported before anything connects: handlers and the deflate offer must be in place before the
// socket's first event.
import { connect } from "../dist/esm/adapters/node.js";
import { connectThroughProxy } from "../dist/esm/adapters/node-proxy.js";
import { deflate } from "../dist/esm/index.js";

const USAGE = `Usage: wsdriver connect <ws://host:port/path | wss://…> [options]

Options:
  -p, --protocol <name>   offer a subprotocol (repeatable)
  -H, --header <line>     add a handshake header, "Name: value" (repeatable)
  -o, --origin <url>      send an Origin header
  -x, --proxy <url>       connect through an HTTP proxy with CONNECT (http://[user:pass@]host:port)
  -z, --deflate           offer permessage-deflate (RFC 7692)
  -k, --insecure          do not check the server's TLS certificate (wss: only)
      --ca <file>         trust this PEM certificate for wss:
  -s, --slash             read /ping [data] and /close [code [reason]] as commands
  -i, --idle <ms>         ping the server after <ms> of silence, give up after as long again
                          (idleTimeout; its pongs show as "< pong"; default: never)
      --handshake-timeout <ms>  give up if the connection is not open within <ms> (default 10000)
      --close-timeout <ms>      after our close, wait <ms> for the server's (default 10000)
  -h, --help              print this help
  -v, --version           print the version`;

function fail(message) {
  process.stderr.write(`wsdriver: ${message}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      protocol: { type: "string", short: "p", multiple: true },
      header: { type: "string", short: "H", multiple: true },
      origin: { type: "string", short: "o" },
      proxy: { type: "string", short: "x" },
      deflate: { type: "boolean", short: "z" },
      insecure: { type: "boolean", short: "k" },
      ca: { type: "string" },
      slash: { type: "boolean", short: "s" },
      idle: { type: "string", short: "i" },
      "handshake-timeout": { type: "string" },
      "close-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
} catch (error) {
  fail(`${error.message}\n\n${USAGE}`);
}
const { values, positionals } = parsed;

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.version) {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${version}\n`);
  process.exit(0);
}
const [command, target] = positionals;
if (command !== "connect" || !target || positionals.length > 2) fail(`expected "connect <url>"\n\n${USAGE}`);

let url;
try {
  url = new URL(target);
} catch {
  fail(`not a URL: ${target}`);
}
if (url.protocol !== "ws:" && url.protocol !== "wss:") fail(`not a ws: or wss: URL: ${target}`);

const headers = {};
for (const line of values.header ?? []) {
  const colon = line.indexOf(":");
  if (colon < 1) fail(`a header is "Name: value", got ${JSON.stringify(line)}`);
  headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
}

const tls = {};
if (values.insecure) tls.rejectUnauthorized = false;
if (values.ca) {
  try {
    tls.ca = readFileSync(values.ca);
  } catch (error) {
    fail(`cannot read --ca: ${error.message}`);
  }
}
const options = { protocols: values.protocol ?? [], tls };
if (values.origin) options.origin = values.origin;
// The adapter's time limits, in milliseconds; 0 turns one off.
for (const [flag, option] of [["idle", "idleTimeout"], ["handshake-timeout", "handshakeTimeout"], ["close-timeout", "closeTimeout"]]) {
  if (values[flag] === undefined) continue;
  const ms = Number(values[flag]);
  if (!/^\d+$/.test(values[flag]) || !Number.isSafeInteger(ms)) fail(`--${flag} takes a number of milliseconds, got ${JSON.stringify(values[flag])}`);
  options[option] = ms;
}

// Options the library refuses (a subprotocol that is not a token, a proxy URL that is not http: or
// https:, port 0) throw here, before anything connects: a bad command line like any other.
let connection;
try {
  connection = values.proxy
    ? connectThroughProxy(url, values.proxy, { ...options, proxyTls: tls })
    : connect(url, options);
} catch (error) {
  fail(error.message);
}
const { driver } = connection;
// setHeader says false for a name that is not an HTTP token or a value with CR, LF or NUL, which
// the `headers` option would drop without a word. The socket connects on a later tick.
for (const [name, value] of Object.entries(headers)) {
  if (!driver.setHeader(name, value)) {
    fail(`cannot send the header ${JSON.stringify(name)}: a name must be an HTTP token, a value must not hold CR, LF or NUL`);
  }
}
// The driver starts once the socket (or the proxy's tunnel) is up, so the offer can still be added.
if (values.deflate) driver.addExtension(deflate());

const note = (text) => process.stderr.write(`${text}\n`);
const hex = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
let failed = false;

connection.on("error", (error) => {
  failed = true;
  note(`error: ${error.message}`);
});
driver.on("error", (error) => {
  failed = true;
  note(`error: ${error.message}`);
});
driver.on("open", () => {
  const extensions = driver.headers["sec-websocket-extensions"];
  const details = [driver.protocol && `protocol: ${driver.protocol}`, extensions && `extensions: ${extensions}`].filter(Boolean);
  note(`connected to ${url.href}${details.length ? ` (${details.join("; ")})` : ""}`);
});
driver.on("message", ({ data }) => {
  process.stdout.write(typeof data === "string" ? `< ${data}\n` : `< [binary, ${data.length} bytes] ${hex(data)}\n`);
});
driver.on("ping", ({ data }) => note(`< ping ${hex(data)}`));
driver.on("pong", ({ data }) => note(`< pong ${hex(data)}`));
driver.on("close", ({ code, reason }) => {
  note(`closed ${code}${reason ? ` ${reason}` : ""}`);
  input.close();
  // 1000 normal, 1001 going away and 1005 no status are orderly ends; anything else is a failure.
  process.exitCode = failed || ![1000, 1001, 1005].includes(code) ? 1 : 0;
});

const input = createInterface({ input: process.stdin, terminal: false });
// Lines typed before the handshake completes wait here and run, in order, once it is open: a
// /close before `open` would otherwise drop everything typed ahead of it.
let pending = [];
let inputEnded = false;

function handle(line) {
  if (values.slash && line.startsWith("/")) {
    const [name, ...rest] = line.slice(1).split(" ");
    // ping and close say false for what RFC 6455 does not allow (§5.5: control data of at most 125
    // bytes; §7.4: codes that may be sent) or once the connection is closing: tell the user.
    const closing = driver.readyState !== 1 && "the connection is closing";
    if (name === "ping") {
      if (!driver.ping(rest.join(" "))) note(`/ping not sent: ${closing || "a ping's data is at most 125 bytes"}`);
    } else if (name === "close") {
      if (!driver.close(rest.slice(1).join(" "), rest[0] ? Number(rest[0]) : 1000)) {
        note(`${line} not sent: ${closing || "the code must be 1000-1003, 1007-1014 or 3000-4999 and the reason at most 123 bytes"}`);
      }
    } else note(`unknown command /${name} (try /ping or /close)`);
    return;
  }
  driver.text(line);
}

driver.on("open", () => {
  const lines = pending;
  pending = null;
  for (const line of lines) handle(line);
  if (inputEnded) driver.close("", 1000);
});
input.on("line", (line) => {
  if (pending) pending.push(line);
  else handle(line);
});
// End of input: close politely once what was typed has been sent.
input.on("close", () => {
  inputEnded = true;
  if (!pending) driver.close("", 1000);
});
process.on("SIGINT", () => {
  driver.close("", 1000);
  setTimeout(() => process.exit(130), 1000).unref();
});
