import { ProtocolError } from "../../lib/errors";
import { bytes, clientFrame, closeFrameOf, concat, openServer } from "../support/wire";

/** Invalid sequences from RFC 3629 and Autobahn's group 6. */
const INVALID: Array<[string, Uint8Array]> = [
  ["a lone continuation byte", bytes(0x80)],
  ["an overlong '/' in two bytes", bytes(0xc0, 0xaf)],
  ["an overlong '/' in three bytes", bytes(0xe0, 0x80, 0xaf)],
  ["an overlong in four bytes", bytes(0xf0, 0x80, 0x80, 0xaf)],
  ["a high surrogate U+D800", bytes(0xed, 0xa0, 0x80)],
  ["a low surrogate U+DFFF", bytes(0xed, 0xbf, 0xbf)],
  ["a code point above U+10FFFF", bytes(0xf4, 0x90, 0x80, 0x80)],
  ["a 0xFE byte", bytes(0xfe)],
  ["a 0xFF byte", bytes(0xff)],
  ["a five-byte form", bytes(0xf8, 0x88, 0x80, 0x80, 0x80)],
  ["a truncated three-byte sequence", bytes(0x41, 0xe2, 0x82)],
  ["a truncated four-byte sequence", bytes(0xf0, 0x9f, 0x98)],
  ["κόσμε with a surrogate appended (Autobahn 6.3.1)",
    bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64)],
];

const VALID: Array<[string, Uint8Array, string]> = [
  ["the empty string", bytes(), ""],
  ["ASCII", bytes(0x48, 0x69), "Hi"],
  ["κόσμε", bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5), "\u03ba\u1f79\u03c3\u03bc\u03b5"],
  ["U+0080, the first two-byte code point", bytes(0xc2, 0x80), "\u0080"],
  ["U+FFFF", bytes(0xef, 0xbf, 0xbf), "\uffff"],
  ["U+10FFFF, the last code point", bytes(0xf4, 0x8f, 0xbf, 0xbf), "\u{10ffff}"],
  ["U+D7FF and U+E000 around the surrogates", bytes(0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80), "\ud7ff\ue000"],
  ["a byte order mark, kept as text", bytes(0xef, 0xbb, 0xbf, 0x41), "\ufeffA"],
];

describe("RFC 6455 §8.1: text messages must be valid UTF-8", () => {
  for (const [name, payload, text] of VALID) {
    it(`delivers ${name}, whole and split into one-byte fragments`, () => {
      const whole = openServer();
      whole.driver.parse(clientFrame({ opcode: 1, payload }));
      expect(whole.events).toEqual([["message", { data: text }]]);
      const split = openServer();
      const frames = payload.length === 0 ? [clientFrame({ opcode: 1, payload })]
        : Array.from(payload, (byte, i) => clientFrame({ opcode: i === 0 ? 1 : 0, fin: i === payload.length - 1, payload: bytes(byte) }));
      split.driver.parse(concat(...frames));
      expect(split.events).toEqual([["message", { data: text }]]);
    });
  }

  for (const [name, payload] of INVALID) {
    it(`fails ${name} with 1007`, () => {
      const { driver, events, io } = openServer();
      driver.parse(clientFrame({ opcode: 1, payload }));
      expect(events.map(([type]) => type)).toEqual(["error", "close"]);
      expect((events[0][1] as ProtocolError).code).toBe(1007);
      expect(closeFrameOf(io.take())?.code).toBe(1007);
    });
  }
});

describe("RFC 6455 §8.1: fail fast, as soon as the bytes cannot become valid", () => {
  it("fails in the fragment that breaks the text, before the message ends", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 1, fin: false, payload: bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9) }));
    expect(events).toEqual([]);
    driver.parse(clientFrame({ opcode: 0, fin: false, payload: bytes(0xcf, 0x83, 0xed, 0xa0, 0x80) }));
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    // The final fragment is never needed.
  });

  it("fails inside a frame whose payload is still arriving", () => {
    const { driver, events } = openServer();
    const message = clientFrame({ opcode: 1, payload: concat(bytes(0x41, 0x42, 0xf4, 0x90), new Uint8Array(1000).fill(0x41)) });
    driver.parse(message.subarray(0, 4 + 4 + 4)); // 16-bit length header, key, "AB", 0xF4 0x90
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
  });

  it("waits while a sequence split across fragments can still complete", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 1, fin: false, payload: bytes(0xf0, 0x9f) }));
    driver.parse(clientFrame({ opcode: 0, fin: false, payload: bytes(0x98) }));
    expect(events).toEqual([]);
    driver.parse(clientFrame({ opcode: 0, fin: true, payload: bytes(0x80) }));
    expect(events).toEqual([["message", { data: "😀" }]]);
  });

  it("fails a message that ends inside a sequence", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 1, fin: false, payload: bytes(0x41, 0xe2) }));
    driver.parse(clientFrame({ opcode: 0, fin: true, payload: bytes(0x82) }));
    expect((events[0][1] as ProtocolError).message).toMatch(/ends inside a UTF-8 sequence/);
  });

  it("does not check binary messages", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 2, payload: bytes(0xff, 0xfe) }));
    expect(events).toEqual([["message", { data: bytes(0xff, 0xfe) }]]);
  });
});
