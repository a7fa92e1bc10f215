/**
 * The `node:zlib` engine (lib/node/zlib.ts) on Node's real zlib: it keeps its window between
 * calls, stops inflating at the limit, leaves no listeners behind, and frees the native handle on
 * close, also after zlib has failed on bad data.
 */
import * as zlib from "node:zlib";
import { InflateLimitError } from "../../lib/extensions/engine";
import { type ZlibModule, type ZlibStream, findBuiltinZlib, zlibEngine } from "../../lib/node/zlib";
import { hex } from "./support";

/** The real zlib, with the streams it makes kept for inspection. */
function watchedZlib(): { module: ZlibModule; streams: ZlibStream[] } {
  const streams: ZlibStream[] = [];
  const real = zlib as unknown as ZlibModule;
  const module: ZlibModule = {
    constants: real.constants,
    createDeflateRaw: (options) => { const s = real.createDeflateRaw(options); streams.push(s); return s; },
    createInflateRaw: (options) => { const s = real.createInflateRaw(options); streams.push(s); return s; },
  };
  return { module, streams };
}

/** Counts calls to the native handle's `close`. */
function countCloses(stream: ZlibStream): { count: number } {
  const counter = { count: 0 };
  const handle = stream._handle as { close(): void };
  const close = handle.close;
  handle.close = function (this: unknown) {
    counter.count++;
    return close.call(this);
  };
  return counter;
}

const hello = new TextEncoder().encode("Hello");

describe("the node:zlib engine", () => {
  it("is found on Node through process.getBuiltinModule", () => {
    expect(findBuiltinZlib()?.createDeflateRaw).toBe(zlib.createDeflateRaw);
  });

  it("keeps the window between messages and ends each with a sync flush", () => {
    const deflater = zlibEngine(zlib as unknown as ZlibModule).createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
    expect(hex(deflater.deflate(hello))).toBe("f2 48 cd c9 c9 07 00 00 00 ff ff");
    expect(hex(deflater.deflate(hello))).toBe("f2 00 11 00 00 00 00 ff ff");
    deflater.reset();
    expect(hex(deflater.deflate(hello))).toBe("f2 48 cd c9 c9 07 00 00 00 ff ff");
    deflater.close();
  });

  it("returns fresh bytes each time, not views of zlib's reused buffer", () => {
    const deflater = zlibEngine(zlib as unknown as ZlibModule).createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
    const first = deflater.deflate(hello);
    deflater.deflate(new TextEncoder().encode("something else entirely"));
    expect(hex(first)).toBe("f2 48 cd c9 c9 07 00 00 00 ff ff");
    deflater.close();
  });

  it("inflates up to the limit exactly, and throws InflateLimitError past it", () => {
    const engine = zlibEngine(zlib as unknown as ZlibModule);
    const data = zlib.deflateRawSync(new Uint8Array(100_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const exact = engine.createInflater({ windowBits: 15, maxLength: 100_000 });
    expect(exact.inflate(data)).toHaveLength(100_000);
    exact.close();
    const small = engine.createInflater({ windowBits: 15, maxLength: 99_999 });
    expect(() => small.inflate(data)).toThrow(InflateLimitError);
    small.close();
    const zero = engine.createInflater({ windowBits: 15, maxLength: 0 });
    expect(zero.inflate(Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff))).toHaveLength(0);
    expect(() => zero.inflate(Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff))).toThrow(InflateLimitError);
    zero.close();
  });

  it("leaves one error listener however many messages pass", () => {
    const { module, streams } = watchedZlib();
    const deflater = zlibEngine(module).createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
    for (let i = 0; i < 50; i++) deflater.deflate(hello);
    expect(streams[0].listeners("error")).toHaveLength(1);
    deflater.close();
  });

  it("frees the native handle on close", () => {
    const { module, streams } = watchedZlib();
    const deflater = zlibEngine(module).createDeflater({ level: 6, memLevel: 8, windowBits: 15 });
    deflater.deflate(hello);
    const closes = countCloses(streams[0]);
    deflater.close();
    deflater.close();
    expect(closes.count).toBe(1);
    expect(() => deflater.deflate(hello)).toThrow("The DEFLATE stream has been closed");
  });

  it("frees the native handle on close after zlib failed on bad data", async () => {
    const { module, streams } = watchedZlib();
    const inflater = zlibEngine(module).createInflater({ windowBits: 15, maxLength: 1000 });
    const closes = countCloses(streams[0]);
    expect(() => inflater.inflate(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toThrow("invalid block type");
    // zlib also reports the error as an event on the next tick: it must not be unhandled.
    await new Promise((resolve) => setImmediate(resolve));
    inflater.close();
    expect(closes.count).toBe(1);
  });
});
