/**
 * The two readers compared by the differential specs: wsdriver's RFC 6455 driver (server or
 * client, after a real opening handshake) and ws 8's `Receiver`, the frame reader behind every
 * `ws` connection, configured as the same role with the same `maxPayload` and, when asked, with
 * permessage-deflate accepted. Each is handed the same pieces of bytes, and what each concludes is
 * written down in one comparable form, in order:
 *
 *   ["text", string] / ["binary", base64]   a message delivered
 *   ["ping", base64] / ["pong", base64]     a control frame delivered
 *   ["close", code, reason]                 the peer's close frame (1005 for an empty one)
 *   ["fail", code, message]                 a protocol violation and the close code it maps to
 */
import { dirname, join } from "node:path";
import { Driver } from "../../lib/driver";
import { deflate } from "../../lib/extensions/permessage-deflate";
import { CollectingIO, requestKey, upgradeRequest, upgradeResponse, utf8 } from "../support/wire";

export type Conclusion =
  | ["text", string]
  | ["binary", string]
  | ["ping", string]
  | ["pong", string]
  | ["close", number, string]
  | ["fail", number, string];

export type Role = "server" | "client";

export interface Setup {
  /** Which end reads: a server reads masked frames, a client unmasked ones. */
  role: Role;
  /** Our `maxLength`, ws's `maxPayload` (ws reads 0 as "no limit", so it is at least 1 here). */
  maxPayload: number;
  /** permessage-deflate negotiated, with no parameters (context takeover, 15-bit windows). */
  deflate: boolean;
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/** wsdriver: a driver opened by a real handshake, then handed `pieces` one `parse` call each. */
export function runOurs(setup: Setup, pieces: Uint8Array[]): Conclusion[] {
  const io = new CollectingIO();
  const out: Conclusion[] = [];
  const extensions: Record<string, string> = setup.deflate ? { "Sec-WebSocket-Extensions": "permessage-deflate" } : {};
  let driver;
  if (setup.role === "server") {
    driver = Driver.server(io, { maxLength: setup.maxPayload });
    if (setup.deflate) driver.addExtension(deflate());
    const server = driver;
    driver.on("connect", () => server.start());
    driver.parse(utf8(upgradeRequest(extensions)));
  } else {
    driver = Driver.client("ws://example.com/chat", io, { maxLength: setup.maxPayload });
    if (setup.deflate) driver.addExtension(deflate());
    driver.start();
    const key = requestKey(io.text());
    driver.parse(utf8(upgradeResponse(key, setup.deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "")));
  }
  if (driver.readyState !== 1) throw new Error(`the handshake did not open the ${setup.role} driver`);
  let failed = false;
  driver.on("message", ({ data }) => out.push(typeof data === "string" ? ["text", data] : ["binary", base64(data)]));
  driver.on("ping", ({ data }) => out.push(["ping", base64(data)]));
  driver.on("pong", ({ data }) => out.push(["pong", base64(data)]));
  driver.on("error", (error) => {
    failed = true;
    out.push(["fail", (error as Error & { code: number }).code, error.message]);
  });
  driver.on("close", ({ code, reason }) => {
    if (!failed) out.push(["close", code, reason]);
  });
  for (const piece of pieces) driver.parse(piece);
  return out;
}

/** The part of ws's `Receiver` (ws/lib/receiver.js) driven here. */
interface WsReceiver {
  _write(chunk: Buffer, encoding: string, callback: (error?: Error | null) => void): void;
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: "ping" | "pong", listener: (data: Buffer) => void): unknown;
  on(event: "conclude", listener: (code: number, reason: Buffer) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}

interface WsPerMessageDeflate {
  accept(configurations: object[]): object;
  cleanup(): void;
}

// ws's package exports hide lib/, so its files are required by path, next to its package.json.
const wsLib = join(dirname(require.resolve("ws/package.json")), "lib");
const Receiver = require(join(wsLib, "receiver.js")) as new (options: object) => WsReceiver;
const PerMessageDeflate = require(join(wsLib, "permessage-deflate.js")) as new (options: object) => WsPerMessageDeflate;
const { kStatusCode } = require(join(wsLib, "constants.js")) as { kStatusCode: symbol };

/**
 * ws: a `Receiver` as a `WebSocket` of that role makes one, handed `pieces` one `_write` each. Each
 * write is awaited (inflating is asynchronous in ws); after an error or a close frame nothing more
 * is written, as ws then stops reading the socket.
 */
export async function runWs(setup: Setup, pieces: Uint8Array[]): Promise<Conclusion[]> {
  const isServer = setup.role === "server";
  const extensions: Record<string, WsPerMessageDeflate> = {};
  let perMessageDeflate: WsPerMessageDeflate | null = null;
  if (setup.deflate) {
    perMessageDeflate = new PerMessageDeflate({ isServer, maxPayload: setup.maxPayload });
    // The offer (server) or response (client) "permessage-deflate", with no parameters.
    perMessageDeflate.accept([{}]);
    extensions["permessage-deflate"] = perMessageDeflate;
  }
  const receiver = new Receiver({ isServer, maxPayload: setup.maxPayload, extensions });
  const out: Conclusion[] = [];
  let done = false;
  receiver.on("message", (data, isBinary) => out.push(isBinary ? ["binary", base64(data)] : ["text", data.toString("utf8")]));
  receiver.on("ping", (data) => out.push(["ping", base64(data)]));
  receiver.on("pong", (data) => out.push(["pong", base64(data)]));
  receiver.on("conclude", (code, reason) => {
    done = true;
    out.push(["close", code, reason.toString("utf8")]);
  });
  // `end()` after a close frame, and errors reported through the callback, may also be emitted.
  receiver.on("error", () => {});
  try {
    for (const piece of pieces) {
      if (done) break;
      const error = await new Promise<Error | null | undefined>((resolve) => receiver._write(Buffer.from(piece), "buffer", resolve));
      if (error) {
        done = true;
        out.push(["fail", (error as Error & Record<symbol, number>)[kStatusCode], error.message]);
      }
    }
  } finally {
    perMessageDeflate?.cleanup();
  }
  return out;
}
