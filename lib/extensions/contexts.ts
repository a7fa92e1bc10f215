/**
 * Where permessage-deflate's compression contexts live. A zlib compressor with a 15-bit window
 * holds about 220 KiB once used and a decompressor up to 40 KiB (RSS per stream on Node 20's
 * zlib, which keeps a 64 KiB hash table whatever `memLevel` says; figures in docs/extensions.md),
 * so one pair per connection is what runs a server with many compressed connections out of memory.
 * Because every call is synchronous, connections can take turns on the same streams:
 *
 * - A connection that keeps no context (RFC 7692 §7.1.1) borrows the one shared stream of its
 *   parameter set for one message; the stream is reset before it is handed back, so it holds
 *   nothing of that connection afterwards and no zlib state lives per connection.
 * - A connection that keeps context holds a stream from a bounded pool, the least recently used
 *   one going to whoever needs a stream when the pool is full. A compressor taken away loses its
 *   window; the connection compresses its next message without one, which RFC 7692 §7.2.1 allows
 *   (a sender may always reference less). A decompressor cannot forget what the peer may refer
 *   back to, so the connection keeps the last window of plain bytes it received (`History`) and
 *   primes a fresh decompressor with them, as stored blocks, before the next message.
 *
 * A message received or sent in pieces spans several calls, between which other connections use
 * the same pools: it keeps its stream for the whole message, a shared-stream connection one lent to
 * it alone (`lend`), a context-keeping one its own, pinned so that no other connection takes it
 * (`pin`); the pool then holds more than its capacity while every stream is pinned.
 *
 * The pools are per engine and parameter set, found through a WeakMap keyed by the engine: a cache
 * of interchangeable streams, never a setting, and no connection's bytes survive in a stream handed
 * to another (each is reset first).
 */
import type { DeflateEngine, Deflater, DeflaterOptions, Inflater } from "./engine.js";

/** A stream of a pool and the connection that holds it (null while it is free or shared). */
export class Lease<C> {
  owner: object | null = null;
  /** Kept for a message in pieces: no other connection may take it until `unpin`. */
  pinned = false;
  constructor(readonly coder: C) {}
}

/** The streams of one engine and parameter set. */
export class CoderPool<C extends Deflater | Inflater> {
  /** Streams held by connections, least recently used first (a Set keeps insertion order), pinned ones apart. */
  private readonly held = new Set<Lease<C>>();
  /** Streams pinned by connections in the middle of a message in pieces. */
  private pinned = 0;
  /** The stream lent for one message at a time to connections that keep no context. */
  private shared: C | null = null;

  constructor(private readonly create: () => C, readonly capacity: number) {}

  /** Whether `lease` is still `owner`'s; if so it becomes the most recently used. */
  holds(lease: Lease<C> | null, owner: object): lease is Lease<C> {
    if (lease === null || lease.owner !== owner) return false;
    if (lease.pinned) return true;
    this.held.delete(lease);
    this.held.add(lease);
    return true;
  }

  /**
   * A reset stream for `owner` to keep: a new one while the pool has room, else the least recently
   * used one, taken from its holder (who finds out through `holds`). Pinned streams are never
   * taken: with all of them pinned, a new one is made past the capacity.
   */
  acquire(owner: object): Lease<C> {
    let lease: Lease<C>;
    if (this.held.size + this.pinned < this.capacity || this.held.size === 0) {
      lease = new Lease(this.create());
    } else {
      lease = this.held.values().next().value as Lease<C>;
      this.held.delete(lease);
      lease.coder.reset();
    }
    lease.owner = owner;
    this.held.add(lease);
    return lease;
  }

  /** Gives a held stream up (its connection closed, or the stream failed): it is closed, freeing its memory. */
  release(lease: Lease<C> | null, owner: object): void {
    if (lease === null || lease.owner !== owner) return;
    if (lease.pinned) {
      lease.pinned = false;
      this.pinned--;
    }
    lease.owner = null;
    this.held.delete(lease);
    lease.coder.close();
  }

  /**
   * Runs `use` on the shared stream and resets it afterwards, so nothing of this message is left
   * in it. A stream that threw is closed and replaced: it may be half-way through bad data.
   */
  borrow<T>(use: (coder: C) => T): T {
    const coder = (this.shared ??= this.create());
    let result: T;
    try {
      result = use(coder);
    } catch (error) {
      this.shared = null;
      coder.close();
      throw error;
    }
    coder.reset();
    return result;
  }

  /** `owner` keeps its stream, untaken by others, until `unpin` (a message in pieces under way). */
  pin(lease: Lease<C>, owner: object): void {
    if (lease.owner !== owner || lease.pinned) return;
    this.held.delete(lease);
    lease.pinned = true;
    this.pinned++;
  }

  /**
   * The message in pieces has ended: the stream may be taken again, and becomes the most recently
   * used. Streams made past the capacity while all were pinned are closed, least recently used
   * first, their holders finding out through `holds`.
   */
  unpin(lease: Lease<C>, owner: object): void {
    if (lease.owner !== owner || !lease.pinned) return;
    lease.pinned = false;
    this.pinned--;
    this.held.add(lease);
    while (this.held.size + this.pinned > this.capacity && this.held.size > 1) {
      const oldest = this.held.values().next().value as Lease<C>;
      this.held.delete(oldest);
      oldest.owner = null;
      oldest.coder.close();
    }
  }

  /**
   * A reset stream for one connection alone until `giveBack`: a message in pieces of a connection
   * keeping no context, which spans several calls. The shared stream if it is free, else a new one.
   */
  lend(): C {
    const coder = this.shared ?? this.create();
    this.shared = null;
    return coder;
  }

  /**
   * A lent stream comes back: reset, it becomes the shared stream if there is none, else it is
   * closed. One that failed (`usable` false) is closed: it may be half-way through bad data.
   */
  giveBack(coder: C, usable: boolean): void {
    if (usable && this.shared === null) {
      coder.reset();
      this.shared = coder;
    } else {
      coder.close();
    }
  }

  /** Streams held by connections now, pinned ones included (for tests and the benchmark). */
  get size(): number {
    return this.held.size + this.pinned;
  }
}

/** The pools of every engine: an engine's streams are interchangeable only with its own. */
const pools = new WeakMap<DeflateEngine, Map<string, CoderPool<Deflater> | CoderPool<Inflater>>>();

function poolsOf(engine: DeflateEngine): Map<string, CoderPool<Deflater> | CoderPool<Inflater>> {
  let map = pools.get(engine);
  if (map === undefined) pools.set(engine, map = new Map());
  return map;
}

/** The compressors of `engine` with `options`, `capacity` of them held at most. */
export function deflaterPool(engine: DeflateEngine, options: DeflaterOptions, capacity: number): CoderPool<Deflater> {
  const key = `d${options.level}/${options.memLevel}/${options.windowBits}/${capacity}`;
  const map = poolsOf(engine);
  let pool = map.get(key) as CoderPool<Deflater> | undefined;
  if (pool === undefined) {
    const { level, memLevel, windowBits } = options;
    map.set(key, pool = new CoderPool(() => engine.createDeflater({ level, memLevel, windowBits }), capacity));
  }
  return pool;
}

/**
 * The decompressors of `engine` for a window of `windowBits`, each allowed to produce `limit`
 * bytes per call (at least a whole window, which priming produces).
 */
export function inflaterPool(engine: DeflateEngine, windowBits: number, limit: number, capacity: number): CoderPool<Inflater> {
  const key = `i${windowBits}/${limit}/${capacity}`;
  const map = poolsOf(engine);
  let pool = map.get(key) as CoderPool<Inflater> | undefined;
  if (pool === undefined) {
    map.set(key, pool = new CoderPool(() => engine.createInflater({ windowBits, maxLength: limit }), capacity));
  }
  return pool;
}

/** The largest stored block (RFC 1951 §3.2.4): LEN is 16 bits. */
const STORED_MAX = 0xffff;

/**
 * The last window of plain bytes a connection received: what the peer's next message may refer
 * back to (RFC 7692 §7.2.2, with context takeover), so a fresh decompressor can be primed with it.
 * The buffer grows with the messages, to at most a quarter more than the window, so a connection
 * that has received little holds little; when it is full the last window is moved to its front,
 * so each byte received is copied a few times at most, not once per later message.
 */
export class History {
  private buffer: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;

  constructor(private readonly window: number) {}

  /** Appends an inflated message, keeping (at least) the last `window` bytes. */
  add(message: Uint8Array): void {
    const window = this.window, length = message.length;
    if (length >= window) {
      this.buffer = message.slice(length - window);
      this.start = 0;
      this.end = window;
      return;
    }
    if (this.end + length > this.buffer.length) {
      // Keep the bytes the window still needs, in a buffer with room for this message and more.
      const keep = Math.min(this.end - this.start, window - length);
      const capacity = Math.min(Math.max(2 * (keep + length), 256), window + (window >>> 2));
      const from = this.end - keep;
      if (capacity > this.buffer.length) {
        const next = new Uint8Array(capacity);
        next.set(this.buffer.subarray(from, this.end));
        this.buffer = next;
      } else {
        this.buffer.copyWithin(0, from, this.end);
      }
      this.start = 0;
      this.end = keep;
    }
    this.buffer.set(message, this.end);
    this.end += length;
    if (this.end - this.start > window) this.start = this.end - window;
  }

  /** The stream ended (a final block, RFC 7692 §7.2.3.4): the next one starts with an empty window. */
  clear(): void {
    this.buffer = new Uint8Array(0);
    this.start = this.end = 0;
  }

  /** The bytes kept. */
  get bytes(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }

  /**
   * The window as non-final stored blocks (RFC 1951 §3.2.4): inflated by a reset decompressor, they
   * leave exactly these bytes in its window, byte-aligned at a block boundary, where the peer's
   * next message starts (each message ended with a sync flush, §7.2.1).
   */
  storedBlocks(): Uint8Array {
    const bytes = this.bytes;
    const blocks = Math.max(1, Math.ceil(bytes.length / STORED_MAX));
    const out = new Uint8Array(bytes.length + 5 * blocks);
    let at = 0;
    for (let from = 0; from < bytes.length || at === 0; from += STORED_MAX) {
      const length = Math.min(STORED_MAX, bytes.length - from);
      // BFINAL 0, BTYPE 00, then LEN and NLEN, little-endian.
      out[at] = 0;
      out[at + 1] = length & 0xff;
      out[at + 2] = length >>> 8;
      out[at + 3] = ~length & 0xff;
      out[at + 4] = (~length >>> 8) & 0xff;
      out.set(bytes.subarray(from, from + length), at + 5);
      at += 5 + length;
    }
    return out;
  }
}
