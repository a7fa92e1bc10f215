// npm run bench: every figure of the performance goal for ours and the peers in one run, rounds
// interleaved (each round runs every implementation once, in a rotating order), medians reported as
// ratios. Writes docs/benchmarks.md and docs/benchmarks.svg.
//
// Environment: BENCH_ROUNDS (default 5) for parsing, framing and broadcast, BENCH_NET_ROUNDS (default
// 3) for the loopback parts and the deflate corpus, BENCH_ONLY=parse,frame,utf8,echo,http2,handshake,heap,
// flood,runtimes,deflate,stream to run some parts only (the docs are written only by a full run),
// BENCH_DEFLATE_CONNECTIONS (default 10,000) for the deflate part's memory and broadcast figures,
// BENCH_FLOOD_SECONDS (default 4) for the flood part; BENCH_STREAM_BYTES and BENCH_STREAM_TEXT_BYTES
// size the messages in pieces (bench/streaming.mjs).
import { fork, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { log, machine, median } from "./common.mjs";
import {
  DEFLATE, broadcast, broadcastDriversOurs, broadcastMessage, broadcastSendersWs, corpusOurs, corpusWs, jsonCorpus, memory,
} from "./deflate.mjs";
import { buildMessages, FRAME_WORKLOADS, runFramer } from "./framing.mjs";
import { IDLE_MESSAGE, drop, echo, echoHttp2, flood, handshakes, idle } from "./load.mjs";
import { buildInput, PARSE_WORKLOADS, runBaselines, runParser } from "./parse.mjs";
import { fastPaths, wsUsesBufferUtil } from "./peers.mjs";
import { renderMarkdown, renderSvg } from "./report.mjs";
import { RUNTIMES, startRuntimeServer } from "./runtimes.mjs";
import { STREAM, streaming } from "./streaming.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const NET_ROUNDS = Number(process.env.BENCH_NET_ROUNDS ?? 3);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const runs = (part) => ONLY === null || ONLY.has(part);

/** The echo loads, the same on every runtime: small and large messages, text and binary. */
export const ECHO_LOADS = [
  { name: "text 64 B", opcode: 1, size: 64, connections: 50, messages: 2_000, window: 200 },
  { name: "binary 64 B", opcode: 2, size: 64, connections: 50, messages: 2_000, window: 200 },
  { name: "text 16 KiB", opcode: 1, size: 16 * 1024, connections: 50, messages: 200, window: 10 },
  { name: "binary 16 KiB", opcode: 2, size: 16 * 1024, connections: 50, messages: 200, window: 10 },
];
/** Echo over HTTP/2 beside HTTP/1.1: many WebSockets on one connection against one connection each. */
export const HTTP2_ECHO = { opcode: 1, size: 64, connections: 100, messages: 2_000, window: 200 };
export const HANDSHAKES = { count: 1_000, concurrency: 50 };
export const IDLE = { count: 10_000 };
/** A peer that floods pings or messages and never reads, for this long (s), against the shipped Node adapter and ws. */
export const FLOOD = { seconds: Number(process.env.BENCH_FLOOD_SECONDS ?? 4) };

if (!wsUsesBufferUtil()) throw new Error("bufferutil is not installed: the native ws figures would be wrong");
if (fastPaths.unmask === null) throw new Error("wsdriver's Node entry did not install bufferutil: its accelerated figures would be wrong");

/**
 * The pure JavaScript ws and our pure core, in a child with WS_NO_BUFFER_UTIL=1 and
 * WSDRIVER_NO_FAST_PATHS=1, behind the same call shape.
 */
function startPureWs() {
  const child = fork(join(here, "worker.mjs"), [], { env: { ...process.env, WS_NO_BUFFER_UTIL: "1", WSDRIVER_NO_FAST_PATHS: "1" } });
  const ask = (task) => new Promise((resolve, reject) => {
    child.once("message", (reply) => (reply.ok ? resolve(reply.result) : reject(new Error(reply.error))));
    child.send(task);
  });
  return { ask, close: () => child.kill() };
}

/** Runs `round` ROUNDS times after a warm-up; each round visits the implementations in a rotated order. */
async function interleaved(names, rounds, run) {
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = -1; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + Math.max(r, 0)) % names.length]);
    for (const name of order) {
      const value = await run(name);
      if (r >= 0) samples[name].push(value);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(samples[name])]));
}

/** The names run in the pure child, and what they run there. */
const PURE = { "wsdriver-pure": "wsdriver", "ws-js": "ws" };

/** bench/utf8.mjs on Node, Deno and Bun, one child each: the two ways to decode text, per runtime. */
function utf8Decoding() {
  const script = join(here, "utf8.mjs");
  const commands = {
    node: [process.execPath, [script]],
    deno: [join(here, "..", "node_modules", ".bin", "deno"), ["run", "--allow-read", script]],
    bun: [join(here, "..", "node_modules", ".bin", "bun"), [script]],
  };
  const result = {};
  for (const [runtime, [command, args]] of Object.entries(commands)) {
    log(`utf8: decoding on ${runtime}`);
    result[runtime] = JSON.parse(execFileSync(command, args, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }).trim().split("\n").pop());
  }
  return result;
}

async function parsing(pureWs) {
  const rows = [];
  for (const [index, workload] of PARSE_WORKLOADS.entries()) {
    log(`parse: ${workload.name}`);
    const input = buildInput(workload);
    const baselines = { memcpy: [], unmask: [], nativeUnmask: [], zeroFilled: [], uninitialised: [] };
    const medians = await interleaved(["wsdriver", "wsdriver-pure", "ws", "ws-js", "websocket-driver", "baselines"], ROUNDS, async (name) => {
      if (name === "baselines") {
        const b = runBaselines(input, workload);
        baselines.memcpy.push(b.bytes / b.memcpy);
        baselines.unmask.push(b.bytes / b.unmask);
        baselines.nativeUnmask.push(b.bytes / b.nativeUnmask);
        baselines.zeroFilled.push(b.payloadBytes / b.zeroFilled);
        baselines.uninitialised.push(b.payloadBytes / b.uninitialised);
        return 0;
      }
      const result = name in PURE
        ? await pureWs.ask({ type: "parse", impl: PURE[name], workload: index })
        : runParser(name, workload, input);
      return result.bytes / result.seconds;
    });
    delete medians.baselines;
    rows.push({
      name: workload.name, bytes: input.length, messages: workload.count, rates: medians,
      memcpy: median(baselines.memcpy), unmask: median(baselines.unmask), nativeUnmask: median(baselines.nativeUnmask),
      zeroFilled: median(baselines.zeroFilled), uninitialised: median(baselines.uninitialised),
    });
  }
  return rows;
}

async function framing(pureWs) {
  const rows = [];
  for (const masked of [false, true]) {
    for (const [index, workload] of FRAME_WORKLOADS.entries()) {
      log(`frame (${masked ? "client, masked" : "server"}): ${workload.name}`);
      const messages = buildMessages(workload);
      const rates = await interleaved(["wsdriver", "wsdriver-pure", "ws", "ws-js", "websocket-driver"], ROUNDS, async (name) => {
        const result = name in PURE
          ? await pureWs.ask({ type: "frame", impl: PURE[name], workload: index, masked })
          : await runFramer(name, workload, messages, masked);
        return result.messages / result.seconds;
      });
      rows.push({ name: workload.name, masked, messages: workload.count, rates });
    }
  }
  return rows;
}

/** The echo servers, each in its own child process; `heap` asks one for its heap after a full GC. */
async function startServer(kind, env = {}) {
  const child = fork(join(here, "server.mjs"), [kind], { execArgv: ["--expose-gc"], env: { ...process.env, ...env } });
  const port = await new Promise((resolve, reject) => {
    child.once("message", (message) => resolve(message.port));
    child.once("exit", () => reject(new Error(`${kind} server exited`)));
  });
  return {
    kind, port,
    heap: () => new Promise((resolve) => { child.once("message", (m) => resolve(m.heap)); child.send({ type: "heap" }); }),
    rss: () => new Promise((resolve) => { child.once("message", (m) => resolve(m.rss)); child.send({ type: "rss" }); }),
    close: () => new Promise((resolve) => { child.once("exit", resolve); child.send({ type: "exit" }); }),
  };
}

const SERVERS = [
  ["wsdriver", "wsdriver", {}],
  ["wsdriver-node", "wsdriver-node", {}],
  ["ws", "ws", {}],
  ["ws-js", "ws", { WS_NO_BUFFER_UTIL: "1" }],
];

async function network() {
  const servers = {};
  try {
    for (const [name, kind, env] of SERVERS) servers[name] = await startServer(kind, env);
    const names = Object.keys(servers);
    const result = {};
    if (runs("echo")) {
      result.echo = {};
      for (const load of ECHO_LOADS) {
        log(`echo (Node): ${load.connections} connections × ${load.messages} messages, ${load.name}`);
        result.echo[load.name] = await interleaved(names, NET_ROUNDS, async (name) => {
          const run = await echo(servers[name].port, load);
          return run.messages / run.seconds;
        });
      }
    }
    if (runs("http2")) {
      // The same echo through the same adapter, as 100 WebSockets on 100 HTTP/1.1 connections and as
      // 100 streams of one HTTP/2 connection, in alternating rounds.
      log(`echo over HTTP/2: ${HTTP2_ECHO.connections} WebSockets on one connection × ${HTTP2_ECHO.messages} messages of ${HTTP2_ECHO.size} B`);
      const http2Server = await startServer("wsdriver-http2");
      try {
        result.echoHttp2 = await interleaved(["http1", "http2"], NET_ROUNDS, async (name) => {
          const run = name === "http1" ? await echo(servers["wsdriver-node"].port, HTTP2_ECHO) : await echoHttp2(http2Server.port, HTTP2_ECHO);
          return run.messages / run.seconds;
        });
      } finally {
        await http2Server.close();
      }
    }
    if (runs("handshake")) {
      log(`handshakes: ${HANDSHAKES.count} at ${HANDSHAKES.concurrency} at a time`);
      result.handshakes = await interleaved(names, NET_ROUNDS, async (name) => {
        const run = await handshakes(servers[name].port, HANDSHAKES);
        return run.handshakes / run.seconds;
      });
    }
    if (runs("heap")) {
      log(`idle heap: ${IDLE.count} connections`);
      result.idle = {};
      result.idleAfterMessage = {};
      for (const [name, kind, env] of SERVERS) {
        for (const [figures, options] of [[result.idle, IDLE], [result.idleAfterMessage, { ...IDLE, message: IDLE_MESSAGE }]]) {
          // A fresh server for each figure: one that has just dropped 10,000 connections is still
          // letting go of them, which would blur the next "before".
          const server = await startServer(kind, env);
          try {
            const before = await server.heap();
            const sockets = await idle(server.port, options);
            const after = await server.heap();
            for (const socket of sockets) drop(socket);
            figures[name] = (after - before) / sockets.length;
          } finally {
            await server.close();
          }
        }
      }
      const output = execFileSync(process.execPath, ["--expose-gc", join(here, "heap.mjs")], { encoding: "utf8" });
      result.driverHeap = JSON.parse(output);
    }
    if (runs("flood")) {
      log(`flood: pings and 1 KiB messages for ${FLOOD.seconds} s from a peer that never reads`);
      result.flood = {};
      for (const [name, kind] of [["wsdriver-node", "wsdriver-node"], ["ws", "ws"]]) {
        for (const what of ["ping", "binary"]) {
          // A fresh server each time, with its default options: RSS does not shrink back reliably.
          const server = await startServer(kind);
          try {
            const before = await server.rss();
            let peak = before;
            const sample = async () => { peak = Math.max(peak, await server.rss()); };
            const run = await flood(server.port, { kind: what, seconds: FLOOD.seconds, sample });
            drop(run.socket);
            result.flood[`${name} ${what}`] = { growth: peak - before, sent: run.sent, closed: run.closed };
          } finally {
            await server.close();
          }
        }
      }
    }
    return result;
  } finally {
    for (const server of Object.values(servers)) await server.close();
  }
}

/** Deno and Bun: ours through each runtime's adapter against the runtime's own server, same loads. */
async function runtimes() {
  const result = {};
  for (const runtime of Object.keys(RUNTIMES)) {
    const servers = {};
    try {
      for (const kind of ["wsdriver", "native"]) servers[kind] = await startRuntimeServer(runtime, kind);
      const figures = { version: RUNTIMES[runtime].version(), echo: {} };
      for (const load of ECHO_LOADS) {
        log(`echo (${RUNTIMES[runtime].title}): ${load.connections} connections × ${load.messages} messages, ${load.name}`);
        figures.echo[load.name] = await interleaved(Object.keys(servers), NET_ROUNDS, async (kind) => {
          const run = await echo(servers[kind].port, load);
          return run.messages / run.seconds;
        });
      }
      result[runtime] = figures;
    } finally {
      for (const server of Object.values(servers)) await server.close();
    }
  }
  return result;
}

/** Field by field medians of result objects. */
function medianFields(samples) {
  return Object.fromEntries(Object.keys(samples[0]).map((key) => [key, median(samples.map((sample) => sample[key]))]));
}

async function deflating() {
  const result = { ...DEFLATE };
  result.memory = {};
  for (const config of ["none", "default", "nocontext"]) {
    result.memory[config] = {};
    for (const kind of ["wsdriver-node", "ws"]) {
      log(`deflate memory (${config}): ${kind}, ${DEFLATE.connections} connections × ${DEFLATE.messages} messages`);
      result.memory[config][kind] = await memory(kind, config, DEFLATE);
    }
  }
  const corpus = jsonCorpus(DEFLATE.corpusCount);
  result.corpusBytes = corpus.reduce((n, text) => n + Buffer.byteLength(text), 0) / corpus.length;
  result.corpus = {};
  for (const config of ["default", "nocontext"]) {
    log(`deflate corpus (${config}): ${DEFLATE.corpusCount} JSON messages`);
    const samples = { wsdriver: [], "wsdriver-pako": [], ws: [] };
    await interleaved(Object.keys(samples), NET_ROUNDS, async (name) => {
      samples[name].push(name === "ws" ? await corpusWs(config, corpus) : corpusOurs(config, corpus, name === "wsdriver" ? "zlib" : "pako"));
      return 0;
    });
    result.corpus[config] = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, medianFields(list)]));
  }
  log(`broadcast: one message to ${DEFLATE.connections} compressed connections`);
  const message = broadcastMessage();
  result.broadcastSize = Buffer.byteLength(message);
  const counter = { bytes: 0 };
  const targets = { ours: broadcastDriversOurs(DEFLATE.connections, counter), ws: broadcastSendersWs(DEFLATE.connections, counter) };
  const hows = ["prepared", "text", "ws"];
  const wire = {};
  result.broadcast = await interleaved(hows, ROUNDS, async (how) => {
    counter.bytes = 0;
    const rate = await broadcast(how, how === "ws" ? targets.ws : targets.ours, message);
    wire[how] = counter.bytes / DEFLATE.connections;
    return rate;
  });
  result.broadcastWire = wire;
  return result;
}

const started = Date.now();
const results = { machine: machine(), date: new Date().toISOString(), rounds: ROUNDS, netRounds: NET_ROUNDS, echoLoads: ECHO_LOADS, http2Echo: HTTP2_ECHO, handshakes: HANDSHAKES, idle: IDLE, flood: FLOOD };
const pureWs = startPureWs();
try {
  if (runs("parse")) results.parse = await parsing(pureWs);
  if (runs("frame")) results.frame = await framing(pureWs);
} finally {
  pureWs.close();
}
if (runs("utf8")) results.utf8 = utf8Decoding();
if (runs("echo") || runs("http2") || runs("handshake") || runs("heap") || runs("flood")) results.network = await network();
if (runs("runtimes")) results.runtimes = await runtimes();
if (runs("deflate")) results.deflate = await deflating();
if (runs("stream")) {
  log(`stream: ${STREAM.binaryBytes} B binary, ${STREAM.textBytes} B text, to disk and back`);
  results.stream = await streaming(STREAM);
}
results.seconds = (Date.now() - started) / 1000;

const markdown = renderMarkdown(results);
process.stdout.write(markdown);
if (ONLY === null) {
  writeFileSync(join(here, "..", "docs", "benchmarks.md"), markdown);
  writeFileSync(join(here, "..", "docs", "benchmarks.svg"), renderSvg(results));
  log("wrote docs/benchmarks.md and docs/benchmarks.svg");
}
