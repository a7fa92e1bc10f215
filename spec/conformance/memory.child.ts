/**
 * Run by memory.spec.ts in a child process started with --expose-gc (after compiling to plain
 * JavaScript): a client and a server driver wired back to back in memory exchange `count` messages
 * of exactly `maxLength` bytes — binary in one frame, text in one frame, and binary in four
 * fragments read in 16 KiB pieces — the server echoing each one. Prints the heap (and ArrayBuffer)
 * growth across the run, measured after full garbage collections, as JSON.
 */
import { Driver } from "../../lib/driver";
import { clientFrame } from "../support/wire";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const maxLength = Number(process.argv[2] ?? 65536);
const count = Number(process.argv[3] ?? 10000);

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

const measure = (): number => {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

for (let i = 0; i < 300; i++) send(i);
const before = measure();
received = 0;
receivedBytes = 0;
for (let i = 0; i < count; i++) send(i);
const after = measure();
process.stdout.write(JSON.stringify({ received, receivedBytes, before, after, growth: after - before }) + "\n");
