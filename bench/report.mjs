// Renders the results of a bench run: a Markdown page (docs/benchmarks.md) and a bar chart of the
// ratios (docs/benchmarks.svg).
import { formatRate, formatRatio } from "./common.mjs";

const PEERS = ["wsdriver", "wsdriver-pure", "ws", "ws-js", "websocket-driver"];
const PEER_NAMES = {
  wsdriver: "wsdriver (Node entry)", "wsdriver-pure": "wsdriver, pure core", ws: "ws + bufferutil", "ws-js": "ws, pure JS", "websocket-driver": "websocket-driver",
};
/** The pure core against the pure JavaScript ws: at least twice as fast at every size. */
const PURE_GOAL = 2.0;
/** Goals against each runtime's own server, by message size. */
const RUNTIME_GOALS = { deno: { small: 1.0, large: 1.0 }, bun: { small: 0.7, large: 1.0 } };
const isLarge = (name) => name.includes("KiB");
const SMALL = (name) => name.startsWith("text 16") || name.startsWith("binary 1 KiB");

function mb(bytesPerSecond) {
  return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond < 1e8 ? 1 : 0)} MB/s`;
}

/** Bytes per second as GB/s, or n/a when the figure was not taken (no bufferutil). */
function gb(rate) {
  return Number.isFinite(rate) ? `${(rate / 1e9).toFixed(2)} GB/s` : "n/a";
}

function verdict(value, goal, lowerIsBetter = false) {
  const met = lowerIsBetter ? value <= goal : value >= goal;
  return met ? "met" : "**not met**";
}

/** Every ratio the goal names, as rows of { group, label, value, goal, lowerIsBetter }. */
export function ratios(results) {
  const rows = [];
  for (const row of results.parse ?? []) {
    const goal = SMALL(row.name) ? 1.5 : 1.0;
    rows.push({ group: "parse", label: `parse ${row.name}`, value: row.rates.wsdriver / row.rates.ws, goal });
  }
  for (const row of results.parse ?? []) {
    if (!row.rates["wsdriver-pure"]) continue;
    rows.push({ group: "pure", label: `parse ${row.name}, pure ÷ ws pure JS`, value: row.rates["wsdriver-pure"] / row.rates["ws-js"], goal: PURE_GOAL });
  }
  for (const row of results.parse ?? []) {
    rows.push({ group: "unmask", label: `unmask ÷ memcpy, ${row.name}`, value: row.unmask / row.memcpy, goal: 0.25 });
  }
  for (const row of results.frame ?? []) {
    const goal = SMALL(row.name) ? 1.5 : 1.0;
    const side = row.masked ? "client" : "server";
    rows.push({ group: "frame", label: `frame (${side}) ${row.name}`, value: row.rates.wsdriver / row.rates.ws, goal });
  }
  for (const row of results.frame ?? []) {
    if (!row.rates["wsdriver-pure"]) continue;
    const side = row.masked ? "client" : "server";
    rows.push({ group: "pure", label: `frame (${side}) ${row.name}, pure ÷ ws pure JS`, value: row.rates["wsdriver-pure"] / row.rates["ws-js"], goal: PURE_GOAL });
  }
  const net = results.network ?? {};
  for (const [load, rates] of Object.entries(net.echo ?? {})) {
    rows.push({ group: "echo", label: `echo Node ${load}, wsdriver/node ÷ ws`, value: rates["wsdriver-node"] / rates.ws, goal: 1.0 });
  }
  for (const [runtime, figures] of Object.entries(results.runtimes ?? {})) {
    for (const [load, rates] of Object.entries(figures.echo)) {
      const goal = RUNTIME_GOALS[runtime]?.[isLarge(load) ? "large" : "small"] ?? null;
      rows.push({ group: runtime, label: `echo ${runtime === "deno" ? "Deno" : "Bun"} ${load}, ÷ its own server`, value: rates.wsdriver / rates.native, goal });
    }
  }
  if (net.handshakes) {
    rows.push({ group: "handshake", label: "handshakes, node:net (Driver.server)", value: net.handshakes.wsdriver / net.handshakes.ws, goal: null });
    rows.push({ group: "handshake", label: "handshakes, wsdriver/node adapter", value: net.handshakes["wsdriver-node"] / net.handshakes.ws, goal: null });
  }
  const deflate = results.deflate;
  if (deflate) {
    const { memory, corpus, broadcast } = deflate;
    rows.push({ group: "deflate", label: "deflate default: bytes per message ÷ ws (lower is better)", value: corpus.default.wsdriver.bytesPerMessage / corpus.default.ws.bytesPerMessage, goal: 1.1, lowerIsBetter: true });
    rows.push({ group: "deflate", label: "deflate default: RSS per connection ÷ ws (lower is better)", value: memory.default["wsdriver-node"].rss / memory.default.ws.rss, goal: null, lowerIsBetter: true });
    rows.push({ group: "deflate", label: "broadcast, prepared ÷ ws send per connection", value: broadcast.prepared / broadcast.ws, goal: 5 });
  }
  return rows;
}

/** The deflate part: memory, the corpus, broadcast. */
function renderDeflate(out, deflate) {
  const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  const { memory, corpus, broadcast } = deflate;
  out.push("## permessage-deflate at scale", "");
  out.push(`Memory: ${deflate.connections} loopback connections to an echo server in a child process (ours through the Node adapter,`);
  out.push(`ws's \`WebSocketServer\`), each sending ${deflate.messages} JSON messages of about 180 B, compressed as a browser compresses them,`);
  out.push("and reading their echoes; RSS and heap per connection after a full GC, less the server's before the connections. The");
  out.push("offers are a browser's (`permessage-deflate; client_max_window_bits`) for the shipped defaults (`deflate()`,");
  out.push("`perMessageDeflate: true`), and one with both `*_no_context_takeover` for servers configured with both. ws compresses");
  out.push("no message under 1 KiB when it keeps no context (its `threshold`); ours compresses every one.", "");
  out.push("| configuration | server | RSS per connection | over the same server without compression | heap per connection | echoed bytes per message | goal |");
  out.push("|---|---|---:|---:|---:|---:|---|");
  const labels = { none: "no compression", default: "shipped default, browser offer", nocontext: "no context takeover both ways" };
  const goals = { default: 64 * 1024, nocontext: 4 * 1024 };
  for (const config of ["none", "default", "nocontext"]) {
    for (const kind of ["wsdriver-node", "ws"]) {
      const row = memory[config][kind];
      const over = row.rss - memory.none[kind].rss;
      const goal = kind === "wsdriver-node" && goals[config] ? `≤ ${kib(goals[config])}, ${verdict(config === "nocontext" ? over : row.rss, goals[config], true)}` : "";
      out.push(`| ${labels[config]} | ${kind === "ws" ? "ws" : "wsdriver"} | ${kib(row.rss)} | ${config === "none" ? "–" : kib(over)} | ${kib(row.heap)} | ${row.bytesPerMessage.toFixed(1)} B | ${goal} |`);
    }
  }
  out.push("", `The goal for no context takeover counts what compression adds: a connection's socket costs the same with or without it.`);
  out.push("", `A corpus of ${deflate.corpusCount} JSON messages (${deflate.corpusBytes.toFixed(0)} B on average) through one connection's compressor (a server's`);
  out.push("`text`; ws's `PerMessageDeflate.compress`) and then its peer's decompressor, one message at a time. ws runs zlib");
  out.push("asynchronously on its thread pool: its time per message is what a connection waits for each one.", "");
  out.push("| configuration | implementation | bytes per message | ÷ ws | compress, µs per message | inflate, µs per message |");
  out.push("|---|---|---:|---:|---:|---:|");
  for (const config of ["default", "nocontext"]) {
    for (const name of ["wsdriver", "wsdriver-pako", "ws"]) {
      const row = corpus[config][name];
      if (row === undefined) continue;
      out.push(`| ${labels[config]} | ${name === "wsdriver-pako" ? "wsdriver, `pakoEngine` (pure JS)" : name} | ${row.bytesPerMessage.toFixed(1)} B | ${formatRatio(row.bytesPerMessage / corpus[config].ws.bytesPerMessage)} | ${row.compressMicros.toFixed(1)} | ${row.inflateMicros.toFixed(1)} |`);
    }
  }
  out.push("", `Broadcast: one ${deflate.broadcastSize} B JSON message to ${deflate.connections} server connections that compress without context`);
  out.push("(`server_no_context_takeover`), written to counting sockets in the same process. Connections per second:", "");
  out.push("| how | connections/s | ÷ ws | bytes written per connection | goal |");
  out.push("|---|---:|---:|---:|---|");
  const hows = [["prepared", "wsdriver `sendPrepared(prepareMessage(message))`: compressed and framed once"], ["text", "wsdriver `text(message)` on each connection"], ["ws", "ws `Sender#send` on each connection"]];
  for (const [how, label] of hows) {
    const ratio = broadcast[how] / broadcast.ws;
    out.push(`| ${label} | ${formatRate(broadcast[how])} | ${formatRatio(ratio)} | ${deflate.broadcastWire[how].toFixed(0)} B | ${how === "prepared" ? `≥ 5×, ${verdict(ratio, 5)}` : ""} |`);
  }
  out.push("");
}

export function renderMarkdown(results) {
  const m = results.machine;
  const out = [];
  out.push("# Benchmarks", "");
  out.push("Written by `npm run bench` (`bench/index.mjs`); do not edit by hand. Every figure below comes from one run in which");
  out.push("ours and the peers were measured side by side: each round runs every implementation once, in a rotating");
  out.push(`order, after one warm-up round; the figure is the median of ${results.rounds} rounds (${results.netRounds} for the loopback parts).`);
  out.push("The machine is shared and noisy, so read the ratios, not the absolute numbers.", "");
  out.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.platform}`);
  out.push(`- Node ${m.node}; run on ${results.date.slice(0, 10)}, took ${Math.round(results.seconds)} s`);
  out.push("- Peers: `ws` with `bufferutil` (native masking), `ws` pure JavaScript (`WS_NO_BUFFER_UTIL=1`, in a child");
  out.push("  process), `websocket-driver`. wsdriver is built to `dist/` and loaded through its Node entry, as");
  out.push("  `import \"wsdriver\"` loads it on Node: the core with Node's fast paths (bufferutil's native masking,");
  out.push("  uninitialised buffers). \"wsdriver, pure core\" is the same build with `WSDRIVER_NO_FAST_PATHS=1`, in the");
  out.push("  child that runs the pure ws: the core as Deno, Bun and browsers run it. Compare each with the peer in");
  out.push("  its own process (Node entry ÷ ws + bufferutil, pure core ÷ pure ws): figures from the two processes");
  out.push("  differ by more than the code does on this shared machine.");
  if (results.runtimes) {
    const versions = Object.entries(results.runtimes).map(([runtime, figures]) => `${runtime === "deno" ? "Deno" : "Bun"} ${figures.version}`);
    out.push(`- Other runtimes: ${versions.join(", ")} (the \`deno\` and \`bun\` npm packages' binaries).`);
  }
  out.push("");
  out.push("![Ratios of wsdriver to ws + bufferutil](benchmarks.svg)", "");

  if (results.parse) {
    out.push("## Parsing", "");
    out.push("A server reads masked client frames fed in 64 KiB chunks and emits one message event per frame. Every parser");
    out.push("gets a fresh copy of the input for every run (parsers unmask in place). MB/s counts the bytes on the wire.");
    out.push("ws hands text to its user as a `Buffer`; wsdriver decodes it to a `string`, and the figure includes that.", "");
    out.push(`| frames | ${PEERS.map((p) => PEER_NAMES[p]).join(" | ")} | wsdriver ÷ ws + bufferutil | goal | pure ÷ ws pure JS | goal |`);
    out.push(`|---|${PEERS.map(() => "---:").join("|")}|---:|---|---:|---|`);
    for (const row of results.parse) {
      const ratio = row.rates.wsdriver / row.rates.ws;
      const pure = row.rates["wsdriver-pure"] / row.rates["ws-js"];
      const goal = SMALL(row.name) ? 1.5 : 1.0;
      const cells = PEERS.map((p) => `${mb(row.rates[p])}${SMALL(row.name) ? ` (${formatRate(row.rates[p] * row.messages / row.bytes)} msg/s)` : ""}`);
      out.push(`| ${row.name} | ${cells.join(" | ")} | ${formatRatio(ratio)} | ≥ ${goal.toFixed(1)}×, ${verdict(ratio, goal)} | ${formatRatio(pure)} | ≥ ${PURE_GOAL.toFixed(1)}×, ${verdict(pure, PURE_GOAL)} |`);
    }
    out.push("", "Unmasking (RFC 6455 §5.3) on the same bytes, against a plain copy of them and against bufferutil's native unmasking;", "wsdriver's figure is its pure unmasking (what the core uses where no runtime lends native code):", "");
    out.push("| input | memcpy | wsdriver unmask | unmask ÷ memcpy | goal | bufferutil unmask | wsdriver ÷ bufferutil |");
    out.push("|---|---:|---:|---:|---|---:|---:|");
    for (const row of results.parse) {
      const ratio = row.unmask / row.memcpy;
      out.push(`| ${row.name} | ${gb(row.memcpy)} | ${gb(row.unmask)} | ${(ratio * 100).toFixed(1)}% | ≥ 25%, ${verdict(ratio, 0.25)} | ${gb(row.nativeUnmask)} | ${formatRatio(row.unmask / row.nativeUnmask)} |`);
    }
    out.push("", "A buffer per message, filled by a copy of the payload: zero-filled (`new Uint8Array`, all that web-standard");
    out.push("APIs offer) against uninitialised (`Buffer.allocUnsafe`, which ws uses). Payload bytes per second:", "");
    out.push("| messages | zero-filled + copy | uninitialised + copy | ratio |");
    out.push("|---|---:|---:|---:|");
    for (const row of results.parse) {
      out.push(`| ${row.name} | ${gb(row.zeroFilled)} | ${gb(row.uninitialised)} | ${formatRatio(row.zeroFilled / row.uninitialised)} |`);
    }
    const large = results.parse.find((row) => row.name.startsWith("binary 64 KiB"));
    if (large) {
      out.push("", `Why the Node entry lends the core native masking and uninitialised buffers (\`lib/node/fast-paths.ts\`): on`);
      out.push(`64 KiB frames in this run the pure unmasking ran at ${gb(large.unmask)} against bufferutil's ${gb(large.nativeUnmask)},`);
      out.push(`and a zero-filled buffer per message at ${gb(large.zeroFilled)} against ${gb(large.uninitialised)} uninitialised. A frame`);
      out.push("that spans input chunks must be joined into a buffer of its own, and a client must mask a copy of a payload");
      out.push("(the caller's bytes are not its to change), so large messages pay both, where small ones are unmasked in");
      out.push("place as views of the input and framed into shared slabs. The pure core keeps both pure paths.");
    }
    out.push("");
  }

  if (results.frame) {
    out.push("## Framing", "");
    out.push("`text`/`binary` in, frame bytes out to a `write` that counts them; the client masks with a fresh key per frame.");
    out.push("ws leaves a string for the socket to encode, so the counting sink encodes strings: every implementation pays");
    out.push("for the same bytes. Messages per second:", "");
    out.push(`| messages | side | ${PEERS.map((p) => PEER_NAMES[p]).join(" | ")} | wsdriver ÷ ws + bufferutil | goal | pure ÷ ws pure JS | goal |`);
    out.push(`|---|---|${PEERS.map(() => "---:").join("|")}|---:|---|---:|---|`);
    for (const row of results.frame) {
      const ratio = row.rates.wsdriver / row.rates.ws;
      const pure = row.rates["wsdriver-pure"] / row.rates["ws-js"];
      const goal = SMALL(row.name) ? 1.5 : 1.0;
      const cells = PEERS.map((p) => formatRate(row.rates[p]));
      out.push(`| ${row.name} | ${row.masked ? "client (masked)" : "server"} | ${cells.join(" | ")} | ${formatRatio(ratio)} | ≥ ${goal.toFixed(1)}×, ${verdict(ratio, goal)} | ${formatRatio(pure)} | ≥ ${PURE_GOAL.toFixed(1)}×, ${verdict(pure, PURE_GOAL)} |`);
    }
    out.push("");
  }

  const net = results.network;
  if (net) {
    const servers = [
      ["wsdriver", "wsdriver on node:net (`Driver.server`), socket corked while a chunk is parsed"],
      ["wsdriver-node", "wsdriver on node:http `upgrade` via `wsdriver/node` (`acceptUpgrade`), as shipped"],
      ["ws", "ws + bufferutil (`WebSocketServer`)"],
      ["ws-js", "ws, pure JS"],
    ];
    out.push("## Over loopback", "");
    out.push("Each server runs in its own child process on 127.0.0.1; the load generator (`bench/load.mjs`) is the same for all:");
    out.push("raw sockets that write pre-built masked frames and count the echoed bytes. The first wsdriver server corks");
    out.push("its socket while it parses a chunk, so the echoes of every frame in that chunk leave in one `writev`: a choice");
    out.push("the sans-I/O design leaves to the embedder; like ws, it gives every socket the same listener functions rather");
    out.push("than closures of its own (`bench/server.mjs`). The second is the shipped Node adapter as it is, which does the");
    out.push("same for its users (it corks the socket around each `parse` and until the end of a tick for other writes);");
    out.push("ws writes each frame as it goes. Our servers take text as its checked UTF-8 bytes (`textData: \"bytes\"`) and");
    out.push("send it back with `text(bytes)`, as ws hands its users text as a `Buffer` and sends it back unencoded.", "");
    const bytes = (value) => (value ? `${value.toFixed(0)} B` : "–");
    const loads = Object.keys(net.echo ?? {});
    if (loads.length > 0) {
      out.push("Echo, messages per second (÷ ws + bufferutil in the same run):", "");
      out.push(`| server | ${loads.join(" | ")} |`);
      out.push(`|---|${loads.map(() => "---:").join("|")}|`);
      for (const [key, label] of servers) {
        out.push(`| ${label} | ${loads.map((load) => `${formatRate(net.echo[load][key])} (${formatRatio(net.echo[load][key] / net.echo[load].ws)})`).join(" | ")} |`);
      }
      out.push("");
    }
    if (net.handshakes || net.idle) {
      out.push(`| server | handshakes/s | ÷ ws | idle heap per connection | idle, after a message each way |`);
      out.push("|---|---:|---:|---:|---:|");
      for (const [key, label] of servers) {
        const hs = net.handshakes?.[key];
        out.push(`| ${label} | ${hs ? hs.toFixed(0) : "–"} | ${hs ? formatRatio(hs / net.handshakes.ws) : "–"} | ${bytes(net.idle?.[key])} | ${bytes(net.idleAfterMessage?.[key])} |`);
      }
      out.push("");
    }
    out.push(`- Echo: ${echoLoadsText(results.echoLoads)}; the rate counts echoed messages from the first write to the`);
    out.push("  last echoed byte. Goal: the Node adapter ≥ 1.0× ws in every column.");
    out.push(`- Handshakes: ${results.handshakes.count} connections, ${results.handshakes.concurrency} at a time, each dropped once the 101 arrives.`);
    out.push(`- Idle heap: \`heapUsed\` after a full GC (\`--expose-gc\`) in the server process, with ${results.idle.count} open idle connections`);
    out.push("  less with none, divided by the count. It includes Node's own per-socket objects, the same for every server.");
    out.push("  The last column is the same after each connection sent one short text message and read its echo.");
    if (net.idle?.wsdriver && net.idle?.ws) {
      const figure = (set, key) => (set?.[key] ? `${set[key].toFixed(0)} B (${verdict(set[key], 2048, true)})` : "–");
      out.push(`  Goal ≤ 2048 B per idle connection: with its socket, wsdriver holds ${figure(net.idle, "wsdriver")} on node:net and`);
      out.push(`  ${figure(net.idle, "wsdriver-node")} through the Node adapter (with its default limits: handshakeTimeout, idleTimeout, closeTimeout and maxBufferedAmount all on), against ws's ${net.idle.ws.toFixed(0)} B; after a message each way,`);
      out.push(`  ${figure(net.idleAfterMessage, "wsdriver")} and ${figure(net.idleAfterMessage, "wsdriver-node")}, against ws's ${net.idleAfterMessage?.ws ? `${net.idleAfterMessage.ws.toFixed(0)} B` : "–"}.`);
    }
    if (net.echoHttp2) {
      const { http1, http2 } = net.echoHttp2;
      out.push("", "### Echo over HTTP/2 (RFC 8441)", "");
      const { connections, messages, size } = results.http2Echo;
      out.push(`The same echo (${messages} text messages of ${size} B per WebSocket) through the same Node adapter: ${connections} WebSockets on ${connections} HTTP/1.1`);
      out.push(`connections (\`acceptUpgrade\`), and as ${connections} extended CONNECT streams of one cleartext HTTP/2 connection`);
      out.push("(`acceptStream` on `node:http2`, the load generator's streams writing the same pre-built frames), in alternating rounds.");
      out.push("Both sides raise the HTTP/2 connection's flow-control window to 16 MiB (`bench/server.mjs`, `bench/load.mjs`).", "");
      out.push("| transport | echo, msg/s | ÷ HTTP/1.1 |");
      out.push("|---|---:|---:|");
      out.push(`| HTTP/1.1, one connection per WebSocket | ${formatRate(http1)} | 1.00× |`);
      out.push(`| HTTP/2, every WebSocket a stream of one connection | ${formatRate(http2)} | ${formatRatio(http2 / http1)} |`);
    }
    if (net.driverHeap) {
      out.push("", "The protocol code's share alone, without a socket (10,000 server drivers that read a request and answered it):", "");
      out.push("| driver | heap per open connection | goal |");
      out.push("|---|---:|---|");
      for (const [name, bytes] of Object.entries(net.driverHeap)) {
        out.push(`| ${name} | ${bytes.toFixed(0)} B | ${name.startsWith("wsdriver") ? `≤ 2048 B, ${verdict(bytes, 2048, true)}` : ""} |`);
      }
    }
    if (net.flood) {
      out.push("", `A peer that floods the shipped echo servers for ${results.flood.seconds} s and never reads what comes back (pings of`);
      out.push("125 B, whose pongs are the server's to send, or 1 KiB binary messages the server echoes), each server with its");
      out.push("default options; the server's peak RSS over its RSS before. Goal: ≤ 64 MiB of growth.", "");
      out.push("| server, flood | RSS growth | bytes the peer got in | server closed it |");
      out.push("|---|---:|---:|---|");
      for (const [name, run] of Object.entries(net.flood)) {
        const growth = run.growth / 2 ** 20;
        out.push(`| ${name} | ${growth.toFixed(1)} MiB${name.startsWith("wsdriver") ? ` (${verdict(growth, 64, true)})` : ""} | ${(run.sent / 2 ** 20).toFixed(1)} MiB | ${run.closed ? "yes" : "no"} |`);
      }
    }
    out.push("");
  }
  if (results.utf8) {
    out.push("## UTF-8 decoding", "");
    out.push("The ways the core can decode a text message and check it (`lib/util/utf8.ts`, `bench/utf8.mjs`): the fatal");
    out.push("`TextDecoder` alone; the core's default, which builds ASCII text of up to 16 bytes in JavaScript and leaves the rest to");
    out.push("the fatal decoder; and decoding by replacement, short ASCII first, then the replacing `TextDecoder` and a search for");
    out.push("U+FFFD (the fatal decoder decides when there is one). Each runtime's entry picks one: the default on Node, decoding by");
    out.push("replacement on Deno, the fatal decoder alone on Bun. \"mixed\" text has a two-byte character every 7 bytes. Messages");
    out.push("per second, and ÷ the fatal decoder:", "");
    out.push("| runtime | text | fatal | default | by replacement |");
    out.push("|---|---|---:|---:|---:|");
    for (const [runtime, loads] of Object.entries(results.utf8)) {
      for (const [load, rates] of Object.entries(loads)) {
        out.push(`| ${runtime} | ${load} | ${formatRate(rates.fatal)} | ${formatRate(rates.core)} (${formatRatio(rates.core / rates.fatal)}) | ${formatRate(rates.replacement)} (${formatRatio(rates.replacement / rates.fatal)}) |`);
      }
    }
    out.push("");
  }
  if (results.runtimes) {
    out.push("## Deno and Bun", "");
    out.push("The same load generator (Node, `bench/load.mjs`) against ours through the runtime's adapter and against the");
    out.push("server that runtime's users already have, each in a child process of that runtime (`bench/runtimes/`), with");
    out.push("the same echo loads as above. Ours takes text as bytes (`textData: \"bytes\"`, echoed with `text(bytes)`);");
    out.push("Deno's and Bun's servers do what their users do (Deno's hands a string in and takes it back). Messages per");
    out.push("second, and ours ÷ theirs:", "");
    for (const [runtime, figures] of Object.entries(results.runtimes)) {
      const info = RUNTIME_LABELS[runtime];
      out.push(`### ${info.title} ${figures.version}`, "");
      out.push(`| load | wsdriver: ${info.ours} | ${info.peer} | ÷ | goal |`);
      out.push("|---|---:|---:|---:|---|");
      for (const [load, rates] of Object.entries(figures.echo)) {
        const ratio = rates.wsdriver / rates.native;
        const goal = RUNTIME_GOALS[runtime][isLarge(load) ? "large" : "small"];
        out.push(`| ${load} | ${formatRate(rates.wsdriver)} | ${formatRate(rates.native)} | ${formatRatio(ratio)} | ≥ ${goal.toFixed(1)}×, ${verdict(ratio, goal)} |`);
      }
      out.push("");
    }
  }
  if (results.deflate) renderDeflate(out, results.deflate);
  if (results.stream) {
    const MiB = 1024 * 1024;
    out.push("## Messages in pieces, to disk and back", "");
    out.push("A binary and a text message through a server of ours on the Node adapter over loopback (`bench/streaming.mjs`): the");
    out.push("client pipes a file into the message (`sendStream`, 1 MiB pieces), the server pipes it into a file (`receiveStreams`),");
    out.push("then sends that file back the same way; then the same message with no disk (from memory, counted and dropped), up");
    out.push("to 1 GiB. The ceilings, measured just after on the same file: the disk alone (file to file, the same reader and");
    out.push("writer), the same file to file over two sockets with no WebSocket (Node streams), and raw `node:net` between two");
    out.push("sockets, no disk. Ratios are to the no-WebSocket pipe and to raw loopback. Client and server are one process; RSS");
    out.push("growth is its peak over its RSS once connected and warmed up.", "");
    out.push("| message | size | to disk, up / back, GB/s | disk alone | no WebSocket | ratio | from memory, up / back | raw loopback | ratio | RSS growth | same bytes back |");
    out.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    const gbps = (rate) => (rate / 1e9).toFixed(2);
    const ratio = (a, b, ceiling) => (ceiling > 0 ? `${(a / ceiling).toFixed(2)} / ${(b / ceiling).toFixed(2)}` : "–");
    for (const leg of results.stream.legs) {
      out.push(`| ${leg.type} | ${(leg.bytes / MiB).toFixed(0)} MiB | ${gbps(leg.up)} / ${gbps(leg.down)} | ${gbps(leg.disk)} | ${gbps(leg.filePipe)} | ${ratio(leg.up, leg.down, leg.filePipe)} | ${gbps(leg.memoryUp)} / ${gbps(leg.memoryDown)} | ${gbps(leg.ceiling)} | ${ratio(leg.memoryUp, leg.memoryDown, leg.ceiling)} | ${(leg.rssGrowth / MiB).toFixed(1)} MiB (≤ 64 MiB, ${verdict(leg.rssGrowth, 64 * MiB, true)}) | ${leg.same ? "yes" : "NO"} |`);
    }
    out.push("");
  }
  out.push("## Reproduce", "", "```sh", "npm run bench                      # everything (the header above says how long it took)", "BENCH_ONLY=parse,frame npm run bench  # some parts (prints, leaves the docs alone)", "BENCH_ONLY=runtimes npm run bench     # Deno and Bun only", "BENCH_ONLY=deflate BENCH_DEFLATE_CONNECTIONS=2000 npm run bench  # the deflate part, smaller", "BENCH_ONLY=stream BENCH_STREAM_BYTES=4294967296 BENCH_STREAM_TEXT_BYTES=1073741824 npm run bench  # messages in pieces, full size", "```", "");
  return out.join("\n");
}

const RUNTIME_LABELS = {
  deno: { title: "Deno", ours: "`wsdriver/deno` `accept` on `Deno.listen`", peer: "`Deno.serve` + `Deno.upgradeWebSocket`" },
  bun: { title: "Bun", ours: "`wsdriver/bun` `serverHandlers` on `Bun.listen`", peer: "`Bun.serve` websocket (uWebSockets)" },
};

function echoLoadsText(loads) {
  return loads.map((l) => `${l.name}: ${l.connections} connections × ${l.messages} messages, at most ${l.window} in flight each`).join("; ");
}

function escapeXml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A horizontal bar per ratio, a line at 1.0 (parity with ws + bufferutil) and a tick at each goal. */
export function renderSvg(results) {
  // The deflate ratios (memory, bytes, broadcast) are on scales of their own: they are in the tables.
  const rows = ratios(results).filter((row) => row.group !== "deflate");
  const labelWidth = 400, plotWidth = 460, rowHeight = 22, top = 56, left = labelWidth + 10;
  const max = Math.max(2, Math.ceil(Math.max(...rows.map((r) => r.value)) * 2) / 2);
  const x = (v) => left + (v / max) * plotWidth;
  const height = top + rows.length * rowHeight + 40;
  const width = left + plotWidth + 90;
  const colors = { parse: "#2f6fb0", pure: "#6fa8dc", unmask: "#7a5cb8", frame: "#2e8b57", echo: "#c47a1c", deno: "#3b3b3b", bun: "#d4a017", handshake: "#8a8a8a" };
  const svg = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  svg.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  svg.push(`<text x="10" y="20" font-size="15" font-weight="bold">wsdriver ÷ ws + bufferutil (pure core ÷ pure ws; unmasking ÷ memcpy; Deno, Bun ÷ their servers)</text>`);
  svg.push(`<text x="10" y="38" fill="#555">${escapeXml(`${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}, ${results.date.slice(0, 10)}. Tick: goal. Dashed: 1.0×.`)}</text>`);
  for (let v = 0; v <= max; v += 0.5) {
    svg.push(`<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${top + rows.length * rowHeight}" stroke="#eee"/>`);
    svg.push(`<text x="${x(v)}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#555">${v.toFixed(1)}×</text>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const met = row.goal === null || row.value >= row.goal;
    svg.push(`<text x="${labelWidth}" y="${y + 15}" text-anchor="end">${escapeXml(row.label)}</text>`);
    svg.push(`<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(Math.min(row.value, max)) - left)}" height="${rowHeight - 8}" fill="${colors[row.group]}" opacity="${met ? 1 : 0.55}"/>`);
    if (row.goal !== null) svg.push(`<line x1="${x(row.goal)}" y1="${y + 1}" x2="${x(row.goal)}" y2="${y + rowHeight - 1}" stroke="#c00" stroke-width="2"/>`);
    svg.push(`<text x="${x(Math.min(row.value, max)) + 6}" y="${y + 15}" fill="#222">${row.value.toFixed(2)}×</text>`);
  });
  svg.push(`<line x1="${x(1)}" y1="${top - 4}" x2="${x(1)}" y2="${top + rows.length * rowHeight}" stroke="#333" stroke-dasharray="4 3"/>`);
  svg.push("</svg>");
  return svg.join("\n") + "\n";
}
