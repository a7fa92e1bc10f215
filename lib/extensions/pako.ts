/**
 * A `DeflateEngine` on pako (https://github.com/nodeca/pako), zlib ported to JavaScript, for
 * runtimes without `node:zlib` (browsers, workers): `deflate({ engine: pakoEngine(pako) })`. The
 * module is passed in, so the package depends on nothing it does not use.
 *
 * Why pako: it is zlib's own code, so it produces and accepts exactly what zlib does, and its
 * streams sync-flush (RFC 7692 §7.2.1) and keep their window between calls; fflate 0.8's inflater
 * held output back after a sync flush. It ran 1.6 to 4.4 times slower than the runtime's zlib
 * driven synchronously on a JSON corpus (npm run bench, docs/benchmarks.md), so the default
 * engine stays `node:zlib` wherever there is one.
 */
import { type DeflateEngine, type Deflater, type DeflaterOptions, InflateLimitError, type Inflater, type InflaterOptions } from "./engine.js";

/** One of pako's streams: the part this engine drives. */
export interface PakoStream {
  /** zlib's stream state, for pako's reset functions. */
  strm: unknown;
  /** 0, or zlib's status once the stream failed. */
  err: number;
  msg: string;
  /** The stream is over: it ended with a final block (RFC 1951 §3.2.3) or failed. */
  ended: boolean;
  push(data: Uint8Array, flushMode: number): boolean;
  onData(chunk: Uint8Array): void;
}

/** The part of pako (version 3) this engine uses. */
export interface PakoModule {
  Deflate: new (options: { level: number; memLevel: number; windowBits: number; raw: true; chunkSize: number }) => PakoStream;
  Inflate: new (options: { windowBits: number; raw: true; chunkSize: number }) => PakoStream;
  zlibDeflateReset(strm: never): number;
  zlibInflateReset(strm: never): number;
  Z_SYNC_FLUSH: number;
}

/** Output is gathered in pieces of this size: a message's output is one copy of them. */
const CHUNK_SIZE = 16 * 1024;

/** A `DeflateEngine` on pako 3: `pakoEngine(await import("pako"))`. */
export function pakoEngine(pako: PakoModule): DeflateEngine {
  return {
    createDeflater: (options) => new PakoDeflater(pako, options),
    createInflater: (options) => new PakoInflater(pako, options),
  };
}

/** Joins output pieces into one buffer of its own. */
function join(pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0].slice();
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

class PakoDeflater implements Deflater {
  private readonly stream: PakoStream;
  private pieces: Uint8Array[] = [];
  private length = 0;

  constructor(private readonly pako: PakoModule, options: DeflaterOptions) {
    const { level, memLevel, windowBits } = options;
    this.stream = new pako.Deflate({ level, memLevel, windowBits, raw: true, chunkSize: CHUNK_SIZE });
    this.stream.onData = (chunk) => {
      this.pieces.push(chunk);
      this.length += chunk.length;
    };
  }

  deflate(data: Uint8Array): Uint8Array {
    this.pieces = [];
    this.length = 0;
    if (!this.stream.push(data, this.pako.Z_SYNC_FLUSH)) throw new Error(`pako deflate failed: ${this.stream.msg || this.stream.err}`);
    return join(this.pieces, this.length);
  }

  reset(): void {
    this.pako.zlibDeflateReset(this.stream.strm as never);
  }

  close(): void {
    this.pieces = [];
  }
}

class PakoInflater implements Inflater {
  private stream: PakoStream;
  private pieces: Uint8Array[] = [];
  private length = 0;
  private readonly windowBits: number;
  private readonly maxLength: number;

  constructor(private readonly pako: PakoModule, options: InflaterOptions) {
    this.windowBits = options.windowBits;
    this.maxLength = options.maxLength;
    this.stream = this.open();
  }

  private open(): PakoStream {
    const stream = new this.pako.Inflate({ windowBits: this.windowBits, raw: true, chunkSize: CHUNK_SIZE });
    stream.onData = (chunk) => {
      this.length += chunk.length;
      // Stop at the first piece past the limit, before inflating the rest.
      if (this.length > this.maxLength) throw new InflateLimitError(this.maxLength);
      this.pieces.push(chunk);
    };
    return stream;
  }

  inflate(data: Uint8Array): Uint8Array {
    this.pieces = [];
    this.length = 0;
    const stream = this.stream;
    if (!stream.push(data, this.pako.Z_SYNC_FLUSH)) throw new Error(stream.msg || `pako inflate failed (${stream.err})`);
    // RFC 7692 §7.2.3.4: a final block ends the DEFLATE stream; the next message starts a new one.
    if (stream.ended) this.stream = this.open();
    return join(this.pieces, this.length);
  }

  reset(): void {
    if (this.stream.ended) this.stream = this.open();
    else this.pako.zlibInflateReset(this.stream.strm as never);
  }

  close(): void {
    this.pieces = [];
  }
}
