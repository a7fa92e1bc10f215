/**
 * Test support for the draft drivers: the example requests of draft-hixie-75 and -76 and their
 * answers, a draft frame builder, and a server driver that has answered a draft handshake.
 */
import { Driver } from "../../lib/driver";
import type { ServerOptions } from "../../lib/options";
import type { ServerDriver } from "../../lib/types";
import { CollectingIO, type Recorded, concat, record, utf8 } from "../support/wire";

export const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** draft-hixie-thewebsocketprotocol-76 §1.3: the client's handshake, its 8-byte body apart. */
export const DRAFT76_HEAD =
  "GET /demo HTTP/1.1\r\n" +
  "Host: example.com\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n" +
  "Sec-WebSocket-Protocol: sample\r\n" +
  "Upgrade: WebSocket\r\n" +
  "Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n" +
  "Origin: http://example.com\r\n" +
  "\r\n";
export const DRAFT76_BODY = "^n:ds[4U";

/** draft-hixie-76 §1.3: the server's answer, head and 16-byte digest. */
export const DRAFT76_RESPONSE =
  "HTTP/1.1 101 WebSocket Protocol Handshake\r\n" +
  "Upgrade: WebSocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Sec-WebSocket-Origin: http://example.com\r\n" +
  "Sec-WebSocket-Location: ws://example.com/demo\r\n" +
  "Sec-WebSocket-Protocol: sample\r\n" +
  "\r\n" +
  "8jKS'y:G*Co,Wxa-";

/** draft-hixie-thewebsocketprotocol-75 §1.2: the client's handshake. */
export const DRAFT75_REQUEST =
  "GET /demo HTTP/1.1\r\n" +
  "Upgrade: WebSocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Host: example.com\r\n" +
  "Origin: http://example.com\r\n" +
  "WebSocket-Protocol: sample\r\n" +
  "\r\n";

/** draft-hixie-75 §1.2: the server's answer. */
export const DRAFT75_RESPONSE =
  "HTTP/1.1 101 Web Socket Protocol Handshake\r\n" +
  "Upgrade: WebSocket\r\n" +
  "Connection: Upgrade\r\n" +
  "WebSocket-Origin: http://example.com\r\n" +
  "WebSocket-Location: ws://example.com/demo\r\n" +
  "WebSocket-Protocol: sample\r\n" +
  "\r\n";

/** A draft text frame: 0x00, the UTF-8 bytes, 0xFF. */
export function textFrame(text: string | Uint8Array): Uint8Array {
  const data = typeof text === "string" ? utf8(text) : text;
  return concat(Uint8Array.of(0x00), data, Uint8Array.of(0xff));
}

/** A length-prefixed frame: the type byte, the length in 7-bit groups (high bit: more follow), the bytes. */
export function lengthFrame(type: number, payload: Uint8Array): Uint8Array {
  const groups: number[] = [];
  let length = payload.length;
  do {
    groups.unshift(length & 0x7f);
    length = Math.floor(length / 128);
  } while (length > 0);
  for (let i = 0; i < groups.length - 1; i++) groups[i] |= 0x80;
  return concat(Uint8Array.of(type, ...groups), payload);
}

export const CLOSING_FRAME = Uint8Array.of(0xff, 0x00);

export type Draft = "hixie-75" | "hixie-76";

/** The example request of a draft, body included. */
export function exampleRequest(draft: Draft): Uint8Array {
  return draft === "hixie-76" ? latin1(DRAFT76_HEAD + DRAFT76_BODY) : latin1(DRAFT75_REQUEST);
}

/** A `Driver.server` with drafts allowed that has answered a draft's example request; its output is discarded. */
export function openDraft(draft: Draft, options: ServerOptions = {}): { driver: ServerDriver; io: CollectingIO; events: Recorded[] } {
  const io = new CollectingIO();
  const driver = Driver.server(io, { allowDrafts: true, ...options });
  driver.on("connect", () => driver.start());
  driver.parse(exampleRequest(draft));
  if (driver.readyState !== 1) throw new Error(`${draft} example did not open`);
  io.take();
  return { driver, io, events: record(driver) };
}
