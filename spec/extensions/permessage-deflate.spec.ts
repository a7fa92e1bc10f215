/**
 * permessage-deflate (RFC 7692) on the real drivers, bytes in view: the examples of §7.2.3 byte for
 * byte, the negotiation of every parameter (§7.1), and the failures of §6 and of `maxLength`.
 */
import { deflateRawSync } from "node:zlib";
import { deflate } from "../../lib/extensions/permessage-deflate";
import { Opcode } from "../../lib/hybi/parser";
import { Driver } from "../../lib/driver";
import {
  CollectingIO, clientFrame, closeFrameOf, concat, frame, readFrames, record, requestKey, upgradeRequest, upgradeResponse, utf8,
} from "../support/wire";
import { clientWith, extensionsHeader, fromHex, hex, serverWith } from "./support";

const PMD = "permessage-deflate";

describe("RFC 7692 §7.2.3.1: a message compressed", () => {
  it("sends 'Hello' as c1 07 f2 48 cd c9 c9 07 00", () => {
    const { driver, io } = serverWith([deflate()], PMD);
    driver.text("Hello");
    expect(hex(io.take())).toBe("c1 07 f2 48 cd c9 c9 07 00");
  });

  it("reads 'Hello' from one frame and from two fragments", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    driver.parse(clientFrame({ fin: false, rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd") }));
    driver.parse(clientFrame({ opcode: Opcode.CONTINUATION, payload: fromHex("c9 c9 07 00") }));
    expect(events).toEqual([["message", { data: "Hello" }], ["message", { data: "Hello" }]]);
  });
});

describe("RFC 7692 §7.2.3.2: sharing the LZ77 sliding window", () => {
  it("sends the second 'Hello' as a back-reference, c1 05 f2 00 11 00 00", () => {
    const { driver, io } = serverWith([deflate()], PMD);
    driver.text("Hello");
    driver.text("Hello");
    expect(hex(io.take())).toBe("c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00");
  });

  it("reads the back-reference with the window the first message left", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 00 11 00 00") }));
    expect(events).toEqual([["message", { data: "Hello" }], ["message", { data: "Hello" }]]);
  });

  it("without context takeover sends each 'Hello' on its own", () => {
    const { driver, io, response } = serverWith([deflate()], `${PMD}; server_no_context_takeover`);
    expect(extensionsHeader(response)).toBe(`${PMD}; server_no_context_takeover`);
    driver.text("Hello");
    driver.text("Hello");
    expect(hex(io.take())).toBe("c1 07 f2 48 cd c9 c9 07 00 c1 07 f2 48 cd c9 c9 07 00");
  });
});

describe("RFC 7692 §7.2.3.3 to §7.2.3.5: other DEFLATE shapes a peer may send", () => {
  const cases: Array<[string, string]> = [
    ["§7.2.3.3 a stored block", "00 05 00 fa ff 48 65 6c 6c 6f 00"],
    ["§7.2.3.4 a block with BFINAL set", "f3 48 cd c9 c9 07 00 00"],
    ["§7.2.3.5 two blocks in one message", "f2 48 05 00 00 00 ff ff ca c9 c9 07 00"],
  ];
  it.each(cases)("reads %s as 'Hello'", (_, payload) => {
    const { driver, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex(payload) }));
    expect(events).toEqual([["message", { data: "Hello" }]]);
  });

  it("reads the messages after one that a BFINAL block ended (§7.2.3.4): its DEFLATE stream is over, the next starts anew", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    const final = fromHex("f3 48 cd c9 c9 07 00 00");
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: final }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: final }));
    // A fresh window, then a back-reference into it (§7.2.3.2).
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 00 11 00 00") }));
    expect(events).toEqual(Array(4).fill(["message", { data: "Hello" }]));
  });

  it("reads the messages after one that a final stored block ended with the 00 00 ff ff appended to it (§7.2.2): nothing is left unread, and the next stream starts anew", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    // "Hello", a sync flush, then 01: the header of an empty stored block with BFINAL set, whose
    // LEN and NLEN are the 00 00 ff ff the reader appends, so the DEFLATE stream ends at its last byte.
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00 00 00 ff ff 01") }));
    // A fresh window, then a back-reference into it (§7.2.3.2).
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 00 11 00 00") }));
    // 01 alone: the same block, for an empty message; then "Hello" again.
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("01") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    expect(events).toEqual([
      ["message", { data: "Hello" }], ["message", { data: "Hello" }], ["message", { data: "Hello" }],
      ["message", { data: "" }], ["message", { data: "Hello" }],
    ]);
  });
});

describe("the client side", () => {
  it("offers permessage-deflate; client_max_window_bits by default", () => {
    const { request } = clientWith([deflate()], PMD);
    expect(extensionsHeader(request)).toBe(`${PMD}; client_max_window_bits`);
  });

  it("masks the compressed 'Hello' and reads the server's compressed answer", () => {
    const { driver, io, events } = clientWith([deflate()], PMD);
    driver.text("Hello");
    const [sent] = readFrames(io.take());
    expect(sent).toMatchObject({ fin: true, rsv: 0x40, opcode: Opcode.TEXT, masked: true });
    expect(hex(sent.payload)).toBe("f2 48 cd c9 c9 07 00");
    driver.parse(frame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    expect(events).toEqual([["open", {}], ["message", { data: "Hello" }]]);
  });

  it("sends plain frames when the server does not accept the extension", () => {
    const { driver, io, events } = clientWith([deflate()], undefined);
    driver.text("Hello");
    expect(hex(io.take().subarray(0, 1))).toBe("81");
    driver.parse(frame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    expect(events.map(([type]) => type)).toEqual(["open", "error", "close"]);
    expect(events[2]).toEqual(["close", { code: 1002, reason: "RSV bits 0x40 set with no extension to define them" }]);
  });
});

describe("when the extension is added, and when frames arrive", () => {
  it("can be added in the connect handler, once the request is known", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    driver.on("connect", () => {
      if (driver.request?.headers["sec-websocket-extensions"]?.includes(PMD)) driver.addExtension(deflate());
      driver.start();
    });
    driver.parse(utf8(upgradeRequest({ "Sec-WebSocket-Extensions": `${PMD}; client_max_window_bits` })));
    expect(extensionsHeader(io.text())).toBe(PMD);
    io.take();
    driver.text("Hello");
    expect(hex(io.take())).toBe("c1 07 f2 48 cd c9 c9 07 00");
  });

  it("reads a compressed frame that comes in the same chunk as the server's 101", () => {
    const io = new CollectingIO();
    const driver = Driver.client("ws://example.com/chat", io);
    driver.addExtension(deflate());
    const events = record(driver);
    driver.start();
    const head = upgradeResponse(requestKey(io.text()), `Sec-WebSocket-Extensions: ${PMD}\r\n`);
    driver.parse(concat(utf8(head), frame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") })));
    expect(events).toEqual([["open", {}], ["message", { data: "Hello" }]]);
  });

  it("reads a compressed frame the client sent before the server answered", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    driver.addExtension(deflate());
    const events = record(driver);
    driver.parse(concat(utf8(upgradeRequest({ "Sec-WebSocket-Extensions": PMD })),
      clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") })));
    driver.start();
    expect(events).toEqual([["connect", {}], ["open", {}], ["message", { data: "Hello" }]]);
  });
});

describe("RFC 7692 §7.1: a server answers each parameter", () => {
  const table: Array<[string, string | undefined]> = [
    [PMD, PMD],
    [`${PMD}; client_max_window_bits`, PMD],
    [`${PMD}; client_max_window_bits=10`, PMD],
    [`${PMD}; server_no_context_takeover`, `${PMD}; server_no_context_takeover`],
    [`${PMD}; client_no_context_takeover`, `${PMD}; client_no_context_takeover`],
    [`${PMD}; server_max_window_bits=10`, `${PMD}; server_max_window_bits=10`],
    [`${PMD}; server_max_window_bits="12"`, `${PMD}; server_max_window_bits=12`],
    [`${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9`,
      `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9`],
    // Invalid offers are declined (no extension), never an error (§7.1: "MUST decline").
    [`${PMD}; server_max_window_bits`, undefined],
    [`${PMD}; server_max_window_bits=7`, undefined],
    [`${PMD}; server_max_window_bits=16`, undefined],
    [`${PMD}; server_max_window_bits=010`, undefined],
    [`${PMD}; client_max_window_bits=abc`, undefined],
    [`${PMD}; server_no_context_takeover=1`, undefined],
    [`${PMD}; client_no_context_takeover=yes`, undefined],
    [`${PMD}; unknown_param`, undefined],
    [`${PMD}; server_no_context_takeover; server_no_context_takeover`, undefined],
    // Several offers: the first acceptable one wins (§5.1).
    [`${PMD}; server_max_window_bits=5, ${PMD}; server_max_window_bits=11, ${PMD}`, `${PMD}; server_max_window_bits=11`],
    [`${PMD}; foo, ${PMD}; client_no_context_takeover`, `${PMD}; client_no_context_takeover`],
    ["x-unknown, permessage-deflate", PMD],
  ];
  it.each(table)("offer %s → response %s", (offer, response) => {
    const { driver, response: head } = serverWith([deflate()], offer);
    expect(head.startsWith("HTTP/1.1 101 ")).toBe(true);
    expect(extensionsHeader(head)).toBe(response);
    expect(driver.readyState).toBe(1);
  });

  it("adds what its own options ask for", () => {
    const extension = deflate({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 10 });
    expect(extensionsHeader(serverWith([extension], `${PMD}; client_max_window_bits`).response))
      .toBe(`${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=10`);
    // The client's window can only be limited if the client offered client_max_window_bits.
    expect(extensionsHeader(serverWith([extension], PMD).response))
      .toBe(`${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11`);
    // The smaller of the two limits wins.
    expect(extensionsHeader(serverWith([deflate({ serverMaxWindowBits: 12 })], `${PMD}; server_max_window_bits=10`).response))
      .toBe(`${PMD}; server_max_window_bits=10`);
  });

  it("answers a client that asks for server_max_window_bits=8 and sends it uncompressed (zlib cannot)", () => {
    const { driver, io, response } = serverWith([deflate()], `${PMD}; server_max_window_bits=8`);
    expect(extensionsHeader(response)).toBe(`${PMD}; server_max_window_bits=8`);
    driver.text("Hello");
    expect(hex(io.take())).toBe("81 05 48 65 6c 6c 6f");
  });
});

describe("RFC 7692 §7.1: a client checks each parameter of the response", () => {
  const ok: Array<[string, string, object]> = [
    ["plain", PMD, {}],
    ["server_no_context_takeover", `${PMD}; server_no_context_takeover`, {}],
    ["client_no_context_takeover", `${PMD}; client_no_context_takeover`, {}],
    ["server_max_window_bits=10", `${PMD}; server_max_window_bits=10`, {}],
    ["client_max_window_bits=9", `${PMD}; client_max_window_bits=9`, {}],
    ["server_max_window_bits=10, offered 12", `${PMD}; server_max_window_bits=10`, { serverMaxWindowBits: 12 }],
  ];
  it.each(ok)("accepts %s", (_, answer, options) => {
    const { driver, events } = clientWith([deflate(options)], answer);
    expect(events).toEqual([["open", {}]]);
    expect(driver.readyState).toBe(1);
  });

  const bad: Array<[string, object, string]> = [
    [`${PMD}; client_max_window_bits=10`, { clientMaxWindowBits: false }, "client_max_window_bits was not offered"],
    [`${PMD}; client_max_window_bits`, {}, "client_max_window_bits needs a value in a response"],
    [`${PMD}; client_max_window_bits=12`, { clientMaxWindowBits: 10 }, "client_max_window_bits=12 is above the 10 offered"],
    [`${PMD}; server_max_window_bits=13`, { serverMaxWindowBits: 12 }, "server_max_window_bits=13 is above the 12 offered"],
    [`${PMD}; server_max_window_bits`, {}, "server_max_window_bits needs a value"],
    [`${PMD}; server_max_window_bits=20`, {}, "server_max_window_bits must be 8 to 15, got '20'"],
    [`${PMD}; server_no_context_takeover=1`, {}, "server_no_context_takeover takes no value, got '1'"],
    [`${PMD}; mystery`, {}, "unknown parameter 'mystery'"],
  ];
  it.each(bad)("fails the handshake on %s", (answer, options, why) => {
    const { driver, events } = clientWith([deflate(options)], answer);
    expect(driver.readyState).toBe(3);
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect((events[0][1] as Error).message).toBe(`Server's '${PMD}' response is not acceptable: ${why}`);
  });

  it("fails the handshake when the server repeats a parameter", () => {
    const { events } = clientWith([deflate()], `${PMD}; server_no_context_takeover; server_no_context_takeover`);
    expect((events[0][1] as Error).message).toBe(`Server's '${PMD}' response repeats the parameter 'server_no_context_takeover'`);
  });

  it("offers every parameter its options name", () => {
    const { request } = clientWith([deflate({
      serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11,
    })], PMD);
    expect(extensionsHeader(request))
      .toBe(`${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11`);
  });

  it("resets its compressor after each message when the server answers client_no_context_takeover", () => {
    const { driver, io } = clientWith([deflate()], `${PMD}; client_no_context_takeover`);
    driver.text("Hello");
    driver.text("Hello");
    expect(readFrames(io.take()).map((f) => hex(f.payload))).toEqual(["f2 48 cd c9 c9 07 00", "f2 48 cd c9 c9 07 00"]);
  });
});

describe("RFC 7692 §6: frames the extension does not allow", () => {
  it("fails with 1002 on RSV1 on a continuation frame", () => {
    const { driver, io, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ fin: false, rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.CONTINUATION, payload: fromHex("c9 c9 07 00") }));
    expect(closeFrameOf(io.take())?.code).toBe(1002);
    expect(events.at(-1)).toEqual(["close", { code: 1002, reason: "RSV bits 0x40 set on a continuation frame" }]);
  });

  it("fails with 1002 on a compressed control frame", () => {
    const { driver, io, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.PING, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    expect(closeFrameOf(io.take())?.code).toBe(1002);
    expect(events.at(-1)).toEqual(["close", { code: 1002, reason: "RSV bits 0x40 set on a control frame" }]);
  });

  it("never compresses a control frame it sends", () => {
    const { driver, io } = serverWith([deflate()], PMD);
    driver.ping("Hello");
    driver.close("Hello");
    expect(readFrames(io.take()).map((f) => [f.rsv, f.opcode])).toEqual([[0, Opcode.PING], [0, Opcode.CLOSE]]);
  });

  it("fails with 1007 on data that is not DEFLATE", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.BINARY, payload: fromHex("ff ff ff ff") }));
    expect(events.at(-1)).toMatchObject(["close", { code: 1007 }]);
    expect((events.at(-1)?.[1] as { reason: string }).reason).toMatch(/^Invalid compressed message: /);
  });

  it("fails with 1007 on compressed text that is not UTF-8", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    const bad = deflateRawSync(Uint8Array.of(0xc3, 0x28), { finishFlush: 2 });
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: bad.subarray(0, bad.length - 4) }));
    expect(events.at(-1)).toEqual(["close", { code: 1007, reason: "Invalid UTF-8 in a text message" }]);
  });
});

describe("maxLength applies to the inflated size", () => {
  it("closes with 1009 when a small frame inflates past the limit (a zip bomb)", () => {
    const bomb = deflateRawSync(new Uint8Array(64 * 1024 * 1024), { finishFlush: 2 });
    const payload = bomb.subarray(0, bomb.length - 4);
    expect(payload.length).toBeLessThan(80 * 1024);
    const { driver, io, events } = serverWith([deflate()], PMD, { maxLength: 1024 * 1024 });
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.BINARY, payload }));
    expect(closeFrameOf(io.take())?.code).toBe(1009);
    expect(events).toEqual([
      ["error", expect.objectContaining({ code: 1009, message: "Inflated message exceeds maxLength (1048576)" })],
      ["close", { code: 1009, reason: "Inflated message exceeds maxLength (1048576)" }],
    ]);
  });

  it("accepts a message that inflates to exactly maxLength", () => {
    const data = new Uint8Array(5000).fill(97);
    const compressed = deflateRawSync(data, { finishFlush: 2 });
    const { driver, events } = serverWith([deflate()], PMD, { maxLength: 5000 });
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.BINARY, payload: compressed.subarray(0, compressed.length - 4) }));
    expect(events).toHaveLength(1);
    expect((events[0][1] as { data: Uint8Array }).data).toHaveLength(5000);
  });
});

describe("options", () => {
  it("sends messages shorter than the threshold uncompressed", () => {
    const { driver, io } = serverWith([deflate({ threshold: 6 })], PMD);
    driver.text("Hello");
    driver.text("Hello!");
    expect(readFrames(io.take()).map((f) => f.rsv)).toEqual([0, 0x40]);
  });

  it("stores without compressing at level 0: the RFC 7692 §7.2.3.3 bytes", () => {
    const { driver, io } = serverWith([deflate({ level: 0 })], PMD);
    driver.text("Hello");
    expect(hex(io.take())).toBe("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00");
  });

  it("sends an empty message as 00 (RFC 7692 §7.2.3.6), also after others with context takeover", () => {
    const { driver, io } = serverWith([deflate()], PMD);
    driver.binary(new Uint8Array(0));
    driver.text("Hello");
    driver.binary(new Uint8Array(0));
    driver.text("Hello");
    expect(hex(io.take())).toBe("c2 01 00 c1 07 f2 48 cd c9 c9 07 00 c2 01 00 c1 05 f2 00 11 00 00");
  });

  it("reads empty compressed messages between others with context takeover", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.BINARY, payload: fromHex("00") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.BINARY, payload: fromHex("00") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 00 11 00 00") }));
    expect(events).toEqual([
      ["message", { data: new Uint8Array(0) }], ["message", { data: "Hello" }],
      ["message", { data: new Uint8Array(0) }], ["message", { data: "Hello" }],
    ]);
  });

  it("reads an empty compressed payload as an empty message, and the window stays intact", () => {
    const { driver, events } = serverWith([deflate()], PMD);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 48 cd c9 c9 07 00") }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.BINARY, payload: new Uint8Array(0) }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: fromHex("f2 00 11 00 00") }));
    expect(events).toEqual([["message", { data: "Hello" }], ["message", { data: new Uint8Array(0) }], ["message", { data: "Hello" }]]);
  });

  it("compresses an empty message", () => {
    const { driver, io, events } = serverWith([deflate()], PMD);
    driver.binary(new Uint8Array(0));
    const [sent] = readFrames(io.take());
    expect(sent.rsv).toBe(0x40);
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.BINARY, payload: sent.payload }));
    expect(events).toEqual([["message", { data: new Uint8Array(0) }]]);
  });

  it.each([
    [{ level: 10 }, "level must be an integer from -1 to 9, got 10"],
    [{ memLevel: 0 }, "memLevel must be an integer from 1 to 9, got 0"],
    [{ serverMaxWindowBits: 16 }, "serverMaxWindowBits must be an integer from 8 to 15, got 16"],
    [{ clientMaxWindowBits: 7 }, "clientMaxWindowBits must be an integer from 8 to 15, got 7"],
    [{ threshold: -1 }, "threshold must be a non-negative number, got -1"],
  ])("refuses %p", (options, message) => {
    expect(() => deflate(options)).toThrow(message);
  });
});
