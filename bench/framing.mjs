// Part 2: framing. `text`/`binary` in, frame bytes out to a `write` that counts them: a server
// (unmasked) and a client (masked, RFC 6455 §5.3). ws leaves a string for the socket to encode, so
// the sink encodes strings (as a socket must) and every implementation pays for the same bytes.
import { UPGRADE_HEADERS, acceptFor, asciiText, now, randomBytes, seconds } from "./common.mjs";
import { Sender, ours, websocketDriver } from "./peers.mjs";

export const FRAME_WORKLOADS = [
  { name: "text 16 B × 500k", text: true, size: 16, count: 500_000 },
  { name: "binary 1 KiB × 100k", text: false, size: 1024, count: 100_000 },
  { name: "binary 64 KiB × 4k", text: false, size: 64 * 1024, count: 4_000 },
  { name: "binary 16 MiB × 16", text: false, size: 16 * 1024 * 1024, count: 16 },
];

const DISTINCT = 16;

export function buildMessages(workload) {
  const messages = [];
  for (let i = 0; i < Math.min(DISTINCT, workload.count); i++) {
    messages.push(workload.text ? asciiText(workload.size, i + 1) : randomBytes(workload.size, i + 1));
  }
  return messages;
}

class CountingSocket {
  bytes = 0;
  write(chunk) {
    this.bytes += typeof chunk === "string" ? Buffer.from(chunk).length : chunk.length;
    return true;
  }
  cork() {}
  uncork() {}
}

function expectedBytes(workload, masked) {
  const header = (workload.size < 126 ? 2 : workload.size < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
  return (header + workload.size) * workload.count;
}

/** An open client driver of ours: the handshake answered with the right accept key. */
async function openClient(socket) {
  let request = "";
  const written = socket.write;
  socket.write = (chunk) => { request += Buffer.from(chunk).toString("latin1"); return true; };
  const client = ours.Driver.client("ws://127.0.0.1/", socket);
  client.start();
  socket.write = written;
  const key = /sec-websocket-key: *(\S+)/i.exec(request)[1];
  client.parse(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${await acceptFor(key)}\r\n\r\n`, "latin1"));
  if (client.readyState !== 1) throw new Error("our client did not open");
  return client;
}

async function openDriverClient(socket) {
  const client = websocketDriver.client("ws://127.0.0.1/");
  let request = "";
  let counting = false;
  client.io.on("data", (chunk) => { if (counting) socket.write(chunk); else request += chunk.toString("latin1"); });
  client.start();
  const key = /sec-websocket-key: *(\S+)/i.exec(request)[1];
  client.parse(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${await acceptFor(key)}\r\n\r\n`, "latin1"));
  counting = true;
  return client;
}

/**
 * How long each run lasts at the least. A collection can take a few milliseconds and lands in
 * whichever run is going; over 50 ms runs, ws's client binary() of 1 KiB read 0.71 M msg/s in one
 * full bench and 1.18 M in another. 200 ms runs share such pauses out more evenly.
 */
const MIN_SECONDS = 0.2;

/** Sends the workload's messages, the whole workload again until MIN_SECONDS have passed (a server
 * frames 16 × 16 MiB without a copy in microseconds, too short to time alone). */
function loop(workload, messages, send) {
  const count = workload.count, distinct = messages.length;
  const start = now();
  let repeats = 0, elapsed = 0;
  do {
    for (let i = 0; i < count; i++) send(messages[i % distinct]);
    repeats++;
    elapsed = seconds(start);
  } while (elapsed < MIN_SECONDS);
  return { seconds: elapsed, repeats };
}

export const FRAMERS = {
  async wsdriver(workload, messages, masked) {
    const socket = new CountingSocket();
    let driver;
    if (masked) {
      driver = await openClient(socket);
    } else {
      driver = ours.Driver.fromRequest({ method: "GET", url: "/", headers: UPGRADE_HEADERS }, socket);
      driver.start();
    }
    socket.bytes = 0; // count the frames only, not the handshake
    const send = workload.text ? (m) => driver.text(m) : (m) => driver.binary(m);
    return { ...loop(workload, messages, send), bytes: () => socket.bytes };
  },

  async ws(workload, messages, masked) {
    const socket = new CountingSocket();
    const sender = new Sender(socket);
    const options = { binary: !workload.text, fin: true, mask: masked, compress: false };
    return { ...loop(workload, messages, (m) => sender.send(m, options)), bytes: () => socket.bytes };
  },

  async "websocket-driver"(workload, messages, masked) {
    const socket = new CountingSocket();
    let driver;
    if (masked) {
      driver = await openDriverClient(socket);
    } else {
      driver = websocketDriver.http({ method: "GET", url: "/", headers: UPGRADE_HEADERS });
      driver.start();
      driver.io.on("data", (chunk) => socket.write(chunk));
    }
    const send = workload.text ? (m) => driver.text(m) : (m) => driver.binary(m);
    return { ...loop(workload, messages, send), bytes: () => socket.bytes };
  },
};

export async function runFramer(name, workload, messages, masked) {
  const result = await FRAMERS[name](workload, messages, masked);
  const bytes = result.bytes();
  const expected = expectedBytes(workload, masked) * result.repeats;
  if (bytes !== expected) throw new Error(`${name} wrote ${bytes} bytes for ${workload.name}, expected ${expected}`);
  return { seconds: result.seconds, bytes, messages: workload.count * result.repeats };
}
