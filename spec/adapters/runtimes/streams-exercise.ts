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
