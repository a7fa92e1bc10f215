import { isUtf8 } from "node:buffer";
import { Driver } from "../../lib/driver";
import { ProtocolError } from "../../lib/errors";
import { pair } from "../../lib/testing";
import { fastPaths, useFastPaths } from "../../lib/util/fast-paths";
import { openDraft } from "../hixie/support";
import { CollectingIO, bytes, clientFrame, concat, openServer, readFrames, upgradeRequest, utf8 } from "../support/wire";

// RFC 6455 §5.6 and §8.1 with `textData: "bytes"`: text is checked as UTF-8 as it arrives and handed
// on as its bytes; `text(bytes)` sends checked bytes as a text frame without an encode. Every rule
// runs with the pure check (the fatal TextDecoder) and with the runtime's `isUtf8`.
const CHECKS = [["the pure check", null], ["isUtf8", isUtf8]] as const;

/** "κόσμε": a 2-byte sequence per Greek letter, 11 bytes. */
const KOSME = utf8("κόσμε");

function errorOf(events: unknown[][]): ProtocolError {
  const error = events.find(([type]) => type === "error")?.[1];
  if (!(error instanceof ProtocolError)) throw new Error("no ProtocolError emitted");
  return error;
}

for (const [name, check] of CHECKS) {
  describe(`textData: "bytes" (${name})`, () => {
    const saved = fastPaths.validUtf8;
    beforeAll(() => useFastPaths({ validUtf8: check }));
    afterAll(() => useFastPaths({ validUtf8: saved }));

    describe("a whole text message arrives as its bytes, binary: false", () => {
      it("in one frame: the unmasked payload, not a string", () => {
        const { driver, events } = openServer({ textData: "bytes" });
        driver.parse(clientFrame({ opcode: "text", payload: KOSME }));
        expect(events).toHaveLength(1);
        const [type, event] = events[0] as [string, { data: Uint8Array; binary: boolean }];
        expect(type).toBe("message");
        expect(event.binary).toBe(false);
        expect(event.data).toBeInstanceOf(Uint8Array);
        expect(Array.from(event.data)).toEqual(Array.from(KOSME));
      });

      it("a binary message says binary: true", () => {
        const { driver, events } = openServer({ textData: "bytes" });
        driver.parse(clientFrame({ opcode: "binary", payload: bytes(0xff, 0x00) }));
        expect(events).toEqual([["message", { data: bytes(0xff, 0x00), binary: true }]]);
      });

      it("an empty text message is empty bytes", () => {
        const { driver, events } = openServer({ textData: "bytes" });
        driver.parse(clientFrame({ opcode: "text", payload: "" }));
        expect(events).toEqual([["message", { data: new Uint8Array(0), binary: false }]]);
      });

      it("in fragments cut inside characters, over several chunks: joined, checked", () => {
        const { driver, events } = openServer({ textData: "bytes" });
        const wire = concat(
          clientFrame({ opcode: "text", payload: KOSME.subarray(0, 3), fin: false }),
          clientFrame({ opcode: "continuation", payload: KOSME.subarray(3, 8), fin: false }),
          clientFrame({ opcode: "continuation", payload: KOSME.subarray(8) }),
        );
        for (let at = 0; at < wire.length; at += 5) driver.parse(wire.slice(at, at + 5));
        expect(events).toHaveLength(1);
        const [, event] = events[0] as [string, { data: Uint8Array; binary: boolean }];
        expect(event.binary).toBe(false);
        expect(new TextDecoder().decode(event.data)).toBe("κόσμε");
      });

      it("a 40 KiB frame over chunks of 7 KiB: every byte", () => {
        const text = "a€𝄞".repeat(40 * 1024 / 8);
        const { driver, events } = openServer({ textData: "bytes" });
        const wire = clientFrame({ opcode: "text", payload: text });
        for (let at = 0; at < wire.length; at += 7 * 1024) driver.parse(wire.slice(at, at + 7 * 1024));
        const [, event] = events[0] as [string, { data: Uint8Array }];
        expect(new TextDecoder().decode(event.data)).toBe(text);
      });
    });

    describe("invalid UTF-8 still fails with 1007 (RFC 6455 §8.1)", () => {
      it("in a whole message", () => {
        const { driver, events, io } = openServer({ textData: "bytes" });
        driver.parse(clientFrame({ opcode: "text", payload: bytes(0x61, 0xc0, 0xaf) }));
        expect(errorOf(events).code).toBe(1007);
        expect(errorOf(events).message).toBe("Invalid UTF-8 in a text message");
        expect(events.some(([type]) => type === "message")).toBe(false);
        const close = readFrames(io.take()).pop();
        expect(close?.opcode).toBe(8);
        expect(Array.from(close?.payload.subarray(0, 2) ?? [])).toEqual([0x03, 0xef]);
      });

      it("in the first fragment, before the message ends: fail fast", () => {
        const { driver, events } = openServer({ textData: "bytes" });
        driver.parse(clientFrame({ opcode: "text", payload: bytes(0x61, 0xed, 0xa0, 0x80), fin: false }));
        expect(errorOf(events).code).toBe(1007);
      });

      it("a message that ends inside a sequence", () => {
        const { driver, events } = openServer({ textData: "bytes" });
        driver.parse(clientFrame({ opcode: "text", payload: KOSME.subarray(0, 3), fin: false }));
        expect(events).toEqual([]);
        driver.parse(clientFrame({ opcode: "continuation", payload: bytes() }));
        expect(errorOf(events).code).toBe(1007);
        expect(errorOf(events).message).toBe("Text message ends inside a UTF-8 sequence");
      });
    });

    describe("text(bytes): the bytes as a text frame, unencoded", () => {
      it("writes opcode 1 with the bytes as they are (Uint8Array, Buffer, ArrayBuffer)", () => {
        const { driver, io } = openServer();
        expect(driver.text(KOSME)).toBe(true);
        expect(driver.text(Buffer.from("hé"))).toBe(true);
        expect(driver.text(utf8("ok").buffer)).toBe(true);
        expect(readFrames(io.take()).map((f) => [f.opcode, new TextDecoder().decode(f.payload)])).toEqual([
          [1, "κόσμε"], [1, "hé"], [1, "ok"],
        ]);
      });

      it("a 20 KiB text as bytes goes out whole", () => {
        const text = "€".repeat(20 * 1024 / 3);
        const { driver, io } = openServer();
        driver.text(utf8(text));
        const frames = readFrames(io.take());
        expect(frames).toHaveLength(1);
        expect(new TextDecoder().decode(frames[0].payload)).toBe(text);
      });

      it("refuses bytes that are not UTF-8 with a TypeError, and sends nothing", () => {
        const { driver, io } = openServer();
        expect(() => driver.text(bytes(0x61, 0xff))).toThrow(new TypeError("text() was given bytes that are not valid UTF-8"));
        expect(() => driver.text(KOSME.subarray(0, 3))).toThrow(TypeError);
        expect(io.take().length).toBe(0);
        expect(driver.readyState).toBe(1);
      });

      it("refuses them at once on a server that has not read its request yet", () => {
        const io = new CollectingIO();
        const driver = Driver.server(io);
        expect(() => driver.text(bytes(0xc0, 0x80))).toThrow(TypeError);
        expect(driver.text(utf8("queued"))).toBe(true);
        driver.on("connect", () => driver.start());
        driver.parse(utf8(upgradeRequest()));
        const written = io.text();
        expect(written.endsWith("\x81\x06queued")).toBe(true);
      });

      it("echoes what a textData: \"bytes\" server received, and the client reads the same text", () => {
        const { client, clientEvents } = pair({
          server: { textData: "bytes" },
          handler: (server) => server.on("message", ({ data, binary }) => {
            if (binary) server.binary(data as Uint8Array);
            else server.text(data);
          }),
        });
        client.text("κόσμε 🌍");
        client.binary(bytes(1, 2, 3));
        expect(clientEvents.of("message").map((event) => event.data)).toEqual(["κόσμε 🌍", bytes(1, 2, 3)]);
      });

      it("through permessage-deflate: compressed like a string (RFC 7692)", () => {
        const { client, clientEvents, toClient } = pair({
          deflate: true,
          server: { textData: "bytes" },
          handler: (server) => server.on("message", ({ data }) => server.text(data)),
        });
        const text = "compress me ".repeat(100);
        toClient.take();
        client.text(text);
        const frames = readFrames(toClient.take());
        expect(frames[0].rsv & 0x40).toBe(0x40);
        expect(frames[0].payload.length).toBeLessThan(text.length / 4);
        expect(clientEvents.of("message").map((event) => event.data)).toEqual([text]);
      });
    });
  });
}

describe("textData", () => {
  it("is \"string\" by default: text is a string and the event has no binary field", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: "text", payload: "hi" }));
    expect(events).toEqual([["message", { data: "hi" }]]);
  });

  it("refuses any other value with a RangeError when the driver is made", () => {
    const io = new CollectingIO();
    expect(() => Driver.server(io, { textData: "buffer" as "bytes" })).toThrow(new RangeError('textData must be "string" or "bytes", got buffer'));
    expect(() => Driver.client("ws://example.com/", io, { textData: "utf8" as "bytes" })).toThrow(RangeError);
  });

  it("holds for the drafts too: their text arrives as bytes", () => {
    const { driver, events, io } = openDraft("hixie-76", { textData: "bytes" });
    driver.parse(bytes(0x00, 0x48, 0xc3, 0xa9, 0xff));
    expect(events).toEqual([["message", { data: utf8("Hé"), binary: false }]]);
    expect(driver.text(utf8("Hé"))).toBe(true);
    expect(io.take()).toEqual(bytes(0x00, 0x48, 0xc3, 0xa9, 0xff));
    expect(() => driver.text(bytes(0xff))).toThrow(TypeError);
  });
});
