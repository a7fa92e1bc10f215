/**
 * The client's side of the RFC 6455 §4.1 opening handshake: the request, and the checks on the
 * server's response.
 */
import { HandshakeError } from "../errors.js";
import { type HeaderMap, hasToken, serializeHead } from "../http/headers.js";
import type { ResponseHead } from "../http/head.js";
import { base64Encode } from "../util/base64.js";
import { randomBytes } from "../util/random.js";
import { acceptKey } from "./accept.js";
import type { ExtensionContext } from "../extensions/extension.js";
import { ExtensionNegotiator, type ExtensionPipeline } from "../extensions/pipeline.js";

export function generateKey(): string {
  // RFC 6455 §4.1: "a randomly selected 16-byte value", base64-encoded.
  return base64Encode(randomBytes(16));
}

export interface ClientRequestParts {
  url: URL;
  key: string;
  protocols: readonly string[];
  extensions: string;
  origin?: string;
  /** `Basic …` from the URL's credentials, or null. */
  authorization: string | null;
  custom: ReadonlyArray<readonly [string, string]>;
}

/**
 * Headers the driver writes that a custom header of the same name (any case) replaces, in their
 * place: none of them may appear twice (RFC 9110 §5.3; RFC 9112 §3.2 has a server refuse two Host
 * lines), and a `Host` for a server reached by its address is what `headers: { Host }` is for.
 */
const REPLACEABLE = ["host", "origin", "authorization"];

export function hybiRequest(parts: ClientRequestParts): string {
  const { url } = parts;
  const path = (url.pathname || "/") + url.search;
  let custom = parts.custom;
  const replaced = new Map<string, string>();
  if (custom.some(([name]) => REPLACEABLE.includes(name.toLowerCase()))) {
    custom = custom.filter(([name, value]) => {
      const key = name.toLowerCase();
      if (!REPLACEABLE.includes(key) || replaced.has(key)) return true;
      replaced.set(key, value);
      return false;
    });
  }
  const headers: Array<readonly [string, string]> = [
    ["Host", replaced.get("host") ?? url.host],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", parts.key],
    ["Sec-WebSocket-Version", "13"],
  ];
  if (parts.protocols.length > 0) headers.push(["Sec-WebSocket-Protocol", parts.protocols.join(", ")]);
  if (parts.extensions) headers.push(["Sec-WebSocket-Extensions", parts.extensions]);
  const origin = replaced.has("origin") ? replaced.get("origin") : parts.origin || undefined;
  if (origin !== undefined) headers.push(["Origin", origin]);
  const authorization = replaced.get("authorization") ?? parts.authorization;
  if (authorization !== null) headers.push(["Authorization", authorization]);
  return serializeHead(`GET ${path} HTTP/1.1`, [...headers, ...custom]);
}

/** Checks a response against RFC 6455 §4.1; returns the subprotocol chosen, or throws a `HandshakeError`. */
export function checkHybiResponse(response: ResponseHead, key: string, protocols: readonly string[]): string {
  const headers: HeaderMap = response.headers;
  const status = response.statusCode;
  if (status !== 101) {
    throw new HandshakeError(status, `Unexpected response code: ${status}${response.statusMessage ? " " + response.statusMessage : ""}`);
  }
  if (!hasToken(headers["upgrade"], "websocket")) throw new HandshakeError(status, "Upgrade header must be 'websocket'");
  if (!hasToken(headers["connection"], "upgrade")) throw new HandshakeError(status, "Connection header must contain 'Upgrade'");
  if ((headers["sec-websocket-accept"] ?? "").trim() !== acceptKey(key)) {
    throw new HandshakeError(status, "Sec-WebSocket-Accept mismatch");
  }
  const protocol = (headers["sec-websocket-protocol"] ?? "").trim();
  if (protocol && !protocols.includes(protocol)) {
    throw new HandshakeError(status, `Sec-WebSocket-Protocol '${protocol}' was not offered`);
  }
  return protocol;
}

/**
 * Checks the server's `Sec-WebSocket-Extensions` against what was offered (RFC 6455 §4.1: "If the
 * response includes a |Sec-WebSocket-Extensions| header field and this header field indicates the
 * use of an extension that was not present in the client's handshake ... the client MUST _Fail the
 * WebSocket Connection_") and starts the accepted extensions; throws a `HandshakeError`.
 */
export function acceptExtensions(
  response: ResponseHead, negotiator: ExtensionNegotiator | null, context: ExtensionContext,
): ExtensionPipeline | null {
  const header = response.headers["sec-websocket-extensions"];
  if (negotiator === null && header === undefined) return null;
  try {
    return (negotiator ?? new ExtensionNegotiator()).activate(header, context);
  } catch (error) {
    throw new HandshakeError(response.statusCode, (error as Error).message);
  }
}
