/**
 * Peers that hold a server's resources: they trickle the request (slowloris), fall silent, ignore
 * a close, or flood pings and messages without ever reading. Each is a raw loopback socket, stops
 * by itself, and resolves with what it saw, timed from the moment it began the behaviour.
 */
import type { Server as HttpServer } from "node:http";
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { clientFrame, readFrames, requestKey, upgradeRequest, upgradeResponse } from "../support/wire";

const request = (path: string): string => upgradeRequest({ Host: "127.0.0.1" }, `GET ${path} HTTP/1.1`);

/** The socket, once connected. */
function open(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
}

/** Opens a WebSocket by hand: the 101 read, the bytes after it kept in `after`. */
async function handshake(port: number, path: string): Promise<{ socket: Socket; after: Buffer[] }> {
  const socket = await open(port);
  const after: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      if (!head.subarray(0, 12).toString().startsWith("HTTP/1.1 101")) reject(new Error(head.toString()));
      if (head.length > end + 4) after.push(head.subarray(end + 4));
      resolve();
    };
    socket.on("data", onData);
    socket.write(request(path));
  });
  return { socket, after };
}

/**
 * How early a limit may seem to act when a peer here times it: the server starts counting when it
 * accepts the connection (or sends its close frame), a little before this process sees the
 * connection open (or the frame arrive), by however late this busy process's turn comes. 143 ms
 * for a 150 ms limit was seen once on a loaded machine.
 */
export const EARLY = 25;

/** A request trickled one byte every `everyMs` (at most the whole request): when did the server drop it. */
export async function slowloris(port: number, everyMs: number): Promise<{ droppedAfter: number; sent: number }> {
  const socket = await open(port);
  const started = Date.now();
  const bytes = Buffer.from(request("/slowloris"));
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= bytes.length - 1) return clearInterval(timer);
    socket.write(bytes.subarray(sent, sent + 1));
    sent++;
  }, everyMs);
  await closed(socket);
  clearInterval(timer);
  return { droppedAfter: Date.now() - started, sent };
}

/** Opens, then never sends another byte, reading what comes: when did the server drop it, and did it ping first. */
export async function silent(port: number, path = "/silent"): Promise<{ droppedAfter: number; pings: number }> {
  const { socket, after } = await handshake(port, path);
  const started = Date.now();
  socket.on("data", (chunk: Buffer) => after.push(chunk));
  await closed(socket);
  const pings = readFrames(Buffer.concat(after)).filter((frame) => frame.opcode === 0x9).length;
  return { droppedAfter: Date.now() - started, pings };
}

/**
 * Asks the server to close ("close"), then never answers its close frame nor closes: when did the
 * close frame come, and when did the server drop the connection.
 */
export async function deafToClose(port: number): Promise<{ closeFrameAfter: number; droppedAfter: number }> {
  const { socket, after } = await handshake(port, "/deaf");
  const started = Date.now();
  let closeFrameAfter = -1;
  socket.on("data", (chunk: Buffer) => {
    after.push(chunk);
    if (closeFrameAfter < 0 && readFrames(Buffer.concat(after)).some((frame) => frame.opcode === 0x8)) closeFrameAfter = Date.now() - started;
  });
  socket.write(clientFrame({ opcode: 0x1, payload: "close" }));
  await closed(socket);
  return { closeFrameAfter, droppedAfter: Date.now() - started };
}

/**
 * Sends pings (125 B) or 1 KiB binary messages as fast as the socket takes them, for at most `ms`,
 * never reading: how many bytes the server let in, and when it dropped the connection.
 */
export async function flood(port: number, kind: "ping" | "binary", ms: number): Promise<{ sent: number; droppedAfter: number }> {
  const { socket } = await handshake(port, `/flood-${kind}`);
  // Not reading: the server's pongs and echoes stay in its buffers, or it stops reading us.
  socket.pause();
  const one = kind === "ping"
    ? clientFrame({ opcode: 0x9, payload: new Uint8Array(125).fill(0x70) })
    : clientFrame({ opcode: 0x2, payload: new Uint8Array(1024).fill(0x62) });
  const burst = Buffer.concat(Array.from({ length: 64 }, () => one));
  const started = Date.now();
  let gone = false;
  socket.once("close", () => { gone = true; });
  while (!gone && Date.now() - started < ms) {
    if (!socket.write(burst)) {
      await new Promise<void>((resolve) => {
        const wake = setTimeout(resolve, 50);
        socket.once("drain", () => { clearTimeout(wake); resolve(); });
      });
    }
  }
  const sent = socket.bytesWritten;
  // Read again, so the server's close (or reset) is seen.
  socket.resume();
  await closed(socket);
  return { sent, droppedAfter: Date.now() - started };
}

/**
 * Asks the server to flood us ("flood") and reads nothing until `until` settles (the server has
 * given up on us) or 5 s have passed: when did the server drop the connection.
 */
export async function askFlood(port: number, until: Promise<unknown>): Promise<{ droppedAfter: number }> {
  const { socket } = await handshake(port, "/overflow");
  socket.pause();
  const started = Date.now();
  socket.write(clientFrame({ opcode: 0x1, payload: "flood" }));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([until, new Promise((resolve) => { timer = setTimeout(resolve, 5000); })]);
  clearTimeout(timer);
  socket.resume();
  await closed(socket);
  return { droppedAfter: Date.now() - started };
}

export function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

/** Closes `server` once every socket it accepted has closed: the limits must have closed them. */
export function stopWhenEmpty(server: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 3000;
    const poll = (): void => {
      if (sockets.size === 0) server.close(() => resolve());
      else if (Date.now() > deadline) reject(new Error(`${sockets.size} sockets still open`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

/** A raw server that answers the handshake with a valid 101 (or not at all), then reads and ignores everything. */
export async function rawServer(answer: boolean): Promise<{ port: number; received: () => Buffer; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let received = Buffer.alloc(0);
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      if (!answer) return;
      if (!head.includes("\r\n\r\n")) {
        head += chunk.toString("latin1");
        if (head.includes("\r\n\r\n")) socket.write(upgradeResponse(requestKey(head)));
        return;
      }
      received = Buffer.concat([received, chunk]);
    });
  });
  const port = await listen(server);
  return { port, received: () => received, stop: () => stopWhenEmpty(server, sockets) };
}

