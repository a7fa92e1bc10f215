/**
 * Byte helpers shared by every module. The core speaks `Uint8Array` only; a Node `Buffer` is a
 * `Uint8Array` subclass, so it passes through unchanged.
 */

import { allocBytes } from "./fast-paths.js";

/**
 * Bytes the embedder may hand us: any `Uint8Array` (a Node `Buffer` included), an `ArrayBuffer` or
 * `SharedArrayBuffer`, or any other view (`DataView`, `Uint16Array` …), read as the bytes it spans.
 */
export type ByteSource = Uint8Array | ArrayBufferLike | ArrayBufferView;

export const EMPTY = new Uint8Array(0);

export function toBytes(source: ByteSource): Uint8Array {
  if (source instanceof Uint8Array) return source;
  // A view's bytes, not its elements: `new Uint8Array(uint16Array)` would cut each element to 8 bits.
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return new Uint8Array(source);
}

/** Joins byte arrays into one; a single array is returned as it is, without a copy. */
export function concatBytes(pieces: readonly Uint8Array[], totalLength?: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  if (pieces.length === 0) return EMPTY;
  let length = totalLength ?? 0;
  if (totalLength === undefined) for (const piece of pieces) length += piece.length;
  // Every byte is written below, so the runtime's uninitialised memory will do.
  const out = allocBytes(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

/** Decodes bytes one-to-one into UTF-16 code units (ISO-8859-1), as HTTP heads are read. */
export function latin1Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  // Chunked so String.fromCharCode never receives more arguments than the engine's stack allows.
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(i + 4096, end)) as unknown as number[]);
  }
  return out;
}

/** Encodes a string whose code units are all below 256 (HTTP heads, base64 text) one byte each. */
export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

const encoder = new TextEncoder();

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
