/**
 * Prepared messages (lib/prepared.ts): one message sent to many connections, encoded and framed
 * once where the connections would encode it alike, by each connection itself where not.
 */
import { Driver } from "../../lib/driver";
import type { DeflateEngine, Deflater } from "../../lib/extensions/engine";
import { type DeflateOptions, deflate } from "../../lib/extensions/permessage-deflate";
import { zlibEngine } from "../../lib/node/zlib";
import type { ZlibModule } from "../../lib/node/zlib";
import { PreparedMessage, prepareMessage } from "../../lib/prepared";
import type { ClientDriver, ServerDriver } from "../../lib/types";
import { hex } from "../extensions/support";
import { openDraft } from "../hixie/support";
import {
  CollectingIO, openClient, openServer, readFrames, record, requestKey, upgradeRequest, upgradeResponse, utf8,
} from "../support/wire";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const zlib = require("node:zlib") as ZlibModule;

/** An `io` that keeps the very chunks written, not copies: to see one buffer go to many connections. */
class KeepingIO {
  chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    return true;
  }
}

/** A zlib engine of its own whose compressors count the messages they compress. */
function countingEngine(): DeflateEngine & { compressed: number } {
  const inner = zlibEngine(zlib);
  const engine = {
    compressed: 0,
    createDeflater(options: Parameters<DeflateEngine["createDeflater"]>[0]): Deflater {
      const deflater = inner.createDeflater(options);
      return {
        deflate: (data: Uint8Array) => { engine.compressed++; return deflater.deflate(data); },
        reset: () => deflater.reset(),
        close: () => deflater.close(),
      };
    },
    createInflater: inner.createInflater,
  };
  return engine;
}

/** An open server with `deflate(options)` that has answered `offer`, writing to a `KeepingIO`. */
function compressedServer(options: DeflateOptions, offer = "permessage-deflate; client_max_window_bits"): { driver: ServerDriver; io: KeepingIO } {
  const io = new KeepingIO();
  const driver = Driver.server(io);
  driver.addExtension(deflate(options));
  driver.on("connect", () => driver.start());
  driver.parse(utf8(upgradeRequest({ "Sec-WebSocket-Extensions": offer })));
  expect(new TextDecoder().decode(io.chunks[0])).toMatch(/Sec-WebSocket-Extensions: permessage-deflate/);
  io.chunks.length = 0;
  return { driver, io };
}

/** A client that reads what a server writes, with `deflate` negotiated as `answer` says. */
function reader(answer: string): { client: ClientDriver; messages: Array<string | Uint8Array> } {
  const io = new CollectingIO();
  const client = Driver.client("ws://example.com/chat", io);
  client.addExtension(deflate());
  client.start();
  client.parse(utf8(upgradeResponse(requestKey(io.text()), `Sec-WebSocket-Extensions: ${answer}\r\n`)));
  const messages: Array<string | Uint8Array> = [];
  client.on("message", ({ data }) => messages.push(data));
  return { client, messages };
}

describe("prepareMessage", () => {
  it("makes a text message of a string and a binary one of bytes, copying the bytes", () => {
    const text = prepareMessage("Hello");
    expect([text.opcode, text.text, hex(text.payload), text.binary]).toEqual([1, "Hello", "48 65 6c 6c 6f", false]);
    const source = Uint8Array.of(1, 2, 3);
    const binary = prepareMessage(source);
    source[0] = 9;
    expect([binary.opcode, binary.text, hex(binary.payload), binary.binary]).toEqual([2, null, "01 02 03", true]);
    expect(binary).toBeInstanceOf(PreparedMessage);
  });
});

describe("a server without extensions", () => {
  it("writes the one frame built for the message to every connection: 81 05 48 65 6c 6c 6f", () => {
    const message = prepareMessage("Hello");
    const ios = Array.from({ length: 3 }, () => new KeepingIO());
    for (const io of ios) {
      const driver = Driver.server(io);
      driver.on("connect", () => driver.start());
      driver.parse(utf8(upgradeRequest()));
      io.chunks.length = 0;
      expect(driver.sendPrepared(message)).toBe(true);
    }
    expect(hex(ios[0].chunks[0])).toBe("81 05 48 65 6c 6c 6f");
    expect(ios[1].chunks[0]).toBe(ios[0].chunks[0]);
    expect(ios[2].chunks[0]).toBe(ios[0].chunks[0]);
  });

  it("frames a binary message of 70,000 bytes with the 64-bit length (RFC 6455 §5.2)", () => {
    const { driver, io } = openServer();
    driver.sendPrepared(prepareMessage(new Uint8Array(70_000).fill(7)));
    const [frame] = readFrames(io.take());
    expect([frame.opcode, frame.fin, frame.rsv, frame.masked, frame.payload.length, frame.payload[69_999]]).toEqual([2, true, 0, false, 70_000, 7]);
  });
});

describe("a client masks a prepared message with a key of its own (RFC 6455 §5.3)", () => {
  it("sends each copy under a fresh masking key, and the payload unmasks to the message", () => {
    const { driver, io } = openClient();
    const message = prepareMessage("Hello");
    driver.sendPrepared(message);
    driver.sendPrepared(message);
    const frames = readFrames(io.take());
    expect(frames.map((f) => [f.opcode, f.masked, new TextDecoder().decode(f.payload)])).toEqual([[1, true, "Hello"], [1, true, "Hello"]]);
  });
});

describe("permessage-deflate without context on the sending side (server_no_context_takeover)", () => {
  it("compresses once for every connection of the same parameters and writes the same frame to each", () => {
    const engine = countingEngine();
    const servers = Array.from({ length: 5 }, () => compressedServer({ serverNoContextTakeover: true, engine }));
    const message = prepareMessage("Hello");
    for (const { driver } of servers) driver.sendPrepared(message);
    expect(engine.compressed).toBe(1);
    // RFC 7692 §7.2.3.1: c1 07 f2 48 cd c9 c9 07 00.
    expect(hex(servers[0].io.chunks[0])).toBe("c1 07 f2 48 cd c9 c9 07 00");
    for (const { io } of servers) expect(io.chunks[0]).toBe(servers[0].io.chunks[0]);
  });

  it("is read by a client as the message", () => {
    const { driver, io } = compressedServer({ serverNoContextTakeover: true, engine: countingEngine() });
    const { client, messages } = reader("permessage-deflate; server_no_context_takeover");
    const message = prepareMessage(JSON.stringify({ type: "update", items: [1, 2, 3], text: "hello ".repeat(50) }));
    driver.sendPrepared(message);
    driver.sendPrepared(message);
    for (const chunk of io.chunks) client.parse(chunk.slice());
    expect(messages).toEqual([message.text, message.text]);
  });

  it("compresses once per parameter set: another level is another encoding", () => {
    const engine = countingEngine();
    const fast = compressedServer({ serverNoContextTakeover: true, level: 1, engine });
    const small = compressedServer({ serverNoContextTakeover: true, level: 9, engine });
    const fast2 = compressedServer({ serverNoContextTakeover: true, level: 1, engine });
    const message = prepareMessage("Hello, Hello, Hello");
    for (const { driver } of [fast, small, fast2]) driver.sendPrepared(message);
    expect(engine.compressed).toBe(2);
    expect(fast2.io.chunks[0]).toBe(fast.io.chunks[0]);
    expect(small.io.chunks[0]).not.toBe(fast.io.chunks[0]);
  });

  it("sends a message under the threshold uncompressed, the same frame to each connection", () => {
    const engine = countingEngine();
    const servers = [compressedServer({ serverNoContextTakeover: true, threshold: 10, engine }), compressedServer({ serverNoContextTakeover: true, threshold: 10, engine })];
    const message = prepareMessage("Hello");
    for (const { driver } of servers) driver.sendPrepared(message);
    expect(engine.compressed).toBe(0);
    expect(hex(servers[0].io.chunks[0])).toBe("81 05 48 65 6c 6c 6f");
    expect(servers[1].io.chunks[0]).toBe(servers[0].io.chunks[0]);
  });
});

describe("permessage-deflate with context on the sending side", () => {
  it("falls back to each connection's own compressor: the second 'Hello' is a back-reference (§7.2.3.2)", () => {
    const engine = countingEngine();
    const servers = [compressedServer({ engine }), compressedServer({ engine })];
    const message = prepareMessage("Hello");
    for (const { driver } of servers) {
      driver.sendPrepared(message);
      driver.sendPrepared(message);
    }
    expect(engine.compressed).toBe(4);
    for (const { io } of servers) expect(io.chunks.map(hex)).toEqual(["c1 07 f2 48 cd c9 c9 07 00", "c1 05 f2 00 11 00 00"]);
  });

  it("mixes with connections that share an encoding and ones without the extension, each getting the message", () => {
    const engine = countingEngine();
    const shared = compressedServer({ serverNoContextTakeover: true, engine });
    const own = compressedServer({ engine });
    const plain = openServer();
    const message = prepareMessage("Hello");
    for (const driver of [shared.driver, own.driver, plain.driver]) driver.sendPrepared(message);
    expect([hex(shared.io.chunks[0]), hex(own.io.chunks[0]), hex(plain.io.take())])
      .toEqual(["c1 07 f2 48 cd c9 c9 07 00", "c1 07 f2 48 cd c9 c9 07 00", "81 05 48 65 6c 6c 6f"]);
  });
});

describe("when a prepared message may be sent", () => {
  it("is queued before the connection opens and sent, in order, when it does", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/chat", io);
    expect(client.sendPrepared(prepareMessage("first"))).toBe(true);
    expect(client.sendPrepared(prepareMessage(Uint8Array.of(1, 2)))).toBe(true);
    client.start();
    const key = requestKey(io.text());
    io.take();
    client.parse(utf8(upgradeResponse(key)));
    expect(readFrames(io.take()).map((f) => [f.opcode, hex(f.payload)])).toEqual([[1, "66 69 72 73 74"], [2, "01 02"]]);
  });

  it("is refused (false) once the connection is closing", () => {
    const { driver, io } = openServer();
    driver.close();
    io.take();
    expect(driver.sendPrepared(prepareMessage("late"))).toBe(false);
    expect(io.take().length).toBe(0);
  });

  it("goes through Driver.server before the request is read, like text()", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    const events = record(driver);
    expect(driver.sendPrepared(prepareMessage("early"))).toBe(true);
    driver.on("connect", () => driver.start());
    driver.parse(utf8(upgradeRequest()));
    const written = io.take();
    const head = new TextDecoder().decode(written).indexOf("\r\n\r\n") + 4;
    expect(hex(written.subarray(head))).toBe("81 05 65 61 72 6c 79");
    expect(events.map(([type]) => type)).toContain("open");
  });

  it("sends text on the hixie-76 draft as text() does, and refuses a binary message there", () => {
    const { driver, io } = openDraft("hixie-76");
    expect(driver.sendPrepared(prepareMessage("Hi"))).toBe(true);
    expect(hex(io.take())).toBe("00 48 69 ff");
    expect(driver.sendPrepared(prepareMessage(Uint8Array.of(1)))).toBe(false);
  });
});
