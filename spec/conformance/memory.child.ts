/**
 * Run by memory.spec.ts in a child process started with --expose-gc (after compiling to plain
 * JavaScript). Each mode prints, as JSON, how much the heap and the ArrayBuffers grew across what it
 * did, measured after full garbage collections:
 *
 * - `messages <maxLength> <count>`: a client and a server driver wired back to back in memory
 *   exchange `count` messages of exactly `maxLength` bytes — binary in one frame, text in one frame,
 *   and binary in four fragments read in 16 KiB pieces — the server echoing each one.
 * - `fragments <maxLength> <count>`: what one unfinished message of `count` one-byte fragments
 *   holds on a server, for a text and for a binary message.
 * - `trickle <bytes> <count>`: what `count` server drivers hold once each has been handed `bytes`
 *   bytes of an unfinished HTTP head, one byte per `parse` call.
 * - `early <bytes> <count>`: what `count` server drivers that have not answered their request hold
 *   once each has been handed `bytes` bytes of frames, one byte per `parse` call.
 * - `flood <bytes>`: how far the peak resident memory rises when a server driver that has read part
 *   of a head is handed one chunk of `bytes` bytes with no end of head in it.
 */
import { Driver } from "../../lib/driver";
import { clientFrame } from "../support/wire";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const collect = gc;

const [mode, first, second] = process.argv.slice(2);
const maxLength = Number(first ?? 65536);
const count = Number(second ?? 10000);

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Heap and ArrayBuffer bytes in use, after full collections. ArrayBuffer memory is released by a
 * task that runs after the collection, so the event loop is given turns to run it.
 */
async function measure(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collect();
    await turn();
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const UPGRADE = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

async function trickle(): Promise<object> {
  const drivers = Array.from({ length: count }, () => Driver.server({ write: () => undefined }));
  const head = new TextEncoder().encode(`GET / HTTP/1.1\r\nX-Slow: ${"a".repeat(maxLength)}`).subarray(0, maxLength);
  const before = await measure();
  for (const driver of drivers) for (let i = 0; i < head.length; i++) driver.parse(head.subarray(i, i + 1));
  const after = await measure();
  if (drivers.some((d) => d.readyState !== 0)) throw new Error("a driver left the connecting state");
  return { sent: count * head.length, held: after - before };
}

async function fragments(): Promise<object> {
  const result: Record<string, number> = {};
  // The warm-up passes only run the code paths once, so compiling them is not measured.
  const passes = [["warm-up", 0x1, 5000], ["warm-up", 0x2, 5000], ["text", 0x1, count], ["binary", 0x2, count]] as const;
  for (const [name, opcode, fragmentCount] of passes) {
    const server = Driver.server({ write: () => undefined }, { maxLength });
    server.on("connect", () => server.start());
    server.parse(UPGRADE);
    const one = clientFrame({ opcode: 0x0, fin: false, payload: "x" });
    const wire = new Uint8Array(one.length * fragmentCount);
    for (let i = 0; i < fragmentCount; i++) wire.set(one, i * one.length);
    wire.set(clientFrame({ opcode, fin: false, payload: "x" }), 0);
    const before = await measure();
    // Handed over as a socket would: 64 KiB chunks, each a buffer of its own.
    for (let at = 0; at < wire.length; at += 65536) server.parse(wire.slice(at, at + 65536));
    const after = await measure();
    if (server.readyState !== 1) throw new Error(`${name}: the server closed`);
    if (name !== "warm-up") result[name] = after - before;
  }
  return result;
}

async function messages(): Promise<object> {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const server = Driver.server({ write: (chunk) => toClient.push(chunk) }, { maxLength });
  const client = Driver.client("ws://localhost/", { write: (chunk) => toServer.push(chunk) }, { maxLength });
  let received = 0;
  let receivedBytes = 0;
  server.on("connect", () => server.start());
  server.on("message", ({ data }) => (typeof data === "string" ? server.text(data) : server.binary(data)));
  client.on("message", ({ data }) => {
    received++;
    receivedBytes += data.length;
  });
  for (const type of ["error", "close"] as const) {
    server.on(type, (event) => { throw new Error(`server ${type}: ${JSON.stringify(event instanceof Error ? event.message : event)}`); });
    client.on(type, (event) => { throw new Error(`client ${type}: ${JSON.stringify(event instanceof Error ? event.message : event)}`); });
  }
  const pump = (): void => {
    while (toServer.length > 0 || toClient.length > 0) {
      for (const chunk of toServer.splice(0)) server.parse(chunk);
      for (const chunk of toClient.splice(0)) client.parse(chunk);
    }
  };
  // The opening handshake, through the same pipes.
  client.start();
  pump();
  if (client.readyState !== 1 || server.readyState !== 1) throw new Error("handshake failed");

  const binary = new Uint8Array(maxLength).fill(0x61);
  const text = "b".repeat(maxLength);
  const quarter = maxLength / 4;
  /** Sends message `i`: one of three shapes, each exactly maxLength bytes. */
  const send = (i: number): void => {
    if (i % 3 === 0) client.binary(binary);
    else if (i % 3 === 1) client.text(text);
    else {
      // Four masked fragments, handed to the server in 16 KiB pieces.
      const parts = [0, 1, 2, 3].map((k) => clientFrame({ opcode: k === 0 ? 0x2 : 0x0, fin: k === 3, payload: binary.subarray(0, quarter) }));
      for (const part of parts) for (let at = 0; at < part.length; at += 16384) toServer.push(part.slice(at, at + 16384));
    }
    pump();
  };

  for (let i = 0; i < 300; i++) send(i);
  const before = await measure();
  received = 0;
  receivedBytes = 0;
  for (let i = 0; i < count; i++) send(i);
  const after = await measure();
  return { received, receivedBytes, before, after, growth: after - before };
}

async function flood(): Promise<object> {
  const server = Driver.server({ write: () => undefined });
  const events: string[] = [];
  server.on("error", (error) => events.push(error.message));
  server.parse(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
  const chunk = new Uint8Array(maxLength).fill(0x61);
  await measure();
  const before = process.resourceUsage().maxRSS * 1024;
  server.parse(chunk);
  const after = process.resourceUsage().maxRSS * 1024;
  return { chunk: chunk.length, peakRise: after - before, events };
}

/**
 * `early <bytes> <count>`: what `count` server drivers hold once each has read a request it has not
 * answered yet (`start()` not called) and then `bytes` bytes of frames, one byte per `parse` call in
 * a buffer of its own, as socket reads hand them over.
 */
async function early(): Promise<object> {
  const frame = clientFrame({ opcode: 0x2, payload: new Uint8Array(maxLength - 14).fill(0x61), lengthForm: 64 });
  const drivers = Array.from({ length: count }, () => Driver.server({ write: () => undefined }));
  for (const driver of drivers) driver.parse(UPGRADE);
  const before = await measure();
  for (const driver of drivers) for (let i = 0; i < frame.length; i++) driver.parse(frame.slice(i, i + 1));
  const after = await measure();
  if (drivers.some((d) => d.readyState !== 0)) throw new Error("a driver left the connecting state");
  let messages = 0;
  for (const driver of drivers) {
    driver.on("message", ({ data }) => { if (data.length === maxLength - 14) messages++; });
    driver.start();
  }
  return { sent: count * frame.length, held: after - before, messages };
}

const run = mode === "trickle" ? trickle : mode === "fragments" ? fragments : mode === "flood" ? flood
  : mode === "early" ? early : messages;
run().then(
  (result) => process.stdout.write(JSON.stringify(result) + "\n"),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  },
);
