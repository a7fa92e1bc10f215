/**
 * RFC 6455 §5.2 frames by hand, for tests: a builder that writes any frame, well-formed or not, and
 * a decoder that reads what a driver wrote back into plain objects to assert on.
 */
import { concatBytes, latin1Decode, latin1Encode, toBytes, type ByteSource } from "../util/bytes.js";
import { Opcode } from "../hybi/parser.js";

export { Opcode };

/** An opcode by its RFC 6455 §5.2 name. */
export type OpcodeName = "continuation" | "text" | "binary" | "close" | "ping" | "pong";

const OPCODES: Record<OpcodeName, number> = {
  continuation: Opcode.CONTINUATION, text: Opcode.TEXT, binary: Opcode.BINARY,
  close: Opcode.CLOSE, ping: Opcode.PING, pong: Opcode.PONG,
};

/** The masking key of RFC 6455 §5.7's examples: `frame({ opcode: "text", payload: "Hello", mask: true })` is `81 85 37 fa 21 3d 7f 9f 4d 51 58`. */
export const EXAMPLE_MASKING_KEY: Uint8Array = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** Byte arrays joined into one (always a fresh copy). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0].slice() : concatBytes(parts);
}

/** One frame, field by field. Anything may be given, so malformed frames can be written too. */
export interface FrameSpec {
  /** A number (reserved ones included, 0x3 … 0x7 and 0xB … 0xF) or the opcode's name. */
  opcode: number | OpcodeName;
  /** Text is sent as UTF-8; bytes as they are (so invalid UTF-8 can be sent as bytes). */
  payload?: string | ByteSource;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** RSV bits as they sit in the first byte (0x40 RSV1, 0x20 RSV2, 0x10 RSV3), added to `rsv1` … `rsv3`. */
  rsv?: number;
  /**
   * A 4-byte masking key; `true` for `EXAMPLE_MASKING_KEY`; `false` or absent for an unmasked frame.
   * (A scripted client peer masks with its own keys unless a frame says otherwise.)
   */
  mask?: boolean | Uint8Array;
  /** The payload length to announce instead of the payload's own (for frames that lie). */
  length?: number;
  /** The length encoding (RFC 6455 §5.2: 7-bit, 16-bit after 126, 64-bit after 127), even a non-minimal one. */
  lengthForm?: 7 | 16 | 64;
}

/** The numeric opcode of a name or number. */
export function opcodeOf(opcode: number | OpcodeName): number {
  if (typeof opcode === "number") return opcode;
  const value = OPCODES[opcode];
  if (value === undefined) throw new TypeError(`Unknown opcode name: ${String(opcode)}`);
  return value;
}

function payloadOf(payload: string | ByteSource | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === "string" ? utf8(payload) : toBytes(payload);
}

/** Builds one frame's bytes (RFC 6455 §5.2), masking the payload if a key is given. */
export function frame(spec: FrameSpec): Uint8Array {
  const payload = payloadOf(spec.payload);
  const length = spec.length ?? payload.length;
  const key = spec.mask === true ? EXAMPLE_MASKING_KEY : spec.mask instanceof Uint8Array ? spec.mask : null;
  if (key !== null && key.length !== 4) throw new RangeError(`A masking key has 4 bytes, got ${key.length}`);
  const form = spec.lengthForm ?? (length < 126 ? 7 : length < 0x10000 ? 16 : 64);
  const rsv = (spec.rsv ?? 0) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (rsv & 0x70) | (opcodeOf(spec.opcode) & 0x0f)];
  const maskBit = key ? 0x80 : 0;
  if (form === 7) head.push(maskBit | (length & 0x7f));
  else if (form === 16) head.push(maskBit | 126, (length >>> 8) & 0xff, length & 0xff);
  else {
    const high = Math.floor(length / 2 ** 32);
    head.push(maskBit | 127, (high >>> 24) & 0xff, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff,
      (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  if (key) head.push(...key);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  for (let i = 0; i < payload.length; i++) out[head.length + i] = key ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}

/**
 * A close frame's payload (RFC 6455 §5.5.1): the code in two bytes, then the reason in UTF-8.
 * No code gives an empty payload. Nothing is checked, so invalid codes and reasons can be sent.
 */
export function closePayload(code?: number, reason: string | Uint8Array = ""): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  return concat(Uint8Array.of((code >>> 8) & 0xff, code & 0xff), typeof reason === "string" ? utf8(reason) : reason);
}

/** A frame as decoded from bytes a driver wrote: the payload is unmasked, `maskingKey` kept. */
export interface DecodedFrame {
  fin: boolean;
  /** The RSV bits as they sit in the first byte (0x40 RSV1, 0x20 RSV2, 0x10 RSV3). */
  rsv: number;
  opcode: number;
  masked: boolean;
  maskingKey: Uint8Array | null;
  payload: Uint8Array;
}

/**
 * Reads frames from bytes given in any pieces: `push` returns the frames the bytes completed, and
 * keeps the rest (an incomplete frame) for the next call.
 */
export class FrameDecoder {
  private pending: Uint8Array = new Uint8Array(0);

  /** Bytes held back: the start of a frame not yet complete. */
  get buffered(): number {
    return this.pending.length;
  }

  push(bytes: Uint8Array): DecodedFrame[] {
    const data = this.pending.length === 0 ? bytes : concatBytes([this.pending, bytes]);
    const frames: DecodedFrame[] = [];
    let at = 0;
    for (;;) {
      const decoded = decodeAt(data, at);
      if (decoded === null) break;
      frames.push(decoded.frame);
      at = decoded.end;
    }
    this.pending = data.slice(at);
    return frames;
  }
}

function decodeAt(data: Uint8Array, at: number): { frame: DecodedFrame; end: number } | null {
  if (data.length - at < 2) return null;
  const b0 = data[at], b1 = data[at + 1];
  let length = b1 & 0x7f;
  let offset = at + 2;
  if (length === 126) {
    if (data.length < offset + 2) return null;
    length = (data[offset] << 8) | data[offset + 1];
    offset += 2;
  } else if (length === 127) {
    if (data.length < offset + 8) return null;
    const high = ((data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3]) >>> 0;
    const low = ((data[offset + 4] << 24) | (data[offset + 5] << 16) | (data[offset + 6] << 8) | data[offset + 7]) >>> 0;
    length = high * 2 ** 32 + low;
    offset += 8;
  }
  const masked = (b1 & 0x80) !== 0;
  if (data.length < offset + (masked ? 4 : 0) + length) return null;
  let maskingKey: Uint8Array | null = null;
  if (masked) {
    maskingKey = data.slice(offset, offset + 4);
    offset += 4;
  }
  const payload = data.slice(offset, offset + length);
  if (maskingKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskingKey[i & 3];
  return { frame: { fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, opcode: b0 & 0x0f, masked, maskingKey, payload }, end: offset + length };
}

/** Decodes every complete frame in `bytes` (a trailing incomplete frame is left out). */
export function decodeFrames(bytes: Uint8Array): DecodedFrame[] {
  return new FrameDecoder().push(bytes);
}

/** The code and reason of a close frame or close payload; `code` is null for an empty payload. Anything else throws. */
export function closeOf(frameOrPayload: DecodedFrame | Uint8Array | undefined): { code: number | null; reason: string } {
  if (frameOrPayload === undefined) throw new TypeError("Expected a close frame, got nothing");
  const payload = frameOrPayload instanceof Uint8Array ? frameOrPayload : frameOrPayload.payload;
  if (!(frameOrPayload instanceof Uint8Array) && frameOrPayload.opcode !== Opcode.CLOSE) {
    throw new TypeError(`Expected a close frame, got opcode ${frameOrPayload.opcode}`);
  }
  if (payload.length < 2) return { code: null, reason: "" };
  return { code: (payload[0] << 8) | payload[1], reason: new TextDecoder().decode(payload.subarray(2)) };
}

/** Splits bytes at the given offsets: `splitAt(bytes, 1, 3)` gives bytes 0–1, 1–3 and 3–end. */
export function splitAt(bytes: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const points = [0, ...offsets, bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(bytes.slice(points[i], points[i + 1]));
  return out;
}

/** Splits bytes into pieces of `size` bytes (the last may be shorter); `size` 1 gives every byte apart. */
export function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  if (!(size >= 1)) throw new RangeError(`A piece has at least one byte, got ${size}`);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

/** Bytes as spaced lower-case hex (`"81 85 37 fa"`), for readable expectations. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

/** Bytes from spaced or unspaced hex: `fromHex("81 85 37 fa")`. */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new SyntaxError(`Not hex bytes: ${JSON.stringify(text)}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** ISO-8859-1 text of bytes and back, as HTTP heads are written. */
export const latin1 = { decode: (bytes: Uint8Array): string => latin1Decode(bytes), encode: (text: string): Uint8Array => latin1Encode(text) };
