/**
 * Collects the pieces of one message until it is complete, in memory proportional to the bytes
 * collected, however the peer cut them up.
 *
 * A large piece is kept as the view it arrived as (no copy until the message is joined). A small
 * piece is copied into a shared tail buffer instead: a view costs an object of its own and keeps
 * the whole input chunk it points into alive, so a message sent as thousands of one-byte fragments
 * would otherwise hold a hundred times its length (RFC 6455 §10.4: limits on what a peer may make
 * an endpoint hold).
 */
import { EMPTY, concatBytes } from "./bytes.js";

/** Pieces shorter than this are copied; longer ones are kept as views. */
const COPY_BELOW = 16 * 1024;
const FIRST_TAIL = 256;
const LARGEST_TAIL = 64 * 1024;

export class ByteAccumulator {
  /** Bytes collected so far. */
  length = 0;
  private pieces: Uint8Array[] = [];
  /** Where small pieces are copied; `tail[tailStart..tailEnd]` is not yet in `pieces`. */
  private tail: Uint8Array = EMPTY;
  private tailStart = 0;
  private tailEnd = 0;

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.length += piece.length;
    if (piece.length >= COPY_BELOW) {
      this.flushTail();
      this.pieces.push(piece);
      return;
    }
    if (this.tailEnd + piece.length > this.tail.length) {
      this.flushTail();
      // Grow by doubling, so a message of small pieces costs at most twice its length.
      const size = Math.max(piece.length, Math.min(Math.max(this.tail.length * 2, FIRST_TAIL), LARGEST_TAIL));
      this.tail = new Uint8Array(size);
      this.tailStart = this.tailEnd = 0;
    }
    this.tail.set(piece, this.tailEnd);
    this.tailEnd += piece.length;
  }

  /** Everything collected, as one array (a single piece is returned without a copy); then empty. */
  take(): Uint8Array {
    this.flushTail();
    const out = concatBytes(this.pieces, this.length);
    this.clear();
    return out;
  }

  clear(): void {
    this.pieces = [];
    this.length = 0;
    this.tail = EMPTY;
    this.tailStart = this.tailEnd = 0;
  }

  private flushTail(): void {
    if (this.tailEnd > this.tailStart) this.pieces.push(this.tail.subarray(this.tailStart, this.tailEnd));
    this.tailStart = this.tailEnd;
  }
}
