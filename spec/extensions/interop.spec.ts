/**
 * permessage-deflate against `ws` over real loopback sockets: our server with the ws client and our
 * client with a ws server, with context takeover on and off, messages from 0 bytes to 1 MiB, text
 * and binary. Compression is checked on the wire: the bytes our side writes are counted.
 */
import { type AddressInfo, type Socket, connect } from "node:net";
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions } from "ws";
import { Driver } from "../../lib/driver";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import type { ClientDriver } from "../../lib/types";
import { type EchoServer, startEchoServer, stopEchoServer } from "../support/echo-server";

const SIZES = [0, 1, 5, 125, 126, 1000, 65535, 65536, 1 << 20, 0];

/** Compressible but not trivial bytes: words from a small vocabulary with varying numbers. */
function payloadOf(size: number, seed: number): Uint8Array {
  const words = ["alpha", "beta", "gamma", "delta", "{\"id\":", "\"name\":", "\n"];
  const out = new Uint8Array(size);
  let at = 0, n = seed;
  while (at < size) {
    const word = `${words[n % words.length]}${(n * 7919) % 1000} `;
    for (let i = 0; i < word.length && at < size; i++) out[at++] = word.charCodeAt(i);
    n++;
  }
  return out;
}

const textOf = (size: number, seed: number): string => new TextDecoder().decode(payloadOf(size, seed)) + "☃😀";
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const bytesOf = (messages: Array<Uint8Array | string>) =>
  messages.reduce((n, m) => n + (typeof m === "string" ? Buffer.byteLength(m) : m.length), 0);

/** A node:net echo server built from our server driver with `deflate(options)`. */
const startOurServer = (options: DeflateOptions): Promise<EchoServer> =>
  startEchoServer({}, (driver) => driver.addExtension(deflate(options)));

const variants: Array<[string, DeflateOptions, PerMessageDeflateOptions, string]> = [
  ["context takeover", {}, { threshold: 0 }, "permessage-deflate"],
  ["no context takeover either way", { serverNoContextTakeover: true, clientNoContextTakeover: true },
    { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
  ["small windows", { serverMaxWindowBits: 10 }, { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
    "permessage-deflate; server_max_window_bits=10"],
  // ws offers client_max_window_bits (no value) by default, so the server may limit it.
  ["the client's window limited by the server", { clientMaxWindowBits: 11 }, { threshold: 0 },
    "permessage-deflate; client_max_window_bits=11"],
];

describe.each(variants)("our server with the ws client: %s", (_, ours, theirs, negotiated) => {
  let echo: EchoServer;
  beforeAll(async () => { echo = await startOurServer(ours); });
  afterAll(async () => { await stopEchoServer(echo); });

  it("echoes binary and text of every size, compressed both ways", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${echo.port}/`, { perMessageDeflate: theirs });
    const received: Array<{ data: Buffer; isBinary: boolean }> = [];
    ws.on("message", (data: Buffer, isBinary: boolean) => received.push({ data, isBinary }));
    let answered: unknown;
    ws.once("upgrade", (response) => { answered = response.headers["sec-websocket-extensions"]; });
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    try {
      expect(answered).toBe(negotiated);
      const sent: Array<Uint8Array | string> = [];
      SIZES.forEach((size, i) => { sent.push(payloadOf(size, i)); sent.push(textOf(size, i)); });
      for (const message of sent) ws.send(message, { binary: typeof message !== "string" });
      await new Promise<void>((resolve) => {
        const check = () => (received.length === sent.length ? resolve() : ws.once("message", () => setImmediate(check)));
        check();
      });
      sent.forEach((message, i) => {
        const got = received[i];
        if (typeof message === "string") {
          expect(got.isBinary).toBe(false);
          expect(got.data.toString("utf8") === message).toBe(true);
        } else {
          expect(got.isBinary).toBe(true);
          expect(same(got.data, message)).toBe(true);
        }
      });
      // Compressed, our side wrote well under half the bytes it echoed.
      expect(echo.written()).toBeLessThan(bytesOf(sent) / 2);
    } finally {
      ws.terminate();
    }
  });
});

/** Our client driver on a node:net socket to `port`, with `deflate(options)`. */
function connectOurClient(port: number, options: DeflateOptions): Promise<{ driver: ClientDriver; socket: Socket; written: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let written = 0;
    const io = { write: (chunk: Uint8Array) => { written += chunk.length; return socket.write(chunk); } };
    const driver = Driver.client(`ws://127.0.0.1:${port}/`, io);
    driver.addExtension(deflate(options));
    socket.on("data", (chunk) => driver.parse(chunk));
    socket.on("close", () => driver.end());
    socket.on("error", reject);
    driver.on("open", () => resolve({ driver, socket, written: () => written }));
    driver.on("error", reject);
    socket.on("connect", () => driver.start());
  });
}

const serverVariants: Array<[string, DeflateOptions, PerMessageDeflateOptions, string]> = [
  ["context takeover", {}, { threshold: 0 }, "permessage-deflate"],
  ["no context takeover either way", {}, { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
  ["the client's window limited to 9 bits", { clientMaxWindowBits: true }, { threshold: 0, clientMaxWindowBits: 9 },
    "permessage-deflate; client_max_window_bits=9"],
];

describe.each(serverVariants)("our client with a ws server: %s", (_, ours, theirs, negotiated) => {
  let wss: WebSocketServer;
  let port: number;
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: theirs });
    wss.on("connection", (ws) => ws.on("message", (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary })));
    await new Promise((resolve) => wss.once("listening", resolve));
    port = (wss.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it("echoes binary and text of every size, compressed both ways", async () => {
    const { driver, socket, written } = await connectOurClient(port, ours);
    try {
      expect(driver.headers["sec-websocket-extensions"]).toBe(negotiated);
      const received: Array<string | Uint8Array> = [];
      const sent: Array<Uint8Array | string> = [];
      SIZES.forEach((size, i) => { sent.push(payloadOf(size, i)); sent.push(textOf(size, i)); });
      const done = new Promise<void>((resolve) => driver.on("message", ({ data }) => {
        received.push(data);
        if (received.length === sent.length) resolve();
      }));
      const handshake = written();
      for (const message of sent) (typeof message === "string" ? driver.text(message) : driver.binary(message));
      await done;
      sent.forEach((message, i) => {
        if (typeof message === "string") expect(received[i] === message).toBe(true);
        else expect(received[i] instanceof Uint8Array && same(received[i] as Uint8Array, message)).toBe(true);
      });
      expect(written() - handshake).toBeLessThan(bytesOf(sent) / 2);
      const closed = new Promise((resolve) => driver.on("close", resolve));
      driver.close();
      expect(await closed).toEqual({ code: 1000, reason: "" });
    } finally {
      socket.destroy();
    }
  });
});
