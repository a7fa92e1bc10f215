/**
 * The demo server against hostile clients over loopback: whatever one client sends (a request
 * target the URL parser refuses, a reset right behind a refused upgrade), the server keeps serving
 * the others, and a client that sends without reading is held back by TCP (the server stops reading
 * it while it owes it more than the socket's high-water mark) and dropped once silent for two idle
 * periods, before it can run the server out of memory. Each case ends by joining with a `ws` client and exchanging a message, which takes
 * several turns of the server's event loop, so a crash the hostile bytes caused has happened by then.
 */
import { type Socket, connect as netConnect } from "node:net";
import WebSocket from "ws";
import { type Demo, startDemo } from "./start";
import { ensureBuilt } from "../support/build";

const UPGRADE_HEADERS = "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

describe("the demo server against hostile clients", () => {
  let demo: Demo;
  let port = 0;
  const sockets: Socket[] = [];
  beforeAll(() => ensureBuilt(), 120_000);
  // A fresh demo for each case, so one crash does not fail the cases after it.
  beforeEach(async () => {
    // Short idle periods, so the flooding client below is given up on within the test.
    demo = await startDemo({ IDLE_TIMEOUT: "300" });
    port = Number(new URL(demo.url).port);
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await demo.stop();
  });

  /** A raw TCP client to the demo, destroyed after the case. */
  async function raw(): Promise<Socket> {
    const socket = netConnect(port, "127.0.0.1");
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => { socket.once("connect", () => resolve()); socket.once("error", reject); });
    socket.on("error", () => undefined);
    return socket;
  }

  /** The head of the server's answer, or a rejection if the connection ends first. */
  function answerOf(socket: Socket): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        text += chunk;
        if (text.includes("\r\n\r\n")) resolve(text);
      });
      socket.once("close", () => reject(new Error(`the connection closed after ${JSON.stringify(text)}`)));
    });
  }

  /** Joins /chat with ws and has a message broadcast back: the server still serves. */
  async function stillServes(): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    try {
      const echoed = new Promise<string>((resolve, reject) => {
        ws.on("message", (data: Buffer) => {
          const event = JSON.parse(data.toString()) as { type: string; text?: string };
          if (event.type === "message") resolve(event.text ?? "");
        });
        ws.once("error", reject);
      });
      await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
      ws.send("still here");
      expect(await echoed).toBe("still here");
    } finally {
      ws.terminate();
    }
    expect(demo.process.exitCode).toBeNull();
    expect(demo.output()).not.toMatch(/Error/);
  }

  describe("a request target the URL parser refuses (Node's HTTP parser takes ws://h:99999/chat)", () => {
    it("answers a plain GET with 404", async () => {
      const socket = await raw();
      socket.write("GET ws://h:99999/chat HTTP/1.1\r\nHost: h\r\n\r\n");
      expect(await answerOf(socket)).toMatch(/^HTTP\/1\.1 404 /);
      await stillServes();
    });

    it("answers an upgrade with 404", async () => {
      const socket = await raw();
      socket.write(`GET ws://h:99999/chat HTTP/1.1\r\n${UPGRADE_HEADERS}`);
      expect(await answerOf(socket)).toMatch(/^HTTP\/1\.1 404 /);
      await stillServes();
    });
  });

  describe("a client that floods messages and reads nothing", () => {
    // RFC 6455 §5.2: a masked text frame of 2000 "a" (mask 00 00 00 00, so the payload reads as is).
    const FRAME = Buffer.concat([Buffer.from([0x81, 0xfe, 0x07, 0xd0, 0, 0, 0, 0]), Buffer.alloc(2000, 0x61)]);
    const BATCH = Buffer.concat(Array.from({ length: 512 }, () => FRAME));
    const CAP = 64 * 1024 * 1024;

    it("is not read while it owes it broadcasts, then dropped, instead of growing the server's memory without bound", async () => {
      const socket = await raw();
      socket.write(`GET /chat HTTP/1.1\r\n${UPGRADE_HEADERS}`);
      // Never read: every broadcast the server writes back piles up, in the kernel and then in the server.
      socket.pause();
      let closed = false;
      const gone = new Promise<void>((resolve) => socket.once("close", () => { closed = true; resolve(); }));
      let sent = 0;
      while (!closed && sent < CAP) {
        if (!socket.write(BATCH)) await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), gone]);
        sent += BATCH.length;
      }
      // Each 2 KB message comes back as a broadcast of about the same size: without a bound the
      // server would hold all of them (over 1 GB of memory per 300 MB sent). It stopped reading, so
      // only the kernel's buffers went in, and nothing came from the client for two idle periods.
      expect(closed).toBe(true);
      expect(sent).toBeLessThan(CAP);
      expect(demo.output()).toMatch(/guest-1: Nothing received for 300 ms, nor within 300 ms of a ping \(idleTimeout\)/);
      await stillServes();
    }, 60_000);
  });

  describe("a client that resets the connection on a refused upgrade (another path)", () => {
    it("before the 404 is written", async () => {
      const socket = await raw();
      socket.write(`GET /elsewhere HTTP/1.1\r\n${UPGRADE_HEADERS}`);
      socket.resetAndDestroy();
      await new Promise((resolve) => socket.once("close", resolve));
      await stillServes();
    });

    it("after reading the 404", async () => {
      const socket = await raw();
      socket.write(`GET /elsewhere HTTP/1.1\r\n${UPGRADE_HEADERS}`);
      expect(await answerOf(socket)).toMatch(/^HTTP\/1\.1 404 /);
      socket.resetAndDestroy();
      await new Promise((resolve) => socket.once("close", resolve));
      await stillServes();
    });
  });
});
