/**
 * The RFC 6455 §5.2 frame parser: an explicit state machine over the bytes handed to `parse`, in
 * any split, one byte at a time included.
 *
 * - A frame header is read straight out of the input when it is all there, and gathered into a
 *   14-byte scratch buffer only when it straddles two chunks.
 * - A data frame's payload is never copied here: each piece of it that arrives is unmasked in place
 *   and handed on as a `subarray` of the input, so a text message can be UTF-8-checked while it is
 *   still arriving (RFC 6455 §8.1 "fail fast") and the assembler copies at most once.
 * - Control frames (at most 125 bytes) are handed on whole.
 * - Every rule a frame header can break is checked before any of its payload is accepted, so a
 *   length over `maxLength` fails with 1009 before a byte of it is buffered.
 */
import { ProtocolError } from "../errors.js";
import { allocBytes } from "../util/fast-paths.js";
import { applyPackedMaskIn, maskPackedInto, packKey, wordView } from "../util/mask.js";
import { CloseCode } from "./close.js";

export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** Where the parsed frames go. */
export interface FrameSink {
  /**
   * A piece of a data frame's payload, already unmasked. `opcode`, `fin` and `rsv` are the
   * frame's; `frameEnd` is true on the frame's last piece (an empty frame has one empty piece).
   */
  onData(piece: Uint8Array, opcode: number, fin: boolean, rsv: number, frameEnd: boolean): void;
  /** A whole control frame (close, ping, pong). */
  onControl(opcode: number, payload: Uint8Array): void;
  /** The peer broke a framing rule; the parser has stopped. */
  onProtocolError(error: ProtocolError): void;
}

export interface FrameParserOptions {
  /** Frames must be masked (a server reading a client) or must not be (a client). RFC 6455 §5.1. */
  expectMasked: boolean;
  /** Largest message, all its fragments together, in bytes. */
  maxLength: number;
  /**
   * Whole messages only (nothing is taken in pieces): a masked binary frame that spans reads is
   * handed on as one piece once all of it has arrived, unmasked as its pieces are copied together.
   */
  gatherBinary?: boolean;
}

/**
 * Binary frames up to this size that span reads are gathered masked and unmasked while joined
 * (`gatherBinary`). Parsing 64 KiB frames in 64 KiB reads ran 1.06-1.14× as fast so (A/B in one
 * process, Node 20 and 24, fast paths on and off); 16 MiB frames 0.84-1.19×, where unmasking each
 * piece as it arrives, still in the cache, is the better way on a real socket.
 */
const GATHER_MAX = 1024 * 1024;

const HEADER = 0;
const PAYLOAD = 1;
const STOPPED = 2;

export class FrameParser {
  /** RSV bits (0x40 RSV1, 0x20 RSV2, 0x10 RSV3) that negotiated extensions allow on a message's first frame. */
  allowedRsv = 0;
  maxLength: number;

  private readonly expectMasked: boolean;
  private readonly gatherBinary: boolean;
  private state = HEADER;

  // The frame being read.
  private fin = false;
  /** The RSV bits of the message's first frame (0x40 RSV1, 0x20 RSV2, 0x10 RSV3). */
  private messageRsv = 0;
  private opcode = 0;
  private masked = false;
  /** The masking key, packed into one number (`packKey`): no typed array per connection. */
  private maskingKey = 0;
  /** Payload bytes of the current frame seen so far: also the masking key's position. */
  private received = 0;
  private payloadLength = 0;
  private control: Uint8Array | null = null;
  /** The still-masked pieces of a binary frame being gathered (`gatherBinary`), views of the input. */
  private gathered: Uint8Array[] | null = null;

  // The message being read: its opcode while a fragmented message is open, and its length so far.
  private openMessage = 0;
  private messageLength = 0;

  // A header that straddles chunks is gathered here, allocated the first time one does: most
  // connections never need it, and an idle connection is smaller without it (RFC 6455 §5.2
  // headers are at most 14 bytes).
  private scratch: Uint8Array | null = null;
  private scratchLength = 0;

  /**
   * Set while `parse` reads a chunk. An event handler may call `parse` meanwhile (two drivers wired
   * to each other in memory do: one's pong is read by the other at once, whose handler answers);
   * those bytes come after the rest of the chunk, so they wait in `deferred` until it is read.
   */
  private reading = false;
  private deferred: Uint8Array[] | null = null;

  constructor(private readonly sink: FrameSink, options: FrameParserOptions) {
    this.expectMasked = options.expectMasked;
    this.maxLength = options.maxLength;
    this.gatherBinary = options.gatherBinary === true;
  }

  /** Stops reading: later input is ignored (after a close frame, or a failure). */
  stop(): void {
    this.state = STOPPED;
    this.gathered = null;
  }

  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /**
   * Whether the parser holds nothing but its settings: between frames, no header half read, no
   * fragmented message open. A parser at rest can be dropped and a fresh one made for the next
   * bytes without changing what they mean.
   */
  get atRest(): boolean {
    return this.state === HEADER && this.scratchLength === 0 && this.openMessage === 0 && !this.reading;
  }

  /** Whether a fragmented message is open (its first frame seen, not yet its last). */
  get inMessage(): boolean {
    return this.openMessage !== 0;
  }

  /** Reads `chunk`, after the bytes handed over before it (see `reading`). */
  parse(chunk: Uint8Array): void {
    this.parseAfter(null, chunk);
  }

  /**
   * Runs `first`, then reads `chunk`, as one read: bytes handed to `parse` meanwhile, by `first`
   * included, are read after `chunk`. The driver opens this way, `first` being its queued sends and
   * the `open` event and `chunk` the frames that came with the handshake.
   */
  parseAfter(first: (() => void) | null, chunk: Uint8Array): void {
    if (this.reading) {
      if (first !== null) first();
      (this.deferred ??= []).push(chunk);
      return;
    }
    this.reading = true;
    try {
      if (first !== null) first();
      this.read(chunk);
      for (let deferred = this.deferred; deferred !== null; deferred = this.deferred) {
        this.deferred = null;
        for (const next of deferred) this.read(next);
      }
    } finally {
      // A handler that threw out of `read` leaves the rest of its chunk unread, and what was
      // handed over meanwhile with it: reading resumes with the next call.
      this.reading = false;
      this.deferred = null;
    }
  }

  private read(chunk: Uint8Array): void {
    const length = chunk.length;
    // Read once per chunk, not once per frame: V8 does not inline the `buffer` getter. Parsing
    // 16 B text frames ran 1.09-1.27× as fast, 1 KiB binary 1.20× (A/B in one process, 15 rounds).
    const buffer = chunk.buffer, base = chunk.byteOffset;
    let pos = 0;
    /** A word view of the whole chunk for unmasking, made once for all the frames in it. */
    let words: Int32Array | null = null;
    while (this.state !== STOPPED) {
      if (this.state === HEADER) {
        if (pos >= length) return;
        if (this.scratchLength === 0 && length - pos >= 2) {
          const size = headerSize(chunk[pos + 1]);
          if (length - pos >= size) {
            if (!this.readHeader(chunk, pos)) return;
            pos += size;
            continue;
          }
        }
        pos = this.gatherHeader(chunk, pos);
        const scratch = this.scratch as Uint8Array;
        if (this.scratchLength < 2 || this.scratchLength < headerSize(scratch[1])) return;
        this.scratchLength = 0;
        if (!this.readHeader(scratch, 0)) return;
      } else {
        // PAYLOAD: a zero-length frame gets here too, and finishes without reading input.
        const wanted = this.payloadLength - this.received;
        if (wanted > 0 && pos >= length) return;
        const take = wanted < length - pos ? wanted : length - pos;
        if (this.gathered !== null || (take < wanted && this.received === 0 && this.gatherBinary && this.masked
          && this.payloadLength <= GATHER_MAX && this.opcode < 8 && this.openMessage === Opcode.BINARY && this.messageRsv === 0)) {
          // A binary frame that spans reads: its pieces wait, still masked, and are unmasked as
          // they are copied together, one pass where unmasking each in place and joining them
          // later took two (see GATHER_MAX).
          (this.gathered ??= []).push(new Uint8Array(buffer, base + pos, take));
          pos += take;
          this.received += take;
          if (this.received < this.payloadLength) return;
          const payload = this.joinGathered();
          this.state = HEADER;
          if (this.fin) this.openMessage = 0;
          this.sink.onData(payload, this.opcode, this.fin, this.messageRsv, true);
          continue;
        }
        // A plain view, not `chunk.subarray`: on a Node Buffer that builds another Buffer through
        // its species constructor, which took 11% of the time on 16 B text frames (--cpu-prof).
        const piece = new Uint8Array(buffer, base + pos, take);
        if (this.masked && take > 0) applyPackedMaskIn(piece, this.maskingKey, this.received & 3, (words ??= wordView(chunk)));
        pos += take;
        this.received += take;
        const frameEnd = this.received === this.payloadLength;
        if (frameEnd) this.state = HEADER;
        if (this.opcode >= 8) {
          this.gatherControl(piece, frameEnd);
        } else {
          if (frameEnd && this.fin) this.openMessage = 0;
          this.sink.onData(piece, this.opcode, this.fin, this.messageRsv, frameEnd);
        }
      }
    }
  }

  /**
   * The gathered frame's payload in a buffer of its own, each piece unmasked on its way in, the key
   * turned to the piece's offset in the payload (RFC 6455 §5.3: byte i takes key byte i mod 4).
   */
  private joinGathered(): Uint8Array {
    const pieces = this.gathered as Uint8Array[];
    this.gathered = null;
    const out = allocBytes(this.payloadLength);
    const words = wordView(out);
    let at = 0;
    for (const piece of pieces) {
      maskPackedInto(piece, out, at, this.maskingKey, at & 3, words);
      at += piece.length;
    }
    return out;
  }

  /** Copies header bytes into the scratch buffer; returns the new input position. */
  private gatherHeader(chunk: Uint8Array, pos: number): number {
    const scratch = (this.scratch ??= new Uint8Array(14));
    while (pos < chunk.length) {
      const need = this.scratchLength < 2 ? 2 : headerSize(scratch[1]);
      if (this.scratchLength >= need) break;
      scratch[this.scratchLength++] = chunk[pos++];
    }
    return pos;
  }

  private gatherControl(piece: Uint8Array, frameEnd: boolean): void {
    if (frameEnd && this.control === null) {
      this.sink.onControl(this.opcode, piece);
      return;
    }
    if (this.control === null) this.control = new Uint8Array(this.payloadLength);
    this.control.set(piece, this.received - piece.length);
    if (frameEnd) {
      const payload = this.control;
      this.control = null;
      this.sink.onControl(this.opcode, payload);
    }
  }

  /** Reads and checks a complete header at `at`; returns false if the frame is refused. */
  private readHeader(bytes: Uint8Array, at: number): boolean {
    const b0 = bytes[at], b1 = bytes[at + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv = b0 & 0x70;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let payloadLength = b1 & 0x7f;
    let offset = at + 2;

    if (opcode >= 8) {
      // RFC 6455 §5.5: control frames are never fragmented and carry at most 125 bytes.
      if (opcode > Opcode.PONG) return this.fail(CloseCode.PROTOCOL_ERROR, `Unknown opcode 0x${opcode.toString(16)}`);
      if (!fin) return this.fail(CloseCode.PROTOCOL_ERROR, `Fragmented control frame (opcode 0x${opcode.toString(16)})`);
      if (payloadLength > 125) {
        return this.fail(CloseCode.PROTOCOL_ERROR, "Control frame payload is longer than 125 bytes");
      }
      // RFC 6455 §5.2: RSV bits are for extensions, and no extension here defines them on control frames.
      if (rsv !== 0) return this.fail(CloseCode.PROTOCOL_ERROR, `RSV bits 0x${rsv.toString(16)} set on a control frame`);
    } else if (opcode === Opcode.CONTINUATION) {
      // RFC 6455 §5.4: a continuation frame continues an open fragmented message.
      if (this.openMessage === 0) return this.fail(CloseCode.PROTOCOL_ERROR, "Continuation frame with no message to continue");
      // RFC 7692 §6.1: extensions mark a message on its first frame only.
      if (rsv !== 0) return this.fail(CloseCode.PROTOCOL_ERROR, `RSV bits 0x${rsv.toString(16)} set on a continuation frame`);
    } else if (opcode <= Opcode.BINARY) {
      if (this.openMessage !== 0) {
        return this.fail(CloseCode.PROTOCOL_ERROR, "New data frame while a fragmented message is unfinished");
      }
      // RFC 6455 §5.2: "MUST be 0 unless an extension is negotiated that defines meanings".
      if ((rsv & ~this.allowedRsv) !== 0) {
        return this.fail(CloseCode.PROTOCOL_ERROR, `RSV bits 0x${(rsv & ~this.allowedRsv).toString(16)} set with no extension to define them`);
      }
    } else {
      return this.fail(CloseCode.PROTOCOL_ERROR, `Unknown opcode 0x${opcode.toString(16)}`);
    }

    // RFC 6455 §5.1: clients mask every frame; servers mask none.
    if (masked !== this.expectMasked) {
      return this.fail(CloseCode.PROTOCOL_ERROR, masked ? "Masked frame from a server" : "Unmasked frame from a client");
    }

    if (payloadLength === 126) {
      payloadLength = (bytes[offset] << 8) | bytes[offset + 1];
      offset += 2;
    } else if (payloadLength === 127) {
      const high = ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
      const low = ((bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]) >>> 0;
      // RFC 6455 §5.2: "the most significant bit MUST be 0".
      if (high >= 0x80000000) return this.fail(CloseCode.PROTOCOL_ERROR, "64-bit payload length has its most significant bit set");
      payloadLength = high * 0x100000000 + low;
      offset += 8;
    }

    if (opcode < 8) {
      const messageLength = (opcode === Opcode.CONTINUATION ? this.messageLength : 0) + payloadLength;
      if (messageLength > this.maxLength) {
        return this.fail(CloseCode.TOO_LARGE, `Message of ${messageLength} bytes or more exceeds maxLength (${this.maxLength})`);
      }
      this.messageLength = messageLength;
      if (opcode !== Opcode.CONTINUATION) this.openMessage = opcode;
      this.messageRsv = opcode === Opcode.CONTINUATION ? this.messageRsv : rsv;
    }

    if (masked) this.maskingKey = packKey(bytes, offset);
    this.fin = fin;
    this.opcode = opcode;
    this.masked = masked;
    this.payloadLength = payloadLength;
    this.received = 0;
    this.state = PAYLOAD;
    return true;
  }

  private fail(code: number, message: string): false {
    this.state = STOPPED;
    this.sink.onProtocolError(new ProtocolError(code, message));
    return false;
  }
}

/** The size of a frame header from its second byte: 2, plus 2 or 8 for the length, plus 4 for the key. */
function headerSize(b1: number): number {
  const length7 = b1 & 0x7f;
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}
