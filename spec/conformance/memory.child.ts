/**
 * Run by memory.spec.ts in a child process started with --expose-gc (after compiling to plain
 * JavaScript): a client and a server driver wired back to back in memory exchange `count` messages
 * of exactly `maxLength` bytes — binary in one frame, text in one frame, and binary in four
 * fragments read in 16 KiB pieces — the server echoing each one. Prints the heap (and ArrayBuffer)
 * growth across the run, measured after full garbage collections, as JSON.
 *
 * With `fragments` as its first argument it measures instead what one unfinished message of
 * `count` one-byte fragments holds on a server, for a text and for a binary message; with
 * `trickle`, what `count` server drivers hold once each has been handed `maxLength` bytes of an
 * unfinished HTTP head one byte at a time.
 */
import { Driver } from "../../lib/driver";
import { clientFrame } from "../support/wire";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const mode = process.argv[2];
const maxLength = Number(process.argv[3] ?? 65536);
const count = Number(process.argv[4] ?? 10000);

const measure = (): number => {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

if (mode === "trickle") {
  const drivers = Array.from({ length: count }, () => Driver.server({ write: () => undefined }));
  const head = new TextEncoder().encode(`GET / HTTP/1.1\r\nX-Slow: ${"a".repeat(maxLength)}`).subarray(0, maxLength);
  const before = measure();
  for (const driver of drivers) for (let i = 0; i < head.length; i++) driver.parse(head.subarray(i, i + 1));
  const after = measure();
  if (drivers.some((d) => d.readyState !== 0)) throw new Error("a driver left the connecting state");
  process.stdout.write(JSON.stringify({ sent: count * head.length, held: after - before }) + "\n");
  process.exit(0);
}

if (mode === "fragments") {
  const result: Record<string, number> = {};
  for (const [name, opcode] of [["text", 0x1], ["binary", 0x2]] as const) {
    const server = Driver.server({ write: () => undefined }, { maxLength });
    server.on("connect", () => server.start());
    server.parse(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    const one = clientFrame({ opcode: 0x0, fin: false, payload: "x" });
    const wire = new Uint8Array(one.length * count);
    for (let i = 0; i < count; i++) wire.set(one, i * one.length);
    wire.set(clientFrame({ opcode, fin: false, payload: "x" }), 0);
    const before = measure();
    // Handed over as a socket would: 64 KiB chunks, each a buffer of its own.
    for (let at = 0; at < wire.length; at += 65536) server.parse(wire.slice(at, at + 65536));
    const after = measure();
    if (server.readyState !== 1) throw new Error(`${name}: the server closed`);
    result[name] = after - before;
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

const toServer: Uint8Array[] = [];
const toClient: Uint8Array[] = [];
const server = Driver.server({ write: (chunk) => toClient.push(chunk) }, { maxLength });
const client = Driver.client("ws://localhost/", { write: (chunk) => toServer.push(chunk) }, { maxLength });

let received = 0;
let receivedBytes = 0;
server.on("connect", () => server.start());
server.on("message", ({ data }) => {
  if (typeof data === "string") server.text(data);
  else server.binary(data);
});
client.on("message", ({ data }) => {
  received++;
  receivedBytes += typeof data === "string" ? data.length : data.length;
});
for (const type of ["error", "close"] as const) {
  server.on(type, (event) => { throw new Error(`server ${type}: ${JSON.stringify(event instanceof Error ? event.message : event)}`); });
  client.on(type, (event) => { throw new Error(`client ${type}: ${JSON.stringify(event instanceof Error ? event.message : event)}`); });
}

function pump(): void {
  while (toServer.length > 0 || toClient.length > 0) {
    for (const chunk of toServer.splice(0)) server.parse(chunk);
    for (const chunk of toClient.splice(0)) client.parse(chunk);
  }
}

// The opening handshake, through the same pipes.
client.start();
pump();
if (client.readyState !== 1 || server.readyState !== 1) throw new Error("handshake failed");

const binary = new Uint8Array(maxLength).fill(0x61);
const text = "b".repeat(maxLength);
const quarter = maxLength / 4;

/** Sends message `i`: one of three shapes, each exactly maxLength bytes. */
function send(i: number): void {
  switch (i % 3) {
    case 0:
      client.binary(binary);
      break;
    case 1:
      client.text(text);
      break;
    default: {
      // Four masked fragments, handed to the server in 16 KiB pieces.
      const parts = [0, 1, 2, 3].map((k) => clientFrame({ opcode: k === 0 ? 0x2 : 0x0, fin: k === 3, payload: binary.subarray(0, quarter) }));
      for (const part of parts) for (let at = 0; at < part.length; at += 16384) toServer.push(part.slice(at, at + 16384));
    }
  }
  pump();
}

for (let i = 0; i < 300; i++) send(i);
const before = measure();
received = 0;
receivedBytes = 0;
for (let i = 0; i < count; i++) send(i);
const after = measure();
process.stdout.write(JSON.stringify({ received, receivedBytes, before, after, growth: after - before }) + "\n");
