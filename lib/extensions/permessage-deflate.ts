/**
 * permessage-deflate (RFC 7692): each data message is compressed with DEFLATE on its own, marked
 * with RSV1 on its first frame, and — unless a "no context takeover" parameter says otherwise —
 * compressed with the window the previous messages left behind.
 *
 *     driver.addExtension(deflate());                       // either side
 *     driver.addExtension(deflate({ threshold: 1024, serverNoContextTakeover: true }));
 */
import { ProtocolError } from "../errors.js";
import { CloseCode } from "../hybi/close.js";
import { getDeflateEngine } from "./codec.js";
import { CoderPool, History, type Lease, deflaterPool, inflaterPool } from "./contexts.js";
import { type DeflateEngine, type Deflater, type Inflater, InflateLimitError } from "./engine.js";
import { type Extension, type ExtensionContext, type ExtensionResponse, type ExtensionSession, RSV1 } from "./extension.js";
import type { ExtensionParamValue, ExtensionParams } from "./negotiation.js";

export interface DeflateOptions {
  /**
   * `server_no_context_takeover` (RFC 7692 §7.1.1.1): the server compresses every message on its
   * own. A client offers it; a server always answers with it.
   */
  serverNoContextTakeover?: boolean;
  /**
   * `client_no_context_takeover` (§7.1.1.2): the client compresses every message on its own. A
   * client offers it (and then resets its compressor); a server always asks for it.
   */
  clientNoContextTakeover?: boolean;
  /**
   * `server_max_window_bits` (§7.1.2.1), 8 to 15: the largest LZ77 window the server may compress
   * with. A client offers it; a server uses it and says so.
   */
  serverMaxWindowBits?: number;
  /**
   * `client_max_window_bits` (§7.1.2.2). On a client: `true` (the default) offers it without a
   * value, meaning the server may limit the client's window; a number 8 to 15 offers it with that
   * value; `false` leaves it out. On a server: a number 8 to 15 limits the client's window when the
   * client allows it.
   */
  clientMaxWindowBits?: number | boolean;
  /** Compression level, 0 (store only) to 9 (smallest), -1 for the engine's default. Default 6. */
  level?: number;
  /** Memory level of the compressor, 1 to 9. Default 8. */
  memLevel?: number;
  /** Messages shorter than this many bytes are sent uncompressed. Default 0: all are compressed. */
  threshold?: number;
  /**
   * How many connections keeping context (no `*_no_context_takeover`) hold a live compressor, and
   * as many a live decompressor, at once, per engine and parameter set; the least recently used
   * gives its own up when another needs one. A connection without one compresses its next message
   * without context and primes a decompressor with the last window it received. Default 64: at most
   * about 16 MiB of zlib state however many connections there are (docs/extensions.md).
   */
  liveContexts?: number;
  /**
   * How many bytes of the messages it compressed last a connection keeping context remembers, to
   * prime the compressor it is given after its own went to another connection (compressing them
   * costs time on each such hand-over). 0 remembers nothing: the next message is then compressed
   * without context. Default 4096, at most the compressor's window.
   */
  primeBytes?: number;
  /** The DEFLATE engine; default the runtime's `node:zlib`. */
  engine?: DeflateEngine;
}

/** RFC 7692 §7: the extension token. */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/** RFC 7692 §7.2.1: the empty stored block a sync flush ends with, removed before sending. */
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** RFC 7692 §7.2.3.6: an empty message, compressed. */
const EMPTY_BLOCK = Uint8Array.of(0x00);

/** RFC 1951: DEFLATE's largest expansion, a 258-byte match in two bits: 1032 bytes out per byte in. */
const MAX_EXPANSION = 1032;

/** `decodePiece` inflates at most 16 KiB at a time: at most 16.5 MiB out per call, whatever the data. */
const MAX_SLICE = 16384;

const PARAMS = ["server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits"];

/**
 * zlib cannot compress raw DEFLATE with a 256-byte window (it quietly uses 512): when the peer
 * allows no more than 8 bits, messages are sent uncompressed, which RFC 7692 §6 permits.
 */
const SMALLEST_DEFLATE_WINDOW = 9;

/** See `DeflateOptions.liveContexts`. */
const DEFAULT_LIVE_CONTEXTS = 64;

/**
 * See `DeflateOptions.primeBytes`. Two connections taking turns on one compressor, so that every
 * message is a hand-over, on bench/deflate.mjs's JSON corpus (180 B messages): 50.1 B per message
 * primed with 4 KiB, 59.1 with 1 KiB, 146.4 with nothing, against 44.2 with a live compressor;
 * priming 4 KiB took two to three times as long as a message on a live compressor, 1 KiB about as
 * long (one loaded 2-core machine: rough).
 */
const DEFAULT_PRIME_BYTES = 4096;

/**
 * The window to inflate with when the peer may use `bits`: zlib, asked for 8 bits, compresses
 * with 9 (see above), so a window of 8 is read as one of 9.
 */
function inflateWindow(bits: number): number {
  return Math.max(bits, SMALLEST_DEFLATE_WINDOW);
}

/** The permessage-deflate extension (RFC 7692), ready for `driver.addExtension`. */
export function deflate(options: DeflateOptions = {}): Extension {
  return new PerMessageDeflate(options);
}

class PerMessageDeflate implements Extension {
  readonly name = PERMESSAGE_DEFLATE;
  readonly rsv = RSV1;

  private readonly level: number;
  private readonly memLevel: number;
  private readonly threshold: number;
  private readonly liveContexts: number;
  private readonly primeBytes: number;

  constructor(private readonly options: DeflateOptions) {
    this.level = integerIn(options.level ?? 6, -1, 9, "level");
    this.memLevel = integerIn(options.memLevel ?? 8, 1, 9, "memLevel");
    this.threshold = options.threshold ?? 0;
    this.liveContexts = integerIn(options.liveContexts ?? DEFAULT_LIVE_CONTEXTS, 1, 2 ** 31 - 1, "liveContexts");
    this.primeBytes = integerIn(options.primeBytes ?? DEFAULT_PRIME_BYTES, 0, 2 ** 15, "primeBytes");
    if (!(this.threshold >= 0)) throw new RangeError(`threshold must be a non-negative number, got ${options.threshold}`);
    if (options.serverMaxWindowBits !== undefined) integerIn(options.serverMaxWindowBits, 8, 15, "serverMaxWindowBits");
    if (typeof options.clientMaxWindowBits === "number") integerIn(options.clientMaxWindowBits, 8, 15, "clientMaxWindowBits");
    // Fail on `addExtension`, not at the handshake, if there is nothing to compress with.
    if (options.engine === undefined) getDeflateEngine();
  }

  // --- client ---------------------------------------------------------------------------------

  /** RFC 7692 §5.1: one offer, with the parameters the options ask for. */
  offer(): ExtensionParams[] {
    const params: ExtensionParams = {};
    const { options } = this;
    if (options.serverNoContextTakeover) params.server_no_context_takeover = true;
    if (options.clientNoContextTakeover) params.client_no_context_takeover = true;
    if (options.serverMaxWindowBits !== undefined) params.server_max_window_bits = String(options.serverMaxWindowBits);
    const client = options.clientMaxWindowBits ?? true;
    if (client !== false) params.client_max_window_bits = client === true ? true : String(client);
    return [params];
  }

  /** RFC 7692 §7.1: what a client must check in the server's response. */
  activate(params: ExtensionParams, offers: readonly ExtensionParams[], context: ExtensionContext): ExtensionSession {
    const offer = offers[0] ?? {};
    for (const name of Object.keys(params)) {
      if (!PARAMS.includes(name)) throw new Error(`unknown parameter '${name}'`);
    }
    const serverNoContext = flag(params.server_no_context_takeover, "server_no_context_takeover");
    const clientNoContext = flag(params.client_no_context_takeover, "client_no_context_takeover");
    // §7.1.2.1: the server may limit its own window, never above what the client offered.
    let serverBits = 15;
    if (params.server_max_window_bits !== undefined) {
      const bits = windowBits(params.server_max_window_bits, "server_max_window_bits");
      if (bits === null) throw new Error("server_max_window_bits needs a value");
      serverBits = bits;
      if (typeof offer.server_max_window_bits === "string" && bits > Number(offer.server_max_window_bits)) {
        throw new Error(`server_max_window_bits=${bits} is above the ${offer.server_max_window_bits} offered`);
      }
    }
    // §7.1.2.2: "If a received extension negotiation response includes the client_max_window_bits
    // extension parameter and the extension negotiation offer did not, the client MUST _Fail the
    // WebSocket Connection_"; in a response it must have a value.
    let clientBits = typeof offer.client_max_window_bits === "string" ? Number(offer.client_max_window_bits) : 15;
    if (params.client_max_window_bits !== undefined) {
      if (offer.client_max_window_bits === undefined) throw new Error("client_max_window_bits was not offered");
      const bits = windowBits(params.client_max_window_bits, "client_max_window_bits");
      if (bits === null) throw new Error("client_max_window_bits needs a value in a response");
      if (bits > clientBits) throw new Error(`client_max_window_bits=${bits} is above the ${clientBits} offered`);
      clientBits = bits;
    }
    return this.session(context, {
      deflateBits: clientBits,
      resetDeflater: clientNoContext || this.options.clientNoContextTakeover === true,
      resetInflater: serverNoContext,
      inflateBits: inflateWindow(serverBits),
    });
  }

  // --- server ---------------------------------------------------------------------------------

  /** RFC 7692 §7.1: accept an offer whose parameters are all known and valid, or decline it. */
  respond(offer: ExtensionParams, context: ExtensionContext): ExtensionResponse | null {
    for (const name of Object.keys(offer)) if (!PARAMS.includes(name)) return null;
    const { options } = this;
    let serverNoContext: boolean, clientNoContext: boolean, offeredServerBits: number | null, offeredClientBits: number | null;
    try {
      serverNoContext = flag(offer.server_no_context_takeover, "server_no_context_takeover");
      clientNoContext = flag(offer.client_no_context_takeover, "client_no_context_takeover");
      offeredServerBits = offer.server_max_window_bits === undefined ? null
        : windowBits(offer.server_max_window_bits, "server_max_window_bits");
      // §7.1.2.1: in an offer, server_max_window_bits must have a value.
      if (offer.server_max_window_bits !== undefined && offeredServerBits === null) return null;
      offeredClientBits = offer.client_max_window_bits === undefined ? null
        : windowBits(offer.client_max_window_bits, "client_max_window_bits");
    } catch {
      return null;
    }
    const params: ExtensionParams = {};
    if (serverNoContext || options.serverNoContextTakeover) params.server_no_context_takeover = true;
    if (clientNoContext || options.clientNoContextTakeover) params.client_no_context_takeover = true;
    let serverBits = 15;
    if (offeredServerBits !== null || options.serverMaxWindowBits !== undefined) {
      serverBits = Math.min(offeredServerBits ?? 15, options.serverMaxWindowBits ?? 15);
      params.server_max_window_bits = String(serverBits);
    }
    // §7.1.2.2: the client's window may be limited only if the client offered the parameter.
    if (offer.client_max_window_bits !== undefined && typeof options.clientMaxWindowBits === "number") {
      params.client_max_window_bits = String(Math.min(offeredClientBits ?? 15, options.clientMaxWindowBits));
    }
    const session = this.session(context, {
      deflateBits: serverBits,
      resetDeflater: params.server_no_context_takeover === true,
      resetInflater: params.client_no_context_takeover === true,
      inflateBits: inflateWindow(params.client_max_window_bits === undefined ? 15 : Number(params.client_max_window_bits)),
    });
    return { params, session };
  }

  private session(context: ExtensionContext, settings: SessionSettings): ExtensionSession {
    return new DeflateSession(this.options.engine ?? getDeflateEngine(), context.maxLength, {
      ...settings, level: this.level, memLevel: this.memLevel, threshold: this.threshold,
      liveContexts: this.liveContexts, primeBytes: this.primeBytes,
    });
  }
}

interface SessionSettings {
  /** The window our compressor may use (the peer's limit). */
  deflateBits: number;
  /** We take no context over: reset the compressor after each message. */
  resetDeflater: boolean;
  /** The peer takes no context over: reset the decompressor after each message. */
  resetInflater: boolean;
  /** The largest window the peer may compress with, at least 9 (see `inflateWindow`). */
  inflateBits: number;
}

interface SessionOptions extends SessionSettings {
  level: number;
  memLevel: number;
  threshold: number;
  liveContexts: number;
  primeBytes: number;
}

/**
 * One connection's side of the compression, holding no zlib stream of its own between messages
 * unless it keeps context, and then one from a bounded pool (`contexts.ts`).
 */
class DeflateSession implements ExtensionSession {
  private deflateLease: Lease<Deflater> | null = null;
  private inflateLease: Lease<Inflater> | null = null;
  /** What the peer may refer back to, made by the first compressed message when it keeps context. */
  private history: History | null = null;
  /** The last messages this end compressed (`primeBytes` of them), to prime a compressor with. */
  private sent: History | null = null;
  private readonly deflaters: CoderPool<Deflater> | null;
  private readonly inflaters: CoderPool<Inflater>;
  /**
   * The decompressor of the message being inflated in pieces, kept from its first compressed byte
   * to its end: lent by the pool (no context) or this connection's own, pinned. Null between them.
   */
  private pieceInflater: Inflater | null = null;
  /** Likewise, the compressor of the message being compressed in pieces. */
  private pieceDeflater: Deflater | null = null;
  /** The last byte of the message being inflated in pieces, held back (see `decodePiece`); -1 for none. */
  private held = -1;
  /** The DEFLATE stream of the message being inflated in pieces has ended: the rest is not read. */
  private ended = false;
  /** Some of the message being inflated in pieces has been inflated. */
  private inflating = false;
  /** The most compressed bytes inflated in one call by `decodePiece`. */
  private readonly slice: number;
  /** `close` has run: a message in pieces under way takes no stream again. */
  private closed = false;

  constructor(engine: DeflateEngine, private readonly maxLength: number, private readonly options: SessionOptions) {
    this.slice = Math.max(1, Math.min(MAX_SLICE, Math.floor(maxLength / MAX_EXPANSION)));
    const { level, memLevel, deflateBits, inflateBits, liveContexts } = options;
    this.deflaters = deflateBits >= SMALLEST_DEFLATE_WINDOW
      ? deflaterPool(engine, { level, memLevel, windowBits: deflateBits }, liveContexts) : null;
    // The inflater's window must hold all the history it is primed with.
    this.inflaters = inflaterPool(engine, inflateBits, Math.max(maxLength, 1 << inflateBits), liveContexts);
  }

  /**
   * With no context kept, a message's encoding depends on its bytes alone: every session of the
   * same pool (engine and parameters) and threshold encodes it alike, so one encoding serves them
   * all (`PreparedMessage`).
   */
  encodingKey(payload: Uint8Array): unknown {
    if (this.deflaters === null || payload.length < this.options.threshold) return UNCOMPRESSED;
    return this.options.resetDeflater ? this.deflaters : null;
  }

  encode(payload: Uint8Array, rsv: number): { payload: Uint8Array; rsv: number } {
    const pool = this.deflaters;
    if (pool === null || payload.length < this.options.threshold) return { payload, rsv };
    let out: Uint8Array;
    if (this.options.resetDeflater) {
      out = pool.borrow((deflater) => deflater.deflate(payload));
    } else {
      let lease = this.deflateLease;
      // A compressor taken by another connection was reset: it is primed with the last
      // `primeBytes` sent, and nothing older is referred to, which RFC 7692 §7.2.1 allows a
      // sender (it may always reference less than the window).
      try {
        if (!pool.holds(lease, this)) {
          lease = this.deflateLease = pool.acquire(this);
          // The peer's window ends with these bytes: compressing them again (the output is thrown
          // away; it ends byte-aligned with the sync flush) lets this message refer back to them.
          if (this.sent !== null && this.sent.bytes.length > 0) lease.coder.deflate(this.sent.bytes);
        }
        out = lease.coder.deflate(payload);
      } catch (error) {
        pool.release(lease, this);
        this.deflateLease = null;
        throw error;
      }
      const { primeBytes, deflateBits } = this.options;
      if (primeBytes > 0) (this.sent ??= new History(Math.min(primeBytes, 1 << deflateBits))).add(payload);
    }
    // RFC 7692 §7.2.1: remove the 00 00 ff ff the sync flush ended with.
    if (endsWithTail(out)) out = out.subarray(0, out.length - 4);
    // zlib writes nothing for an empty message once its output is byte-aligned by an earlier sync
    // flush; an empty payload would leave the peer's inflater inside a stored block header. Send
    // the one byte that, with the 00 00 ff ff the peer appends, is an empty stored block (§7.2.3.6).
    if (out.length === 0) out = EMPTY_BLOCK;
    return { payload: out, rsv: rsv | RSV1 };
  }

  decode(payload: Uint8Array, rsv: number): Uint8Array {
    if ((rsv & RSV1) === 0) return payload;
    // An empty payload is not a whole DEFLATE block even with 00 00 ff ff appended (a correct empty
    // message is 00, §7.2.3.6), and inflating it would leave the window mid-block for the next
    // message. Read it as the empty message its sender meant.
    if (payload.length === 0) return payload;
    // RFC 7692 §7.2.2: append 00 00 ff ff, then inflate.
    const input = new Uint8Array(payload.length + 4);
    input.set(payload);
    input.set(TAIL, payload.length);
    const pool = this.inflaters;
    let out: Uint8Array;
    if (this.options.resetInflater) {
      out = pool.borrow((inflater) => this.inflate(inflater, input));
    } else {
      let lease = this.inflateLease;
      try {
        if (!pool.holds(lease, this)) {
          // Another connection has this one's decompressor: prime a reset one with the window
          // the peer may refer back to.
          lease = this.inflateLease = pool.acquire(this);
          if (this.history !== null) lease.coder.inflate(this.history.storedBlocks());
        }
        out = this.inflate(lease.coder, input);
      } catch (error) {
        pool.release(lease, this);
        this.inflateLease = null;
        if (error instanceof ProtocolError) throw error;
        throw new ProtocolError(CloseCode.INVALID_DATA, `Invalid compressed message: ${(error as Error).message}`);
      }
      (this.history ??= new History(1 << this.options.inflateBits)).add(out);
    }
    return out;
  }

  private inflate(inflater: Inflater, input: Uint8Array): Uint8Array {
    let out: Uint8Array;
    try {
      out = inflater.inflate(input);
    } catch (error) {
      if (error instanceof InflateLimitError) throw this.tooLarge();
      throw new ProtocolError(CloseCode.INVALID_DATA, `Invalid compressed message: ${(error as Error).message}`);
    }
    // The pool's inflaters may produce a whole window, more than a small maxLength.
    if (out.length > this.maxLength) throw this.tooLarge();
    return out;
  }

  /**
   * RFC 7692 §7.2.2 piece by piece: each piece is inflated as it arrives, in slices small enough
   * that no call can make more than `maxLength` bytes (DEFLATE expands at most 1032:1, RFC 1951's
   * longest match of 258 bytes in two bits), nor more than about 16 MiB, whatever the peer sent.
   * The message's last byte is held back and inflated with the 00 00 ff ff appended, in one call
   * as `decode` does, so a DEFLATE stream that ends with the message (BFINAL, §7.2.3.4) is seen to
   * end and the next message starts a new one. The whole message's limit is the caller's to count.
   *
   * Other connections use the pools between the pieces: the message keeps one decompressor from
   * its first compressed byte to its end (`pieceInflater`), so no other connection's bytes reach it.
   */
  decodePiece(piece: Uint8Array, rsv: number, last: boolean, emit: (bytes: Uint8Array) => void): void {
    if ((rsv & RSV1) === 0) {
      if (piece.length > 0) emit(piece);
      return;
    }
    const end = piece.length - 1;
    if (end >= 0) {
      if (this.held >= 0) this.inflateSlice(Uint8Array.of(this.held), emit);
      for (let at = 0; at < end && !this.ended; at += this.slice) this.inflateSlice(piece.subarray(at, Math.min(at + this.slice, end)), emit);
      this.held = piece[end];
    }
    if (!last) return;
    // As in `decode`, an empty payload is the empty message, and the decompressor is left alone.
    const held = this.held;
    this.held = -1;
    // RFC 7692 §7.2.2: the last byte with 00 00 ff ff appended, unless the stream has ended.
    if (held >= 0) this.inflateSlice(Uint8Array.of(held, 0x00, 0x00, 0xff, 0xff), emit);
    this.ended = this.inflating = false;
    this.dropPieceInflater(true);
  }

  /**
   * The decompressor for the message in pieces, from its first compressed byte: with no context,
   * one the pool lends to this connection alone; with context, this connection's own (primed, as
   * in `decode`, if another connection had taken it), pinned so that none takes it mid-message.
   */
  private inflaterForPieces(): Inflater {
    if (this.pieceInflater !== null) return this.pieceInflater;
    const pool = this.inflaters;
    if (this.options.resetInflater) return (this.pieceInflater = pool.lend());
    let lease = this.inflateLease;
    if (!pool.holds(lease, this)) {
      lease = this.inflateLease = pool.acquire(this);
      try {
        if (this.history !== null) lease.coder.inflate(this.history.storedBlocks());
      } catch (error) {
        pool.release(lease, this);
        this.inflateLease = null;
        throw new ProtocolError(CloseCode.INVALID_DATA, `Invalid compressed message: ${(error as Error).message}`);
      }
    }
    pool.pin(lease, this);
    return (this.pieceInflater = lease.coder);
  }

  /**
   * The message in pieces is over (`usable`) or failed: a lent decompressor goes back to the pool,
   * reset, or closed if it failed; this connection's own is unpinned, or given up if it failed.
   */
  private dropPieceInflater(usable: boolean): void {
    const inflater = this.pieceInflater;
    if (inflater === null) return;
    this.pieceInflater = null;
    const pool = this.inflaters;
    if (this.options.resetInflater) {
      pool.giveBack(inflater, usable);
    } else if (this.inflateLease !== null) {
      if (usable) {
        pool.unpin(this.inflateLease, this);
      } else {
        pool.release(this.inflateLease, this);
        this.inflateLease = null;
      }
    }
  }

  /**
   * Inflates one slice of a message in pieces. Once the DEFLATE stream has ended inside the message
   * (BFINAL, RFC 7692 §7.2.3.4), the rest of the message is not read, as `decode` reading it whole
   * leaves it unread: the decompressor has reset itself for the next message, and what it made of
   * input after the end (as a new stream: see `Inflater.streamEnd`) is dropped, failure included.
   */
  private inflateSlice(input: Uint8Array, emit: (bytes: Uint8Array) => void): void {
    // A handler of an earlier piece may have closed the connection (`close` gave the stream up).
    if (this.ended || this.closed) return;
    const inflater = this.inflaterForPieces();
    // A stream that ended before the message's first byte was the last message's: this message
    // starts a new one, as the decompressor has done (see `Inflater.streamEnd`).
    const midMessage = this.inflating;
    this.inflating = true;
    let out: Uint8Array;
    try {
      out = inflater.inflate(input);
    } catch (error) {
      if (midMessage && inflater.streamEnd === 0) {
        this.stopAtEnd();
        return;
      }
      // The message fails (and the connection with it): its decompressor, maybe half-way through
      // bad data, is not used again. Errors of `emit`'s handlers are not caught here: they leave
      // the message as it was.
      this.dropPieceInflater(false);
      this.held = -1;
      this.ended = this.inflating = false;
      if (error instanceof InflateLimitError) throw this.tooLarge();
      throw new ProtocolError(CloseCode.INVALID_DATA, `Invalid compressed message: ${(error as Error).message}`);
    }
    const end = inflater.streamEnd ?? -1;
    if (midMessage && end === 0) {
      this.stopAtEnd();
      return;
    }
    if (end > 0) {
      // The stream is over: the peer's next message refers back to nothing before it.
      this.ended = true;
      this.history?.clear();
    } else if (!this.options.resetInflater) {
      (this.history ??= new History(1 << this.options.inflateBits)).add(out);
    }
    if (out.length > 0) emit(out);
  }

  /**
   * The stream ended before this input, which was read as a new stream: forgotten, with the
   * decompressor (which a failure may have destroyed). The next message gets a fresh one, with
   * the empty window the end of a stream leaves anyway.
   */
  private stopAtEnd(): void {
    this.ended = true;
    this.history?.clear();
    this.dropPieceInflater(false);
  }

  /**
   * RFC 7692 §7.2.1 piece by piece: each piece is compressed and ends with a sync flush, so the
   * peer can inflate it as it comes; the last piece's 00 00 ff ff is removed, as for a whole
   * message (§6.1: one RSV1, on the first frame). Messages sent in pieces are always compressed
   * (their length is not known in advance to compare with `threshold`). The message keeps one
   * compressor from its first piece to its last (`pieceDeflater`), as `decodePiece` does.
   */
  encodePiece(piece: Uint8Array, rsv: number, _opcode: number, last: boolean): { payload: Uint8Array; rsv: number } {
    const pool = this.deflaters;
    if (pool === null || this.closed) return { payload: piece, rsv };
    let out: Uint8Array;
    try {
      out = this.deflaterForPieces(pool).deflate(piece);
    } catch (error) {
      this.dropPieceDeflater(pool, false);
      throw error;
    }
    const { resetDeflater, primeBytes, deflateBits } = this.options;
    if (!resetDeflater && primeBytes > 0) (this.sent ??= new History(Math.min(primeBytes, 1 << deflateBits))).add(piece);
    if (!last) return { payload: out, rsv: rsv | RSV1 };
    this.dropPieceDeflater(pool, true);
    if (endsWithTail(out)) out = out.subarray(0, out.length - 4);
    // See `encode`: the one byte that, with the 00 00 ff ff the peer appends, is an empty stored block.
    if (out.length === 0) out = EMPTY_BLOCK;
    return { payload: out, rsv: rsv | RSV1 };
  }

  /** See `inflaterForPieces`: a lent compressor, or this connection's own (primed as in `encode`), pinned. */
  private deflaterForPieces(pool: CoderPool<Deflater>): Deflater {
    if (this.pieceDeflater !== null) return this.pieceDeflater;
    if (this.options.resetDeflater) return (this.pieceDeflater = pool.lend());
    let lease = this.deflateLease;
    if (!pool.holds(lease, this)) {
      lease = this.deflateLease = pool.acquire(this);
      try {
        if (this.sent !== null && this.sent.bytes.length > 0) lease.coder.deflate(this.sent.bytes);
      } catch (error) {
        pool.release(lease, this);
        this.deflateLease = null;
        throw error;
      }
    }
    pool.pin(lease, this);
    return (this.pieceDeflater = lease.coder);
  }

  /** See `dropPieceInflater`. */
  private dropPieceDeflater(pool: CoderPool<Deflater>, usable: boolean): void {
    const deflater = this.pieceDeflater;
    if (deflater === null) return;
    this.pieceDeflater = null;
    if (this.options.resetDeflater) {
      pool.giveBack(deflater, usable);
    } else if (this.deflateLease !== null) {
      if (usable) {
        pool.unpin(this.deflateLease, this);
      } else {
        pool.release(this.deflateLease, this);
        this.deflateLease = null;
      }
    }
  }

  private tooLarge(): ProtocolError {
    return new ProtocolError(CloseCode.TOO_LARGE, `Inflated message exceeds maxLength (${this.maxLength})`);
  }

  close(): void {
    this.closed = true;
    // A message in pieces cut short: a lent stream is closed, a pinned one released below.
    if (this.pieceDeflater !== null && this.options.resetDeflater) this.pieceDeflater.close();
    if (this.pieceInflater !== null && this.options.resetInflater) this.pieceInflater.close();
    this.pieceDeflater = this.pieceInflater = null;
    this.deflaters?.release(this.deflateLease, this);
    this.inflaters.release(this.inflateLease, this);
    this.deflateLease = this.inflateLease = null;
    this.history = this.sent = null;
  }
}

/** The encoding key of a message sent as it is. */
const UNCOMPRESSED = "uncompressed";

function endsWithTail(out: Uint8Array): boolean {
  const n = out.length;
  return n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff;
}

/** A parameter that takes no value: absent (false) or present without one (true). */
function flag(value: ExtensionParamValue | undefined, name: string): boolean {
  if (value === undefined) return false;
  if (value !== true) throw new Error(`${name} takes no value, got '${value}'`);
  return true;
}

/** RFC 7692 §7.1.2: a window size is a decimal 8 to 15, with no leading zero; `true` (no value) gives null. */
function windowBits(value: ExtensionParamValue, name: string): number | null {
  if (value === true) return null;
  if (!/^(8|9|1[0-5])$/.test(value)) throw new Error(`${name} must be 8 to 15, got '${value}'`);
  return Number(value);
}

function integerIn(value: number, min: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}
