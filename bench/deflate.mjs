// Part 6: permessage-deflate at scale, ours against ws in the same run.
//
// - Memory: `count` loopback connections to an echo server in a child process (ours through the
//   Node adapter, ws's WebSocketServer), each offering permessage-deflate as a browser does
//   (`client_max_window_bits`), or with no context takeover both ways, sending MESSAGES compressed
//   JSON messages and reading their echoes; the server's RSS per connection after a full GC, and the
//   bytes per echoed message on the wire.
// - A JSON corpus through one connection's compressor and decompressor: bytes per message, and
//   microseconds per message to compress and to inflate (ws's are asynchronous, on zlib's thread
//   pool: its time per message is what a connection waits for).
// - Broadcast: one 1 KiB JSON message to `count` connections whose server compresses without
//   context (`server_no_context_takeover`): ours prepared once (`sendPrepared`), ours `text()` per
//   connection, ws's `send` per connection (its Sender with permessage-deflate, on a counting
//   socket).
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { UPGRADE_HEADERS, gc, log, now, random, seconds } from "./common.mjs";
import { Sender, ours } from "./peers.mjs";

const require = createRequire(import.meta.url);
// ws exports neither module; they are what its WebSocket uses for permessage-deflate.
const wsLib = join(dirname(require.resolve("ws")), "lib");
const PerMessageDeflate = require(join(wsLib, "permessage-deflate.js"));
const { parse: parseExtensions } = require(join(wsLib, "extension.js"));

const here = dirname(fileURLToPath(import.meta.url));
export const DEFLATE = { connections: Number(process.env.BENCH_DEFLATE_CONNECTIONS ?? 10_000), messages: 20, corpusCount: 2_000 };

const OFFERS = {
  none: null,
  default: "permessage-deflate; client_max_window_bits",
  nocontext: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits",
};

// --- the JSON corpus ----------------------------------------------------------------------------

const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"];

/** `count` JSON messages of about 180 B (trades, quotes and chat lines with varying values), the same every run. */
export function jsonCorpus(count, seed = 5) {
  const next = random(seed);
  const pick = (list) => list[next() % list.length];
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push(JSON.stringify({
      type: ["trade", "quote", "chat"][i % 3], seq: i, ts: 1765100000000 + (next() % 1e6),
      symbol: pick(WORDS).toUpperCase(), price: (next() % 100000) / 100, size: next() % 500,
      user: { id: next() % 100000, name: pick(WORDS) + (next() % 100) },
      text: Array.from({ length: 3 + (next() % 10) }, () => pick(WORDS)).join(" "),
    }));
  }
  return out;
}

/**
 * A JSON message of just over 1 KiB, as a broadcast update might be (ws compresses nothing under
 * 1 KiB when it keeps no context).
 */
export function broadcastMessage() {
  const next = random(11);
  const rows = [];
  const message = () => JSON.stringify({ type: "book", ts: 1765100000000, rows });
  for (let i = 0; message().length < 1024; i++) {
    rows.push({ id: i, symbol: WORDS[next() % WORDS.length].toUpperCase(), bid: (next() % 100000) / 100, ask: (next() % 100000) / 100 });
  }
  return message();
}

// --- memory, over loopback ------------------------------------------------------------------------

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** The client's messages, compressed as a browser would: with context, or each on its own. */
function clientFrames(messages, noContext) {
  const deflater = ours.zlibEngine(zlib).createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
  const frames = [];
  for (const text of messages) {
    let out = Buffer.from(deflater.deflate(Buffer.from(text)));
    if (noContext) deflater.reset();
    if (out.subarray(out.length - 4).equals(TAIL)) out = out.subarray(0, out.length - 4);
    frames.push(maskedFrame(0xc1, out));
  }
  deflater.close();
  return frames;
}

function maskedFrame(first, payload) {
  const length = payload.length;
  const header = length < 126 ? 6 : 8;
  const out = Buffer.allocUnsafe(header + length);
  out[0] = first;
  if (length < 126) out[1] = 0x80 | length;
  else { out[1] = 0x80 | 126; out.writeUInt16BE(length, 2); }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  out.set(key, header - 4);
  for (let i = 0; i < length; i++) out[header + i] = payload[i] ^ key[i & 3];
  return out;
}

function upgradeRequest(offer) {
  const lines = ["GET / HTTP/1.1"];
  for (const [name, value] of Object.entries(UPGRADE_HEADERS)) lines.push(`${name}: ${value}`);
  if (offer !== null) lines.push(`sec-websocket-extensions: ${offer}`);
  return Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1");
}

/**
 * One connection: the handshake, then each frame in turn, waiting for its echo. Resolves with the
 * socket and the echoes' payload bytes.
 */
function converse(port, request, frames, compressed) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0), opened = false, next = 0, payloadBytes = 0;
    const timer = setTimeout(() => { socket.destroy(); reject(new Error("deflate conversation timed out")); }, 30_000);
    const send = () => {
      if (next === frames.length) {
        clearTimeout(timer);
        socket.removeAllListeners("data");
        resolve({ socket, payloadBytes });
      } else {
        socket.write(frames[next++]);
      }
    };
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!opened) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString("latin1");
        if (!head.startsWith("HTTP/1.1 101") || compressed !== /sec-websocket-extensions: permessage-deflate/i.test(head)) {
          clearTimeout(timer);
          socket.destroy();
          reject(new Error(`permessage-deflate not negotiated: ${head}`));
          return;
        }
        opened = true;
        buffer = buffer.subarray(end + 4);
        send();
      }
      // Server frames are unmasked: 2 or 4 header bytes for these sizes.
      while (buffer.length >= 2) {
        const short = buffer[1] & 0x7f;
        const header = short === 126 ? 4 : 2;
        if (buffer.length < header) return;
        const length = short === 126 ? buffer.readUInt16BE(2) : short;
        if (buffer.length < header + length) return;
        payloadBytes += length;
        buffer = buffer.subarray(header + length);
        send();
      }
    });
    socket.on("error", (error) => { clearTimeout(timer); reject(error); });
    socket.on("connect", () => socket.write(request));
  });
}

function startServer(kind, deflate) {
  const child = fork(join(here, "server.mjs"), [kind], { execArgv: ["--expose-gc"], env: { ...process.env, BENCH_DEFLATE: deflate } });
  const ask = () => new Promise((resolve) => { child.once("message", resolve); child.send({ type: "heap" }); });
  return new Promise((resolve, reject) => {
    child.once("message", ({ port }) => resolve({ port, ask, close: () => new Promise((done) => { child.once("exit", done); child.send({ type: "exit" }); }) }));
    child.once("exit", () => reject(new Error(`${kind} server exited`)));
  });
}

/** RSS per connection and bytes per echoed message for one server kind and configuration. */
export async function memory(kind, config, { connections, messages }) {
  const corpus = jsonCorpus(messages, 17);
  const frames = config === "none" ? corpus.map((text) => maskedFrame(0x81, Buffer.from(text))) : clientFrames(corpus, config === "nocontext");
  const request = upgradeRequest(OFFERS[config]);
  const server = await startServer(kind, config === "none" ? "" : config);
  const sockets = [];
  try {
    const before = await server.ask();
    let payloadBytes = 0, index = 0;
    const worker = async () => {
      while (index < connections) {
        index++;
        const result = await converse(server.port, request, frames, config !== "none");
        sockets.push(result.socket);
        payloadBytes += result.payloadBytes;
      }
    };
    await Promise.all(Array.from({ length: 100 }, worker));
    const after = await server.ask();
    return { rss: (after.rss - before.rss) / connections, heap: (after.heap - before.heap) / connections, bytesPerMessage: payloadBytes / (connections * messages) };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.close();
  }
}

// --- the corpus through one connection ---------------------------------------------------------------

/** An open server driver of ours with `deflate(options)` that answered `offer`, writing to `write`. */
function oursServer(options, offer, write) {
  const io = { write: (chunk) => (opened ? write(chunk) : true) };
  let opened = false;
  const driver = ours.Driver.server(io);
  driver.addExtension(ours.deflate(options));
  driver.on("connect", () => driver.start());
  driver.parse(upgradeRequest(offer));
  if (driver.readyState !== 1) throw new Error("our server did not open");
  opened = true;
  return driver;
}

/** A client driver of ours that has read a 101 accepting `answer`. */
function oursClient(answer, onMessage, engine) {
  let request = "";
  const client = ours.Driver.client("ws://127.0.0.1/", { write: (chunk) => { request += Buffer.from(chunk).toString("latin1"); return true; } });
  client.addExtension(ours.deflate({ engine }));
  client.start();
  const key = /sec-websocket-key: *(\S+)/i.exec(request)[1];
  const accept = require("node:crypto").createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  client.parse(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${answer}\r\n\r\n`, "latin1"));
  if (client.readyState !== 1) throw new Error("our client did not open");
  client.on("message", onMessage);
  return client;
}

const ANSWERS = { default: "permessage-deflate", nocontext: "permessage-deflate; server_no_context_takeover; client_no_context_takeover" };
const OUR_OPTIONS = { default: {}, nocontext: { serverNoContextTakeover: true, clientNoContextTakeover: true } };
// ws compresses no message under its threshold (1 KiB) when it keeps no context; 0 here so both
// compress every message of the corpus.
const WS_OPTIONS = { default: {}, nocontext: { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 } };

/** pako, for the pure JavaScript engine (lib/extensions/pako.ts). */
const pako = require("pako");

/** Ours: the corpus out of a server (compress) and into a client (inflate), on node:zlib or on pako. */
export function corpusOurs(config, corpus, engineName = "zlib") {
  const frames = [];
  const engine = engineName === "pako" ? ours.pakoEngine(pako) : undefined;
  const server = oursServer({ ...OUR_OPTIONS[config], engine }, OFFERS[config], (chunk) => { frames.push(Buffer.from(chunk)); return true; });
  let received = 0;
  const client = oursClient(ANSWERS[config], () => { received++; }, engine);
  let start = now();
  for (const text of corpus) server.text(text);
  const compress = seconds(start);
  let payloadBytes = 0;
  for (const frame of frames) payloadBytes += frame.length - (frame[1] === 126 ? 4 : 2);
  start = now();
  for (const frame of frames) client.parse(frame);
  const inflate = seconds(start);
  if (received !== corpus.length) throw new Error(`our client read ${received} of ${corpus.length} messages`);
  server.end();
  client.end();
  return { bytesPerMessage: payloadBytes / corpus.length, compressMicros: compress * 1e6 / corpus.length, inflateMicros: inflate * 1e6 / corpus.length };
}

/** ws: the same corpus through its server's and its client's PerMessageDeflate, one message at a time, as a connection's are. */
export async function corpusWs(config, corpus) {
  const server = new PerMessageDeflate({ ...WS_OPTIONS[config], isServer: true });
  server.accept(parseExtensions(OFFERS[config])["permessage-deflate"]);
  const client = new PerMessageDeflate({ ...WS_OPTIONS[config], isServer: false });
  client.accept(parseExtensions(ANSWERS[config])["permessage-deflate"]);
  const compressed = [];
  const run = (fn, input) => new Promise((resolve, reject) => fn(input, true, (error, out) => (error ? reject(error) : resolve(out))));
  let start = now();
  for (const text of corpus) compressed.push(await run(server.compress.bind(server), Buffer.from(text)));
  const compress = seconds(start);
  start = now();
  for (const data of compressed) await run(client.decompress.bind(client), data);
  const inflate = seconds(start);
  server.cleanup();
  client.cleanup();
  return {
    bytesPerMessage: compressed.reduce((n, c) => n + c.length, 0) / corpus.length,
    compressMicros: compress * 1e6 / corpus.length, inflateMicros: inflate * 1e6 / corpus.length,
  };
}

// --- broadcast ------------------------------------------------------------------------------------

const BROADCAST_OFFER = "permessage-deflate; client_max_window_bits";
const BROADCAST_OPTIONS = { serverNoContextTakeover: true };

/** `count` open server drivers of ours with no server context, writing into one counter. */
export function broadcastDriversOurs(count, counter) {
  const write = (chunk) => { counter.bytes += chunk.length; return true; };
  return Array.from({ length: count }, () => oursServer(BROADCAST_OPTIONS, BROADCAST_OFFER, write));
}

/** ws: `count` Senders with a server PerMessageDeflate that keeps no context, on counting sockets. */
export function broadcastSendersWs(count, counter) {
  const socket = {
    cork() {}, uncork() {},
    write(chunk, cb) { counter.bytes += chunk.length; if (cb) cb(); return true; },
  };
  return Array.from({ length: count }, () => {
    const deflate = new PerMessageDeflate({ ...BROADCAST_OPTIONS, isServer: true });
    // accept() changes the offers it is given: each connection parses its own.
    deflate.accept(parseExtensions(BROADCAST_OFFER)["permessage-deflate"]);
    return new Sender(socket, { "permessage-deflate": deflate });
  });
}

/** Messages per second: `message` to every connection, `how` being prepared, text or ws. */
export async function broadcast(how, targets, message) {
  const start = now();
  if (how === "prepared") {
    const prepared = ours.prepareMessage(message);
    for (const driver of targets) driver.sendPrepared(prepared);
  } else if (how === "text") {
    for (const driver of targets) driver.text(message);
  } else {
    await new Promise((resolve, reject) => {
      let left = targets.length;
      const done = (error) => { if (error) reject(error); else if (--left === 0) resolve(); };
      for (const sender of targets) sender.send(message, { binary: false, compress: true, fin: true, mask: false }, done);
    });
  }
  return targets.length / seconds(start);
}

export { gc, log };
