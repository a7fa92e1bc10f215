/**
 * The Node adapter corks the socket while it parses one incoming chunk, so every frame written in
 * answer leaves in one `writev`; a write made elsewhere corks it until the end of its tick; and
 * backpressure is read from the socket once it has uncorked.
 * A real node:http server and a raw client socket on 127.0.0.1, bytes in view.
 */
import * as http from "node:http";
import { type AddressInfo, type Socket, connect as netConnect } from "node:net";
import { acceptUpgrade, type Connection } from "../../lib/adapters/node";
import type { ServerDriver } from "../../lib/types";
import { readUntil } from "../support/raw-socket";
import { upgradeRequest } from "../support/wire";

const HANDSHAKE = upgradeRequest({ Host: "127.0.0.1" }, "GET /chat HTTP/1.1");

// RFC 6455 §5.7: a masked "Hello" from the client (mask 37 fa 21 3d) and the server's unmasked one.
const MASKED_HELLO = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
const UNMASKED_HELLO = Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

/** The socket's write calls, counted by wrapping the real `_write`/`_writev` (they still write). */
interface WriteLog { writes: number; writevs: number[] }

function countWrites(socket: Socket): WriteLog {
  const log: WriteLog = { writes: 0, writevs: [] };
  const target = socket as unknown as {
    _write: (...args: unknown[]) => void;
    _writev: (chunks: unknown[], callback: unknown) => void;
  };
  const write = target._write;
  const writev = target._writev;
  target._write = function (...args: unknown[]) { log.writes++; return write.apply(this, args); };
  target._writev = function (chunks: unknown[], callback: unknown) { log.writevs.push(chunks.length); return writev.call(this, chunks, callback); };
  return log;
}

describe("acceptUpgrade corks the socket while it parses one chunk", () => {
  const server = http.createServer();
  /** What the server side saw: per connection, set up by the test before the client writes. */
  let onConnection: (connection: Connection<ServerDriver>, socket: Socket) => void = () => {};
  const connections: Array<Connection<ServerDriver>> = [];
  let port = 0;
  server.on("upgrade", (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const connection = acceptUpgrade(request, socket, head);
    connections.push(connection);
    onConnection(connection, socket);
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const { socket } of connections) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function openClient(): Promise<Socket> {
    const client = netConnect(port, "127.0.0.1");
    await new Promise((resolve) => client.once("connect", resolve));
    client.write(HANDSHAKE);
    await readUntil(client, (bytes) => bytes.includes("\r\n\r\n"));
    return client;
  }

  it("sends the echoes of three frames that came in one chunk in one writev", async () => {
    let log: WriteLog | null = null;
    onConnection = (connection, socket) => {
      connection.driver.on("message", ({ data }) => {
        // Counted from the first message on: the 101 has gone already.
        log ??= countWrites(socket);
        connection.driver.text(String(data));
      });
    };
    const client = await openClient();
    try {
      client.write(Buffer.concat([MASKED_HELLO, MASKED_HELLO, MASKED_HELLO]));
      const echoes = await readUntil(client, (bytes) => bytes.length >= 3 * UNMASKED_HELLO.length);
      expect(echoes).toEqual(Buffer.concat([UNMASKED_HELLO, UNMASKED_HELLO, UNMASKED_HELLO]));
      expect(log).toEqual({ writes: 0, writevs: [3] });
    } finally {
      client.destroy();
    }
  });

  it("leaves the socket uncorked after each chunk, so a message sent from a timer goes out at once", async () => {
    let corkedAfterParse = -1;
    onConnection = (connection, socket) => {
      connection.driver.on("message", () => {
        setTimeout(() => connection.driver.text("tick"), 0);
      });
      // Added after the adapter's listener: runs once the chunk has been parsed.
      socket.on("data", () => { corkedAfterParse = socket.writableCorked; });
    };
    const client = await openClient();
    try {
      client.write(MASKED_HELLO);
      const tick = await readUntil(client, (bytes) => bytes.length >= 6);
      expect(tick).toEqual(Buffer.from([0x81, 0x04, 0x74, 0x69, 0x63, 0x6b]));
      expect(corkedAfterParse).toBe(0);
    } finally {
      client.destroy();
    }
  });

  it("gathers the messages a timer sends in one tick into one writev, sent before the next I/O", async () => {
    let log: WriteLog | null = null;
    onConnection = (connection, socket) => {
      connection.driver.on("message", () => {
        setTimeout(() => {
          log = countWrites(socket);
          for (const word of ["one", "two", "six"]) connection.driver.text(word);
        }, 0);
      });
    };
    const client = await openClient();
    try {
      client.write(MASKED_HELLO);
      const bytes = await readUntil(client, (received) => received.length >= 15);
      expect(bytes).toEqual(Buffer.from([
        0x81, 0x03, 0x6f, 0x6e, 0x65, // "one"
        0x81, 0x03, 0x74, 0x77, 0x6f, // "two"
        0x81, 0x03, 0x73, 0x69, 0x78, // "six"
      ]));
      expect(log).toEqual({ writes: 0, writevs: [3] });
    } finally {
      client.destroy();
    }
  });

  it("reports needsDrain within the tick when a timer's small sends outrun a peer that reads nothing", async () => {
    let sent = 0;
    let sawDrainFlag = false;
    let server: Connection<ServerDriver> | null = null;
    const text = "x".repeat(64);
    onConnection = (connection) => {
      server = connection;
      connection.driver.on("message", () => {
        setTimeout(() => {
          // One synchronous loop: needsDrain must turn true before it ends, not at the end of the tick.
          while (!connection.needsDrain && sent < 1_000_000) {
            connection.driver.text(text);
            sent++;
          }
          sawDrainFlag = connection.needsDrain;
        }, 0);
      });
    };
    const client = await openClient();
    try {
      client.pause();
      client.write(MASKED_HELLO);
      while (sent === 0 || !sawDrainFlag) {
        if (sent >= 1_000_000) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(sawDrainFlag).toBe(true);
      expect(sent).toBeLessThan(1_000_000);
      const connection = server as unknown as Connection<ServerDriver>;
      expect(connection.bufferedAmount).toBeGreaterThan(0);
      const total = sent * 66;
      const received = readUntil(client, (bytes) => bytes.length >= total);
      client.resume();
      await connection.drained();
      expect((await received).length).toBe(total);
    } finally {
      client.destroy();
    }
  });

  it("does not report needsDrain when the corked writes crossed the high-water mark but all left on uncork", async () => {
    // Two frames of five eighths of the socket's high-water mark each: 16 KiB on Node 20, 64 KiB
    // from Node 22 on (a 10 KiB frame then stays under it), so each payload is 10 or 40 KiB.
    let size = 0;
    let crossedWhileCorked = false;
    let after: { needsDrain: boolean; bufferedAmount: number } | null = null;
    onConnection = (connection, socket) => {
      size = Math.ceil(socket.writableHighWaterMark * 5 / 8);
      const payload = new Uint8Array(size).fill(0x61);
      connection.driver.on("message", () => {
        connection.driver.binary(payload);
        connection.driver.binary(payload);
        // Both frames gathered in the corked socket: over its mark, so the second write said false.
        crossedWhileCorked = socket.writableNeedDrain && socket.writableLength > socket.writableHighWaterMark;
      });
      socket.on("data", () => { after = { needsDrain: connection.needsDrain, bufferedAmount: connection.bufferedAmount }; });
    };
    const client = await openClient();
    try {
      client.write(MASKED_HELLO);
      // Each frame: 82 7e and a 16-bit length (RFC 6455 §5.2; 28 00 for 10 KiB), then the payload.
      const bytes = await readUntil(client, (received) => received.length >= 2 * (4 + size));
      expect(size).toBeLessThan(65536);
      expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x82, 0x7e, size >> 8, size & 0xff]));
      expect(bytes.length).toBe(2 * (4 + size));
      expect(crossedWhileCorked).toBe(true);
      expect(after).toEqual({ needsDrain: false, bufferedAmount: 0 });
    } finally {
      client.destroy();
    }
  });

  it("reports needsDrain when a handler's writes outrun a peer that reads nothing, then drains when it reads", async () => {
    const payload = new Uint8Array(1 << 20);
    const frames = 16;
    let after: { needsDrain: boolean; bufferedAmount: number } | null = null;
    let server: Connection<ServerDriver> | null = null;
    onConnection = (connection, socket) => {
      server = connection;
      connection.driver.on("message", () => {
        for (let i = 0; i < frames; i++) connection.driver.binary(payload);
      });
      socket.on("data", () => { after = { needsDrain: connection.needsDrain, bufferedAmount: connection.bufferedAmount }; });
    };
    const client = await openClient();
    try {
      client.pause();
      client.write(MASKED_HELLO);
      while (after === null) await new Promise((resolve) => setImmediate(resolve));
      const seen = after as { needsDrain: boolean; bufferedAmount: number };
      expect(seen.needsDrain).toBe(true);
      expect(seen.bufferedAmount).toBeGreaterThan(0);
      const connection = server as unknown as Connection<ServerDriver>;
      const drainEvent = new Promise<void>((resolve) => connection.on("drain", () => resolve()));
      const drained = connection.drained();
      // Each frame: 82 7f and a 64-bit length (RFC 6455 §5.2), then 1 MiB.
      const total = frames * (10 + payload.length);
      const received = readUntil(client, (bytes) => bytes.length >= total);
      client.resume();
      await drained;
      await drainEvent;
      expect(connection.needsDrain).toBe(false);
      expect((await received).length).toBe(total);
    } finally {
      client.destroy();
    }
  });
});
