/**
 * The `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1, RFC 7230 tokens and quoted strings) and
 * the negotiation framework on the real drivers, with a small extension of our own.
 */
import type { Extension, ExtensionSession } from "../../lib/extensions/extension";
import { type ExtensionParams, parseExtensions, serializeExtensions } from "../../lib/extensions/negotiation";
import { deflate } from "../../lib/extensions/permessage-deflate";
import { Opcode } from "../../lib/hybi/parser";
import { Driver } from "../../lib/driver";
import { CollectingIO, clientFrame, closeFrameOf, readFrames, utf8 } from "../support/wire";
import { clientWith, extensionsHeader, serverWith } from "./support";

describe("RFC 6455 §9.1: reading Sec-WebSocket-Extensions", () => {
  const good: Array<[string, unknown]> = [
    ["", []],
    ["foo", [{ name: "foo", params: [] }]],
    ["foo, bar; baz=2", [{ name: "foo", params: [] }, { name: "bar", params: [["baz", "2"]] }]],
    ["foo;a;b=1 , foo ; c = \"x\"", [
      { name: "foo", params: [["a", true], ["b", "1"]] }, { name: "foo", params: [["c", "x"]] },
    ]],
    ['x; q="a\\bc"', [{ name: "x", params: [["q", "abc"]] }]],
    ["\tfoo\t;\tbar\t", [{ name: "foo", params: [["bar", true]] }]],
    ["foo, , bar,", [{ name: "foo", params: [] }, { name: "bar", params: [] }]],
  ];
  it.each(good)("reads %j", (header, elements) => {
    expect(parseExtensions(header)).toEqual(elements);
  });

  const bad: Array<[string, string]> = [
    ["foo;", "expected a parameter name at offset 4"],
    ["foo bar", "unexpected 'b' at offset 4"],
    ["foo; a=", "expected a value for 'a' at offset 7"],
    ['foo; a="b c"', "quoted value 'b c' is not a token"],
    ['foo; a="bc', "unterminated quoted string"],
    ["foo; a=b=c", "unexpected '=' at offset 8"],
    ["fo@o", "unexpected '@' at offset 2"],
    [";foo", "expected an extension name at offset 0"],
    ["foo; a=\"\"", "quoted value '' is not a token"],
  ];
  it.each(bad)("refuses %j: %s", (header, why) => {
    expect(() => parseExtensions(header)).toThrow(why);
  });

  it("writes elements with their parameters in order", () => {
    expect(serializeExtensions([{ name: "a", params: {} }, { name: "b", params: { x: true, y: "15" } }])).toBe("a, b; x; y=15");
    expect(() => serializeExtensions([{ name: "a b", params: {} }])).toThrow("Extension name 'a b' is not a token");
    expect(() => serializeExtensions([{ name: "a", params: { x: "1 2" } }])).toThrow("Value '1 2' of extension parameter 'x' is not a token");
  });
});

/** An extension that reverses payloads and marks them with its RSV bits, recording what it saw. */
function reverser(name: string, options: { rsv?: number; accept?: boolean; log?: string[] } = {}): Extension {
  const log = options.log ?? [];
  const session = (): ExtensionSession => ({
    encode: (payload, rsv) => {
      log.push(`${name} encode`);
      return { payload: payload.slice().reverse(), rsv: rsv | (options.rsv ?? 0x40) };
    },
    decode: (payload, rsv) => {
      log.push(`${name} decode`);
      return rsv & (options.rsv ?? 0x40) ? payload.slice().reverse() : payload;
    },
    close: () => log.push(`${name} close`),
  });
  return {
    name,
    rsv: options.rsv ?? 0x40,
    offer: (): ExtensionParams[] => [{ mode: "fast" }, {}],
    activate: (params) => {
      if (params.mode !== undefined && params.mode !== "fast") throw new Error(`mode '${params.mode}' was not offered`);
      return session();
    },
    respond: (offer) => (options.accept === false || offer.mode === "slow" ? null : { params: { ...offer }, session: session() }),
  };
}

describe("the server negotiates", () => {
  it("answers a malformed Sec-WebSocket-Extensions with 400", () => {
    const { driver, response, events } = serverWith([deflate()], "permessage-deflate; =");
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(response).toContain("Malformed Sec-WebSocket-Extensions header: expected a parameter name at offset 20");
    expect(driver.readyState).toBe(3);
    expect(events).toEqual([]);
  });

  it("answers a malformed header with 400 even with no extension added", () => {
    expect(serverWith([], "a;;b").response).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("ignores extensions it does not have and answers without the header", () => {
    const { response, driver } = serverWith([], "permessage-deflate, x-other; a=1");
    expect(response).toMatch(/^HTTP\/1\.1 101 /);
    expect(extensionsHeader(response)).toBeUndefined();
    expect(driver.readyState).toBe(1);
  });

  it("tries each offer for an extension in order and answers the first it accepts", () => {
    const { response } = serverWith([reverser("x-rev")], 'x-rev; mode=slow, x-rev; mode="fast", x-rev');
    expect(extensionsHeader(response)).toBe("x-rev; mode=fast");
  });

  it("does not activate a second extension that wants the same RSV bit", () => {
    const { response } = serverWith([reverser("x-one"), reverser("x-two")], "x-two, x-one");
    expect(extensionsHeader(response)).toBe("x-two");
  });

  it("passes outgoing messages through extensions in response order and incoming ones in reverse", () => {
    const log: string[] = [];
    const { driver, io, events, response } = serverWith(
      [deflate(), reverser("x-rev", { log, rsv: 0x40 })], "x-rev, permessage-deflate");
    // Both want RSV1: only the first the client offered is activated.
    expect(extensionsHeader(response)).toBe("x-rev");
    driver.text("abc");
    const [sent] = readFrames(io.take());
    expect(sent).toMatchObject({ rsv: 0x40, opcode: Opcode.TEXT });
    expect(new TextDecoder().decode(sent.payload)).toBe("cba");
    driver.parse(clientFrame({ rsv: 0x40, opcode: Opcode.TEXT, payload: "olleh" }));
    driver.parse(clientFrame({ opcode: Opcode.TEXT, payload: "plain" }));
    expect(events).toEqual([["message", { data: "hello" }], ["message", { data: "plain" }]]);
    driver.end();
    expect(log).toEqual(["x-rev encode", "x-rev decode", "x-rev close"]);
  });

  it("fails with 1002 on RSV2 and RSV3, which no extension owns", () => {
    const { driver, io, events } = serverWith([deflate()], "permessage-deflate");
    driver.parse(clientFrame({ rsv: 0x60, opcode: Opcode.TEXT, payload: "x" }));
    expect(closeFrameOf(io.take())?.code).toBe(1002);
    expect(events.at(-1)).toEqual(["close", { code: 1002, reason: "RSV bits 0x20 set with no extension to define them" }]);
  });

  it("refuses addExtension after start, and a second extension of the same name", () => {
    const io = new CollectingIO();
    const driver = Driver.server(io);
    expect(driver.addExtension(deflate())).toBe(true);
    driver.on("connect", () => driver.start());
    driver.parse(utf8("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    expect(driver.addExtension(deflate())).toBe(false);
    const client = Driver.client("ws://example.com/", new CollectingIO());
    expect(client.addExtension(deflate())).toBe(true);
    expect(client.addExtension(deflate())).toBe(false);
    client.start();
    expect(client.addExtension(reverser("x-late"))).toBe(false);
  });

  it("refuses an extension that claims bits other than RSV1-3, or whose name is not a token", () => {
    const client = Driver.client("ws://example.com/", new CollectingIO());
    expect(() => client.addExtension(reverser("x-bad", { rsv: 0x80 }))).toThrow("claims bits other than RSV1-3 (0x70)");
    expect(() => client.addExtension(reverser("x bad"))).toThrow("Extension name 'x bad' is not a token");
  });

  it("runs an RSV2 extension beside permessage-deflate: out in response order, in reversed", () => {
    const log: string[] = [];
    const extensions = () => [deflate(), reverser("x-rsv2", { rsv: 0x20, log })];
    const { driver: server, io: serverIo, events, response } = serverWith(extensions(), "permessage-deflate, x-rsv2");
    expect(extensionsHeader(response)).toBe("permessage-deflate, x-rsv2");
    const { driver: client, io: clientIo, events: clientEvents } = clientWith(extensions(), "permessage-deflate, x-rsv2");
    expect(clientEvents).toEqual([["open", {}]]);
    // Deflate, then reverse: the frame carries both bits.
    client.text("Hello");
    const sent = clientIo.take();
    expect(readFrames(sent)[0].rsv).toBe(0x60);
    server.parse(sent);
    // RSV2 alone: only the reverser decodes.
    server.parse(clientFrame({ rsv: 0x20, opcode: Opcode.TEXT, payload: "olleh" }));
    server.text("Hi");
    const [reply] = readFrames(serverIo.take());
    expect(reply.rsv).toBe(0x60);
    expect(events).toEqual([["message", { data: "Hello" }], ["message", { data: "hello" }]]);
    expect(log).toEqual(["x-rsv2 encode", "x-rsv2 decode", "x-rsv2 decode", "x-rsv2 encode"]);
  });
});

describe("the client negotiates", () => {
  it("offers each extension's offers in order", () => {
    const { request } = clientWith([reverser("x-rev"), deflate({ clientMaxWindowBits: false })], "x-rev");
    expect(extensionsHeader(request)).toBe("x-rev; mode=fast, x-rev, permessage-deflate");
  });

  it("sends no Sec-WebSocket-Extensions without extensions", () => {
    expect(extensionsHeader(clientWith([], undefined).request)).toBeUndefined();
  });

  const failures: Array<[string, string | undefined, string]> = [
    ["an extension it did not offer", "x-other", "Server accepted extension 'x-other', which was not offered"],
    ["any extension when it offered none", "permessage-deflate", "Server accepted extension 'permessage-deflate', which was not offered"],
    ["the same extension twice", "x-rev, x-rev", "Server accepted extension 'x-rev' more than once"],
    ["a parameter it did not offer", "x-rev; mode=slow", "Server's 'x-rev' response is not acceptable: mode 'slow' was not offered"],
    ["a malformed header", "x-rev; mode=", "Malformed Sec-WebSocket-Extensions header: expected a value for 'mode' at offset 12 in 'x-rev; mode='"],
    ["two extensions on one RSV bit", "x-rev, permessage-deflate",
      "Server accepted extension 'permessage-deflate', whose RSV bits another accepted extension uses"],
  ];
  it.each(failures)("fails the handshake on %s", (what, answer, why) => {
    const extensions = what.includes("offered none") ? [] : [reverser("x-rev"), deflate()];
    const { driver, events } = clientWith(extensions, answer);
    expect(driver.readyState).toBe(3);
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect(events[0][1]).toMatchObject({ name: "HandshakeError", message: why });
  });

  it("releases sessions it started when a later one fails", () => {
    const log: string[] = [];
    clientWith([reverser("x-rev", { log }), deflate()], "x-rev, x-bad");
    expect(log).toEqual(["x-rev close"]);
  });
});
