/**
 * The loopback exchange each runtime's adapter test runs, with no runtime-specific API: an echo
 * handler for the server side, and a client script that sends text, binary of several sizes and a
 * ping, then closes with a code and reason. The result is printed as one JSON line for the spec.
 */
import type { ClientDriver, ServerDriver } from "../../../lib/types.js";

export const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];
export const TEXT = "héllo wörld ☃ 😀";

export function payloadOf(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + 7) & 0xff;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Echoes every message; resolves with the close the server saw. */
export function echo(driver: ServerDriver): Promise<{ code: number; reason: string; url: string | undefined }> {
  driver.on("connect", () => driver.start());
  driver.on("message", ({ data }) => (typeof data === "string" ? driver.text(data) : driver.binary(data)));
  return new Promise((resolve) => driver.on("close", ({ code, reason }) => resolve({ code, reason, url: driver.request?.url })));
}

export interface ExchangeResult {
  text: string;
  binaries: boolean[];
  pong: string;
  close: number;
}

export async function exchange(driver: ClientDriver): Promise<ExchangeResult> {
  const messages: Array<string | Uint8Array> = [];
  let arrived: () => void = () => undefined;
  driver.on("message", ({ data }) => {
    messages.push(data);
    if (messages.length === SIZES.length + 1) arrived();
  });
  const allArrived = new Promise<void>((resolve) => { arrived = resolve; });
  const closed = new Promise<number>((resolve) => driver.on("close", ({ code }) => resolve(code)));
  // Sent before open: the driver queues them until the handshake completes.
  driver.text(TEXT);
  for (const size of SIZES) driver.binary(payloadOf(size));
  await allArrived;
  const pong = await new Promise<string>((resolve) => {
    driver.on("pong", ({ data }) => resolve(new TextDecoder().decode(data)));
    driver.ping("are you there");
  });
  driver.close("done here", 4001);
  return {
    text: messages[0] as string,
    binaries: SIZES.map((size, i) => messages[i + 1] instanceof Uint8Array && sameBytes(messages[i + 1] as Uint8Array, payloadOf(size))),
    pong,
    close: await closed,
  };
}
