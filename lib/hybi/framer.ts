/**
 * Builds RFC 6455 §5.2 frames for sending.
 *
 * A small frame is written as one chunk, header and payload together in a region of a shared slab
 * (`util/slab.ts`): one write, where two would cost a system call each on a plain socket. A payload
 * of `SPLIT_THRESHOLD` bytes or more (1 KiB if the writer can cork, as a Node socket can) is
 * written unmasked as two chunks, header then payload, so a server never copies a large message. A
 * client must mask, and masks a copy in a fresh buffer (laid out so the payload starts on a word
 * boundary, for the word loop), because the caller's bytes are not ours to change.
 */
import { maskPackedInto, maskRange } from "../util/mask.js";
import { MASKING_KEYS, MaskingKeySource, type MaskingKeys } from "../util/random.js";
import { SLAB_MAX, allocFrame, wordsFor } from "../util/slab.js";

export interface FrameWriter {
  write(chunk: Uint8Array): unknown;
}

/** A writer that can gather writes into one (a Node stream's `cork`/`uncork`: one `writev`). */
interface CorkableWriter extends FrameWriter {
  cork(): void;
  uncork(): void;
}

/** Payloads this long or longer are written apart from their header instead of copied. */
const SPLIT_THRESHOLD = 16 * 1024;

/**
 * With a corkable writer, header and payload go out as one gathered write from this size on: no
 * copy, and still one system call. Server binary() of 1 KiB went from 3.4 M to 21 M messages per
 * second into the bench's counting writer, where the copy and the slab it fills cost more than the
 * two writes (ws writes the same two chunks the same way).
 */
const CORKED_SPLIT_THRESHOLD = 1024;

/** Strings up to this many UTF-16 units are tried as ASCII first, one byte per unit. */
const ASCII_PROBE = 64;

/** TextEncoder keeps no state between calls: one for every connection. */
const encoder = new TextEncoder();

export class Framer {
  private readonly keys: MaskingKeys | null;
  private readonly splitThreshold: number;

  constructor(private readonly io: FrameWriter, private readonly masked: boolean) {
    this.keys = masked ? (io as { [MASKING_KEYS]?: MaskingKeys })[MASKING_KEYS] ?? new MaskingKeySource() : null;
    this.splitThreshold = isCorkable(io) ? CORKED_SPLIT_THRESHOLD : SPLIT_THRESHOLD;
  }

  /** Writes one frame. `rsv` holds RSV bits as they sit in the first byte (0x40 for RSV1). */
  frame(opcode: number, payload: Uint8Array, fin = true, rsv = 0): void {
    const length = payload.length;
    const headerLength = headerLengthFor(length, this.masked);
    if (!this.masked && length >= this.splitThreshold) {
      const header = allocFrame(headerLength);
      writeHeader(header, opcode, fin, rsv, length, false);
      const io = this.io;
      if (isCorkable(io)) {
        io.cork();
        io.write(header);
        io.write(payload);
        io.uncork();
      } else {
        io.write(header);
        io.write(payload);
      }
      return;
    }
    const out = allocFrame(headerLength + length, headerLength);
    writeHeader(out, opcode, fin, rsv, length, this.masked);
    if (this.keys !== null) {
      const key = this.keys.next(out, headerLength - 4);
      // A frame too large for a slab has a buffer of its own: no word view for it here, since
      // native masking needs none and the pure path makes its own only if it must.
      maskPackedInto(payload, out, headerLength, key, 0, out.length > SLAB_MAX ? undefined : wordsFor(out));
    } else {
      out.set(payload, headerLength);
    }
    this.io.write(out);
  }

  /**
   * Writes a text frame. A string that fits a slab region is encoded straight into the frame, so
   * the common small message costs no allocation but the view of its region.
   */
  text(opcode: number, text: string, rsv = 0): void {
    const units = text.length;
    const keyLength = this.masked ? 4 : 0;
    // RFC 3629: at most 3 bytes per UTF-16 unit (a surrogate pair is 2 units for 4 bytes).
    if (units * 3 + 4 + keyLength > SLAB_MAX) {
      this.frame(opcode, encoder.encode(text), true, rsv);
      return;
    }
    if (units <= ASCII_PROBE && units < 126) {
      // Short ASCII text: one byte per unit, written by hand, where TextEncoder.encodeInto returns
      // a fresh object per call. With the slab, server text() of 16 B went from 1.9 M to 9.9 M
      // messages per second, client text() from 1.4 M to 6.6 M (npm run bench, one round).
      const headerLength = 2 + keyLength;
      const out = allocFrame(headerLength + units, headerLength);
      let i = 0;
      if (this.keys === null) {
        for (; i < units; i++) {
          const unit = text.charCodeAt(i);
          if (unit >= 0x80) break;
          out[headerLength + i] = unit;
        }
      } else {
        // A client masks each byte as it writes it (RFC 6455 §5.3), rather than in a second pass:
        // client text() of 16 B on the pure core went from 2.0-2.1× to 2.7-3.5× pure ws (three runs).
        const key = this.keys.next(out, 2);
        for (; i < units; i++) {
          const unit = text.charCodeAt(i);
          if (unit >= 0x80) break;
          out[headerLength + i] = unit ^ (key >>> (24 - ((i & 3) << 3)));
        }
      }
      if (i === units) {
        writeHeader(out, opcode, true, rsv, units, this.masked);
        this.io.write(out);
        return;
      }
    }
    // The header is 2 bytes (4 from 126 bytes on) before the key: encode after the larger one
    // and put the header right in front of the payload.
    const room = units * 3;
    const reserve = (room < 126 ? 2 : 4) + keyLength;
    const region = allocFrame(reserve + room, reserve);
    const { written } = encoder.encodeInto(text, region.subarray(reserve));
    const headerLength = (written < 126 ? 2 : 4) + keyLength;
    const out = region.subarray(reserve - headerLength, reserve + written);
    this.finishText(out, headerLength, opcode, rsv, written);
  }

  private finishText(out: Uint8Array, headerLength: number, opcode: number, rsv: number, length: number): void {
    writeHeader(out, opcode, true, rsv, length, this.masked);
    if (this.keys !== null) {
      const key = this.keys.next(out, headerLength - 4);
      maskRange(out, headerLength, out.length, key, wordsFor(out));
    }
    this.io.write(out);
  }
}

/**
 * One unmasked frame, FIN set, in a buffer of its own (not a slab region): a prepared message's
 * frame, written as it is to many connections and kept for as long as the message is.
 */
export function buildFrame(opcode: number, payload: Uint8Array, rsv: number): Uint8Array {
  const headerLength = headerLengthFor(payload.length, false);
  const out = new Uint8Array(headerLength + payload.length);
  writeHeader(out, opcode, true, rsv, payload.length, false);
  out.set(payload, headerLength);
  return out;
}

function isCorkable(io: FrameWriter): io is CorkableWriter {
  return typeof (io as Partial<CorkableWriter>).cork === "function" && typeof (io as Partial<CorkableWriter>).uncork === "function";
}

function headerLengthFor(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes the header bytes (all but the masking key) at the start of `out`. */
function writeHeader(out: Uint8Array, opcode: number, fin: boolean, rsv: number, length: number, masked: boolean): void {
  out[0] = (fin ? 0x80 : 0) | rsv | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) {
    out[1] = maskBit | length;
  } else if (length < 0x10000) {
    out[1] = maskBit | 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = maskBit | 127;
    const high = Math.floor(length / 0x100000000);
    out[2] = high >>> 24; out[3] = (high >>> 16) & 0xff; out[4] = (high >>> 8) & 0xff; out[5] = high & 0xff;
    out[6] = length >>> 24; out[7] = (length >>> 16) & 0xff; out[8] = (length >>> 8) & 0xff; out[9] = length & 0xff;
  }
}
