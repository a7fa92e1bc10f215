/**
 * Opening handshakes by hand: RFC 6455 §4.1 requests and §4.2.2 responses with any header changed
 * or left out, and the example requests of the hixie-75 and hixie-76 drafts.
 */
import { acceptKey } from "../hybi/accept.js";
import { concatBytes, latin1Encode } from "../util/bytes.js";

/** The `Sec-WebSocket-Key` of RFC 6455 §1.3's example ("the sample nonce"). */
export const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/**
 * A valid opening handshake request (RFC 6455 §1.3, for `/chat`), with headers added or replaced by
 * `headers`; a header given as `null` is left out, so a test can send a request that lacks one.
 */
export function upgradeRequest(headers: Record<string, string | null> = {}, startLine = "GET /chat HTTP/1.1"): string {
  const all: Record<string, string | null> = {
    Host: "server.example.com",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": SAMPLE_KEY,
    "Sec-WebSocket-Version": "13",
    ...headers,
  };
  let head = startLine + "\r\n";
  for (const [name, value] of Object.entries(all)) if (value !== null) head += `${name}: ${value}\r\n`;
  return head + "\r\n";
}

/** The 101 response a server writes for `key` (RFC 6455 §4.2.2), with `extra` header lines (each ending in CRLF). */
export function upgradeResponse(key: string, extra = ""): string {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`;
}

/** The `Sec-WebSocket-Key` of a request head. */
export function requestKey(request: string): string {
  const match = /^sec-websocket-key:[ \t]*(\S+)[ \t]*\r$/im.exec(request);
  if (!match) throw new Error("No Sec-WebSocket-Key in the request");
  return match[1];
}

/** A draft protocol the server side can speak (see docs/drafts.md). */
export type Draft = "hixie-75" | "hixie-76";

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

/** The example request of a draft, hixie-76's key body included. */
export function draftRequest(draft: Draft): Uint8Array {
  return latin1Encode(draft === "hixie-76" ? DRAFT76_HEAD + DRAFT76_BODY : DRAFT75_REQUEST);
}

/** A draft text frame: 0x00, the UTF-8 bytes, 0xFF. */
export function draftTextFrame(text: string | Uint8Array): Uint8Array {
  const data = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return concatBytes([Uint8Array.of(0x00), data, Uint8Array.of(0xff)]);
}

/** A draft length-prefixed frame: the type byte, the length in 7-bit groups (high bit: more follow), the bytes. */
export function draftLengthFrame(type: number, payload: Uint8Array): Uint8Array {
  const groups: number[] = [];
  let length = payload.length;
  do {
    groups.unshift(length & 0x7f);
    length = Math.floor(length / 128);
  } while (length > 0);
  for (let i = 0; i < groups.length - 1; i++) groups[i] |= 0x80;
  return concatBytes([Uint8Array.of(type, ...groups), payload]);
}

/** hixie-76's closing frame. */
export const DRAFT_CLOSING_FRAME: Uint8Array = Uint8Array.of(0xff, 0x00);
