/**
 * The fast paths of the hot code say exactly what the plain RFC 6455 rules say: word-at-a-time
 * masking (§5.3) against the byte-by-byte definition at every alignment, frames cut from shared
 * slabs that later frames never overwrite, hand-encoded ASCII text, and header and payload written
 * as two chunks to a writer that can cork.
 */
import { Framer } from "../../lib/hybi/framer";
import { FrameParser } from "../../lib/hybi/parser";
import { applyMask, applyPackedMaskIn, maskInto, packKey, wordView } from "../../lib/util/mask";
import { MaskingKeySource } from "../../lib/util/random";

/** RFC 6455 §5.3: "octet i of the transformed data is the XOR of octet i of the original data with
 * octet at index i modulo 4 of the masking key". */
function reference(data: Uint8Array, key: Uint8Array, keyOffset: number): Uint8Array {
  return data.map((byte, i) => byte ^ key[(keyOffset + i) & 3]);
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 17 + 7) & 0xff;
  return out;
}

const KEY = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);
const LENGTHS = [0, 1, 3, 4, 5, 31, 63, 64, 65, 67, 100, 128, 255, 511, 512, 513, 1025, 4099];

describe("RFC 6455 §5.3: word-at-a-time unmasking equals the byte-by-byte rule", () => {
  it("in place, for every start alignment, key offset and a range of lengths", () => {
    for (const length of LENGTHS) {
      for (let align = 0; align < 8; align++) {
        for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
          const backing = new Uint8Array(length + 16);
          backing.set(pattern(length + 16, length + align), 0);
          const data = backing.subarray(align, align + length);
          const expected = reference(data, KEY, keyOffset);
          const before = backing.slice();
          applyMask(data, KEY, keyOffset);
          expect(data).toEqual(expected);
          // Bytes on either side are untouched.
          expect(backing.subarray(0, align)).toEqual(before.subarray(0, align));
          expect(backing.subarray(align + length)).toEqual(before.subarray(align + length));
        }
      }
    }
  });

  it("through one word view of a whole chunk, for every piece of it", () => {
    for (let chunkAlign = 0; chunkAlign < 4; chunkAlign++) {
      const backing = new Uint8Array(2100);
      backing.set(pattern(2100, chunkAlign));
      const chunk = backing.subarray(chunkAlign, 2048 + chunkAlign);
      const original = chunk.slice();
      const words = wordView(chunk);
      // Pieces of every alignment and length, as frames lie in a chunk, each with its own key offset.
      const cuts = [[0, 100], [100, 1], [101, 64], [165, 67], [232, 1000], [1232, 816]];
      for (const [at, length] of cuts) {
        applyPackedMaskIn(chunk.subarray(at, at + length), packKey(KEY, 0), at & 3, words);
      }
      expect(chunk).toEqual(reference(original, KEY, 0));
      expect(backing.subarray(2048 + chunkAlign)).toEqual(pattern(2100, chunkAlign).subarray(2048 + chunkAlign));
    }
  });

  it("into another buffer past the block size, in one pass or block by block", () => {
    // 40,003 bytes: more than two 16 KiB blocks, and an odd tail. Same source and target word
    // alignment takes the single pass; different alignments take the block-by-block copy.
    const length = 40_003;
    const original = pattern(length, 5);
    for (const [sourceAlign, targetAlign] of [[0, 0], [1, 1], [3, 3], [0, 2], [1, 0], [3, 2]]) {
      for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
        const source = new Uint8Array(length + 8).subarray(sourceAlign, sourceAlign + length);
        source.set(original);
        const target = new Uint8Array(length + 8);
        maskInto(source, target, targetAlign, KEY, keyOffset);
        const expected = reference(original, KEY, keyOffset);
        const written = target.subarray(targetAlign, targetAlign + length);
        let firstDifference = -1;
        for (let i = 0; i < length && firstDifference < 0; i++) if (written[i] !== expected[i]) firstDifference = i;
        expect({ sourceAlign, targetAlign, keyOffset, firstDifference }).toEqual({ sourceAlign, targetAlign, keyOffset, firstDifference: -1 });
        expect(Array.from(target.subarray(0, targetAlign))).toEqual(new Array(targetAlign).fill(0));
        expect(Array.from(target.subarray(targetAlign + length))).toEqual(new Array(8 - targetAlign).fill(0));
        expect(source[0]).toBe(original[0]);
        expect(source[length - 1]).toBe(original[length - 1]);
      }
    }
  });

  it("into another buffer, leaving the source as it was, aligned or not", () => {
    for (const length of LENGTHS) {
      for (let sourceAlign = 0; sourceAlign < 4; sourceAlign++) {
        for (let targetAlign = 0; targetAlign < 4; targetAlign++) {
          for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
            const source = new Uint8Array(length + 8).subarray(sourceAlign, sourceAlign + length);
            source.set(pattern(length, sourceAlign));
            const original = source.slice();
            const target = new Uint8Array(length + 8);
            maskInto(source, target, targetAlign, KEY, keyOffset);
            expect(target.subarray(targetAlign, targetAlign + length)).toEqual(reference(original, KEY, keyOffset));
            expect(target.subarray(0, targetAlign)).toEqual(new Uint8Array(targetAlign));
            expect(target.subarray(targetAlign + length)).toEqual(new Uint8Array(8 - targetAlign));
            expect(source).toEqual(original);
          }
        }
      }
    }
  });
});

/** Collects the chunks a framer writes, as they are (no copy). */
class RawWriter {
  chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    return true;
  }
}

/** Parses frames a framer wrote, as the peer would, returning each message's payload. */
function readBack(chunks: Uint8Array[], masked: boolean): Uint8Array[] {
  const payloads: Uint8Array[] = [];
  let current: Uint8Array[] = [];
  const parser = new FrameParser({
    onData(piece, _opcode, _fin, _rsv1, frameEnd) {
      current.push(piece.slice());
      if (frameEnd) {
        const length = current.reduce((n, p) => n + p.length, 0);
        const out = new Uint8Array(length);
        let at = 0;
        for (const p of current) { out.set(p, at); at += p.length; }
        payloads.push(out);
        current = [];
      }
    },
    onControl() {},
    onProtocolError(error) { throw error; },
  }, { expectMasked: masked, maxLength: 2 ** 26 });
  for (const chunk of chunks) parser.parse(chunk.slice());
  return payloads;
}

describe("Frames cut from a shared slab stay as written", () => {
  it.each([["server", false], ["client", true]])("a %s's first frames are intact after thousands more", (_side, masked) => {
    const writer = new RawWriter();
    const framer = new Framer(writer, masked);
    for (let i = 0; i < 8; i++) framer.frame(0x2, pattern(100 + i, i));
    const first = writer.chunks.map((chunk) => chunk.slice());
    const firstViews = writer.chunks.slice();
    const other = new Framer(new RawWriter(), masked);
    for (let i = 0; i < 5000; i++) {
      framer.frame(0x2, pattern(i % 300, 99));
      other.text(0x1, "x".repeat(i % 50));
    }
    firstViews.forEach((view, i) => expect(view).toEqual(first[i]));
    expect(readBack(first, masked)).toEqual(Array.from({ length: 8 }, (_, i) => pattern(100 + i, i)));
  });
});

describe("RFC 6455 §5.3: a client's frames are masked right across slab boundaries", () => {
  it("every frame of sizes 0 to 3,000 bytes reads back as sent, through many slabs", () => {
    // 1,500 frames of up to 3 KiB fill more than thirty 64 KiB slabs, so frames fall at every place
    // in a slab, the last ones before a new slab included; each is masked through its slab's words.
    const writer = new RawWriter();
    const framer = new Framer(writer, true);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) {
      const payload = pattern((i * 997) % 3001, i);
      sent.push(payload);
      framer.frame(0x2, payload);
    }
    const received = readBack(writer.chunks, true);
    expect(received).toHaveLength(sent.length);
    const mismatches = received.filter((payload, i) => payload.length !== sent[i].length || payload.some((byte, j) => byte !== sent[i][j]));
    expect(mismatches).toHaveLength(0);
    // Every frame carried a mask bit and a key (RFC 6455 §5.1).
    expect(writer.chunks.every((chunk) => (chunk[1] & 0x80) !== 0)).toBe(true);
  });
});

describe("RFC 6455 §5.6: text frames carry the UTF-8 of the string", () => {
  const texts = ["", "a", "hello", "x".repeat(64), "y".repeat(65), "héllo wörld", "日本語", "😀 emoji", "é".repeat(70), "z".repeat(200), "ascii then é"];
  it.each([["server", false], ["client", true]])("as a %s, ASCII written by hand or not", (_side, masked) => {
    const writer = new RawWriter();
    const framer = new Framer(writer, masked);
    for (const text of texts) framer.text(0x1, text);
    expect(writer.chunks.map((chunk) => chunk[0])).toEqual(texts.map(() => 0x81));
    const decoded = readBack(writer.chunks, masked).map((payload) => new TextDecoder().decode(payload));
    expect(decoded).toEqual(texts);
  });
});

describe("A writer that can cork gets a header and an uncopied payload in one corked write", () => {
  it("a 1 KiB server binary frame: cork, header, the caller's own bytes, uncork", () => {
    const calls: string[] = [];
    const chunks: Uint8Array[] = [];
    const writer = {
      write(chunk: Uint8Array) { calls.push("write"); chunks.push(chunk); return true; },
      cork() { calls.push("cork"); },
      uncork() { calls.push("uncork"); },
    };
    const payload = pattern(1024, 5);
    new Framer(writer, false).frame(0x2, payload);
    expect(calls).toEqual(["cork", "write", "write", "uncork"]);
    expect(Array.from(chunks[0])).toEqual([0x82, 126, 0x04, 0x00]);
    expect(chunks[1]).toBe(payload);
  });

  it("a small frame still goes out as one chunk", () => {
    const calls: string[] = [];
    const writer = { write() { calls.push("write"); return true; }, cork() { calls.push("cork"); }, uncork() { calls.push("uncork"); } };
    new Framer(writer, false).frame(0x2, pattern(1023, 1));
    expect(calls).toEqual(["write"]);
  });

  it("a writer without cork gets one chunk up to 16 KiB", () => {
    const writer = new RawWriter();
    new Framer(writer, false).frame(0x2, pattern(16 * 1024 - 1, 2));
    expect(writer.chunks).toHaveLength(1);
    expect(readBack(writer.chunks, false)).toEqual([pattern(16 * 1024 - 1, 2)]);
  });
});

describe("RFC 6455 §5.3: masking keys come fresh from the platform's CSPRNG, drawn in growing pools", () => {
  it("draws 64, 128 … 4096 random bytes as it runs out, and hands every byte out once", () => {
    const draws: number[] = [];
    const drawn: number[] = [];
    const getRandomValues = crypto.getRandomValues.bind(crypto);
    const spy = jest.spyOn(crypto, "getRandomValues").mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      const result = getRandomValues(array as unknown as Uint8Array<ArrayBuffer>) as Uint8Array;
      draws.push(result.length);
      drawn.push(...result);
      return array;
    });
    try {
      const keys = new MaskingKeySource();
      const target = new Uint8Array(8);
      const handedOut: number[] = [];
      for (let i = 0; i < 3000; i++) {
        const packed = keys.next(target, 2);
        // The packed key is the four bytes written, first byte highest (as packKey reads them).
        expect(packed).toBe(packKey(target, 2));
        handedOut.push(...target.subarray(2, 6));
      }
      expect(draws).toEqual([64, 128, 256, 512, 1024, 2048, 4096, 4096]);
      // 3,000 keys are the first 12,000 random bytes drawn, in order: none reused, none skipped.
      expect(handedOut).toEqual(drawn.slice(0, 12_000));
    } finally {
      spy.mockRestore();
    }
  });
});
