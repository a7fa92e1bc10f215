/**
 * The `wss:` exchange the Deno and Bun TLS specs run, with no runtime-specific API: text and binary
 * messages whose payloads are 0, 125, 126 and 65,536 bytes (RFC 6455 §5.2: the 7-bit, 16-bit and
 * 64-bit payload lengths and the edges between them), each echo checked byte for byte, then a close
 * with a code and reason. Imported by the child scripts (client and server side) and by the specs.
 */
import type { AdapterConnection } from "../../../lib/adapters/connection.js";
import type { ClientDriver, Driver } from "../../../lib/types.js";
import { payloadOf } from "./exercise.js";

export const TLS_SIZES = [0, 125, 126, 65536];
export const CLOSE_CODE = 4002;
export const CLOSE_REASON = "tls done";

const encoder = new TextEncoder();
/** One-, two-, three- and four-byte UTF-8 characters, so every width crosses the frame edges. */
const CHARACTERS = ["a", "é", "☃", "😀", "z", "ß", "€", "𝄞"];

/** A string whose UTF-8 encoding is exactly `size` bytes long. */
export function textOf(size: number): string {
  let text = "";
  let bytes = 0;
  for (let i = 0; bytes < size; i++) {
    const character = CHARACTERS[i % CHARACTERS.length];
    const width = encoder.encode(character).length;
    const next = bytes + width <= size ? character : "x";
    text += next;
    bytes += next === "x" ? 1 : width;
  }
  return text;
}

/** What is sent, in order: every text size, then every binary size. */
export function tlsMessages(): Array<string | Uint8Array> {
  return [...TLS_SIZES.map(textOf), ...TLS_SIZES.map(payloadOf)];
}

/** "ok" when `got` is `sent` byte for byte (and the same kind of message), else what differs. */
export function compareMessage(sent: string | Uint8Array, got: string | Uint8Array | undefined): string {
  if (got === undefined) return "missing";
  if (typeof sent !== typeof got) return `sent ${typeof sent === "string" ? "text" : "binary"}, got the other kind`;
  const a = typeof sent === "string" ? encoder.encode(sent) : sent;
  const b = typeof got === "string" ? encoder.encode(got) : got;
  if (a.length !== b.length) return `sent ${a.length} bytes, got ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `byte ${i} of ${a.length} differs`;
  return "ok";
}

/** Records transport and protocol errors as "connection: …" and "driver: …" lines. */
export function errorsOf(connection: AdapterConnection<Driver>): string[] {
  const errors: string[] = [];
  connection.on("error", (error) => errors.push(`connection: ${error.message}`));
  connection.driver.on("error", (error) => errors.push(`driver: ${error.message}`));
  return errors;
}

export interface TlsClientResult {
  opened: boolean;
  /** One entry per message sent: "ok" or what differed. */
  echoes: string[];
  close: { code: number; reason: string };
  errors: string[];
}

/**
 * Queues every message before the connection is open, closes once every echo is back, and
 * resolves with what the client saw when its driver emits `close`: after the closing handshake, or
 * after the connection failed (then nothing was echoed and the code is 1006).
 */
export function tlsExchange(connection: AdapterConnection<ClientDriver>): Promise<TlsClientResult> {
  const { driver } = connection;
  const errors = errorsOf(connection);
  const sent = tlsMessages();
  const received: Array<string | Uint8Array> = [];
  let opened = false;
  driver.on("open", () => { opened = true; });
  driver.on("message", ({ data }) => {
    // The driver may hand out a view of bytes it reuses; keep a copy.
    received.push(typeof data === "string" ? data : data.slice());
    if (received.length === sent.length) driver.close(CLOSE_REASON, CLOSE_CODE);
  });
  const closed = new Promise<TlsClientResult>((resolve) => driver.on("close", ({ code, reason }) => resolve({
    opened,
    echoes: opened ? sent.map((message, i) => compareMessage(message, received[i])) : [],
    close: { code, reason },
    errors,
  })));
  for (const message of sent) {
    if (typeof message === "string") driver.text(message);
    else driver.binary(message);
  }
  return closed;
}
