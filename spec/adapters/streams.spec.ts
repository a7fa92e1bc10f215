/**
 * Messages in pieces as WHATWG streams (`wsdriver/streams`) on the Node adapter, over real loopback
 * sockets: a file piped into a message and out of it into a file, both ways, with and without
 * permessage-deflate; the transport paused while a reader lags; a message cut short errors its
 * stream; and the ws client as the peer, sending fragments and reading ours.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import WebSocket from "ws";
import { type Connection, acceptSocket, connect } from "../../lib/adapters/node";
import { type IncomingMessageStream, receiveStreams, sendStream } from "../../lib/adapters/streams";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { DriverOptions } from "../../lib/options";
import type { ClientDriver, ServerDriver } from "../../lib/types";

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");
const fileStream = (path: string): ReadableStream<Uint8Array> => Readable.toWeb(createReadStream(path, { highWaterMark: 256 * 1024 })) as ReadableStream<Uint8Array>;
const toFile = (path: string): WritableStream<Uint8Array> => Writable.toWeb(createWriteStream(path)) as WritableStream<Uint8Array>;

/** Resolves with the first message taken in pieces on `connection`. */
const nextStream = (connection: Connection<ClientDriver | ServerDriver>): Promise<IncomingMessageStream> =>
  new Promise((resolve) => {
    const stop = receiveStreams(connection, (message) => {
      stop();
      resolve(message);
    });
  });

/** A server of ours on loopback and a client of ours connected to it, both opened. */
async function openPair(options: DriverOptions, withDeflate: boolean) {
  const accepted: Array<Connection<ServerDriver>> = [];
  const server = createServer((socket: Socket) => {
    const connection = acceptSocket(socket, options);
    if (withDeflate) connection.driver.addExtension(deflate());
    connection.driver.on("connect", () => connection.driver.start());
    accepted.push(connection);
  });
  const port = await listen(server);
  const client = connect(`ws://127.0.0.1:${port}/`, options);
  if (withDeflate) client.driver.addExtension(deflate());
  await new Promise((resolve, reject) => {
    client.driver.on("open", resolve);
    client.driver.on("close", reject);
  });
  const serverSide = accepted[0];
  const done = async () => {
    client.socket.destroy();
    for (const { socket } of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return { client, serverSide, done };
}

describe("a file through a message and back, in pieces (Node adapter)", () => {
  const dir = mkdtempSync(join(tmpdir(), "wsdriver-streams-"));
  const source = join(dir, "source.bin");
  const data = new Uint8Array(12 * 1024 * 1024);
  // Half random (incompressible), half repeated (compressible), so deflate does both kinds of work.
  data.set(randomBytes(6 * 1024 * 1024));
  for (let i = 6 * 1024 * 1024; i < data.length; i++) data[i] = i % 251;
  beforeAll(() => writeFileSync(source, data));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const withDeflate of [false, true]) {
    it(`client to server to file, and back${withDeflate ? ", with permessage-deflate" : ""}`, async () => {
      const { client, serverSide, done } = await openPair({ receive: "stream" }, withDeflate);
      try {
        const atServer = join(dir, `server-${withDeflate}.bin`);
        const incoming = nextStream(serverSide);
        const sent = fileStream(source).pipeTo(sendStream(client, "binary"));
        const message = await incoming;
        expect([message.type, message.compressed]).toEqual(["binary", withDeflate]);
        await Promise.all([sent, message.readable.pipeTo(toFile(atServer))]);
        expect(sha256(readFileSync(atServer))).toBe(sha256(data));

        const back = join(dir, `back-${withDeflate}.bin`);
        const returning = nextStream(client);
        const resent = fileStream(atServer).pipeTo(sendStream(serverSide, "binary"));
        const reply = await returning;
        await Promise.all([resent, reply.readable.pipeTo(toFile(back))]);
        expect(sha256(readFileSync(back))).toBe(sha256(data));
      } finally {
        await done();
      }
    });
  }

  it("text: pieces are whole characters, decoded on their own by a TextDecoderStream", async () => {
    const { client, serverSide, done } = await openPair({ receive: "stream" }, false);
    try {
      const text = "héllo ☃ 😀 ".repeat(5000);
      const incoming = nextStream(serverSide);
      // Cut into string pieces of 7 units: every surrogate pair is cut somewhere.
      const pieces: string[] = [];
      for (let i = 0; i < text.length; i += 7) pieces.push(text.slice(i, i + 7));
      const sent = new ReadableStream<string>({
        start(controller) {
          for (const piece of pieces) controller.enqueue(piece);
          controller.close();
        },
      }).pipeTo(sendStream(client, "text"));
      const message = await incoming;
      expect(message.type).toBe("text");
      let received = "";
      await Promise.all([sent, message.readable.pipeThrough(new TextDecoderStream("utf-8", { fatal: true }) as unknown as ReadableWritablePair<string, Uint8Array>).pipeTo(new WritableStream({
        write(chunk) {
          received += chunk;
        },
      }))]);
      expect(received === text).toBe(true);
    } finally {
      await done();
    }
  });
});

describe("backpressure while a reader lags", () => {
  it("pauses the socket once the message's queue holds highWaterMark bytes, and resumes as it is read", async () => {
    const { client, serverSide, done } = await openPair({ receive: "stream" }, false);
    try {
      let paused = false;
      const message = new Promise<ReadableStream<Uint8Array>>((resolve) => {
        receiveStreams(serverSide, ({ readable }) => resolve(readable), { highWaterMark: 64 * 1024 });
      });
      const payload = new Uint8Array(8 * 1024 * 1024).fill(7);
      const writer = client.driver.startMessage("binary");
      for (let at = 0; at < payload.length; at += 128 * 1024) writer?.write(payload.subarray(at, at + 128 * 1024));
      writer?.end();
      const readable = await message;
      // Read nothing until the server's socket has been paused (bounded wait: 200 turns of 10 ms).
      for (let turn = 0; turn < 200 && !paused; turn++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        paused = serverSide.socket.isPaused();
      }
      expect(paused).toBe(true);
      let length = 0;
      await readable.pipeTo(new WritableStream({
        write(chunk) {
          length += chunk.length;
        },
      }));
      expect(length).toBe(payload.length);
      expect(serverSide.socket.isPaused()).toBe(false);
    } finally {
      await done();
    }
  });
});

describe("idleTimeout while a reader holds the transport paused", () => {
  it("does not count: a reader that stalls for six idle periods still gets the whole message, and the connection stays open", async () => {
    const accepted: Array<Connection<ServerDriver>> = [];
    const server = createServer((socket: Socket) => {
      const connection = acceptSocket(socket, { receive: "stream", idleTimeout: 150 });
      connection.driver.on("connect", () => connection.driver.start());
      accepted.push(connection);
    });
    const port = await listen(server);
    const client = connect(`ws://127.0.0.1:${port}/`);
    try {
      await new Promise((resolve, reject) => {
        client.driver.on("open", resolve);
        client.driver.on("close", reject);
      });
      const serverSide = accepted[0];
      const closes: number[] = [];
      serverSide.driver.on("close", ({ code }) => closes.push(code));
      const message = new Promise<ReadableStream<Uint8Array>>((resolve) => {
        receiveStreams(serverSide, ({ readable }) => resolve(readable), { highWaterMark: 64 * 1024 });
      });
      const payload = new Uint8Array(4 * 1024 * 1024).fill(9);
      const writer = client.driver.startMessage("binary");
      for (let at = 0; at < payload.length; at += 128 * 1024) writer?.write(payload.subarray(at, at + 128 * 1024));
      writer?.end();
      const readable = await message;
      // The reader stalls for 900 ms, six times idleTimeout, with the socket paused for it.
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect(serverSide.socket.isPaused()).toBe(true);
      let length = 0;
      await readable.pipeTo(new WritableStream({ write(chunk) { length += chunk.length; } }));
      expect(length).toBe(payload.length);
      expect(closes).toEqual([]);
      expect(serverSide.driver.readyState).toBe(1);
    } finally {
      client.socket.destroy();
      for (const { socket } of accepted) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("a transport resumed behind the readable's back", () => {
  it("is paused again by the next piece past the high-water mark (the adapter resumes a server's socket once its replies drain)", async () => {
    const { client, serverSide, done } = await openPair({ receive: "stream" }, false);
    try {
      const message = new Promise<ReadableStream<Uint8Array>>((resolve) => {
        receiveStreams(serverSide, ({ readable }) => resolve(readable), { highWaterMark: 64 * 1024 });
      });
      const writer = client.driver.startMessage("binary");
      const piece = new Uint8Array(128 * 1024).fill(9);
      const waitPaused = async (): Promise<boolean> => {
        for (let turn = 0; turn < 200; turn++) {
          if (serverSide.socket.isPaused()) return true;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return false;
      };
      writer?.write(piece);
      const readable = await message;
      expect(await waitPaused()).toBe(true);
      // As the adapter's release() does on drain, not knowing the readable wants no more.
      serverSide.socket.resume();
      for (let i = 0; i < 8; i++) writer?.write(piece);
      writer?.end();
      expect(await waitPaused()).toBe(true);
      let length = 0;
      await readable.pipeTo(new WritableStream({
        write(chunk) {
          length += chunk.length;
        },
      }));
      expect(length).toBe(9 * piece.length);
    } finally {
      await done();
    }
  });
});

describe("a reader that lags gets what arrived meanwhile joined", () => {
  it("one chunk per read, not one per transport read: the bytes, in order, in fewer and larger chunks", async () => {
    const { client, serverSide, done } = await openPair({ receive: "stream" }, false);
    try {
      const message = nextStream(serverSide);
      const payload = new Uint8Array(4 * 1024 * 1024);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 131 + 7) & 0xff;
      const writer = client.driver.startMessage("binary");
      // 256 frames of 16 KiB: each arrives as a piece of its own at least.
      for (let at = 0; at < payload.length; at += 16 * 1024) writer?.write(payload.subarray(at, at + 16 * 1024));
      writer?.end();
      const { readable } = await message;
      const sizes: number[] = [];
      const received = new Uint8Array(payload.length);
      await readable.pipeTo(new WritableStream({
        async write(chunk) {
          received.set(chunk, sizes.reduce((sum, size) => sum + size, 0));
          sizes.push(chunk.length);
          // A slow sink (a disk): the next pieces arrive meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 5));
        },
      }));
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(payload.length);
      expect(Buffer.from(received).equals(Buffer.from(payload))).toBe(true);
      expect(sizes.length).toBeLessThan(256);
      expect(Math.max(...sizes)).toBeGreaterThan(16 * 1024);
      // Held bytes stay near the high-water mark (1 MiB): the transport was paused, not read on.
      expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    } finally {
      await done();
    }
  });
});

describe("a message cut short", () => {
  it("errors the message's readable when the peer's socket goes first; what was read stays read", async () => {
    const { client, serverSide, done } = await openPair({ receive: "stream" }, false);
    try {
      const incoming = nextStream(serverSide);
      const writer = client.driver.startMessage("binary");
      writer?.write(new Uint8Array(1000).fill(1));
      const message = await incoming;
      const reader = message.readable.getReader();
      const first = await reader.read();
      expect(first.value?.length).toBe(1000);
      client.socket.destroy();
      await expect(reader.read()).rejects.toThrow("The connection closed before the message ended");
    } finally {
      await done();
    }
  });

  it("closes the connection with 1011 when the source of a message fails", async () => {
    const { client, serverSide, done } = await openPair({ receive: "stream" }, false);
    try {
      const closed = new Promise<number>((resolve) => serverSide.driver.on("close", ({ code }) => resolve(code)));
      const failing = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(10));
          controller.error(new Error("disk gone"));
        },
      });
      await expect(failing.pipeTo(sendStream(client, "binary"))).rejects.toThrow("disk gone");
      expect(await closed).toBe(1011);
    } finally {
      await done();
    }
  });
});

describe("the ws client as the peer", () => {
  it("sends a fragmented, compressed message our server takes in pieces, and reads one we send in pieces", async () => {
    const accepted: Array<Connection<ServerDriver>> = [];
    const server = createServer((socket: Socket) => {
      const connection = acceptSocket(socket, { receive: "stream" });
      connection.driver.addExtension(deflate());
      connection.driver.on("connect", () => connection.driver.start());
      accepted.push(connection);
    });
    const port = await listen(server);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    try {
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      const serverSide = accepted[0];
      const incoming = nextStream(serverSide);
      const parts = [randomBytes(100000), Buffer.alloc(300000, 3), randomBytes(5)];
      parts.forEach((part, i) => ws.send(part, { binary: true, fin: i === parts.length - 1, compress: true }));
      const message = await incoming;
      expect(message.compressed).toBe(true);
      const chunks: Uint8Array[] = [];
      await message.readable.pipeTo(new WritableStream({ write: (chunk) => void chunks.push(chunk.slice()) }));
      expect(sha256(Buffer.concat(chunks))).toBe(sha256(Buffer.concat(parts)));

      const echoed = new Promise<Buffer>((resolve) => ws.once("message", (data: Buffer) => resolve(data)));
      await new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      }).pipeTo(sendStream(serverSide, "binary"));
      expect(sha256(await echoed)).toBe(sha256(Buffer.concat(parts)));
    } finally {
      ws.terminate();
      for (const { socket } of accepted) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
