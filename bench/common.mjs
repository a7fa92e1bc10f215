// Shared helpers for the benchmark suite: deterministic inputs, RFC 6455 frame bytes, timing and
// statistics. Everything here is plain Node; the code under test is loaded from dist/.
import os from "node:os";

/** A small deterministic generator (xorshift32), so every run and every peer sees the same bytes. */
export function random(seed = 0x9e3779b9) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

export function randomBytes(length, seed) {
  const next = random(seed);
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

/** Printable ASCII, the common case of a chat or JSON text message. */
export function asciiText(length, seed) {
  const next = random(seed);
  let text = "";
  for (let i = 0; i < length; i++) text += String.fromCharCode(0x20 + (next() % 95));
  return text;
}

/** The bytes of one frame (RFC 6455 §5.2), masked with `key` when given, FIN set. */
export function frameBytes(opcode, payload, key) {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = 2 + lengthBytes + (key ? 4 : 0);
  const out = Buffer.allocUnsafe(header + length);
  out[0] = 0x80 | opcode;
  out[1] = (key ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) out.writeUInt16BE(length, 2);
  if (lengthBytes === 8) { out.writeUInt32BE(Math.floor(length / 2 ** 32), 2); out.writeUInt32BE(length >>> 0, 6); }
  if (key) {
    out.set(key, header - 4);
    for (let i = 0; i < length; i++) out[header + i] = payload[i] ^ key[i & 3];
  } else {
    out.set(payload, header);
  }
  return out;
}

/** The Sec-WebSocket-Accept value for a key (RFC 6455 §4.2.2). */
export async function acceptFor(key) {
  const { createHash } = await import("node:crypto");
  return createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
}

export const UPGRADE_HEADERS = {
  host: "127.0.0.1",
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

export function upgradeRequestBytes(path = "/") {
  const lines = [`GET ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries(UPGRADE_HEADERS)) lines.push(`${name}: ${value}`);
  return Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1");
}

export function now() {
  return process.hrtime.bigint();
}

export function seconds(since) {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function gc() {
  if (typeof globalThis.gc === "function") {
    globalThis.gc();
    globalThis.gc();
  }
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus.length > 0 ? cpus[0].model.trim() : "unknown",
    cores: cpus.length,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** 1234567 → "1.23 M", for message rates. */
export function formatRate(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

export function formatRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "–";
}

export function log(message) {
  process.stderr.write(`${message}\n`);
}
