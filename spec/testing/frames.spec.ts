/**
 * wsdriver/testing's frame builder and decoder (RFC 6455 §5.2), against the RFC's own example bytes.
 */
import {
  EXAMPLE_MASKING_KEY, FrameDecoder, chunks, closeOf, closePayload, countingKeys, decodeFrames, frame, fromHex, hex, splitAt,
} from "../../lib/testing";

describe("frame: RFC 6455 §5.7's examples, byte for byte", () => {
  it("a single-frame unmasked text message", () => {
    expect(hex(frame({ opcode: "text", payload: "Hello" }))).toBe("81 05 48 65 6c 6c 6f");
  });

  it("a single-frame masked text message, with the example key", () => {
    expect(hex(frame({ opcode: "text", payload: "Hello", mask: true }))).toBe("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    expect(frame({ opcode: 1, payload: "Hello", mask: EXAMPLE_MASKING_KEY })).toEqual(fromHex("8185 37fa213d 7f9f4d5158"));
  });

  it("a fragmented unmasked text message", () => {
    expect(hex(frame({ opcode: "text", payload: "Hel", fin: false }))).toBe("01 03 48 65 6c");
    expect(hex(frame({ opcode: "continuation", payload: "lo" }))).toBe("80 02 6c 6f");
  });

  it("an unmasked ping and a masked pong", () => {
    expect(hex(frame({ opcode: "ping", payload: "Hello" }))).toBe("89 05 48 65 6c 6c 6f");
    expect(hex(frame({ opcode: "pong", payload: "Hello", mask: true }))).toBe("8a 85 37 fa 21 3d 7f 9f 4d 51 58");
  });

  it("256 bytes and 64 KiB of binary, with the 16- and 64-bit lengths", () => {
    expect(hex(frame({ opcode: "binary", payload: new Uint8Array(256) }).subarray(0, 4))).toBe("82 7e 01 00");
    expect(hex(frame({ opcode: "binary", payload: new Uint8Array(65536) }).subarray(0, 10))).toBe("82 7f 00 00 00 00 00 01 00 00");
  });
});

describe("frame: malformed frames on request", () => {
  it("sets the reserved bits, by name or as bits, and any opcode", () => {
    expect(hex(frame({ opcode: 0x3, rsv1: true }))).toBe("c3 00");
    expect(hex(frame({ opcode: 0xb, rsv: 0x30 }))).toBe("bb 00");
  });

  it("announces a length it does not carry, in a non-minimal form", () => {
    expect(hex(frame({ opcode: "text", payload: "a", length: 5 }))).toBe("81 05 61");
    expect(hex(frame({ opcode: "text", payload: "a", lengthForm: 16 }))).toBe("81 7e 00 01 61");
    expect(hex(frame({ opcode: "ping", lengthForm: 64, length: 2 ** 63 }).subarray(0, 10))).toBe("89 7f 80 00 00 00 00 00 00 00");
  });

  it("sends invalid UTF-8 as bytes, and close payloads with any code", () => {
    expect(hex(frame({ opcode: "text", payload: Uint8Array.of(0xce, 0xba, 0xe1) }))).toBe("81 03 ce ba e1");
    expect(hex(closePayload(1008, "no"))).toBe("03 f0 6e 6f");
    expect(closePayload()).toEqual(new Uint8Array(0));
    expect(hex(closePayload(999))).toBe("03 e7");
  });

  it("refuses a masking key that is not 4 bytes", () => {
    expect(() => frame({ opcode: "text", mask: Uint8Array.of(1, 2, 3) })).toThrow(RangeError);
  });
});

describe("decodeFrames and FrameDecoder", () => {
  const bytes = Uint8Array.from([
    ...frame({ opcode: "text", payload: "Hello", mask: true }),
    ...frame({ opcode: "close", payload: closePayload(1000, "bye"), rsv2: true }),
    ...frame({ opcode: "binary", payload: new Uint8Array(300).fill(7), mask: countingKeys()(0) }),
  ]);

  it("unmasks, keeps the key, and reads every header field", () => {
    const [text, close, binary] = decodeFrames(bytes);
    expect(text).toEqual({ fin: true, rsv: 0, opcode: 1, masked: true, maskingKey: EXAMPLE_MASKING_KEY, payload: new TextEncoder().encode("Hello") });
    expect(close).toMatchObject({ rsv: 0x20, opcode: 8, masked: false, maskingKey: null });
    expect(closeOf(close!)).toEqual({ code: 1000, reason: "bye" });
    expect(binary).toMatchObject({ maskingKey: Uint8Array.of(0, 0, 0, 1), payload: new Uint8Array(300).fill(7) });
  });

  it("reads the same frames from any split of the bytes, holding back an incomplete one", () => {
    for (const pieces of [chunks(bytes, 1), chunks(bytes, 7), splitAt(bytes, 1, 2, 11, 12, 20)]) {
      const decoder = new FrameDecoder();
      const frames = pieces.flatMap((piece) => decoder.push(piece));
      expect(frames).toEqual(decodeFrames(bytes));
      expect(decoder.buffered).toBe(0);
    }
    expect(decodeFrames(bytes.subarray(0, bytes.length - 1))).toHaveLength(2);
  });

  it("closeOf: an empty close payload has no code; other frames, or none, are refused", () => {
    expect(closeOf(decodeFrames(frame({ opcode: "close" }))[0]!)).toEqual({ code: null, reason: "" });
    expect(() => closeOf(decodeFrames(frame({ opcode: "ping" }))[0])).toThrow("Expected a close frame, got opcode 9");
    expect(() => closeOf(decodeFrames(new Uint8Array(0))[0])).toThrow("Expected a close frame, got nothing");
  });

  it("fromHex refuses what is not hex", () => {
    expect(() => fromHex("8")).toThrow(SyntaxError);
  });
});
