/**
 * Builds RFC 6455 §5.2 frames for sending.
 *
 * A small frame is written as one chunk (header and payload in one allocation). A payload of
 * `SPLIT_THRESHOLD` bytes or more is written unmasked as two chunks, header then payload, so a
 * server never copies a large message; a client must mask, and masks into a fresh buffer because
 * the caller's bytes are not ours to change.
 */
import { applyMask } from "../util/mask.js";
import { MaskingKeySource } from "../util/random.js";

export interface FrameWriter {
  write(chunk: Uint8Array): unknown;
}

/** Payloads this long or longer are written apart from their header instead of copied. */
const SPLIT_THRESHOLD = 16 * 1024;

export class Framer {
  private readonly keys: MaskingKeySource | null;
  private readonly encoder = new TextEncoder();

  constructor(private readonly io: FrameWriter, private readonly masked: boolean) {
    this.keys = masked ? new MaskingKeySource() : null;
  }

  /** Writes one frame. `rsv` holds RSV bits as they sit in the first byte (0x40 for RSV1). */
  frame(opcode: number, payload: Uint8Array, fin = true, rsv = 0): void {
    const length = payload.length;
    const headerLength = headerLengthFor(length, this.masked);
    if (!this.masked && length >= SPLIT_THRESHOLD) {
      const header = new Uint8Array(headerLength);
      writeHeader(header, opcode, fin, rsv, length, false);
      this.io.write(header);
      this.io.write(payload);
      return;
    }
    const out = new Uint8Array(headerLength + length);
    writeHeader(out, opcode, fin, rsv, length, this.masked);
    out.set(payload, headerLength);
    if (this.keys !== null) this.maskInPlace(out, headerLength);
    this.io.write(out);
  }

  /**
   * Writes a text frame. A short string is encoded straight into the frame buffer, so the common
   * small message costs one allocation.
   */
  text(opcode: number, text: string, rsv = 0): void {
    // At most 3 bytes per UTF-16 code unit; if even that fits a 7-bit length, encode in place.
    if (text.length * 3 <= 125) {
      const headerLength = this.masked ? 6 : 2;
      const out = new Uint8Array(headerLength + text.length * 3);
      const { written } = this.encoder.encodeInto(text, out.subarray(headerLength));
      const frame = out.subarray(0, headerLength + written);
      writeHeader(frame, opcode, true, rsv, written, this.masked);
      if (this.keys !== null) this.maskInPlace(frame, headerLength);
      this.io.write(frame);
      return;
    }
    this.frame(opcode, this.encoder.encode(text), true, rsv);
  }

  private maskInPlace(frame: Uint8Array, headerLength: number): void {
    const keyAt = headerLength - 4;
    (this.keys as MaskingKeySource).next(frame, keyAt);
    applyMask(frame.subarray(headerLength), frame.subarray(keyAt, headerLength));
  }
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
