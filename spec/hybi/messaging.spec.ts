import { Driver } from "../../lib/driver";
import { pair } from "../../lib/testing";
import {
  CollectingIO, bytes, clientFrame, comparable, frame, openClient, openServer, readFrames, record, requestKey, upgradeRequest,
  upgradeResponse, utf8,
} from "../support/wire";

describe("the send queue before open", () => {
  it("queues text, binary and ping before the handshake and sends them in order on open", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/", io);
    expect(client.text("first")).toBe(true);
    expect(client.binary(bytes(1, 2, 3))).toBe(true);
    expect(client.ping("p")).toBe(true);
    expect(client.text("last")).toBe(true);
    client.start();
    const key = requestKey(io.text());
    io.take();
    client.parse(utf8(upgradeResponse(key)));
    const frames = readFrames(io.take());
    expect(frames.map((f) => [f.opcode, Array.from(f.payload)])).toEqual([
      [1, Array.from(utf8("first"))], [2, [1, 2, 3]], [9, Array.from(utf8("p"))], [1, Array.from(utf8("last"))],
    ]);
  });

  it("queues on a server until start() answers the request", () => {
    const io = new CollectingIO();
    const server = Driver.server(io);
    expect(server.text("hello")).toBe(true);
    server.parse(utf8(upgradeRequest()));
    expect(io.chunks).toHaveLength(0);
    server.start();
    const written = io.text();
    expect(written.startsWith("HTTP/1.1 101")).toBe(true);
    expect(written.endsWith("\x81\x05hello")).toBe(true);
  });

  it("sends what was queued before anything an open handler sends (server)", () => {
    const io = new CollectingIO();
    const server = Driver.server(io);
    server.text("queued");
    server.on("open", () => server.text("from open"));
    server.parse(utf8(upgradeRequest()));
    server.start();
    const frames = readFrames(io.all().subarray(io.text().indexOf("\r\n\r\n") + 4));
    expect(frames.map((f) => [f.opcode, new TextDecoder().decode(f.payload)])).toEqual([[1, "queued"], [1, "from open"]]);
  });

  it("sends what was queued before anything an open handler sends (client)", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/", io);
    client.text("queued");
    client.binary(bytes(1, 2));
    client.on("open", () => client.text("from open"));
    client.start();
    const key = requestKey(io.text());
    io.take();
    client.parse(utf8(upgradeResponse(key)));
    expect(readFrames(io.take()).map((f) => [f.opcode, Array.from(f.payload)])).toEqual([
      [1, Array.from(utf8("queued"))], [2, [1, 2]], [1, Array.from(utf8("from open"))],
    ]);
  });

  it("sends what was queued, then the close frame, when an open handler closes", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/", io);
    client.text("queued");
    client.on("open", () => client.close("done", 1000));
    client.start();
    const key = requestKey(io.text());
    io.take();
    client.parse(utf8(upgradeResponse(key)));
    const frames = readFrames(io.take());
    expect(frames.map((f) => f.opcode)).toEqual([1, 8]);
    expect(new TextDecoder().decode(frames[0].payload)).toBe("queued");
    expect(client.readyState).toBe(2);
  });

  it("queues pong and a ping with a callback, and the callback runs when its pong arrives", () => {
    const io = new CollectingIO();
    const server = Driver.server(io);
    const pongs: string[] = [];
    // Made before the request is read, then replayed on the RFC 6455 driver, then queued until open.
    expect(server.pong("early pong")).toBe(true);
    expect(server.ping("p1", () => pongs.push("p1"))).toBe(true);
    expect(server.binary(bytes(7, 8))).toBe(true);
    server.parse(utf8(upgradeRequest()));
    expect(io.chunks).toHaveLength(0);
    server.start();
    const written = io.all();
    const frames = readFrames(written.subarray(io.text().indexOf("\r\n\r\n") + 4));
    expect(frames.map((f) => [f.opcode, Array.from(f.payload)])).toEqual([
      [10, Array.from(utf8("early pong"))], [9, Array.from(utf8("p1"))], [2, [7, 8]],
    ]);
    expect(pongs).toEqual([]);
    server.parse(clientFrame({ opcode: 10, payload: utf8("p1") }));
    expect(pongs).toEqual(["p1"]);
  });

  it("refuses a ping or pong over 125 bytes while connecting, and queues nothing for it", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/", io);
    expect(client.ping(new Uint8Array(126))).toBe(false);
    expect(client.pong(new Uint8Array(126))).toBe(false);
    client.start();
    const key = requestKey(io.text());
    io.take();
    client.parse(utf8(upgradeResponse(key)));
    expect(io.chunks).toHaveLength(0);
  });

  it("drops the queue when the connection closes before it opens", () => {
    const io = new CollectingIO();
    const client = Driver.client("ws://example.com/", io);
    const events = record(client);
    client.text("never");
    expect(client.close()).toBe(true);
    expect(events).toEqual([["close", { code: 1000, reason: "" }]]);
    expect(client.start()).toBe(false);
    expect(io.chunks).toHaveLength(0);
  });
});

describe("whole messages and messages in pieces on one connection (RFC 6455 §5.4)", () => {
  it("delivers whole, fragmented, then whole messages in order", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 1, payload: utf8("one") }));
    driver.parse(clientFrame({ opcode: 2, fin: false, payload: bytes(1, 2) }));
    driver.parse(clientFrame({ opcode: 0, payload: bytes(3) }));
    driver.parse(clientFrame({ opcode: 1, payload: utf8("three ☃") }));
    driver.parse(clientFrame({ opcode: 2, payload: bytes(4) }));
    expect(comparable(events)).toEqual(comparable([
      ["message", { data: "one" }], ["message", { data: bytes(1, 2, 3) }], ["message", { data: "three ☃" }],
      ["message", { data: bytes(4) }],
    ]));
  });

  it("fails a whole text message that is not UTF-8 with 1007 (RFC 6455 §8.1)", () => {
    const { driver, io, events } = openServer();
    driver.parse(clientFrame({ opcode: 1, payload: bytes(0x68, 0xc3, 0x28) }));
    expect(events).toEqual([
      ["error", expect.objectContaining({ message: "Invalid UTF-8 in a text message" })],
      ["close", { code: 1007, reason: "Invalid UTF-8 in a text message" }],
    ]);
    expect(readFrames(io.take()).map((f) => [f.opcode, f.payload[0], f.payload[1]])).toEqual([[8, 0x03, 0xef]]);
  });
});

describe("ping and pong", () => {
  it("calls back when the pong with the same payload arrives, once", () => {
    const { driver } = openClient();
    const calls: string[] = [];
    driver.ping("a", () => calls.push("a"));
    driver.ping("b", () => calls.push("b"));
    driver.parse(frame({ opcode: 10, payload: "b" }));
    driver.parse(frame({ opcode: 10, payload: "x" }));
    expect(calls).toEqual(["b"]);
    driver.parse(frame({ opcode: 10, payload: "a" }));
    driver.parse(frame({ opcode: 10, payload: "a" }));
    expect(calls).toEqual(["b", "a"]);
  });

  it("refuses payloads over 125 bytes", () => {
    const { driver, io } = openServer();
    expect(driver.ping("x".repeat(126))).toBe(false);
    expect(driver.pong(new Uint8Array(126))).toBe(false);
    expect(io.chunks).toHaveLength(0);
  });

  it("sends an unsolicited pong", () => {
    const { driver, io } = openServer();
    expect(driver.pong("beat")).toBe(true);
    expect(readFrames(io.take())[0]).toMatchObject({ opcode: 10, payload: utf8("beat") });
  });

  it("answers a ping while a fragmented message is in flight", () => {
    const { driver, events, io } = openServer();
    driver.parse(clientFrame({ opcode: 1, fin: false, payload: "a" }));
    driver.parse(clientFrame({ opcode: 9, payload: "mid" }));
    expect(readFrames(io.take())[0]).toMatchObject({ opcode: 10, payload: utf8("mid") });
    driver.parse(clientFrame({ opcode: 0, payload: "b" }));
    expect(events.map(([type]) => type)).toEqual(["ping", "message"]);
  });
});

describe("a client and a server in memory", () => {
  it("agree on a subprotocol and exchange every kind of message both ways", () => {
    const { server, client, clientEvents, serverEvents } = pair({ client: { protocols: ["v2", "v1"] } });
    server.on("message", ({ data }) => (typeof data === "string" ? server.text(data.toUpperCase()) : server.binary(data.reverse())));
    expect(client.protocol).toBe("");
    client.text("héllo ☃");
    client.binary(bytes(1, 2, 3));
    client.text("x".repeat(70000));
    expect(comparable(clientEvents.all)).toEqual(comparable([
      ["open", {}], ["message", { data: "HÉLLO ☃" }], ["message", { data: bytes(3, 2, 1) }], ["message", { data: "X".repeat(70000) }],
    ]));
    expect(serverEvents.types).toEqual(["connect", "open", "message", "message", "message"]);
    client.close("bye", 1000);
    expect(client.readyState).toBe(3);
    expect(server.readyState).toBe(3);
    expect(clientEvents.all.at(-1)).toEqual(["close", { code: 1000, reason: "" }]);
    expect(serverEvents.all.at(-1)).toEqual(["close", { code: 1000, reason: "bye" }]);
  });

  it("binary accepts an ArrayBuffer", () => {
    const { client, serverEvents } = pair();
    client.binary(new Uint8Array([9, 8]).buffer);
    expect(serverEvents.messages).toEqual([bytes(9, 8)]);
  });

  // ws sends the bytes of any ArrayBufferView; a JavaScript caller handing us a Uint16Array or a
  // DataView must get its bytes through, not its elements cut to 8 bits.
  it("binary, ping and parse take any ArrayBufferView as its bytes", () => {
    const { client, serverEvents } = pair();
    const words = new Uint16Array([0x0102, 0xfffe]);
    const wordBytes = new Uint8Array(words.buffer);
    const backing = bytes(0, 1, 2, 3, 4, 5, 6, 7);
    client.binary(words);
    client.binary(new DataView(backing.buffer, 2, 3));
    client.ping(new Float64Array([1.5]));
    expect(serverEvents.all.slice(2)).toEqual([
      ["message", { data: wordBytes }], ["message", { data: bytes(2, 3, 4) }], ["ping", { data: new Uint8Array(new Float64Array([1.5]).buffer) }],
    ]);
  });

  it("parse reads a DataView over a frame's bytes", () => {
    const { driver, events } = openServer();
    const wire = clientFrame({ opcode: 1, payload: "view" });
    const backing = new Uint8Array(wire.length + 3);
    backing.set(wire, 3);
    driver.parse(new DataView(backing.buffer, 3, wire.length));
    expect(events).toEqual([["message", { data: "view" }]]);
  });
});

describe("events", () => {
  it("off() removes a handler", () => {
    const { driver } = openServer();
    const seen: string[] = [];
    const handler = ({ data }: { data: string | Uint8Array }) => seen.push(String(data));
    driver.on("message", handler);
    driver.parse(clientFrame({ opcode: 1, payload: "one" }));
    driver.off("message", handler);
    driver.parse(clientFrame({ opcode: 1, payload: "two" }));
    expect(seen).toEqual(["one"]);
  });
});
