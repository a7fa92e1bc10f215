/**
 * Messages in pieces: received as they arrive (`receive: "stream"` and `"choose"`: `messagestart`,
 * `messagedata` …, `messageend`) and sent as they are produced (`startMessage`), with the bytes in
 * view. RFC 6455 §5.4 (fragments, control frames between them), §8.1 (UTF-8 checked as it
 * arrives), RFC 7692 §6.1 (one RSV1, on the first frame) and §7.2 (inflated as it comes).
 */
import * as zlib from "node:zlib";
import { constants as zlibConstants, deflateRawSync } from "node:zlib";
import { type ZlibModule, zlibEngine } from "../../lib/node/zlib";
import { Driver } from "../../lib/driver";
import { deflate } from "../../lib/extensions/permessage-deflate";
import type { DriverOptions } from "../../lib/options";
import { Opcode } from "../../lib/hybi/parser";
import { prepareMessage } from "../../lib/prepared";
import type { ClientDriver, ServerDriver } from "../../lib/types";
import {
  CollectingIO, type Recorded, bytes, clientFrame, closeFrameOf, concat, openServer, readFrames, record, splitAt, utf8,
} from "../support/wire";
import { fromHex, hex, serverWith } from "../extensions/support";

const PMD = "permessage-deflate";
const { TEXT, BINARY, CONTINUATION, PING, CLOSE } = Opcode;

/** Events in a form that reads like the spec: a piece's bytes in hex, an error by its close code. */
function summary(events: Recorded[]): unknown[][] {
  return events.map(([type, event]): unknown[] => {
    switch (type) {
      case "messagestart": return ["start", (event as { type: string }).type, (event as { compressed: boolean }).compressed];
      case "messagedata": return ["data", hex((event as { data: Uint8Array }).data)];
      case "messageend": {
        const error = (event as { error: (Error & { code?: number }) | null }).error;
        return ["end", error === null ? null : error.code];
      }
      case "message": {
        const data = (event as { data: string | Uint8Array }).data;
        return ["message", typeof data === "string" ? data : hex(data)];
      }
      case "error": return ["error", (event as Error & { code: number }).code];
      case "close": return ["close", (event as { code: number }).code];
      default: return [type, hex((event as { data: Uint8Array }).data)];
    }
  });
}

/** The pieces a stream handed on, joined. */
function streamed(events: Recorded[]): Uint8Array {
  return concat(...events.filter(([type]) => type === "messagedata").map(([, event]) => (event as { data: Uint8Array }).data));
}

const compressed = (data: Uint8Array, finish = false): Uint8Array => {
  const out = deflateRawSync(data, { finishFlush: finish ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH });
  return new Uint8Array(finish ? out : out.subarray(0, out.length - 4));
};

const hexOf = (text: string): string => hex(utf8(text));

describe("receive: whole messages by default", () => {
  it("emits `message` and none of the stream events", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ fin: false, opcode: BINARY, payload: bytes(1, 2) }));
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: bytes(3) }));
    expect(summary(events)).toEqual([["message", "01 02 03"]]);
  });

  it("refuses an unknown receive mode when the driver is made", () => {
    expect(() => Driver.server(new CollectingIO(), { receive: "pieces" as never })).toThrow(RangeError);
    expect(() => Driver.client("ws://example.com/", new CollectingIO(), { maxStreamLength: -1 })).toThrow(RangeError);
  });
});

describe("receive: \"stream\" (RFC 6455 §5.4): every message in pieces, as it arrives", () => {
  it("hands on each fragment's bytes when they arrive, and ends with the last frame", () => {
    const { driver, events } = openServer({ receive: "stream" });
    driver.parse(clientFrame({ fin: false, opcode: BINARY, payload: bytes(1, 2) }));
    expect(summary(events)).toEqual([["start", "binary", false], ["data", "01 02"]]);
    driver.parse(clientFrame({ fin: false, opcode: CONTINUATION, payload: bytes(3) }));
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: bytes(4, 5) }));
    expect(summary(events)).toEqual([
      ["start", "binary", false], ["data", "01 02"], ["data", "03"], ["data", "04 05"], ["end", null],
    ]);
  });

  it("hands on a frame's payload piece by piece as the chunks arrive, before the frame is complete", () => {
    const { driver, events } = openServer({ receive: "stream" });
    const wire = clientFrame({ opcode: BINARY, payload: bytes(1, 2, 3, 4, 5, 6) });
    for (const chunk of splitAt(wire, 8, 10)) driver.parse(chunk);
    expect(summary(events)).toEqual([
      ["start", "binary", false], ["data", "01 02"], ["data", "03 04"], ["data", "05 06"], ["end", null],
    ]);
  });

  it("delivers a message in one frame, and an empty message, as start, data, end", () => {
    const { driver, events } = openServer({ receive: "stream" });
    driver.parse(concat(clientFrame({ opcode: TEXT, payload: "hi" }), clientFrame({ opcode: BINARY })));
    expect(summary(events)).toEqual([
      ["start", "text", false], ["data", hexOf("hi")], ["end", null], ["start", "binary", false], ["end", null],
    ]);
  });

  it("reads control frames between the fragments (§5.4) and answers pings meanwhile", () => {
    const { driver, io, events } = openServer({ receive: "stream" });
    driver.parse(concat(
      clientFrame({ fin: false, opcode: BINARY, payload: bytes(1) }),
      clientFrame({ opcode: PING, payload: "p" }),
      clientFrame({ opcode: CONTINUATION, payload: bytes(2) }),
    ));
    expect(summary(events)).toEqual([
      ["start", "binary", false], ["data", "01"], ["ping", hexOf("p")], ["data", "02"], ["end", null],
    ]);
    expect(hex(io.take())).toBe("8a 01 70");
  });
});

describe("receive in pieces: text is checked as UTF-8 as it arrives (RFC 6455 §8.1)", () => {
  it("never cuts a character: a sequence split between frames and chunks is handed on once complete", () => {
    const { driver, events } = openServer({ receive: "stream" });
    // "a😀b": 61 f0 9f 98 80 62, cut inside the four-byte sequence twice.
    driver.parse(clientFrame({ fin: false, opcode: TEXT, payload: bytes(0x61, 0xf0) }));
    const wire = clientFrame({ fin: false, opcode: CONTINUATION, payload: bytes(0x9f, 0x98) });
    for (const chunk of splitAt(wire, 7)) driver.parse(chunk);
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: bytes(0x80, 0x62) }));
    expect(summary(events)).toEqual([
      ["start", "text", false], ["data", "61"], ["data", "f0 9f 98 80"], ["data", "62"], ["end", null],
    ]);
    const pieces = events.filter(([type]) => type === "messagedata");
    for (const [, event] of pieces) expect(() => new TextDecoder("utf-8", { fatal: true }).decode((event as { data: Uint8Array }).data)).not.toThrow();
  });

  it("fails with 1007 at the first byte that rules valid UTF-8 out; what came before stays delivered", () => {
    const { driver, io, events } = openServer({ receive: "stream" });
    driver.parse(clientFrame({ fin: false, opcode: TEXT, payload: "ok " }));
    // ED A0: a surrogate (RFC 3629 §4), refused at its second byte, with the message unfinished.
    driver.parse(clientFrame({ fin: false, opcode: CONTINUATION, payload: bytes(0x61, 0xed, 0xa0) }));
    expect(summary(events)).toEqual([
      ["start", "text", false], ["data", hexOf("ok ")], ["end", 1007], ["error", 1007], ["close", 1007],
    ]);
    expect(closeFrameOf(io.take())?.code).toBe(1007);
  });

  it("fails with 1007 when the message ends inside a sequence", () => {
    const { driver, events } = openServer({ receive: "stream" });
    driver.parse(clientFrame({ opcode: TEXT, payload: bytes(0x61, 0xe2, 0x82) }));
    expect(summary(events)).toEqual([["start", "text", false], ["data", "61"], ["end", 1007], ["error", 1007], ["close", 1007]]);
  });
});

describe("receive in pieces: limits and endings", () => {
  it("checks maxStreamLength in the header, before a byte of the payload (1009)", () => {
    const { driver, events } = openServer({ receive: "stream", maxStreamLength: 4 });
    driver.parse(clientFrame({ fin: false, opcode: BINARY, payload: bytes(1, 2, 3) }));
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: bytes(4, 5) }));
    expect(summary(events)).toEqual([["start", "binary", false], ["data", "01 02 03"], ["end", 1009], ["error", 1009], ["close", 1009]]);
  });

  it("takes messages past maxLength in pieces (maxStreamLength is the limit; no limit by default)", () => {
    const { driver, events } = openServer({ receive: "stream", maxLength: 2 });
    driver.parse(clientFrame({ opcode: BINARY, payload: new Uint8Array(70000).fill(7) }));
    expect(events.at(-1)).toEqual(["messageend", { error: null }]);
    expect(streamed(events)).toEqual(new Uint8Array(70000).fill(7));
  });

  it("ends the message with an error when the peer's close frame comes first (the close follows)", () => {
    const { driver, events } = openServer({ receive: "stream" });
    driver.parse(clientFrame({ fin: false, opcode: BINARY, payload: bytes(1) }));
    driver.parse(clientFrame({ opcode: CLOSE, payload: bytes(0x03, 0xe9) }));
    expect(summary(events)).toEqual([["start", "binary", false], ["data", "01"], ["end", 1001], ["close", 1001]]);
  });

  it("ends the message with 1006 when the transport ends first", () => {
    const { driver, events } = openServer({ receive: "stream" });
    driver.parse(clientFrame({ fin: false, opcode: BINARY, payload: bytes(1) }));
    driver.end();
    expect(summary(events)).toEqual([["start", "binary", false], ["data", "01"], ["end", 1006], ["close", 1006]]);
  });

  it("ends the message with the protocol error that fails the connection (1002)", () => {
    const { driver, events } = openServer({ receive: "stream" });
    driver.parse(clientFrame({ fin: false, opcode: BINARY, payload: bytes(1) }));
    driver.parse(clientFrame({ opcode: TEXT, payload: "new message" }));
    expect(summary(events)).toEqual([["start", "binary", false], ["data", "01"], ["end", 1002], ["error", 1002], ["close", 1002]]);
  });
});

describe("receive: \"choose\": the `messagestart` handler decides, message by message", () => {
  function chooser(options: DriverOptions = {}) {
    const opened = openServer({ receive: "choose", ...options });
    let kept: (() => boolean) | null = null;
    opened.driver.on("messagestart", (event) => {
      if (event.type === "binary") event.stream();
      kept = event.stream;
    });
    return { ...opened, tryLate: () => (kept as () => boolean)() };
  }

  it("takes the message in pieces only if `stream()` is called during the event", () => {
    const { driver, events, tryLate } = chooser();
    driver.parse(clientFrame({ fin: false, opcode: TEXT, payload: "whole " }));
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: "text" }));
    driver.parse(clientFrame({ opcode: BINARY, payload: bytes(9) }));
    expect(summary(events)).toEqual([
      ["start", "text", false], ["message", "whole text"], ["start", "binary", false], ["data", "09"], ["end", null],
    ]);
    expect(tryLate()).toBe(false);
  });

  it("reads nothing more once a `messagestart` handler has ended the connection", () => {
    const { driver, events } = openServer({ receive: "choose" });
    driver.on("messagestart", () => driver.end());
    driver.parse(concat(clientFrame({ opcode: TEXT, payload: "never" }), clientFrame({ opcode: BINARY, payload: bytes(1) })));
    expect(summary(events)).toEqual([["start", "text", false], ["close", 1006]]);
  });

  it("still holds a whole message to maxLength (1009), while one in pieces may pass it", () => {
    const { driver, events } = chooser({ maxLength: 3 });
    driver.parse(clientFrame({ opcode: BINARY, payload: bytes(1, 2, 3, 4, 5) }));
    expect(summary(events).slice(-1)).toEqual([["end", null]]);
    driver.parse(clientFrame({ fin: false, opcode: TEXT, payload: "ab" }));
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: "cd" }));
    expect(summary(events).slice(-4)).toEqual([["end", null], ["start", "text", false], ["error", 1009], ["close", 1009]]);
  });
});

describe("receive in pieces with permessage-deflate (RFC 7692 §7.2.2): inflated as it comes", () => {
  const plain = utf8("streamed ".repeat(4000));

  it("inflates each fragment when it arrives: the bytes match the message, the first before the last frame", () => {
    const { driver, events } = serverWith([deflate()], PMD, { receive: "stream" });
    const payload = compressed(plain);
    const cut = [0, 40, 41, 200, payload.length];
    for (let i = 0; i < cut.length - 1; i++) {
      driver.parse(clientFrame({
        fin: i === cut.length - 2, rsv: i === 0 ? 0x40 : 0, opcode: i === 0 ? TEXT : CONTINUATION, payload: payload.subarray(cut[i], cut[i + 1]),
      }));
      if (i === 0) expect(streamed(events).length).toBeGreaterThan(0);
    }
    expect(summary(events)[0]).toEqual(["start", "text", true]);
    expect(events.at(-1)).toEqual(["messageend", { error: null }]);
    expect(Buffer.from(streamed(events)).toString()).toBe("streamed ".repeat(4000));
  });

  it("keeps the window between messages, whole and in pieces (§7.2.3.2), and a stream that ends with BFINAL (§7.2.3.4)", () => {
    const { driver, events } = serverWith([deflate()], PMD, { receive: "choose" });
    driver.on("messagestart", (event) => event.type === "binary" && event.stream());
    // Three messages compressed on one stream (context takeover): text whole, binary in pieces, text whole.
    const deflater = zlibEngine(zlib as unknown as ZlibModule).createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
    const flush = (data: Uint8Array): Uint8Array => {
      const out = deflater.deflate(data);
      return out.subarray(0, out.length - 4);
    };
    driver.parse(clientFrame({ rsv: 0x40, opcode: TEXT, payload: flush(utf8("hello hello")) }));
    const second = flush(utf8("hello again, hello"));
    driver.parse(clientFrame({ fin: false, rsv: 0x40, opcode: BINARY, payload: second.subarray(0, 3) }));
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: second.subarray(3) }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: TEXT, payload: flush(utf8("hello!")) }));
    deflater.close();
    // A message whose DEFLATE stream ends with it (Z_FINISH), in pieces, then one more.
    const final = compressed(utf8("the end"), true);
    driver.parse(clientFrame({ fin: false, rsv: 0x40, opcode: BINARY, payload: final.subarray(0, 2) }));
    driver.parse(clientFrame({ opcode: CONTINUATION, payload: final.subarray(2) }));
    driver.parse(clientFrame({ rsv: 0x40, opcode: TEXT, payload: compressed(utf8("after")) }));
    const messages = summary(events).filter(([type]) => type === "message" || type === "end");
    expect(messages).toEqual([["message", "hello hello"], ["end", null], ["message", "hello!"], ["end", null], ["message", "after"]]);
    const datas = events.filter(([type]) => type === "messagedata").map(([, e]) => Buffer.from((e as { data: Uint8Array }).data).toString());
    expect(datas.join("|").replace(/\|/g, "")).toBe("hello again, hellothe end");
  });

  it("fails with 1009 once the inflated bytes pass maxStreamLength, having handed on no more than it", () => {
    const { driver, events } = serverWith([deflate()], PMD, { receive: "stream", maxStreamLength: 50000 });
    driver.parse(clientFrame({ rsv: 0x40, opcode: BINARY, payload: compressed(new Uint8Array(200000)) }));
    expect(summary(events).slice(-3)).toEqual([["end", 1009], ["error", 1009], ["close", 1009]]);
    expect(streamed(events).length).toBeLessThanOrEqual(50000);
  });

  it("fails with 1007 on bytes that are not DEFLATE data", () => {
    const { driver, events } = serverWith([deflate()], PMD, { receive: "stream" });
    driver.parse(clientFrame({ rsv: 0x40, opcode: BINARY, payload: fromHex("ff ff ff ff ff") }));
    expect(summary(events)).toEqual([["start", "binary", true], ["end", 1007], ["error", 1007], ["close", 1007]]);
  });
});

/** A client and a server wired to each other in memory, both offering permessage-deflate if asked. */
function pair(withDeflate: boolean, serverOptions: DriverOptions = {}) {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const server: ServerDriver = Driver.server({ write: (chunk) => toClient.push(Uint8Array.from(chunk)) }, serverOptions);
  const client: ClientDriver = Driver.client("ws://localhost/", { write: (chunk) => toServer.push(Uint8Array.from(chunk)) });
  if (withDeflate) {
    server.addExtension(deflate());
    client.addExtension(deflate());
  }
  server.on("connect", () => server.start());
  const pump = () => {
    while (toServer.length || toClient.length) {
      const a = toServer.shift();
      if (a) server.parse(a);
      const b = toClient.shift();
      if (b) client.parse(b);
    }
  };
  client.start();
  pump();
  const serverEvents = record(server);
  return { server, client, pump, toServer, serverEvents };
}

describe("send in pieces (RFC 6455 §5.4): `startMessage`", () => {
  it("sends each piece as one frame: the opcode on the first, continuation frames after, FIN on the last", () => {
    const { driver, io } = openServer();
    const message = driver.startMessage("binary");
    expect(message).not.toBeNull();
    expect(message?.write(bytes(1, 2))).toBe(true);
    expect(message?.write(new Uint8Array(0))).toBe(true);
    expect(message?.write(bytes(3))).toBe(true);
    expect(message?.end(bytes(4))).toBe(true);
    expect(message?.ended).toBe(true);
    expect(hex(io.take())).toBe("02 02 01 02 00 01 03 80 01 04");
    expect(message?.write(bytes(5))).toBe(false);
  });

  it("lets pings, pongs and a close go out between the pieces; whole messages wait for the end", () => {
    const { driver, io } = openServer();
    const message = driver.startMessage("text");
    message?.write("a");
    expect(driver.text("later")).toBe(true);
    expect(driver.startMessage("binary")).toBeNull();
    driver.ping("p");
    message?.end("b");
    expect(readFrames(io.take()).map((f) => [f.opcode, f.fin, Buffer.from(f.payload).toString()])).toEqual([
      [TEXT, false, "a"], [PING, true, "p"], [CONTINUATION, true, "b"], [TEXT, true, "later"],
    ]);
    const next = driver.startMessage("binary");
    next?.write(bytes(1));
    driver.close();
    expect(next?.write(bytes(2))).toBe(false);
    expect(readFrames(io.take()).map((f) => f.opcode)).toEqual([BINARY, CLOSE]);
  });

  it("holds a prepared message (`sendPrepared`) sent meanwhile until the end, in order with whole messages", () => {
    const { driver, io } = openServer();
    const message = driver.startMessage("binary");
    message?.write(bytes(1));
    expect(driver.sendPrepared(prepareMessage("shared"))).toBe(true);
    expect(driver.text("own")).toBe(true);
    expect(driver.sendPrepared(prepareMessage(bytes(9)))).toBe(true);
    expect(readFrames(io.take()).map((f) => [f.opcode, f.fin, hex(f.payload)])).toEqual([[BINARY, false, "01"]]);
    message?.end(bytes(2));
    expect(readFrames(io.take()).map((f) => [f.opcode, f.fin, hex(f.payload)])).toEqual([
      [CONTINUATION, true, "02"], [TEXT, true, hex(utf8("shared"))], [TEXT, true, hex(utf8("own"))], [BINARY, true, "09"],
    ]);
  });

  it("keeps a surrogate pair cut between two string pieces whole", () => {
    const { driver, io } = openServer();
    const message = driver.startMessage("text");
    message?.write("x\ud83d");
    message?.end("\ude00");
    expect(readFrames(io.take()).map((f) => hex(f.payload))).toEqual(["78", "f0 9f 98 80"]);
  });

  it("is null before the connection opens; a type other than text or binary is a TypeError", () => {
    const server = Driver.server(new CollectingIO());
    expect(server.startMessage("text")).toBeNull();
    expect(() => openServer().driver.startMessage("json" as never)).toThrow(TypeError);
  });

  it("with permessage-deflate, compresses piece by piece: RSV1 on the first frame only (RFC 7692 §6.1)", () => {
    const { client, pump, toServer, serverEvents } = pair(true);
    const message = client.startMessage("text") as NonNullable<ReturnType<ClientDriver["startMessage"]>>;
    message.write("hello ");
    message.write("hello ");
    message.end("hello");
    const frames = readFrames(concat(...toServer));
    expect(frames.map((f) => [f.opcode, f.fin, f.rsv])).toEqual([[TEXT, false, 0x40], [CONTINUATION, false, 0], [CONTINUATION, true, 0]]);
    const empty = client.startMessage("binary");
    empty?.end();
    client.text("hello again");
    pump();
    expect(summary(serverEvents)).toEqual([["message", "hello hello hello"], ["message", ""], ["message", "hello again"]]);
  });

  it("round-trips a large message in pieces, compressed, between our client and a server that streams it", () => {
    const { client, pump, serverEvents } = pair(true, { receive: "stream" });
    const message = client.startMessage("binary");
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const piece = Uint8Array.from({ length: 3000 }, (_, j) => (i * 7 + j * (i % 5)) & 0xff);
      expected.push(piece);
      message?.write(piece);
      pump();
    }
    message?.end();
    pump();
    expect(serverEvents.at(-1)).toEqual(["messageend", { error: null }]);
    expect(Buffer.compare(Buffer.from(streamed(serverEvents)), Buffer.from(concat(...expected)))).toBe(0);
  });
});
