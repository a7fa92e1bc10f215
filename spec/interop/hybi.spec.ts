/**
 * Interop over real loopback sockets: our server with the `ws` and `undici` clients, and our client
 * with a `ws` server, echoing messages of every length boundary, multi-byte text and binary.
 */
import { type AddressInfo, connect } from "node:net";
import { WebSocket as UndiciWebSocket } from "undici";
import WebSocket, { WebSocketServer } from "ws";
import { Driver } from "../../lib/driver";
import type { ClientDriver } from "../../lib/types";
import { type EchoServer, startEchoServer, stopEchoServer } from "../support/echo-server";

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const TEXT = "héllo wörld ☃ 😀 — ";

function payloadOf(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + 7) & 0xff;
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("our server with the ws client", () => {
  let echo: EchoServer;
  beforeAll(async () => { echo = await startEchoServer({ protocols: ["echo"] }); });
  afterAll(() => stopEchoServer(echo));

  it("echoes binary of every boundary size, text, pings, and closes with a code and reason", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${echo.port}/`, ["echo"]);
    const received: Array<{ data: Buffer; isBinary: boolean }> = [];
    ws.on("message", (data: Buffer, isBinary: boolean) => received.push({ data, isBinary }));
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    expect(ws.protocol).toBe("echo");

    for (const size of SIZES) ws.send(payloadOf(size));
    ws.send(TEXT.repeat(1000));
    const pong = new Promise<Buffer>((resolve) => ws.once("pong", resolve));
    ws.ping("are you there");
    expect((await pong).toString()).toBe("are you there");

    const closed = new Promise<[number, string]>((resolve) => ws.once("close", (code, reason) => resolve([code, reason.toString()])));
    await new Promise<void>((resolve) => {
      const check = () => (received.length === SIZES.length + 1 ? resolve() : setTimeout(check, 5));
      check();
    });
    SIZES.forEach((size, i) => {
      expect(received[i].isBinary).toBe(true);
      expect(sameBytes(received[i].data, payloadOf(size))).toBe(true);
    });
    expect(received[SIZES.length]).toEqual({ data: Buffer.from(TEXT.repeat(1000)), isBinary: false });
    ws.close(4001, "done here");
    expect(await closed).toEqual([4001, ""]);
  });
});

describe("our server with the undici WebSocket client", () => {
  let echo: EchoServer;
  beforeAll(async () => { echo = await startEchoServer({ protocols: ["echo"] }); });
  afterAll(() => stopEchoServer(echo));

  it("echoes binary of every boundary size and text, then closes cleanly", async () => {
    const ws = new UndiciWebSocket(`ws://127.0.0.1:${echo.port}/`, "echo");
    ws.binaryType = "arraybuffer";
    const received: Array<string | ArrayBuffer> = [];
    ws.addEventListener("message", (event) => received.push(event.data as string | ArrayBuffer));
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", reject, { once: true });
    });
    expect(ws.protocol).toBe("echo");
    for (const size of SIZES) ws.send(payloadOf(size));
    ws.send(TEXT);
    await new Promise<void>((resolve) => {
      const check = () => (received.length === SIZES.length + 1 ? resolve() : setTimeout(check, 5));
      check();
    });
    SIZES.forEach((size, i) => expect(sameBytes(new Uint8Array(received[i] as ArrayBuffer), payloadOf(size))).toBe(true));
    expect(received[SIZES.length]).toBe(TEXT);
    const closed = new Promise<{ code: number; wasClean: boolean }>((resolve) =>
      ws.addEventListener("close", (event) => resolve({ code: event.code, wasClean: event.wasClean }), { once: true }));
    ws.close(1000, "bye");
    expect(await closed).toEqual({ code: 1000, wasClean: true });
  });
});

describe("our client with a ws server", () => {
  let wss: WebSocketServer;
  let port: number;
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: (protocols) => (protocols.has("b") ? "b" : false) });
    wss.on("connection", (ws) => {
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on("ping", () => undefined);
    });
    await new Promise((resolve) => wss.once("listening", resolve));
    port = (wss.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  /** Connects our client driver over a real socket and collects what it emits. */
  async function open(protocols: string[] = []) {
    const socket = connect(port, "127.0.0.1");
    const driver: ClientDriver = Driver.client(`ws://127.0.0.1:${port}/path?q=1`, socket, { protocols });
    const messages: Array<string | Uint8Array> = [];
    driver.on("message", ({ data }) => messages.push(data));
    socket.on("data", (chunk) => driver.parse(chunk));
    socket.on("close", () => driver.end());
    const closed = new Promise<{ code: number; reason: string }>((resolve) => driver.on("close", resolve));
    await new Promise((resolve) => socket.once("connect", resolve));
    driver.start();
    await new Promise((resolve, reject) => { driver.on("open", resolve); driver.on("error", reject); });
    return { socket, driver, messages, closed };
  }

  it("opens with the chosen subprotocol and echoes every size and text", async () => {
    const { socket, driver, messages, closed } = await open(["a", "b"]);
    expect(driver.protocol).toBe("b");
    expect(driver.statusCode).toBe(101);
    for (const size of SIZES) driver.binary(payloadOf(size));
    driver.text(TEXT.repeat(3000));
    await new Promise<void>((resolve) => {
      const check = () => (messages.length === SIZES.length + 1 ? resolve() : setTimeout(check, 5));
      check();
    });
    SIZES.forEach((size, i) => expect(sameBytes(messages[i] as Uint8Array, payloadOf(size))).toBe(true));
    expect(messages[SIZES.length]).toBe(TEXT.repeat(3000));

    const pong = new Promise<void>((resolve) => driver.ping("hi", resolve));
    await pong;

    driver.close("finished", 1000);
    expect(await closed).toEqual({ code: 1000, reason: "finished" });
    socket.destroy();
  });

  it("reports close 1006 when the server drops the connection", async () => {
    const { driver, closed } = await open();
    for (const client of wss.clients) client.terminate();
    expect(await closed).toEqual({ code: 1006, reason: "" });
    expect(driver.readyState).toBe(3);
  });
});
