/**
 * Building blocks shared by the groups of the conformance matrix: the opcodes, hand-built client
 * frames, and the checks every case ends with.
 */
import { bytesEqual } from "../../lib/util/bytes";
import { bytes, clientFrame, concat, readFrames, utf8 } from "../support/wire";
import { type EchoServer, RawClient, type WireFrame, closeOf } from "./peer";

export const TEXT = 0x1, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xa, CONTINUATION = 0x0;

/** A close frame from the client: a status code (or none) and a reason. */
export function clientClose(code?: number, reason: Uint8Array | string = new Uint8Array(0)): Uint8Array {
  if (code === undefined) return clientFrame({ opcode: CLOSE });
  const tail = typeof reason === "string" ? utf8(reason) : reason;
  return clientFrame({ opcode: CLOSE, payload: concat(bytes(code >>> 8, code & 0xff), tail) });
}

export const NORMAL_CLOSE = clientClose(1000);

/** `length` bytes of `*`, as Autobahn's framing cases send. */
export const stars = (length: number): Uint8Array => new Uint8Array(length).fill(0x2a);

/** Opens a raw connection, runs `send`, and returns what the server wrote until it closed the socket. */
export async function exchange(server: EchoServer, send: (client: RawClient) => Promise<void> | void, endOnClose = false): Promise<{ frames: WireFrame[]; client: RawClient; raw: Uint8Array }> {
  const client = await RawClient.connect(server, undefined, endOnClose);
  if (!client.response.startsWith("HTTP/1.1 101 ")) throw new Error(`handshake refused: ${client.response}`);
  try {
    await send(client);
    const raw = await client.bytesUntilClosed();
    const thrown = client.server?.thrown ?? [];
    if (thrown.length > 0) throw new Error(`parse threw: ${String(thrown[0])}`);
    return { frames: readFrames(raw), client, raw };
  } finally {
    client.destroy();
  }
}

/** Every frame a server writes is unmasked and final, and carries no RSV bit (RFC 6455 §5.1, §5.2). */
export function expectServerFrames(frames: WireFrame[]): void {
  for (const f of frames) {
    expect(f.masked).toBe(false);
    expect(f.rsv).toBe(0);
  }
}

/** The frames end with exactly one close frame carrying `code` (null: an empty close). */
export function expectClosedWith(frames: WireFrame[], code: number | null): void {
  const last = frames[frames.length - 1];
  expect(closeOf(last).code).toBe(code);
  expect(frames.filter((f) => f.opcode === CLOSE)).toHaveLength(1);
}

/**
 * The frames before the close, as [opcode, payload] pairs for comparison. A payload over 4 KiB is
 * replaced by its length and whether it matches the one expected, so a mismatch stays readable
 * and a megabyte is not compared element by element.
 */
export function beforeClose(frames: WireFrame[], expected: Array<[number, Uint8Array]> = []): Array<[number, Uint8Array | string]> {
  return frames.filter((f) => f.opcode !== CLOSE).map((f, i) => [f.opcode, summarize(f.payload, expected[i]?.[1])]);
}

/** What `beforeClose` should return for these expected frames. */
export function expectedFrames(expected: Array<[number, Uint8Array]>): Array<[number, Uint8Array | string]> {
  return expected.map(([opcode, payload]) => [opcode, summarize(payload, payload)]);
}

function summarize(payload: Uint8Array, expected: Uint8Array | undefined): Uint8Array | string {
  if (payload.length <= 4096) return payload;
  const same = expected !== undefined && bytesEqual(payload, expected);
  return `${payload.length} bytes, ${same ? "as sent" : "NOT as sent"}`;
}

/** The server's last recorded `error` message, if any. */
export function serverError(client: RawClient): string | undefined {
  const errors = (client.server?.events ?? []).filter(([type]) => type === "error");
  expect(errors.length).toBeLessThanOrEqual(1);
  const error = errors[0];
  return error ? (error[1] as Error).message : undefined;
}

/** The frames before the close are exactly `expected` (opcode and payload). */
export function expectBeforeClose(frames: WireFrame[], expected: Array<[number, Uint8Array]>): void {
  expect(beforeClose(frames, expected)).toEqual(expectedFrames(expected));
}
