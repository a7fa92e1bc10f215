/**
 * Messages in pieces as web streams (`wsdriver/streams`) with no runtime-specific API, run by each
 * runtime's script: the client pipes a generated binary message and a text message into
 * `sendStream`; the server pipes each incoming message's readable straight back into a
 * `sendStream` of its own (an echo that never holds a message whole); the client reads the echoes
 * from `receiveStreams` and compares them. The result is printed as one JSON line for the spec.
 */
import type { AdapterConnection } from "../../../lib/adapters/connection.js";
import { receiveStreams, sendStream } from "../../../lib/adapters/streams.js";
import type { ClientDriver, ServerDriver } from "../../../lib/types.js";

export const STREAM_BYTES = 3 * 1024 * 1024 + 5;
export const STREAM_TEXT = "héllo wörld ☃ 😀 ".repeat(20000);

/** The server: starts the handshake, and echoes every message in pieces, one after another. */
export function streamEcho(connection: AdapterConnection<ServerDriver>): Promise<number> {
  const { driver } = connection;
  driver.on("connect", () => driver.start());
  let previous: Promise<unknown> = Promise.resolve();
  receiveStreams(connection, ({ type, readable }) => {
    previous = previous.then(() => readable.pipeTo(sendStream(connection, type)));
  });
  return new Promise((resolve) => driver.on("close", ({ code }) => resolve(code)));
}

/** A piece of the binary message: 64 KiB of a pattern, the last one shorter. */
function pieceAt(offset: number): Uint8Array {
  const out = new Uint8Array(Math.min(65536, STREAM_BYTES - offset));
  for (let i = 0; i < out.length; i++) out[i] = ((offset + i) * 131 + 7) & 0xff;
  return out;
}

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value.slice());
  }
}

/** The client: sends both messages in pieces, reads both echoes in pieces, then closes. */
export async function streamExchange(connection: AdapterConnection<ClientDriver>): Promise<{ binary: boolean; text: boolean; close: number }> {
  const { driver } = connection;
  const closed = new Promise<number>((resolve) => driver.on("close", ({ code }) => resolve(code)));
  await new Promise((resolve) => driver.on("open", resolve));
  const echoes: Array<Promise<Uint8Array[]>> = [];
  receiveStreams(connection, ({ readable }) => echoes.push(readAll(readable)));
  let offset = 0;
  await new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= STREAM_BYTES) return controller.close();
      const piece = pieceAt(offset);
      offset += piece.length;
      controller.enqueue(piece);
    },
  }).pipeTo(sendStream(connection, "binary"));
  const pieces = STREAM_TEXT.match(/[\s\S]{1,333}/g) as string[];
  await new ReadableStream<string>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  }).pipeTo(sendStream(connection, "text"));
  for (let turn = 0; turn < 500 && echoes.length < 2; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
  const [binaryChunks, textChunks] = await Promise.all(echoes);
  let binary = true, at = 0;
  for (const chunk of binaryChunks) {
    for (let i = 0; i < chunk.length && binary; i++) binary = chunk[i] === (((at + i) * 131 + 7) & 0xff);
    at += chunk.length;
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const text = textChunks.map((chunk) => decoder.decode(chunk)).join("") === STREAM_TEXT;
  driver.close("done", 4002);
  return { binary: binary && at === STREAM_BYTES, text, close: await closed };
}

export const SLOW_BYTES = 48 * 1024 * 1024;
export const SLOW_HIGH_WATER_MARK = 64 * 1024;

/**
 * A reader that lags: the client sends a SLOW_BYTES message in 64 KiB pieces as fast as its
 * transport takes them; the server's readable (high-water mark SLOW_HIGH_WATER_MARK) is not read
 * until the sender has stalled (nothing more taken for 300 ms; at most 200 turns of 20 ms). With
 * the server's reads paused, the sender stalls after the high-water mark plus what the sockets'
 * kernel buffers hold (a few MiB on loopback); without, it sends the whole message into the
 * server's queue. Then the server reads everything, and the bytes are compared.
 */
export async function slowReader(
  server: Promise<AdapterConnection<ServerDriver>>, client: AdapterConnection<ClientDriver>,
): Promise<{ sentBeforeReading: number; bytes: boolean; close: number }> {
  const serverSide = await server;
  serverSide.driver.on("connect", () => serverSide.driver.start());
  const incoming = new Promise<ReadableStream<Uint8Array>>((resolve) => {
    receiveStreams(serverSide, ({ readable }) => resolve(readable), { highWaterMark: SLOW_HIGH_WATER_MARK });
  });
  const closed = new Promise<number>((resolve) => client.driver.on("close", ({ code }) => resolve(code)));
  await new Promise((resolve) => client.driver.on("open", resolve));
  let sent = 0;
  const sending = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= SLOW_BYTES) return controller.close();
      const piece = pieceOf(sent, Math.min(65536, SLOW_BYTES - sent));
      sent += piece.length;
      controller.enqueue(piece);
    },
  }, { highWaterMark: 0 }).pipeTo(sendStream(client, "binary"));
  const readable = await incoming;
  let last = -1;
  for (let turn = 0, still = 0; turn < 200 && still < 15 && sent < SLOW_BYTES; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    still = sent === last ? still + 1 : 0;
    last = sent;
  }
  const sentBeforeReading = sent;
  let at = 0, bytes = true;
  await readable.pipeTo(new WritableStream({
    write(chunk) {
      for (let i = 0; i < chunk.length && bytes; i++) bytes = chunk[i] === (((at + i) * 131 + 7) & 0xff);
      at += chunk.length;
    },
  }));
  await sending;
  client.driver.close("done", 4003);
  return { sentBeforeReading, bytes: bytes && at === SLOW_BYTES, close: await closed };
}

function pieceOf(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = ((offset + i) * 131 + 7) & 0xff;
  return out;
}
