/**
 * Test support: fake transports that collect what a driver writes, a frame builder for hand-made
 * bytes, and a recorder of every event a driver emits.
 */
import { Driver } from "../../lib/driver";
import type { DriverEvents } from "../../lib/events";
import type { ClientOptions, ServerOptions } from "../../lib/options";
import type { ClientDriver, Driver as AnyDriver, ServerDriver } from "../../lib/types";
import { acceptKey } from "../../lib/hybi/accept";

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const ascii = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
export const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** An `io` that keeps a copy of every chunk written. */
export class CollectingIO {
  chunks: Uint8Array[] = [];

  write(chunk: Uint8Array): boolean {
    this.chunks.push(Uint8Array.from(chunk));
    return true;
  }

  /** Everything written, joined. */
  all(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  /** Everything written, then forgotten. */
  take(): Uint8Array {
    const out = this.all();
    this.chunks = [];
    return out;
  }

  text(): string {
    return ascii(this.all());
  }
}

export type Recorded = { [K in keyof DriverEvents]: [K, DriverEvents[K]] }[keyof DriverEvents];

/** Records every event a driver emits, in order. */
export function record(driver: AnyDriver): Recorded[] {
  const events: Recorded[] = [];
  const types: Array<keyof DriverEvents> = ["connect", "open", "message", "ping", "pong", "close", "error"];
  for (const type of types) {
    driver.on(type, (event: DriverEvents[typeof type]) => events.push([type, event] as Recorded));
  }
  return events;
}

export interface FrameSpec {
  fin?: boolean;
  rsv?: number; // bits as in the first byte: 0x40, 0x20, 0x10
  opcode: number;
  payload?: Uint8Array | string;
  /** A masking key, or true for a fixed one; omitted means unmasked. */
  mask?: Uint8Array | boolean;
  /** Announce this length instead of the payload's (for malformed frames). */
  length?: number;
  /** Force the 16- or 64-bit length form. */
  lengthForm?: 7 | 16 | 64;
}

export const FIXED_KEY = bytes(0x37, 0xfa, 0x21, 0x3d);

/** Builds one frame's bytes (RFC 6455 §5.2). */
export function frame(spec: FrameSpec): Uint8Array {
  const payload = typeof spec.payload === "string" ? utf8(spec.payload) : spec.payload ?? new Uint8Array(0);
  const length = spec.length ?? payload.length;
  const key = spec.mask === true ? FIXED_KEY : spec.mask instanceof Uint8Array ? spec.mask : null;
  const form = spec.lengthForm ?? (length < 126 ? 7 : length < 0x10000 ? 16 : 64);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv ?? 0) | spec.opcode];
  const maskBit = key ? 0x80 : 0;
  if (form === 7) head.push(maskBit | length);
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

/** A client frame: masked with the fixed key. */
export const clientFrame = (spec: FrameSpec): Uint8Array => frame({ mask: true, ...spec });

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** A valid opening handshake request (RFC 6455 §1.3), with header overrides (null removes one). */
export function upgradeRequest(overrides: Record<string, string | null> = {}, startLine = "GET /chat HTTP/1.1"): string {
  const headers: Record<string, string | null> = {
    Host: "server.example.com",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": SAMPLE_KEY,
    "Sec-WebSocket-Version": "13",
    ...overrides,
  };
  let head = startLine + "\r\n";
  for (const [name, value] of Object.entries(headers)) if (value !== null) head += `${name}: ${value}\r\n`;
  return head + "\r\n";
}

/** A server driver that has read and answered a valid request; its handshake output is discarded. */
export function openServer(options: ServerOptions = {}): { driver: ServerDriver; io: CollectingIO; events: Recorded[] } {
  const io = new CollectingIO();
  const driver = Driver.server(io, options);
  driver.on("connect", () => driver.start());
  driver.parse(utf8(upgradeRequest()));
  io.take();
  const events = record(driver);
  return { driver, io, events };
}

/** The 101 response a server would send for `key`. */
export function upgradeResponse(key: string, extra = ""): string {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`;
}

/** The key a client driver put in its request. */
export function requestKey(request: string): string {
  const match = /Sec-WebSocket-Key: (\S+)\r\n/.exec(request);
  if (!match) throw new Error("no Sec-WebSocket-Key in request");
  return match[1];
}

/** A client driver that has sent its request and read a valid 101; its handshake output is discarded. */
export function openClient(options: ClientOptions = {}): { driver: ClientDriver; io: CollectingIO; events: Recorded[] } {
  const io = new CollectingIO();
  const driver = Driver.client("ws://example.com/chat", io, options);
  driver.start();
  const key = requestKey(io.text());
  io.take();
  driver.parse(utf8(upgradeResponse(key)));
  const events = record(driver);
  return { driver, io, events };
}

/** Splits `data` at the given offsets. */
export function splitAt(data: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const points = [0, ...offsets, data.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(data.slice(points[i], points[i + 1]));
  return out;
}

/** Decodes the frames a peer wrote (unmasking client frames), for assertions. */
export function readFrames(data: Uint8Array): Array<{ fin: boolean; rsv: number; opcode: number; masked: boolean; payload: Uint8Array }> {
  const frames = [];
  let at = 0;
  while (at < data.length) {
    const b0 = data[at], b1 = data[at + 1];
    let length = b1 & 0x7f;
    let offset = at + 2;
    if (length === 126) { length = (data[offset] << 8) | data[offset + 1]; offset += 2; }
    else if (length === 127) {
      length = (data[offset + 4] * 2 ** 24) + ((data[offset + 5] << 16) | (data[offset + 6] << 8) | data[offset + 7]);
      offset += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Uint8Array | null = null;
    if (masked) { key = data.slice(offset, offset + 4); offset += 4; }
    const payload = data.slice(offset, offset + length);
    if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    frames.push({ fin: (b0 & 0x80) !== 0, rsv: b0 & 0x70, opcode: b0 & 0x0f, masked, payload });
    at = offset + length;
  }
  return frames;
}

/** The close frame (code, reason) a driver wrote last. */
export function closeFrameOf(data: Uint8Array): { code: number | null; reason: string } | null {
  const close = readFrames(data).filter((f) => f.opcode === 8).pop();
  if (!close) return null;
  if (close.payload.length < 2) return { code: null, reason: "" };
  return { code: (close.payload[0] << 8) | close.payload[1], reason: new TextDecoder().decode(close.payload.subarray(2)) };
}

/**
 * Events in a form jest compares quickly: byte arrays become base64 strings (a deep `toEqual` on a
 * 1 MiB `Uint8Array` walks it element by element).
 */
export function comparable(events: Recorded[]): unknown[] {
  return events.map(([type, event]) => {
    if (event instanceof Error) return [type, `${event.name}: ${event.message}`];
    const data = (event as { data?: unknown }).data;
    if (data instanceof Uint8Array) return [type, { data: `bytes:${Buffer.from(data).toString("base64")}` }];
    return [type, event];
  });
}
