/**
 * Helpers for the extension specs: drivers opened with extensions over a collecting `io`, with the
 * handshake bytes in view.
 */
import { Driver } from "../../lib/driver";
import type { DeflateEngine } from "../../lib/extensions/engine";
import type { Extension } from "../../lib/extensions/extension";
import { type ZlibModule, zlibEngine } from "../../lib/node/zlib";
import type { ClientOptions, ServerOptions } from "../../lib/options";
import type { ClientDriver, ServerDriver } from "../../lib/types";
import { CollectingIO, type Recorded, record, requestKey, upgradeRequest, upgradeResponse, utf8 } from "../support/wire";

export { fromHex, hex } from "../../lib/testing";

/** A zlib engine of its own (so its pools start empty) that counts the streams it makes. */
export function countingEngine(): DeflateEngine & { deflaters: number; inflaters: number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const inner = zlibEngine(require("node:zlib") as ZlibModule);
  const engine = {
    deflaters: 0,
    inflaters: 0,
    createDeflater: (options: Parameters<DeflateEngine["createDeflater"]>[0]) => { engine.deflaters++; return inner.createDeflater(options); },
    createInflater: (options: Parameters<DeflateEngine["createInflater"]>[0]) => { engine.inflaters++; return inner.createInflater(options); },
  };
  return engine;
}

/** A server that has read a request offering `offer` (no header if undefined) and answered it. */
export function serverWith(
  extensions: Extension[], offer: string | undefined, options: ServerOptions = {},
): { driver: ServerDriver; io: CollectingIO; events: Recorded[]; response: string } {
  const io = new CollectingIO();
  const driver = Driver.server(io, options);
  for (const extension of extensions) driver.addExtension(extension);
  const events = record(driver);
  driver.on("connect", () => driver.start());
  driver.parse(utf8(upgradeRequest(offer === undefined ? {} : { "Sec-WebSocket-Extensions": offer })));
  const response = io.text();
  io.take();
  // Only what happens after the handshake: `connect` and `open` (or a refusal) are in `response`.
  events.length = 0;
  return { driver, io, events, response };
}

/** The `Sec-WebSocket-Extensions` value of a response or request head, or undefined. */
export function extensionsHeader(head: string): string | undefined {
  const match = /\r\nSec-WebSocket-Extensions: ([^\r]*)\r\n/i.exec(head);
  return match ? match[1] : undefined;
}

/** A client that has sent its offer and read a 101 that answers `answer` (no header if undefined). */
export function clientWith(
  extensions: Extension[], answer: string | undefined, options: ClientOptions = {},
): { driver: ClientDriver; io: CollectingIO; events: Recorded[]; request: string } {
  const io = new CollectingIO();
  const driver = Driver.client("ws://example.com/chat", io, options);
  for (const extension of extensions) driver.addExtension(extension);
  const events = record(driver);
  driver.start();
  const request = io.text();
  io.take();
  const extra = answer === undefined ? "" : `Sec-WebSocket-Extensions: ${answer}\r\n`;
  driver.parse(utf8(upgradeResponse(requestKey(request), extra)));
  return { driver, io, events, request };
}
