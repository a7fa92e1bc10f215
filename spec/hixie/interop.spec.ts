/**
 * The draft drivers over real loopback sockets, against a raw client written here that speaks each
 * draft byte by byte: its keys made as draft-76 §4.1 makes them, and the expected digest computed
 * with node:crypto's MD5, apart from the driver's own.
 */
import { createHash } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { Driver } from "../../lib/driver";
import type { CloseEvent } from "../../lib/events";
import type { ServerOptions } from "../../lib/options";
import type { ServerDriver } from "../../lib/types";
import { CLOSING_FRAME, lengthFrame, textFrame } from "./support";

/** A client socket with a byte buffer that tests read from by count or delimiter. */
class RawPeer {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => socket.on("close", () => {
      this.ended = true;
      this.wake?.();
      resolve();
    }));
    socket.on("error", () => undefined);
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => resolve(new RawPeer(socket)));
      socket.once("error", reject);
    });
  }

  write(data: Uint8Array | string): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** The next `length` bytes, once they have arrived. */
  read(length: number): Promise<Buffer> {
    return this.take(() => (this.buffer.length >= length ? length : -1));
  }

  /** Everything up to and including `delimiter`. */
  readUntil(delimiter: string): Promise<Buffer> {
    return this.take(() => {
      const at = this.buffer.indexOf(delimiter, 0, "latin1");
      return at < 0 ? -1 : at + delimiter.length;
    });
  }

  /** Whatever is left once the server has closed the connection. */
  async rest(): Promise<Buffer> {
    await this.closed;
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  private async take(find: () => number): Promise<Buffer> {
    for (;;) {
      const end = find();
      if (end >= 0) {
        const out = this.buffer.subarray(0, end);
        this.buffer = this.buffer.subarray(end);
        return out;
      }
      if (this.ended) throw new Error(`connection closed with ${this.buffer.length} unread bytes`);
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = null;
    }
  }
}

/** A draft-76 key for `number` with `spaces` spaces (§4.1): the product's digits, noise, spaces inside. */
function makeKey(number: number, spaces: number, noise: string): string {
  const chars = String(number * spaces).split("");
  for (let i = 0; i < noise.length; i++) chars.splice((i * 3 + 1) % (chars.length + 1), 0, noise[i]);
  for (let i = 0; i < spaces; i++) chars.splice(1 + ((i * 5) % (chars.length - 1)), 0, " ");
  return chars.join("");
}

function expectedDigest(number1: number, number2: number, key3: Buffer): Buffer {
  const challenge = Buffer.alloc(16);
  challenge.writeUInt32BE(number1, 0);
  challenge.writeUInt32BE(number2, 4);
  key3.copy(challenge, 8);
  return createHash("md5").update(challenge).digest();
}

const KEY1 = { number: 912387, spaces: 4, noise: "#x!" };
const KEY2 = { number: 4000000000, spaces: 1, noise: "Q" };
const KEY3 = Buffer.from("Tm[K T2u", "latin1");

function draft76Head(port: number, path = "/chat"): string {
  return `GET ${path} HTTP/1.1\r\n` +
    "Upgrade: WebSocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Host: 127.0.0.1:${port}\r\n` +
    "Origin: http://127.0.0.1\r\n" +
    `Sec-WebSocket-Key1: ${makeKey(KEY1.number, KEY1.spaces, KEY1.noise)}\r\n` +
    `Sec-WebSocket-Key2: ${makeKey(KEY2.number, KEY2.spaces, KEY2.noise)}\r\n` +
    "Sec-WebSocket-Protocol: chat\r\n" +
    "\r\n";
}

function draft75Request(port: number): string {
  return "GET /chat HTTP/1.1\r\n" +
    "Upgrade: WebSocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Host: 127.0.0.1:${port}\r\n` +
    "Origin: http://127.0.0.1\r\n" +
    "WebSocket-Protocol: chat\r\n" +
    "\r\n";
}

/** What a server saw, per connection. */
interface Seen {
  versions: string[];
  closes: CloseEvent[];
  errors: Error[];
}

/** Echoes every message back as "echo: …"; closes on "bye"; ends the socket on `close`. */
function serveDriver(driver: ServerDriver, socket: net.Socket, seen: Seen): void {
  driver.on("message", ({ data }) => {
    if (data === "bye") driver.close();
    else driver.text(`echo: ${String(data)}`);
  });
  driver.on("open", () => seen.versions.push(driver.version));
  driver.on("error", (error) => seen.errors.push(error));
  driver.on("close", (event) => {
    seen.closes.push(event);
    socket.end();
  });
  socket.on("data", (chunk: Buffer) => driver.parse(chunk));
  socket.on("end", () => driver.end());
  socket.on("error", () => driver.end());
}

/** A `node:net` server that reads the request itself with `Driver.server`. */
function netServer(options: ServerOptions, seen: Seen): Promise<net.Server> {
  const server = net.createServer((socket) => {
    const driver = Driver.server(socket, options);
    driver.on("connect", () => driver.start());
    serveDriver(driver, socket, seen);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** A `node:http` server whose `upgrade` requests go to `Driver.fromRequest`, the head bytes as the body. */
function httpServer(options: ServerOptions, seen: Seen): Promise<http.Server> {
  const server = http.createServer((_request, response) => response.end("not a WebSocket"));
  server.on("upgrade", (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const driver = Driver.fromRequest(
      { method: request.method, url: request.url, headers: request.headers, body: new Uint8Array(head) }, socket, options);
    serveDriver(driver, socket, seen);
    driver.start();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function close(server: net.Server | http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const portOf = (server: net.Server): number => (server.address() as AddressInfo).port;

describe("interop over loopback: a raw draft-76 client", () => {
  const seen: Seen = { versions: [], closes: [], errors: [] };
  let server: net.Server;
  let upgrades: http.Server;
  const peers: RawPeer[] = [];

  beforeAll(async () => {
    server = await netServer({ allowDrafts: true, protocols: ["chat"] }, seen);
    upgrades = await httpServer({ allowDrafts: true, protocols: ["chat"] }, seen);
  });

  afterAll(async () => {
    for (const peer of peers) peer.socket.destroy();
    await close(server);
    await close(upgrades);
  });

  const connect = async (port: number): Promise<RawPeer> => {
    const peer = await RawPeer.connect(port);
    peers.push(peer);
    return peer;
  };

  it("handshakes with Driver.server (head and body in one write), echoes, and closes with 0xFF 0x00", async () => {
    const port = portOf(server);
    const peer = await connect(port);
    peer.write(Buffer.concat([Buffer.from(draft76Head(port), "latin1"), KEY3]));
    const head = (await peer.readUntil("\r\n\r\n")).toString("latin1");
    expect(head).toBe(
      "HTTP/1.1 101 WebSocket Protocol Handshake\r\n" +
      "Upgrade: WebSocket\r\n" +
      "Connection: Upgrade\r\n" +
      "Sec-WebSocket-Origin: http://127.0.0.1\r\n" +
      `Sec-WebSocket-Location: ws://127.0.0.1:${port}/chat\r\n` +
      "Sec-WebSocket-Protocol: chat\r\n" +
      "\r\n");
    expect(await peer.read(16)).toEqual(expectedDigest(KEY1.number, KEY2.number, KEY3));

    peer.write(Buffer.concat([textFrame("hello"), lengthFrame(0x80, new Uint8Array(200)), textFrame("wörld")]));
    expect(await peer.read(textFrame("echo: hello").length)).toEqual(Buffer.from(textFrame("echo: hello")));
    expect(await peer.read(textFrame("echo: wörld").length)).toEqual(Buffer.from(textFrame("echo: wörld")));

    peer.write(CLOSING_FRAME);
    expect(await peer.rest()).toEqual(Buffer.from(CLOSING_FRAME));
    expect(seen.closes.pop()).toEqual({ code: 1000, reason: "" });
    expect(seen.versions.pop()).toBe("hixie-76");
  });

  it("handshakes with fromRequest when the body is held back until the response head (as a proxy would)", async () => {
    const port = portOf(upgrades);
    const peer = await connect(port);
    peer.write(draft76Head(port, "/deferred?x=1"));
    const head = (await peer.readUntil("\r\n\r\n")).toString("latin1");
    expect(head).toContain(`Sec-WebSocket-Location: ws://127.0.0.1:${port}/deferred?x=1\r\n`);
    // Only now the 8 bytes, in two writes; the digest follows them.
    peer.write(KEY3.subarray(0, 3));
    await new Promise<void>((resolve) => setImmediate(resolve));
    peer.write(Buffer.concat([KEY3.subarray(3), textFrame("after the body")]));
    expect(await peer.read(16)).toEqual(expectedDigest(KEY1.number, KEY2.number, KEY3));
    const echo = textFrame("echo: after the body");
    expect(await peer.read(echo.length)).toEqual(Buffer.from(echo));

    // The server closes: its closing frame, then the socket ends.
    peer.write(textFrame("bye"));
    expect(await peer.rest()).toEqual(Buffer.from(CLOSING_FRAME));
    expect(seen.closes.pop()).toEqual({ code: 1000, reason: "" });
    expect(seen.versions.pop()).toBe("hixie-76");
  });

  it("handshakes with fromRequest when the client sends head, body and a frame in one write", async () => {
    const port = portOf(upgrades);
    const peer = await connect(port);
    peer.write(Buffer.concat([Buffer.from(draft76Head(port), "latin1"), KEY3, textFrame("at once")]));
    await peer.readUntil("\r\n\r\n");
    expect(await peer.read(16)).toEqual(expectedDigest(KEY1.number, KEY2.number, KEY3));
    const echo = textFrame("echo: at once");
    expect(await peer.read(echo.length)).toEqual(Buffer.from(echo));
    peer.socket.end();
    await peer.closed;
    expect(seen.closes.pop()).toEqual({ code: 1006, reason: "" });
  });

  it("is closed with 1007 and the closing frame when it sends invalid UTF-8", async () => {
    const port = portOf(server);
    const peer = await connect(port);
    peer.write(Buffer.concat([Buffer.from(draft76Head(port), "latin1"), KEY3]));
    await peer.readUntil("\r\n\r\n");
    await peer.read(16);
    peer.write(Uint8Array.of(0x00, 0xc0, 0xaf, 0xff));
    expect(await peer.rest()).toEqual(Buffer.from(CLOSING_FRAME));
    expect(seen.closes.pop()).toEqual({ code: 1007, reason: "Invalid UTF-8 in text frame" });
    expect(seen.errors.pop()?.message).toBe("Invalid UTF-8 in text frame");
  });
});

describe("interop over loopback: a raw draft-75 client", () => {
  const seen: Seen = { versions: [], closes: [], errors: [] };
  let server: net.Server;
  let refusing: net.Server;
  const peers: RawPeer[] = [];

  beforeAll(async () => {
    server = await netServer({ allowDrafts: true, protocols: ["chat"] }, seen);
    refusing = await netServer({}, seen);
  });

  afterAll(async () => {
    for (const peer of peers) peer.socket.destroy();
    await close(server);
    await close(refusing);
  });

  it("handshakes, echoes across skipped frames, and sees close 1006 when the client leaves", async () => {
    const port = portOf(server);
    const peer = await RawPeer.connect(port);
    peers.push(peer);
    peer.write(draft75Request(port));
    const head = (await peer.readUntil("\r\n\r\n")).toString("latin1");
    expect(head).toBe(
      "HTTP/1.1 101 Web Socket Protocol Handshake\r\n" +
      "Upgrade: WebSocket\r\n" +
      "Connection: Upgrade\r\n" +
      "WebSocket-Origin: http://127.0.0.1\r\n" +
      `WebSocket-Location: ws://127.0.0.1:${port}/chat\r\n` +
      "WebSocket-Protocol: chat\r\n" +
      "\r\n");
    // 0xFF 0x00 is no closing frame in draft-75: an empty frame, skipped like any length-prefixed one.
    peer.write(Buffer.concat([CLOSING_FRAME, lengthFrame(0x81, new Uint8Array(5)), textFrame("one"), textFrame("two")]));
    const echoes = Buffer.concat([textFrame("echo: one"), textFrame("echo: two")]);
    expect(await peer.read(echoes.length)).toEqual(echoes);
    peer.socket.end();
    await peer.closed;
    expect(seen.closes.pop()).toEqual({ code: 1006, reason: "" });
    expect(seen.versions.pop()).toBe("hixie-75");
  });

  it("is refused with 400 by a server without allowDrafts", async () => {
    const port = portOf(refusing);
    const peer = await RawPeer.connect(port);
    peers.push(peer);
    peer.write(draft75Request(port));
    const response = (await peer.rest()).toString("latin1");
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(response).toMatch(/hixie-75 draft protocol is disabled/);
    expect(seen.errors.pop()?.message).toMatch(/disabled/);
  });
});
