/**
 * permessage-deflate between our own server and client drivers, joined in memory, on whichever
 * runtime runs this (Node through jest, Deno and Bun as child processes): the runtime's `node:zlib`
 * engine must compress and inflate synchronously and keep its window between messages. Returns
 * (and, run as a script, prints) what it saw.
 */
import { Driver, deflate, prepareMessage } from "../../../lib/index.js";
import type { DeflateOptions } from "../../../lib/index.js";
import { getDeflateEngine } from "../../../lib/extensions/codec.js";
import { hex, pair as connect } from "../../../lib/testing/index.js";

export const SIZES = [0, 1, 5, 125, 126, 65535, 65536, 1 << 20];

function payloadOf(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = 97 + ((i * seed + (i >> 4)) % 7);
  return out;
}

export interface PairResult {
  negotiated: string | undefined;
  echoed: boolean[];
  texts: boolean;
  /** Bytes the client wrote for the binary messages, over their total size. */
  ratio: number;
  /** The server's frames for "Hello" twice (RFC 7692 §7.2.3.2). */
  hello: string;
}

/** A server and a client with `deflate(options)`, joined in memory. */
export function pair(options: DeflateOptions): PairResult {
  const { client, clientEvents, toServer, toClient, server } = connect({
    url: "ws://127.0.0.1/",
    deflate: options,
    handler: (driver) => driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data))),
  });

  // RFC 7692 §7.2.3.2 while the windows are fresh.
  toClient.take();
  server.text("Hello");
  server.text("Hello");
  const hello = toClient.chunks.map(hex).join(" | ");
  const before = clientEvents.messages.length;

  const sent = SIZES.map((size, i) => payloadOf(size, i + 3));
  toServer.take();
  for (const message of sent) client.binary(message);
  const binaryBytes = toServer.take().length;
  const text = "héllo wörld ☃ 😀 ".repeat(500);
  client.text(text);
  client.text(text);
  const total = sent.reduce((n, m) => n + m.length, 0);
  const received = clientEvents.messages.slice(before);
  return {
    negotiated: client.headers["sec-websocket-extensions"],
    echoed: sent.map((message, i) => {
      const got = received[i];
      return got instanceof Uint8Array && got.length === message.length && got.every((b, j) => b === message[j]);
    }),
    texts: received[sent.length] === text && received[sent.length + 1] === text,
    ratio: Math.round((binaryBytes / total) * 100) / 100,
    hello,
  };
}

/** A 64 MiB message of zeros, compressed to a few kilobytes, sent to a server with a 1 MiB maxLength. */
export function zipBomb(): { code: number; reason: string; errors: string[] } {
  const deflater = getDeflateEngine().createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
  const bomb = deflater.deflate(new Uint8Array(64 * 1024 * 1024));
  deflater.close();
  const payload = bomb.subarray(0, bomb.length - 4);
  const server = Driver.server({ write: () => true }, { maxLength: 1024 * 1024 });
  server.addExtension(deflate());
  server.on("connect", () => server.start());
  const errors: string[] = [];
  let closed = { code: 0, reason: "" };
  server.on("error", (error) => errors.push(error.message));
  server.on("close", (event) => { closed = event; });
  const head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
  server.parse(new TextEncoder().encode(head));
  // One masked binary frame with RSV1 (a zero masking key leaves the payload as it is).
  const frame = new Uint8Array(14 + payload.length);
  frame[0] = 0xc2;
  frame[1] = 0x80 | 127;
  const view = new DataView(frame.buffer);
  view.setUint32(6, payload.length);
  frame.set(payload, 14);
  server.parse(frame);
  return { ...closed, errors };
}

/**
 * RFC 7692 §7.2.3.4's "Hello" ended by a BFINAL block, twice, then "Hello" and its back-reference
 * (§7.2.3.2): the messages a server reads, each DEFLATE stream after a final block read afresh.
 */
export function afterFinalBlock(): string[] {
  const server = Driver.server({ write: () => true });
  server.addExtension(deflate());
  server.on("connect", () => server.start());
  const messages: string[] = [];
  server.on("message", ({ data }) => messages.push(String(data)));
  server.on("close", ({ code }) => messages.push(`close ${code}`));
  const head = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
  server.parse(new TextEncoder().encode(head));
  const payloads = [
    [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00], [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
    [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], [0xf2, 0x00, 0x11, 0x00, 0x00],
  ];
  // Masked text frames with RSV1 and a zero masking key, which leaves the payload as it is.
  for (const payload of payloads) server.parse(Uint8Array.of(0xc1, 0x80 | payload.length, 0, 0, 0, 0, ...payload));
  return messages;
}

/**
 * Connections taking turns on shared streams (lib/extensions/contexts.ts): three pairs that keep
 * context with room for one live stream each way, and three that keep none, their messages
 * interleaved both ways, each message repeating the one before it on that connection (a
 * back-reference across a hand-over: the compressor primed with what it sent, the decompressor
 * with what it received); then one prepared message to the three servers that keep no context.
 * Returns what each client and server read, and whether the prepared frame was one for all.
 */
export function shared(): { context: string[]; noContext: string[]; prepared: string[]; oneFrame: boolean } {
  const connect = (options: DeflateOptions, frames?: Uint8Array[]) => {
    const atServer: string[] = [], atClient: string[] = [];
    const server = Driver.server({ write: (chunk) => { if (frames && server.readyState === 1) frames.push(chunk); client.parse(chunk.slice()); } });
    const client = Driver.client("ws://127.0.0.1/", { write: (chunk) => server.parse(chunk.slice()) });
    server.addExtension(deflate(options));
    client.addExtension(deflate(options));
    server.on("connect", () => server.start());
    server.on("message", ({ data }) => atServer.push(String(data)));
    client.on("message", ({ data }) => atClient.push(String(data)));
    client.start();
    return { server, client, atServer, atClient };
  };
  const talk = (pairs: Array<ReturnType<typeof connect>>) => {
    for (let round = 0; round < 3; round++) {
      pairs.forEach((p, i) => p.server.text(`server ${i} says ${"la ".repeat(i + 5)}`.repeat(round + 1)));
      pairs.forEach((p, i) => p.client.text(`client ${i} says ${"lo ".repeat(i + 5)}`.repeat(round + 1)));
    }
    return pairs.flatMap((p) => [p.atClient.join(" | "), p.atServer.join(" | ")]);
  };
  const context = talk([0, 1, 2].map(() => connect({ liveContexts: 1 })));
  const framesOf = [[], [], []] as Uint8Array[][];
  const plain = [0, 1, 2].map((i) => connect({ serverNoContextTakeover: true, clientNoContextTakeover: true }, framesOf[i]));
  const noContext = talk(plain);
  const message = prepareMessage("one for all, ".repeat(20));
  for (const p of plain) {
    p.atClient.length = 0;
    framesOf[plain.indexOf(p)].length = 0;
    p.server.sendPrepared(message);
  }
  return {
    context, noContext,
    prepared: plain.map((p) => p.atClient.join(" | ")),
    oneFrame: framesOf.every((frames) => frames.length === 1 && frames[0] === framesOf[0][0]),
  };
}

const main = (globalThis as { process?: { argv?: string[] } }).process?.argv?.includes("--print");
if (main) {
  console.log(JSON.stringify({
    takeover: pair({}),
    noTakeover: pair({ serverNoContextTakeover: true, clientNoContextTakeover: true }),
    bomb: zipBomb(),
    afterFinalBlock: afterFinalBlock(),
    shared: shared(),
  }));
}
