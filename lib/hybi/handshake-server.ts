/**
 * The server's side of the RFC 6455 §4.2 opening handshake: checking the client's request and
 * writing the 101 response, or the error response that refuses it.
 */
import { HandshakeError } from "../errors.js";
import { reasonPhrase } from "../http/rejection.js";
import { type HeaderMap, hasToken, serializeHead, splitList } from "../http/headers.js";
import { base64Decode } from "../util/base64.js";
import { acceptKey } from "./accept.js";
import type { ExtensionContext } from "../extensions/extension.js";
import { ExtensionNegotiator, type ExtensionPipeline } from "../extensions/pipeline.js";

/** The versions served with RFC 6455 framing: 13, and 7 and 8 whose framing is the same (as ws and websocket-driver do). */
export const SUPPORTED_VERSIONS = ["13", "8", "7"];

export interface ParsedRequest {
  method: string;
  url: string;
  httpVersion?: string;
  headers: HeaderMap;
}

/** Checks a request against RFC 6455 §4.2.1; throws a `HandshakeError` with the status to answer. */
export function checkHybiRequest(request: ParsedRequest): void {
  const { headers } = request;
  if (request.method !== "GET") throw new HandshakeError(400, `Opening handshake must use GET, not ${request.method}`);
  if (request.httpVersion !== undefined && !/^(1\.[1-9]|[2-9]\.\d)$/.test(request.httpVersion)) {
    throw new HandshakeError(400, `Opening handshake must be HTTP/1.1 or later, not HTTP/${request.httpVersion}`);
  }
  // RFC 6455 §4.2.1 item 2 and RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400.
  if (!(headers["host"] ?? "").trim()) throw new HandshakeError(400, "Missing Host header");
  if (!hasToken(headers["upgrade"], "websocket")) {
    throw new HandshakeError(400, "Upgrade header must be 'websocket'");
  }
  if (!hasToken(headers["connection"], "upgrade")) {
    throw new HandshakeError(400, "Connection header must contain 'Upgrade'");
  }
  const version = (headers["sec-websocket-version"] ?? "").trim();
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new HandshakeError(426, version === ""
      ? "Missing Sec-WebSocket-Version header"
      : `Unsupported Sec-WebSocket-Version: ${version}`);
  }
  const key = (headers["sec-websocket-key"] ?? "").trim();
  const decoded = base64Decode(key);
  if (decoded === null || decoded.length !== 16) {
    throw new HandshakeError(400, "Sec-WebSocket-Key must be base64 of 16 bytes");
  }
}

/** The server's first preference that the client offered (RFC 6455 §4.2.2 step 5.4), or "". */
export function selectProtocol(offered: string | undefined, accepted: readonly string[]): string {
  const offers = splitList(offered);
  return accepted.find((protocol) => offers.includes(protocol)) ?? "";
}

/**
 * Answers the client's `Sec-WebSocket-Extensions` offers (RFC 6455 §9.1) with the extensions the
 * server has: the response header value ("" for none) and the negotiated pipeline. A malformed
 * header is refused with a `HandshakeError` (400) even when the server has no extensions.
 */
export function respondToExtensions(
  header: string | undefined, negotiator: ExtensionNegotiator | null, context: ExtensionContext,
): { header: string; pipeline: ExtensionPipeline | null } {
  if (header === undefined) return { header: "", pipeline: null };
  try {
    return (negotiator ?? new ExtensionNegotiator()).respond(header, context);
  } catch (error) {
    throw new HandshakeError(400, (error as Error).message);
  }
}

export function hybiResponse(
  key: string,
  protocol: string,
  extensions: string,
  custom: ReadonlyArray<readonly [string, string]>,
): string {
  const headers: Array<readonly [string, string]> = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", acceptKey(key.trim())],
  ];
  if (protocol) headers.push(["Sec-WebSocket-Protocol", protocol]);
  if (extensions) headers.push(["Sec-WebSocket-Extensions", extensions]);
  return serializeHead("HTTP/1.1 101 Switching Protocols", [...headers, ...custom]);
}

/**
 * The response that refuses a handshake: the status, a plain-text body saying why, and
 * `Connection: close`. A 5xx body is the reason phrase alone: its message is about the server (an
 * exception thrown by the embedder's code), which is the `error` event's to tell, not the peer's.
 */
export function errorResponse(status: number, message: string): Uint8Array {
  const body = new TextEncoder().encode(status >= 500 ? reasonPhrase(status) : message);
  const headers: Array<readonly [string, string]> = [
    ["Content-Type", "text/plain; charset=utf-8"],
    ["Content-Length", String(body.length)],
    ["Connection", "close"],
  ];
  if (status === 426) headers.push(["Sec-WebSocket-Version", SUPPORTED_VERSIONS.join(", ")]);
  const head = new TextEncoder().encode(serializeHead(`HTTP/1.1 ${status} ${reasonPhrase(status)}`, headers));
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
