/**
 * The interface a DEFLATE implementation (RFC 1951) offers permessage-deflate: compressors and
 * decompressors that work synchronously and keep their window between messages.
 */

/** A compressor that keeps its LZ77 window from one message to the next until `reset`. */
export interface Deflater {
  /**
   * Compresses `data` and ends with a sync flush (an empty stored block, `00 00 ff ff`), so all
   * of it can be inflated at once. The result must not be a view the engine will reuse.
   */
  deflate(data: Uint8Array): Uint8Array;
  /** Forgets the window: the next message is compressed as if it were the first. */
  reset(): void;
  /** Releases the compressor. */
  close(): void;
}

/** A decompressor that keeps its window from one message to the next until `reset`. */
export interface Inflater {
  /**
   * Inflates `data`. Throws an `InflateLimitError` as soon as the output passes the `maxLength`
   * the inflater was made with, before allocating the rest; throws another `Error` for bad data.
   * A DEFLATE stream that `data` ends with a final block (BFINAL, RFC 7692 §7.2.3.4) is over: the
   * next call starts a new one.
   */
  inflate(data: Uint8Array): Uint8Array;
  /**
   * Optional: where the DEFLATE stream ended (a final block, RFC 1951 §3.2.3) in the last
   * `inflate` call's input: the number of its bytes the stream took (0 if it had ended before the
   * call, its input then read as a new stream), or -1 if it did not end. A message inflated in
   * pieces uses it to ignore what follows the end, as a message inflated whole does.
   */
  readonly streamEnd?: number;
  reset(): void;
  close(): void;
}

export interface DeflaterOptions {
  /** 0 (store) to 9 (smallest); -1 is the engine's default (6 for zlib). */
  level: number;
  /** 1 to 9: how much memory the compressor's state may use. */
  memLevel: number;
  /** 9 to 15: the LZ77 window is 2^windowBits bytes. */
  windowBits: number;
}

export interface InflaterOptions {
  /** 8 to 15: the largest window the peer may use. */
  windowBits: number;
  /** The most bytes one call to `inflate` may produce. */
  maxLength: number;
}

/** A DEFLATE implementation that works synchronously. */
export interface DeflateEngine {
  createDeflater(options: DeflaterOptions): Deflater;
  createInflater(options: InflaterOptions): Inflater;
}

/** Inflating passed the limit it was given. */
export class InflateLimitError extends RangeError {
  constructor(readonly limit: number) {
    super(`Inflated message exceeds maxLength (${limit})`);
    this.name = "InflateLimitError";
  }
}
