/**
 * A `DeflateEngine` on the runtime's `node:zlib` (Node, Deno and Bun each provide one).
 *
 * Why zlib, and why driven this way (figures in the commit that chose it): permessage-deflate with
 * context takeover needs a compressor and a decompressor that keep their window between messages
 * and, for a sans-I/O driver whose `parse` is synchronous, work synchronously. The one-shot
 * `deflateRawSync`/`inflateRawSync` cannot keep a window (a preset dictionary imitates it at several
 * times the cost per message, and Deno ignores the dictionary of a raw deflate); pure-JS engines are
 * 2 to 5 times slower. A zlib stream keeps its window, and `_processChunk(chunk, flush)` without a
 * callback runs it synchronously — but closes the native handle when it returns (it was written for
 * the one-shot functions). So each call hides `close` for its duration and puts the handle back.
 * The same internals exist in Node 18 to 24, Deno 2 and Bun 1, and `findBuiltinZlib` checks for
 * them before the engine is used.
 *
 * The zlib module is reached through `process.getBuiltinModule` (Node 20.16+, 22.3+, Deno, Bun) and
 * typed here by the little this file uses, so the core imports no `node:` module, uses no `Buffer`
 * type, and still loads where there is no zlib (a browser), where `deflate()` asks for an engine.
 */
import type { DeflateEngine, Deflater, DeflaterOptions, Inflater, InflaterOptions } from "../extensions/engine.js";
import { InflateLimitError } from "../extensions/engine.js";

/** The native handle of a zlib stream: only `close` is touched. */
interface ZlibHandle {
  close(): void;
}

/** The part of a `node:zlib` stream this engine drives. */
export interface ZlibStream {
  _handle: ZlibHandle | null;
  _processChunk(chunk: Uint8Array, flushFlag: number): Uint8Array;
  on(event: "error", listener: (error: Error) => void): unknown;
  listeners(event: "error"): unknown[];
  removeListener(event: "error", listener: never): unknown;
  reset(): void;
  close(): void;
  readonly destroyed: boolean;
  /** Input bytes the last `_processChunk` consumed. */
  readonly bytesWritten: number;
}

/** The part of `node:zlib` this engine uses. */
export interface ZlibModule {
  constants: { Z_SYNC_FLUSH: number };
  createDeflateRaw(options: { level: number; memLevel: number; windowBits: number }): ZlibStream;
  createInflateRaw(options: { windowBits: number; maxOutputLength: number }): ZlibStream;
}

interface ProcessWithBuiltins {
  getBuiltinModule?(id: string): unknown;
}

/** The runtime's `node:zlib`, if it has one that can be driven synchronously; otherwise null. */
export function findBuiltinZlib(): ZlibModule | null {
  const process = (globalThis as { process?: ProcessWithBuiltins }).process;
  let zlib: ZlibModule | undefined;
  try {
    zlib = process?.getBuiltinModule?.("node:zlib") as ZlibModule | undefined;
  } catch {
    return null;
  }
  return zlib !== undefined && isDrivable(zlib) ? zlib : null;
}

function isDrivable(zlib: ZlibModule): boolean {
  if (typeof zlib.createDeflateRaw !== "function" || typeof zlib.createInflateRaw !== "function") return false;
  const probe = zlib.createDeflateRaw({ level: 1, memLevel: 1, windowBits: 9 });
  const drivable = typeof probe._processChunk === "function" && probe._handle !== null
    && typeof probe._handle?.close === "function";
  probe.close();
  return drivable;
}

/** The largest output limit every runtime's zlib accepts. */
const MAX_OUTPUT_LIMIT = 2 ** 31 - 1;

/** A `DeflateEngine` on a `node:zlib` module (the runtime's, or one passed in, e.g. `require("node:zlib")` on Node 18). */
export function zlibEngine(zlib: ZlibModule): DeflateEngine {
  return {
    createDeflater(options: DeflaterOptions): Deflater {
      return new ZlibCoder(zlib, zlib.createDeflateRaw({
        level: options.level, memLevel: options.memLevel, windowBits: options.windowBits,
      }), Infinity);
    },
    createInflater(options: InflaterOptions): Inflater {
      const limit = Math.min(Math.max(options.maxLength, 1), MAX_OUTPUT_LIMIT);
      return new ZlibCoder(zlib, zlib.createInflateRaw({ windowBits: options.windowBits, maxOutputLength: limit }),
        options.maxLength);
    },
  };
}

const ignore = (): void => {};

class ZlibCoder implements Deflater, Inflater {
  private readonly handle: ZlibHandle;
  private readonly flush: number;
  private closed = false;
  /** See `Inflater.streamEnd`. */
  streamEnd = -1;

  constructor(zlib: ZlibModule, private readonly stream: ZlibStream, private readonly maxLength: number) {
    this.flush = zlib.constants.Z_SYNC_FLUSH;
    this.handle = stream._handle as ZlibHandle;
    // zlib reports a data error both by throwing and, a tick later, as an 'error' event; the throw
    // is what we act on, the event must not crash the process.
    stream.on("error", ignore);
  }

  deflate(data: Uint8Array): Uint8Array {
    return this.process(data);
  }

  inflate(data: Uint8Array): Uint8Array {
    let out: Uint8Array;
    this.streamEnd = -1;
    try {
      out = this.process(data);
      // The stream ended with the last message's last byte (a final stored block whose LEN and NLEN
      // were the 00 00 ff ff appended to it, RFC 7692 §7.2.2), leaving no input unread to show it
      // (below): zlib read none of this message. It starts a new stream.
      if (this.stream.bytesWritten === 0 && data.length > 0) {
        this.streamEnd = 0;
        this.stream.reset();
        out = this.process(data);
      }
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw new InflateLimitError(this.maxLength);
      throw error;
    }
    // A limit of 0 (or one above what zlib accepts) is checked here.
    if (out.length > this.maxLength) throw new InflateLimitError(this.maxLength);
    // RFC 1951 §3.2.3: a block with BFINAL set ends the DEFLATE stream, and zlib reads nothing after
    // it, so every later message would inflate to nothing. RFC 7692 §7.2.3.4 lets a sender end a
    // message so: input left unread means the stream is over, and the next one starts afresh.
    if (this.stream.bytesWritten < data.length) {
      if (this.streamEnd < 0) this.streamEnd = this.stream.bytesWritten;
      this.stream.reset();
    }
    return out;
  }

  reset(): void {
    if (!this.closed) this.stream.reset();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stream.destroyed) {
      // zlib destroyed the stream on a data error while `close` was hidden: free the handle here.
      try {
        this.handle.close();
      } catch {
        // Already closed by the runtime.
      }
      return;
    }
    this.stream._handle = this.handle;
    this.stream.close();
  }

  private process(data: Uint8Array): Uint8Array {
    if (this.closed) throw new Error("The DEFLATE stream has been closed");
    const stream = this.stream, handle = this.handle;
    const close = handle.close;
    const listeners = stream.listeners("error").length;
    handle.close = ignore;
    let out: Uint8Array;
    try {
      out = stream._processChunk(data, this.flush);
    } finally {
      handle.close = close;
      stream._handle = handle;
      // Each synchronous call adds an 'error' listener of its own; take it off again.
      const now = stream.listeners("error");
      for (let i = now.length - 1; i >= listeners; i--) stream.removeListener("error", now[i] as never);
    }
    // A single output chunk is a view of zlib's reusable buffer: copy it out.
    return new Uint8Array(out);
  }
}
