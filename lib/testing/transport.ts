/**
 * In-memory transports: an `io` that keeps what a driver writes, and a one-way pipe that also hands
 * it to the other end, in order, in pieces of a chosen size if asked.
 */
import { concatBytes, latin1Decode } from "../util/bytes.js";

/** An `io` that keeps a copy of every chunk a driver writes. */
export class RecordingIO {
  /** Every chunk written since the last `take`, as written (copies). */
  chunks: Uint8Array[] = [];

  write(chunk: Uint8Array): boolean {
    this.chunks.push(Uint8Array.from(chunk));
    return true;
  }

  /** Everything written since the last `take`, joined. */
  all(): Uint8Array {
    return concatBytes(this.chunks).slice();
  }

  /** Everything written since the last `take`, joined; then forgotten. */
  take(): Uint8Array {
    const out = this.all();
    this.chunks = [];
    return out;
  }

  /** Everything written since the last `take`, as ISO-8859-1 text (HTTP heads). */
  text(): string {
    return latin1Decode(this.all());
  }
}

/**
 * How a pipe hands each write on: whole (0), in pieces of at most this many bytes, or in the pieces
 * a function cuts it into (they must hold its bytes in order; the function may keep state, to vary the cuts).
 */
export type Split = number | ((chunk: Uint8Array) => Uint8Array[]);

/** The end of a pipe: what a driver (or a scripted peer) reads with. */
export interface PipeEnd {
  parse(bytes: Uint8Array): void;
  end(): void;
}

/**
 * One direction of an in-memory connection: what one side writes, the other reads. Bytes are
 * delivered in the order written; a write made while the pipe is delivering (a handler that sends
 * as it reads) waits until the delivery in progress is done, as on a socket. With `split`, each
 * write arrives in pieces of at most that many bytes, or in the pieces a function cuts it into.
 */
export class Pipe extends RecordingIO {
  private readonly queue: Array<Uint8Array | null> = [];
  private delivering = false;
  private ended = false;
  /** Where the bytes go; set once both ends exist. */
  target: PipeEnd | null = null;

  constructor(private readonly split: Split = 0) {
    super();
  }

  /** Whether this direction has been closed by `end`. */
  get isEnded(): boolean {
    return this.ended;
  }

  override write(chunk: Uint8Array): boolean {
    if (this.ended) return false;
    super.write(chunk);
    const copy = Uint8Array.from(chunk);
    const split = this.split;
    if (typeof split === "function") this.queue.push(...split(copy));
    else if (split > 0) for (let at = 0; at < copy.length; at += split) this.queue.push(copy.subarray(at, at + split));
    else this.queue.push(copy);
    this.flush();
    return true;
  }

  /** Closes this direction once what was written has been delivered: the reader's `end()` runs. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.push(null);
    this.flush();
  }

  /** Delivers what is queued (nothing while a delivery is in progress, or before there is a target). */
  flush(): void {
    if (this.delivering || this.target === null) return;
    this.delivering = true;
    try {
      for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
        if (item === null) this.target.end();
        else this.target.parse(item);
      }
    } finally {
      this.delivering = false;
    }
  }
}
