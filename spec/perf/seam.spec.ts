/**
 * The seam through which a runtime lends the core faster primitives (lib/util/fast-paths.ts): what
 * the core hands each primitive, that the results equal RFC 6455 §5.3's byte rule, and that Node's
 * entry installs bufferutil and uninitialised buffers with no wiring by the user.
 */
import { isUtf8 } from "node:buffer";
import { Driver } from "../../lib/driver";
import { Framer } from "../../lib/hybi/framer";
import { FrameParser } from "../../lib/hybi/parser";
import { loadBufferUtil, nodeFastPaths } from "../../lib/node/fast-paths";
import { concatBytes } from "../../lib/util/bytes";
import { type FastPaths, fastPaths, useFastPaths } from "../../lib/util/fast-paths";
import { Utf8Cutter, decodeUtf8ByReplacement } from "../../lib/util/utf8";

const KEY = [0x37, 0xfa, 0x21, 0x3d];

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 17 + 7) & 0xff;
  return out;
}

/** A masked client frame (RFC 6455 §5.2) with KEY, built by the byte rule. */
function maskedFrame(payload: Uint8Array): Uint8Array {
  const header = payload.length < 126 ? [0x82, 0x80 | payload.length] : [0x82, 0x80 | 126, payload.length >> 8, payload.length & 0xff];
  const out = new Uint8Array(header.length + 4 + payload.length);
  out.set(header);
  out.set(KEY, header.length);
  payload.forEach((byte, i) => { out[header.length + 4 + i] = byte ^ KEY[i & 3]; });
  return out;
}

let saved: FastPaths;
beforeEach(() => { saved = { ...fastPaths }; });
afterEach(() => useFastPaths(saved));

describe("The seam: the core hands large payloads to the runtime's primitives", () => {
  it("unmasks pieces of 512 bytes and more natively, with the key rotated to each piece's first byte", () => {
    const calls: Array<{ length: number; key: number[] }> = [];
    useFastPaths({
      unmask: (data, key) => {
        calls.push({ length: data.length, key: Array.from(key) });
        for (let i = 0; i < data.length; i++) data[i] ^= key[i & 3];
      },
      mask: null,
      allocUninitialised: null,
    });
    const payloads: Uint8Array[] = [];
    const parser = new FrameParser({
      onData: (piece) => payloads.push(piece.slice()),
      onControl: () => {},
      onProtocolError: (error) => { throw error; },
    }, { expectMasked: true, maxLength: 1 << 20 });
    const small = pattern(511, 1), large = pattern(1601, 2);
    parser.parse(maskedFrame(small));
    const frame = maskedFrame(large);
    // The large frame in two pieces: 8 header bytes and 601 payload bytes, then the other 1000.
    parser.parse(frame.subarray(0, 609));
    parser.parse(frame.subarray(609));
    expect(payloads).toEqual([small, large.subarray(0, 601), large.subarray(601)]);
    // The 511-byte frame stays pure; the second piece starts on key byte 601 mod 4 = 1.
    expect(calls).toEqual([{ length: 601, key: KEY }, { length: 1000, key: [KEY[1], KEY[2], KEY[3], KEY[0]] }]);
  });

  it("masks a client's payload of 512 bytes and more natively, into the frame after its key", () => {
    const calls: number[] = [];
    useFastPaths({
      mask: (source, key, target, at, length) => {
        calls.push(length);
        for (let i = 0; i < length; i++) target[at + i] = source[i] ^ key[i & 3];
      },
    });
    const chunks: Uint8Array[] = [];
    const framer = new Framer({ write: (chunk) => chunks.push(chunk) }, true);
    framer.frame(0x2, pattern(511, 3));
    framer.frame(0x2, pattern(600, 4));
    expect(calls).toEqual([600]);
    const frame = chunks[1];
    expect(Array.from(frame.subarray(0, 4))).toEqual([0x82, 0x80 | 126, 600 >> 8, 600 & 0xff]);
    const key = frame.subarray(4, 8);
    const unmasked = frame.subarray(8).map((byte, i) => byte ^ key[i & 3]);
    expect(unmasked).toEqual(pattern(600, 4));
  });

  it("takes uninitialised memory only for buffers of 1 KiB and more whose every byte it writes", () => {
    const sizes: number[] = [];
    useFastPaths({ allocUninitialised: (length) => { sizes.push(length); return new Uint8Array(length).fill(0xee).buffer; } });
    expect(concatBytes([pattern(600, 1), pattern(600, 2)])).toEqual(Uint8Array.from([...pattern(600, 1), ...pattern(600, 2)]));
    expect(concatBytes([pattern(10, 1), pattern(10, 2)])).toEqual(Uint8Array.from([...pattern(10, 1), ...pattern(10, 2)]));
    expect(sizes).toEqual([1200]);
    // A client frame past the slab size: every byte of it is the frame, none of the 0xee filler.
    const chunks: Uint8Array[] = [];
    new Framer({ write: (chunk) => chunks.push(chunk) }, true).frame(0x2, pattern(10_000, 5));
    expect(sizes[1]).toBeGreaterThanOrEqual(10_008);
    const frame = chunks[0];
    expect(Array.from(frame.subarray(0, 4))).toEqual([0x82, 0x80 | 126, 10_000 >> 8, 10_000 & 0xff]);
    const key = frame.subarray(4, 8);
    expect(frame.subarray(8).map((byte, i) => byte ^ key[i & 3])).toEqual(pattern(10_000, 5));
  });

  it("checks text taken in pieces with the runtime's UTF-8 checker, and decides as the pure decoder does", () => {
    const text = new TextEncoder().encode("héllo wörld ☃ 😀 ok");
    const inputs: Array<{ name: string; bytes: Uint8Array }> = [
      { name: "valid, of 1-4 byte characters", bytes: text },
      { name: "an overlong NUL (C0 80)", bytes: Uint8Array.of(0x61, 0xc0, 0x80, 0x62) },
      { name: "a surrogate (ED A0 80)", bytes: Uint8Array.of(0x61, 0xed, 0xa0, 0x80) },
      { name: "past U+10FFFF (F4 90 80 80)", bytes: Uint8Array.of(0xf4, 0x90, 0x80, 0x80, 0x61) },
      { name: "a lone continuation byte", bytes: Uint8Array.of(0x61, 0x62, 0x80, 0x63) },
      { name: "a character cut by the end (E2 98)", bytes: Uint8Array.of(0x61, 0xe2, 0x98) },
    ];
    /** The cutter's verdict and what it handed on, with `bytes` cut in two at `at`. */
    const run = (bytes: Uint8Array, at: number) => {
      const cutter = new Utf8Cutter();
      const out: number[] = [];
      const ok = cutter.push(bytes.subarray(0, at), (piece) => out.push(...piece))
        && cutter.push(bytes.subarray(at), (piece) => out.push(...piece));
      return { ok, complete: ok && cutter.complete, out };
    };
    for (const { name, bytes } of inputs) {
      for (let at = 0; at <= bytes.length; at++) {
        useFastPaths({ validUtf8: null });
        const pure = run(bytes, at);
        let checks = 0;
        useFastPaths({ validUtf8: (piece) => { checks++; return isUtf8(piece); } });
        const fast = run(bytes, at);
        expect({ name, at, ...fast }).toEqual({ name, at, ...pure });
        if (pure.out.length > 0) expect(checks).toBeGreaterThan(0);
      }
    }
    // The verdicts themselves: only the first input is whole, valid text.
    expect(inputs.map(({ bytes }) => run(bytes, 2).complete)).toEqual([true, false, false, false, false, false]);
  });

  it("runs the pure paths once every fast path is turned off", () => {
    useFastPaths({ ...nodeFastPaths(), decodeUtf8: decodeUtf8ByReplacement });
    useFastPaths();
    expect(fastPaths).toEqual({ unmask: null, mask: null, allocUninitialised: null, decodeUtf8: null, validUtf8: null });
    const messages: unknown[] = [];
    const driver = Driver.fromRequest({
      method: "GET", url: "/",
      headers: { host: "x", upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
    }, { write: () => true });
    driver.on("message", ({ data }) => messages.push(data));
    driver.start();
    driver.parse(maskedFrame(pattern(2000, 6)));
    expect(messages).toEqual([pattern(2000, 6)]);
  });
});

describe("On Node, the package's entry installs the fast paths by itself", () => {
  it("bufferutil's native masking and uninitialised buffers, from lib/node/index.ts", () => {
    useFastPaths();
    jest.isolateModules(() => {
      // The entry and the seam from one module registry, as a user's import sees them.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("../../lib/node/index");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const seam = require("../../lib/util/fast-paths") as typeof import("../../lib/util/fast-paths");
      const bufferUtil = loadBufferUtil();
      expect(bufferUtil).not.toBeNull();
      expect(seam.fastPaths.unmask).toBe(bufferUtil?.unmask);
      expect(seam.fastPaths.mask).toBe(bufferUtil?.mask);
      expect(seam.fastPaths.validUtf8).toBe(isUtf8);
      const buffer = seam.fastPaths.allocUninitialised?.(4096);
      expect(buffer).toBeInstanceOf(ArrayBuffer);
      expect(buffer?.byteLength).toBe(4096);
    });
  });
});
