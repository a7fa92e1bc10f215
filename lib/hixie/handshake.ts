/**
 * The server's side of the draft opening handshakes: telling a draft request from an RFC 6455 one,
 * checking it, the draft-76 challenge, and the 101 response heads of draft-hixie-75 and -76.
 */
import { HandshakeError } from "../errors.js";
import { hasToken, isSafeHeader, serializeHead } from "../http/headers.js";
import { isWebSocket } from "../request.js";
import type { HttpRequest } from "../types.js";
import { md5 } from "./md5.js";

export type DraftVersion = "hixie-75" | "hixie-76";

/**
 * The draft a request speaks, or null for RFC 6455. `Sec-WebSocket-Version` or `Sec-WebSocket-Key`
 * mean hybi; `Sec-WebSocket-Key1`/`Key2` mean draft-76; neither means draft-75. When drafts are not
 * served, a request that does not even ask for an upgrade is left to the RFC 6455 driver, whose
 * answer says what is missing.
 */
export function draftVersionOf(request: HttpRequest, allowDrafts: boolean): DraftVersion | null {
  const headers = request.headers;
  if (headers["sec-websocket-version"] !== undefined || headers["sec-websocket-key"] !== undefined) return null;
  if (headers["sec-websocket-key1"] !== undefined || headers["sec-websocket-key2"] !== undefined) return "hixie-76";
  if (allowDrafts || isWebSocket(request)) return "hixie-75";
  return null;
}

/**
 * Checks what both drafts ask of a request (draft-hixie-76 §5.1, draft-hixie-75 §4.2); throws a
 * `HandshakeError` with the status to answer.
 */
export function checkDraftRequest(request: HttpRequest, version: DraftVersion, allowDrafts: boolean): void {
  const { headers } = request;
  if (!allowDrafts) {
    throw new HandshakeError(400, `The ${version} draft protocol is disabled: the server does not set allowDrafts`);
  }
  if (request.method !== "GET") throw new HandshakeError(400, `Opening handshake must use GET, not ${request.method}`);
  if (request.httpVersion !== undefined && !/^(1\.[1-9]|[2-9]\.\d)$/.test(request.httpVersion)) {
    throw new HandshakeError(400, `Opening handshake must be HTTP/1.1 or later, not HTTP/${request.httpVersion}`);
  }
  if (!hasToken(headers["upgrade"], "websocket")) throw new HandshakeError(400, "Upgrade header must be 'WebSocket'");
  if (!hasToken(headers["connection"], "upgrade")) throw new HandshakeError(400, "Connection header must contain 'Upgrade'");
  // The location sent back is built from Host and the request URL, the origin echoed: none of them
  // may carry CR, LF or NUL into the response (a request handed to `fromRequest` is not parsed by us).
  if (!headers["host"]) throw new HandshakeError(400, "Missing Host header");
  for (const [name, value] of [["Host", headers["host"]], ["Origin", headers["origin"] ?? ""], ["URL", request.url]]) {
    if (!isSafeHeader("x", value)) throw new HandshakeError(400, `${name} holds a character not allowed in a header`);
  }
}

/**
 * The number a draft-76 key stands for (draft-hixie-76 §5.2): its digits read as a decimal
 * number, divided by its count of spaces. A key without spaces, or whose number is not a whole
 * multiple of them, is refused: a symptom of a cross-protocol attack, the draft says.
 */
export function keyNumber(name: string, key: string | undefined): number {
  if (key === undefined) throw new HandshakeError(400, `Missing ${name} header`);
  const digits = key.replace(/[^0-9]/g, "").replace(/^0+(?=\d)/, "");
  const spaces = key.split(" ").length - 1;
  if (digits === "") throw new HandshakeError(400, `${name} has no digits`);
  if (spaces === 0) throw new HandshakeError(400, `${name} has no spaces`);
  // A client's key number is at most 4,294,967,295 (§4.1); longer digit strings would also
  // lose precision as a double.
  if (digits.length > 10) throw new HandshakeError(400, `${name} is out of range`);
  const number = Number(digits);
  if (number % spaces !== 0) throw new HandshakeError(400, `${name}: ${number} is not a multiple of its ${spaces} spaces`);
  const value = number / spaces;
  if (value > 0xffffffff) throw new HandshakeError(400, `${name} is out of range`);
  return value;
}

/**
 * The draft-76 challenge response (§5.2): the MD5 digest of the two key numbers as
 * 32-bit big-endian integers followed by the 8 bytes of the request body.
 */
export function challengeResponse(number1: number, number2: number, key3: Uint8Array): Uint8Array {
  const challenge = new Uint8Array(16);
  const view = new DataView(challenge.buffer);
  view.setUint32(0, number1);
  view.setUint32(4, number2);
  challenge.set(key3.subarray(0, 8), 8);
  return md5(challenge);
}

/**
 * The WebSocket URL of the request (`ws:` or `wss:` from the `secure` option, since a sans-I/O
 * driver cannot see TLS), sent back as the location in both drafts.
 */
export function locationOf(request: HttpRequest, secure: boolean): string {
  return `${secure ? "wss" : "ws"}://${request.headers["host"]}${request.url}`;
}

export interface DraftResponse {
  origin: string | undefined;
  location: string;
  protocol: string;
  custom: ReadonlyArray<readonly [string, string]>;
}

/**
 * The 101 response head. draft-hixie-75 §4.1 names its fields `WebSocket-Origin`, `-Location` and
 * `-Protocol` under "Web Socket Protocol Handshake"; draft-76 §5.2 prefixes them with `Sec-` under
 * "WebSocket Protocol Handshake", and its digest follows the head.
 */
export function draftResponse(version: DraftVersion, response: DraftResponse): string {
  const prefix = version === "hixie-76" ? "Sec-WebSocket-" : "WebSocket-";
  const status = version === "hixie-76" ? "WebSocket Protocol Handshake" : "Web Socket Protocol Handshake";
  const headers: Array<readonly [string, string]> = [["Upgrade", "WebSocket"], ["Connection", "Upgrade"]];
  if (response.origin !== undefined) headers.push([`${prefix}Origin`, response.origin]);
  headers.push([`${prefix}Location`, response.location]);
  if (response.protocol) headers.push([`${prefix}Protocol`, response.protocol]);
  return serializeHead(`HTTP/1.1 101 ${status}`, [...headers, ...response.custom]);
}
