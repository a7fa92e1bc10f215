import { ProtocolError } from "../../lib/errors";
import {
  bytes, clientFrame, comparable, concat, frame, openClient, openServer, readFrames, closeFrameOf, splitAt, utf8,
} from "../support/wire";

const HELLO = utf8("Hello");

describe("RFC 6455 §5.7: the framing examples", () => {
  it("reads a single-frame unmasked text message (as a client)", () => {
    const { driver, events } = openClient();
    driver.parse(bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
    expect(events).toEqual([["message", { data: "Hello" }]]);
  });

  it("reads a single-frame masked text message (as a server)", () => {
    const { driver, events } = openServer();
    driver.parse(bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58));
    expect(events).toEqual([["message", { data: "Hello" }]]);
  });

  it("reads a fragmented unmasked text message", () => {
    const { driver, events } = openClient();
    driver.parse(bytes(0x01, 0x03, 0x48, 0x65, 0x6c));
    expect(events).toEqual([]);
    driver.parse(bytes(0x80, 0x02, 0x6c, 0x6f));
    expect(events).toEqual([["message", { data: "Hello" }]]);
  });

  it("reads an unmasked ping and answers with a pong carrying the same data", () => {
    const { driver, events, io } = openClient();
    driver.parse(bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
    expect(events).toEqual([["ping", { data: HELLO }]]);
    const [pong] = readFrames(io.take());
    expect(pong).toMatchObject({ opcode: 0x0a, fin: true, masked: true, payload: HELLO });
  });

  it("reads a masked pong", () => {
    const { driver, events } = openServer();
    driver.parse(bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58));
    expect(events).toEqual([["pong", { data: HELLO }]]);
  });

  it("reads 256 bytes of binary with a 16-bit length and 64 KiB with a 64-bit length", () => {
    const { driver, events } = openClient();
    const small = new Uint8Array(256).map((_, i) => i);
    driver.parse(concat(bytes(0x82, 0x7e, 0x01, 0x00), small));
    const large = new Uint8Array(65536).map((_, i) => i * 7);
    driver.parse(concat(bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00), large));
    expect(events).toEqual([["message", { data: small }], ["message", { data: large }]]);
  });

  it("writes the same bytes as the examples (server, unmasked)", () => {
    const { driver, io } = openServer();
    driver.text("Hello");
    expect(io.take()).toEqual(bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
    driver.ping("Hello");
    expect(io.take()).toEqual(bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
    driver.binary(new Uint8Array(256));
    expect(io.take().subarray(0, 4)).toEqual(bytes(0x82, 0x7e, 0x01, 0x00));
    driver.binary(new Uint8Array(65536));
    expect(io.take().subarray(0, 10)).toEqual(bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00));
  });
});

describe("RFC 6455 §5.2: payload lengths", () => {
  for (const length of [0, 1, 125, 126, 127, 65535, 65536, 1 << 20]) {
    it(`round-trips ${length} bytes each way, in the shortest length form`, () => {
      const server = openServer();
      const client = openClient();
      const payload = new Uint8Array(length).map((_, i) => (i * 31) & 0xff);
      client.driver.binary(payload);
      const sent = client.io.take();
      const headerLength = (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
      expect(sent.length).toBe(headerLength + length);
      server.driver.parse(sent);
      expect(comparable(server.events)).toEqual(comparable([["message", { data: payload }]]));
      server.driver.binary(payload);
      client.driver.parse(server.io.take());
      expect(comparable(client.events)).toEqual(comparable([["message", { data: payload }]]));
    });
  }

  it("writes a large server payload as header and payload without copying it", () => {
    const { driver, io } = openServer();
    const payload = new Uint8Array(100_000);
    const chunks: Uint8Array[] = [];
    io.write = (chunk: Uint8Array) => { chunks.push(chunk); return true; };
    driver.binary(payload);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toBe(payload);
  });

  it("refuses a 64-bit length with its most significant bit set (1002)", () => {
    const { driver, events, io } = openServer();
    driver.parse(bytes(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4));
    expect(events[0][0]).toBe("error");
    expect((events[0][1] as ProtocolError).code).toBe(1002);
    expect(closeFrameOf(io.take())?.code).toBe(1002);
  });

  it("refuses a length over maxLength with 1009 before any payload arrives", () => {
    const { driver, events, io } = openServer({ maxLength: 1000 });
    driver.parse(clientFrame({ opcode: 2, payload: new Uint8Array(0), length: 1001 }).subarray(0, 8));
    expect(events.map(([type]) => type)).toEqual(["error", "close"]);
    expect(events[1][1]).toEqual({ code: 1009, reason: expect.stringMatching(/maxLength \(1000\)/) });
    expect(closeFrameOf(io.take())?.code).toBe(1009);
  });

  it("refuses a 2^62-byte announcement before buffering anything", () => {
    const { driver, events } = openServer();
    driver.parse(bytes(0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4));
    expect((events[0][1] as ProtocolError).code).toBe(1009);
  });

  it("accepts a message of exactly maxLength bytes", () => {
    const { driver, events } = openServer({ maxLength: 1000 });
    driver.parse(clientFrame({ opcode: 2, payload: new Uint8Array(1000) }));
    expect(events).toEqual([["message", { data: new Uint8Array(1000) }]]);
  });

  it("counts every fragment of a message against maxLength (1009)", () => {
    const { driver, events } = openServer({ maxLength: 1000 });
    driver.parse(clientFrame({ opcode: 2, fin: false, payload: new Uint8Array(600) }));
    driver.parse(clientFrame({ opcode: 0, fin: false, payload: new Uint8Array(400) }));
    expect(events).toEqual([]);
    driver.parse(clientFrame({ opcode: 0, fin: true, payload: new Uint8Array(1) }));
    expect((events[0][1] as ProtocolError).code).toBe(1009);
  });
});

describe("RFC 6455 §5.1, §5.3: masking", () => {
  it("refuses an unmasked frame from a client (1002)", () => {
    const { driver, events, io } = openServer();
    driver.parse(frame({ opcode: 1, payload: "hi" }));
    expect((events[0][1] as ProtocolError).message).toMatch(/Unmasked frame from a client/);
    expect(closeFrameOf(io.take())?.code).toBe(1002);
  });

  it("refuses a masked frame from a server (1002)", () => {
    const { driver, events, io } = openClient();
    driver.parse(frame({ opcode: 1, payload: "hi", mask: true }));
    expect((events[0][1] as ProtocolError).message).toMatch(/Masked frame from a server/);
    expect(closeFrameOf(io.take())?.code).toBe(1002);
  });

  it("masks every client frame with a fresh key", () => {
    const { driver, io } = openClient();
    for (let i = 0; i < 20; i++) driver.text("same text");
    const data = io.take();
    const keys = new Set<string>();
    for (let at = 0; at < data.length; at += 6 + 9) {
      expect(data[at + 1] & 0x80).toBe(0x80);
      keys.add(Array.from(data.subarray(at + 2, at + 6)).join(","));
    }
    expect(keys.size).toBe(20);
    expect(readFrames(data).every((f) => new TextDecoder().decode(f.payload) === "same text")).toBe(true);
  });

  // A chunk may be a view that ends a few bytes short of a word boundary at the very end of its
  // ArrayBuffer (a Node Buffer cut from `Buffer.concat`, say). Unmasking works on aligned words, so
  // the word view must never reach past the buffer.
  it("unmasks chunks that are views at the unaligned end of their ArrayBuffer, at every offset", () => {
    const payload = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff);
    const wire = clientFrame({ opcode: 2, payload });
    for (const size of [1, 2, 3, 5, 70, 130]) {
      for (let offset = 0; offset < 8; offset++) {
        const { driver, events } = openServer();
        for (let at = 0; at < wire.length; at += size) {
          const piece = wire.subarray(at, at + size);
          const backing = new Uint8Array(offset + piece.length);
          backing.set(piece, offset);
          driver.parse(backing.subarray(offset));
        }
        expect(comparable(events)).toEqual(comparable([["message", { data: payload }]]));
      }
    }
  });

  // A masked binary frame that spans reads is gathered still masked and unmasked as its pieces are
  // joined, each piece with the key turned to its offset in the payload.
  it("unmasks a binary frame that spans reads, cut at every place, with the key turned for each piece", () => {
    const payload = Uint8Array.from({ length: 301 }, (_, i) => (i * 13 + 5) & 0xff);
    const original = clientFrame({ opcode: 2, payload, mask: bytes(0x37, 0xfa, 0x21, 0x3d) });
    for (let cut = 1; cut < original.length; cut++) {
      for (const second of [cut, Math.min(cut + 3, original.length)]) {
        // A fresh copy each time: a frame read in one piece is unmasked in place.
        const wire = original.slice();
        const { driver, events } = openServer();
        for (const piece of [wire.subarray(0, cut), wire.subarray(cut, second), wire.subarray(second)]) driver.parse(piece);
        expect({ cut, second, events: comparable(events) }).toEqual({ cut, second, events: comparable([["message", { data: payload }]]) });
      }
    }
  });

  it("reads a ping that spans reads between the fragments of a binary message as a ping", () => {
    const { driver, events } = openServer();
    const wire = concat(
      clientFrame({ opcode: 2, fin: false, payload: bytes(1, 2) }),
      clientFrame({ opcode: 9, payload: bytes(7, 8, 9) }),
      clientFrame({ opcode: 0, payload: bytes(3) }),
    );
    for (let at = 0; at < wire.length; at++) driver.parse(wire.subarray(at, at + 1));
    expect(comparable(events)).toEqual(comparable([["ping", { data: bytes(7, 8, 9) }], ["message", { data: bytes(1, 2, 3) }]]));
  });

  it("never masks server frames", () => {
    const { driver, io } = openServer();
    driver.text("x".repeat(300));
    expect(readFrames(io.take())[0].masked).toBe(false);
  });
});

describe("RFC 6455 §5.2: reserved bits and opcodes", () => {
  for (const rsv of [0x40, 0x20, 0x10]) {
    it(`refuses RSV bit 0x${rsv.toString(16)} with no extension negotiated (1002)`, () => {
      const { driver, events } = openServer();
      driver.parse(concat(clientFrame({ opcode: 1, rsv, payload: "x" }), clientFrame({ opcode: 1, payload: "later" })));
      expect(events.map(([type]) => type)).toEqual(["error", "close"]);
      expect((events[0][1] as ProtocolError).code).toBe(1002);
    });
  }

  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    it(`refuses reserved opcode ${opcode} (1002) and reads nothing after it`, () => {
      const { driver, events, io } = openServer();
      driver.parse(concat(clientFrame({ opcode: 1, payload: "before" }), clientFrame({ opcode, payload: "x" }),
        clientFrame({ opcode: 1, payload: "after" })));
      expect(events.map(([type]) => type)).toEqual(["message", "error", "close"]);
      expect((events[1][1] as ProtocolError).message).toMatch(/Unknown opcode/);
      expect(closeFrameOf(io.take())?.code).toBe(1002);
    });
  }
});

describe("RFC 6455 §5.5: control frames", () => {
  it("accepts a 125-byte ping and refuses a 126-byte one (1002)", () => {
    const ok = openServer();
    ok.driver.parse(clientFrame({ opcode: 9, payload: new Uint8Array(125).fill(1) }));
    expect(ok.events).toEqual([["ping", { data: new Uint8Array(125).fill(1) }]]);
    const bad = openServer();
    bad.driver.parse(clientFrame({ opcode: 9, payload: new Uint8Array(126) }));
    expect((bad.events[0][1] as ProtocolError).message).toMatch(/longer than 125/);
  });

  it("refuses a fragmented control frame (1002)", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 9, fin: false, payload: "a" }));
    expect((events[0][1] as ProtocolError).message).toMatch(/Fragmented control frame/);
  });

  it("refuses RSV bits on a control frame (1002)", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 9, rsv: 0x40, payload: "a" }));
    expect((events[0][1] as ProtocolError).code).toBe(1002);
  });

  it("answers each of 10 pings in one chunk, in order", () => {
    const { driver, events, io } = openServer();
    driver.parse(concat(...Array.from({ length: 10 }, (_, i) => clientFrame({ opcode: 9, payload: `p${i}` }))));
    expect(events.map(([, e]) => new TextDecoder().decode((e as { data: Uint8Array }).data)))
      .toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    const pongs = readFrames(io.take());
    expect(pongs.map((f) => [f.opcode, new TextDecoder().decode(f.payload)]))
      .toEqual(Array.from({ length: 10 }, (_, i) => [10, `p${i}`]));
  });

  it("reports an unsolicited pong and does not answer it", () => {
    const { driver, events, io } = openServer();
    driver.parse(clientFrame({ opcode: 10, payload: "unasked" }));
    expect(events).toEqual([["pong", { data: utf8("unasked") }]]);
    expect(io.chunks).toHaveLength(0);
  });
});

describe("RFC 6455 §5.4: fragmentation", () => {
  it("reassembles 1 to 1000 fragments", () => {
    for (const count of [1, 2, 10, 1000]) {
      const { driver, events } = openServer();
      const parts = Array.from({ length: count }, (_, i) =>
        clientFrame({ opcode: i === 0 ? 1 : 0, fin: i === count - 1, payload: `${i % 10}` }));
      driver.parse(concat(...parts));
      expect(events).toEqual([["message", { data: Array.from({ length: count }, (_, i) => `${i % 10}`).join("") }]]);
    }
  });

  it("accepts empty fragments", () => {
    const { driver, events } = openServer();
    driver.parse(concat(clientFrame({ opcode: 2, fin: false }), clientFrame({ opcode: 0, fin: false, payload: bytes(1, 2) }),
      clientFrame({ opcode: 0, fin: true })));
    expect(events).toEqual([["message", { data: bytes(1, 2) }]]);
  });

  it("handles control frames between fragments", () => {
    const { driver, events, io } = openServer();
    driver.parse(concat(clientFrame({ opcode: 1, fin: false, payload: "Hel" }), clientFrame({ opcode: 9, payload: "ping" }),
      clientFrame({ opcode: 10, payload: "pong" }), clientFrame({ opcode: 0, fin: true, payload: "lo" })));
    expect(events).toEqual([["ping", { data: utf8("ping") }], ["pong", { data: utf8("pong") }], ["message", { data: "Hello" }]]);
    expect(readFrames(io.take()).map((f) => f.opcode)).toEqual([10]);
  });

  it("refuses a continuation with nothing to continue (1002)", () => {
    const { driver, events } = openServer();
    driver.parse(clientFrame({ opcode: 0, payload: "orphan" }));
    expect((events[0][1] as ProtocolError).message).toMatch(/Continuation frame with no message/);
    expect((events[0][1] as ProtocolError).code).toBe(1002);
  });

  it("refuses a new data frame inside a fragmented message (1002)", () => {
    const { driver, events } = openServer();
    driver.parse(concat(clientFrame({ opcode: 1, fin: false, payload: "a" }), clientFrame({ opcode: 2, payload: "b" })));
    expect((events[0][1] as ProtocolError).message).toMatch(/New data frame while a fragmented message/);
  });
});

describe("any split of the input gives the same events", () => {
  const stream = concat(
    clientFrame({ opcode: 1, payload: "héllo wörld ☃" }),
    clientFrame({ opcode: 2, payload: new Uint8Array(300).fill(9) }),
    clientFrame({ opcode: 9, payload: "ping" }),
    clientFrame({ opcode: 1, fin: false, payload: "frag" }),
    clientFrame({ opcode: 0, fin: false, payload: "ment" }),
    clientFrame({ opcode: 10, payload: "" }),
    clientFrame({ opcode: 0, fin: true, payload: "ed 😀" }),
    clientFrame({ opcode: 2, payload: new Uint8Array(70000).fill(3) }),
  );
  const expected = (() => {
    const { driver, events } = openServer();
    driver.parse(stream.slice());
    return comparable(events);
  })();

  it("has the expected events in one chunk", () => {
    expect(expected.map((event) => (event as string[])[0])).toEqual(["message", "message", "ping", "pong", "message", "message"]);
    expect(expected[0]).toEqual(["message", { data: "héllo wörld ☃" }]);
    expect(expected[4]).toEqual(["message", { data: "fragmented 😀" }]);
  });

  it("one byte at a time", () => {
    const { driver, events } = openServer();
    for (let i = 0; i < stream.length; i++) driver.parse(stream.slice(i, i + 1));
    expect(comparable(events)).toEqual(expected);
  });

  it("at every single split point of the first 400 bytes", () => {
    for (let cut = 1; cut < 400; cut++) {
      const { driver, events } = openServer();
      for (const piece of splitAt(stream.slice(), cut)) driver.parse(piece);
      expect(comparable(events)).toEqual(expected);
    }
  });

  it("in chunks of 7, 1000 and 65536 bytes", () => {
    for (const size of [7, 1000, 65536]) {
      const { driver, events } = openServer();
      const copy = stream.slice();
      for (let i = 0; i < copy.length; i += size) driver.parse(copy.subarray(i, i + size));
      expect(comparable(events)).toEqual(expected);
    }
  });
});
