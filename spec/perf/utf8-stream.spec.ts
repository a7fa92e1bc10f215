/**
 * The streaming UTF-8 check (lib/util/utf8.ts) decodes each piece whole and carries a cut
 * sequence over by hand. It must say exactly what the platform's own streaming decoder says
 * (WHATWG Encoding, which fails at the first byte that rules valid UTF-8 out, RFC 6455 §8.1):
 * the same text, and a failure in the same piece, for every way of cutting the bytes. It must say
 * so with each whole-piece decoder: the core's default (short ASCII built in JavaScript, the rest
 * by the fatal `TextDecoder`), the fatal decoder alone (Bun's entry), and decoding by replacement
 * with a check for U+FFFD (Deno's entry).
 */
import fc from "fast-check";
import { type FastPaths, fastPaths, useFastPaths } from "../../lib/util/fast-paths";
import { Utf8Stream, decodeUtf8, decodeUtf8ByReplacement, decodeUtf8Fatal } from "../../lib/util/utf8";
import { fuzzParameters, splitBy } from "../fuzz/arbitraries";

/** What the platform's streaming decoder makes of `pieces`: the text, or the piece it failed in. */
function reference(pieces: Uint8Array[]): { text: string } | { failsAt: number } {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let text = "";
  for (let i = 0; i < pieces.length; i++) {
    try {
      text += decoder.decode(pieces[i], { stream: true });
    } catch {
      return { failsAt: i };
    }
  }
  try {
    return { text: text + decoder.decode() };
  } catch {
    return { failsAt: pieces.length };
  }
}

function streamed(pieces: Uint8Array[]): { text: string } | { failsAt: number } {
  const stream = new Utf8Stream();
  for (let i = 0; i < pieces.length; i++) if (!stream.push(pieces[i])) return { failsAt: i };
  const text = stream.end();
  return text === null ? { failsAt: pieces.length } : { text };
}

const hex = (text: string) => Uint8Array.from(text.split(" ").filter(Boolean).map((byte) => parseInt(byte, 16)));

/** RFC 3629 §4 edges: the shortest and longest of each length, and the byte ranges that are refused. */
const CASES: Array<[string, Uint8Array]> = [
  ["ASCII", new TextEncoder().encode("hello, world")],
  ["U+0080 and U+07FF", hex("c2 80 df bf")],
  ["U+0800, U+D7FF, U+E000, U+FFFF", hex("e0 a0 80 ed 9f bf ee 80 80 ef bf bf")],
  ["U+10000 and U+10FFFF", hex("f0 90 80 80 f4 8f bf bf")],
  ["mixed text", new TextEncoder().encode("κόσμε a 日本 😀 z")],
  ["overlong C0 80", hex("41 c0 80 42")],
  ["overlong E0 80 80", hex("41 e0 80 80")],
  ["overlong F0 80 80 80", hex("f0 80 80 80 41")],
  ["a surrogate ED A0 80", hex("61 ed a0 80 62")],
  ["beyond U+10FFFF: F4 90 80 80", hex("f4 90 80 80")],
  ["F5", hex("61 f5 80 80 80")],
  ["FF", hex("ff")],
  ["a lone continuation byte", hex("61 80 62")],
  ["a cut 4-byte sequence then ASCII", hex("f0 9f 98 41")],
  ["a message that ends inside a sequence", hex("61 e6 97")],
  ["a 2-byte lead then another lead", hex("c3 c3 a9")],
  ["U+FFFD sent as text", hex("61 ef bf bd 62")],
  ["U+FFFD sent as text, then an invalid byte", hex("ef bf bd 61 ff")],
  ["a byte order mark, kept", hex("ef bb bf 61")],
];

const DECODERS: Array<[string, FastPaths["decodeUtf8"]]> = [
  ["the core's default decoder", null],
  ["the fatal decoder alone", decodeUtf8Fatal],
  ["decoding by replacement", decodeUtf8ByReplacement],
];

let saved: FastPaths;
beforeEach(() => { saved = { ...fastPaths }; });
afterEach(() => useFastPaths(saved));

/** The fatal decoder's answer for a whole message: its text, or null. */
function fatalAnswer(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

describe("Short ASCII text, built in JavaScript: the fatal decoder's answer at every length around the cut-off", () => {
  // Lengths 0 to 17 (16 is the last built by hand), all ASCII, then with one byte of 0x80 or more
  // at each place: a lone continuation byte (invalid) or the first byte of "é" (valid, cut or not).
  it.each([0, 1, 2, 3, 7, 8, 13, 15, 16, 17])("%i bytes", (length) => {
    const ascii = Uint8Array.from({ length }, (_, i) => 0x20 + ((i * 7) % 0x5f));
    for (const decode of DECODERS.map(([, way]) => way)) {
      useFastPaths({ decodeUtf8: decode });
      expect(decodeUtf8(ascii)).toBe(fatalAnswer(ascii));
      for (let at = 0; at < length; at++) {
        for (const byte of [0x80, 0xc3, 0xff]) {
          const bytes = ascii.slice();
          bytes[at] = byte;
          expect({ at, byte, text: decodeUtf8(bytes) }).toEqual({ at, byte, text: fatalAnswer(bytes) });
        }
        const accented = new Uint8Array([...ascii.subarray(0, at), 0xc3, 0xa9, ...ascii.subarray(at)]);
        expect(decodeUtf8(accented)).toBe(fatalAnswer(accented));
      }
    }
  });
});

describe("Decoding by replacement: the fatal decoder's answer for every input", () => {
  it.each(CASES)("%s", (_name, bytes) => {
    expect(decodeUtf8ByReplacement(bytes)).toEqual(fatalAnswer(bytes));
  });

  it("names valid text with U+FFFD in it valid, and the same bytes with one more invalid byte invalid", () => {
    expect(decodeUtf8ByReplacement(hex("ef bf bd"))).toBe("\uFFFD");
    expect(decodeUtf8ByReplacement(hex("ef bf bd 80"))).toBeNull();
  });

  it("on random bytes and random text", () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
    const bytesOrText = fc.oneof(
      fc.array(byte, { maxLength: 40 }).map((values) => Uint8Array.from(values)),
      fc.string({ unit: "binary", maxLength: 20 }).map((text) => new TextEncoder().encode(text)),
    );
    fc.assert(fc.property(bytesOrText, (bytes) => {
      expect(decodeUtf8ByReplacement(bytes)).toEqual(fatalAnswer(bytes));
    }), fuzzParameters(2000));
  });

  it("is what decodeUtf8 uses once installed at the seam", () => {
    const calls: number[] = [];
    useFastPaths({ decodeUtf8: (bytes) => { calls.push(bytes.length); return decodeUtf8ByReplacement(bytes); } });
    expect(decodeUtf8(hex("61 62"))).toBe("ab");
    expect(decodeUtf8(hex("61 ff"))).toBeNull();
    expect(calls).toEqual([2, 2]);
  });
});

describe.each(DECODERS)("Streaming UTF-8 with %s: the same result as the platform's streaming decoder, however the bytes are cut", (_decoder, decode) => {
  beforeEach(() => useFastPaths({ decodeUtf8: decode }));

  it.each(CASES)("%s: at every single cut, and in one-byte pieces", (_name, bytes) => {
    for (let at = 0; at <= bytes.length; at++) {
      const pieces = splitBy(bytes, [at]);
      expect({ at, result: streamed(pieces) }).toEqual({ at, result: reference(pieces) });
    }
    const bytewise = splitBy(bytes, "every-byte");
    expect(streamed(bytewise)).toEqual(reference(bytewise));
  });

  it("on random bytes and random text, cut at random places", () => {
    // Bytes drawn mostly from the interesting ranges (ASCII, continuation bytes, every kind of lead).
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
    const bytesOrText = fc.oneof(
      fc.array(byte, { maxLength: 40 }).map((values) => Uint8Array.from(values)),
      fc.string({ unit: "binary", maxLength: 20 }).map((text) => new TextEncoder().encode(text)),
    );
    fc.assert(fc.property(bytesOrText, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const pieces = splitBy(bytes, cuts);
      expect(streamed(pieces)).toEqual(reference(pieces));
    }), fuzzParameters(2000));
  });
});
