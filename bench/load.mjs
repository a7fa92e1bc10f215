// The load generator for parts 3 and 4: raw TCP sockets on loopback that speak just enough
// RFC 6455 to drive a server, the same for every server. It writes pre-built masked frames and
// counts the bytes that come back, so the generator costs little next to the server under test.
import { connect as connectHttp2 } from "node:http2";
import { connect } from "node:net";
import { asciiText, frameBytes, now, randomBytes, seconds, upgradeRequestBytes } from "./common.mjs";

const REQUEST = upgradeRequestBytes("/");
const HEAD_END = Buffer.from("\r\n\r\n");

/** Opens a socket and completes the opening handshake; resolves with the socket and any extra bytes. */
export function openWebSocket(port, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error("handshake timed out")); }, timeoutMs);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) return;
      clearTimeout(timer);
      socket.off("data", onData);
      if (!head.subarray(0, 12).toString("latin1").startsWith("HTTP/1.1 101")) {
        socket.destroy();
        reject(new Error(`handshake refused: ${head.subarray(0, end).toString("latin1")}`));
        return;
      }
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on("data", onData);
    socket.on("error", (error) => { clearTimeout(timer); reject(error); });
    socket.on("connect", () => socket.write(REQUEST));
  });
}

/** Drops a connection with a reset (no TIME_WAIT), so thousands of runs do not use up ports. */
export function drop(socket) {
  if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
  else socket.destroy();
}

/**
 * `connections` sockets each send `messages` messages of `size` bytes (text, or binary with
 * `opcode` 2) and wait for every echo;
 * at most `window` messages per socket are in flight. Resolves with the seconds from the first
 * write to the last echoed byte (handshakes excluded).
 */
export async function echo(port, { connections = 100, messages = 10_000, size = 64, window = 200, opcode = 1, timeoutMs = 120_000 } = {}) {
  // Frames are written `batch` at a time, as one chunk.
  const batch = Math.min(50, window);
  const frames = [];
  for (let i = 0; i < batch; i++) {
    const payload = opcode === 1 ? Buffer.from(asciiText(size, i + 1), "latin1") : randomBytes(size, i + 1);
    frames.push(frameBytes(opcode, payload, randomBytes(4, i + 7)));
  }
  const block = Buffer.concat(frames);
  const echoFrame = (size < 126 ? 2 : size < 0x10000 ? 4 : 10) + size;
  const sockets = [];
  try {
    for (let i = 0; i < connections; i++) sockets.push((await openWebSocket(port)).socket);
    const start = now();
    await new Promise((resolve, reject) => {
      let done = 0;
      const timer = setTimeout(() => reject(new Error("echo run timed out")), timeoutMs);
      for (const socket of sockets) {
        let sent = 0, received = 0;
        const pump = () => {
          while (sent < messages && sent - Math.floor(received / echoFrame) < window) {
            socket.write(block);
            sent += batch;
          }
        };
        socket.on("data", (chunk) => {
          received += chunk.length;
          if (received === messages * echoFrame) {
            if (++done === sockets.length) { clearTimeout(timer); resolve(); }
          } else {
            pump();
          }
        });
        socket.on("error", reject);
        pump();
      }
    });
    return { seconds: seconds(start), messages: connections * messages };
  } finally {
    for (const socket of sockets) drop(socket);
  }
}

/** Opens `count` connections, `concurrency` at a time, and drops each once its handshake is answered. */
export async function handshakes(port, { count = 2000, concurrency = 50 } = {}) {
  const start = now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const { socket } = await openWebSocket(port);
      drop(socket);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: seconds(start), handshakes: count };
}

/** A short masked text message, and the length of its unmasked echo: for `idle`'s `message` option. */
export const IDLE_MESSAGE = { frame: frameBytes(1, Buffer.from("hello, idle world", "latin1"), randomBytes(4, 3)), echoLength: 2 + 17 };

/** Writes `frame` and resolves once `echoLength` bytes have come back (counting `rest`, read with the 101). */
function exchange(socket, rest, { frame, echoLength }) {
  return new Promise((resolve, reject) => {
    let received = rest.length;
    const onData = (chunk) => {
      received += chunk.length;
      if (received < echoLength) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(frame);
  });
}

/**
 * Opens `count` idle connections, `concurrency` at a time; returns them for the caller to drop.
 * With `message` (`IDLE_MESSAGE`), each connection first sends one message and reads its echo, so
 * the server has made whatever it makes for traffic before the connection goes quiet.
 */
export async function idle(port, { count = 10_000, concurrency = 200, message = null } = {}) {
  const sockets = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const { socket, rest } = await openWebSocket(port);
      if (message) await exchange(socket, rest, message);
      sockets.push(socket);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } catch (error) {
    for (const socket of sockets) drop(socket);
    throw error;
  }
  return sockets;
}

/**
 * `echo` over HTTP/2 (RFC 8441): `connections` WebSockets as extended CONNECT streams of one
 * cleartext HTTP/2 connection, each writing the same pre-built masked frames to its stream and
 * counting the echoed bytes. The connection-level window is raised to 16 MiB on both sides (as the
 * server does), so that what is measured is the WebSockets, not the 64 KiB default window.
 */
export async function echoHttp2(port, { connections = 100, messages = 10_000, size = 64, window = 200, opcode = 1, timeoutMs = 120_000 } = {}) {
  const batch = 50;
  const frames = [];
  for (let i = 0; i < batch; i++) frames.push(frameBytes(opcode, Buffer.from(asciiText(size, i + 1), "latin1"), randomBytes(4, i + 7)));
  const block = Buffer.concat(frames);
  const echoFrame = (size < 126 ? 2 : size < 0x10000 ? 4 : 10) + size;
  const session = connectHttp2(`http://127.0.0.1:${port}`);
  try {
    session.on("error", () => {});
    await new Promise((resolve, reject) => {
      session.once("remoteSettings", (settings) => (settings.enableConnectProtocol ? resolve() : reject(new Error("no SETTINGS_ENABLE_CONNECT_PROTOCOL"))));
      session.once("error", reject);
    });
    session.setLocalWindowSize(16 * 1024 * 1024);
    const streams = await Promise.all(Array.from({ length: connections }, () => new Promise((resolve, reject) => {
      const stream = session.request({ ":method": "CONNECT", ":protocol": "websocket", ":path": "/", "sec-websocket-version": "13" }, { endStream: false });
      stream.once("response", (headers) => (headers[":status"] === 200 ? resolve(stream) : reject(new Error(`refused: ${headers[":status"]}`))));
      stream.once("error", reject);
    })));
    const start = now();
    await new Promise((resolve, reject) => {
      let done = 0;
      const timer = setTimeout(() => reject(new Error("HTTP/2 echo run timed out")), timeoutMs);
      for (const stream of streams) {
        let sent = 0, received = 0;
        const pump = () => {
          while (sent < messages && sent - Math.floor(received / echoFrame) < window) {
            stream.write(block);
            sent += batch;
          }
        };
        stream.on("data", (chunk) => {
          received += chunk.length;
          if (received === messages * echoFrame) {
            if (++done === streams.length) { clearTimeout(timer); resolve(); }
          } else {
            pump();
          }
        });
        stream.on("error", reject);
        pump();
      }
    });
    return { seconds: seconds(start), messages: connections * messages };
  } finally {
    session.destroy();
  }
}

/**
 * Floods the server at `port` with pings of 125 B (`kind` "ping") or 1 KiB binary messages
 * ("binary") for `seconds`, never reading what comes back, as fast as the socket takes them. Calls
 * `sample` every 250 ms meanwhile. Returns how many bytes went out and whether the server closed
 * the connection; the caller drops the socket.
 */
export async function flood(port, { kind, seconds, sample }) {
  const { socket } = await openWebSocket(port);
  socket.pause();
  socket.on("error", () => {});
  const payload = Buffer.alloc(kind === "ping" ? 125 : 1024, 0x70);
  const frame = frameBytes(kind === "ping" ? 9 : 2, payload, randomBytes(4, 5));
  const burst = Buffer.concat(Array.from({ length: 64 }, () => frame));
  let closed = false;
  socket.once("close", () => { closed = true; });
  const timer = setInterval(sample, 250);
  const end = Date.now() + seconds * 1000;
  try {
    while (!closed && Date.now() < end) {
      if (!socket.write(burst)) {
        await new Promise((resolve) => {
          const wake = setTimeout(resolve, 50);
          socket.once("drain", () => { clearTimeout(wake); resolve(); });
        });
      }
    }
  } finally {
    clearInterval(timer);
  }
  await sample();
  return { socket, sent: socket.bytesWritten, closed };
}
