/**
 * The opening handshake of a WebSocket over one HTTP/2 stream (RFC 8441): an extended CONNECT
 * request and its 2xx answer, as HTTP/2 header lists. The pure parts: the checks on each side and
 * the lists each side sends. The frames that follow are RFC 6455's, unchanged (RFC 8441 §5).
 */
import { HandshakeError } from "../errors.js";
import { type HeaderMap, type HeaderRecord, createHeaderMap, shareValue } from "../http/headers.js";
import type { HttpRequest } from "../types.js";

/**
 * An HTTP/2 header list: `[name, value]` pairs, names in lower case (RFC 9113 §8.2.1), the
 * pseudo-headers (`:status`, `:method` …) first (§8.3).
 */
export type HeaderList = Array<[string, string]>;

/** Headers as an HTTP/2 stack hands them over: a header list, or an object (Node's `IncomingHttpHeaders`). */
export type Http2HeadersInput = ReadonlyArray<readonly [string, string]> | HeaderRecord;

/**
 * The only version RFC 8441 §5 carries: the `sec-websocket-version` of an extended CONNECT is 13
 * (the drafts' 7 and 8 have no HTTP/2 mapping).
 */
export const HTTP2_VERSION = "13";

/**
 * Header fields that are HTTP/1.1 connection management and make an HTTP/2 message malformed
 * (RFC 9113 §8.2.2), and the two RFC 6455 keys that RFC 8441 §5 leaves out: the stream itself
 * proves that the server speaks WebSocket, so there is no key to prove it.
 */
const FORBIDDEN_REQUEST_FIELDS = [
  "connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding", "sec-websocket-key",
  "sec-websocket-accept",
];

/** Fields a header list may not carry (RFC 9113 §8.2.2); custom headers of these names are left out. */
const CONNECTION_SPECIFIC = new Set(["connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding", "host"]);

/**
 * Reads an HTTP/2 header list or object into a header map (lower-case names, repeated fields
 * joined with ", " as RFC 9110 §5.3 allows for lists); throws a `HandshakeError` (400) for a
 * pseudo-header given twice (RFC 9113 §8.3), which a list can show and an object cannot.
 */
export function readHttp2Headers(input: Http2HeadersInput): HeaderMap {
  const out = createHeaderMap();
  const pairs: Iterable<readonly [string, unknown]> = Array.isArray(input)
    ? input as ReadonlyArray<readonly [string, string]>
    : Object.entries(input as HeaderRecord);
  for (const [rawName, raw] of pairs) {
    if (raw === undefined) continue;
    const name = rawName.toLowerCase();
    const value = Array.isArray(raw) ? raw.join(", ") : String(raw);
    if (name in out) {
      if (name.startsWith(":")) throw new HandshakeError(400, `Pseudo-header ${name} given twice`);
      out[name] = `${out[name]}, ${value}`;
    } else {
      out[name] = shareValue(name, value);
    }
  }
  return out;
}

/**
 * The request an extended CONNECT stands for: method CONNECT, `:path` as the URL, HTTP 2.0, and
 * its headers with the pseudo-headers kept (`:protocol`, `:scheme`, `:authority`, `:path`) and
 * `host` set from `:authority` when absent (RFC 9113 §8.3.1), so code written for an HTTP/1.1
 * upgrade finds the host where it looks for it.
 */
export function http2Request(headers: HeaderMap): HttpRequest {
  if (headers["host"] === undefined && headers[":authority"] !== undefined) headers["host"] = headers[":authority"];
  return { method: headers[":method"] ?? "", url: headers[":path"] ?? "", httpVersion: "2.0", headers };
}

/**
 * Checks an extended CONNECT against RFC 8441 §4–5 and RFC 9113 §8.5; throws a `HandshakeError`
 * with the status to answer (400) and a message that names what was wrong.
 */
export function checkExtendedConnect(request: HttpRequest): void {
  const { headers } = request;
  const method = headers[":method"];
  if (method === undefined) throw new HandshakeError(400, "Missing :method pseudo-header");
  if (method !== "CONNECT") throw new HandshakeError(400, `A WebSocket over HTTP/2 is opened with :method CONNECT, not ${method} (RFC 8441 §4)`);
  const protocol = headers[":protocol"];
  if (protocol === undefined) throw new HandshakeError(400, "Missing :protocol pseudo-header: a plain CONNECT is not a WebSocket (RFC 8441 §4)");
  if (protocol !== "websocket") throw new HandshakeError(400, `:protocol must be 'websocket', not '${protocol}' (RFC 8441 §5)`);
  // RFC 8441 §4: "A CONNECT request bearing the :protocol pseudo-header MUST also include :scheme and :path."
  const scheme = headers[":scheme"];
  if (scheme === undefined) throw new HandshakeError(400, "Missing :scheme pseudo-header (RFC 8441 §4)");
  if (scheme !== "https" && scheme !== "http") throw new HandshakeError(400, `:scheme must be 'https' or 'http', not '${scheme}' (RFC 8441 §5)`);
  const path = headers[":path"];
  if (path === undefined || path === "") throw new HandshakeError(400, "Missing :path pseudo-header (RFC 8441 §4)");
  if (!path.startsWith("/")) throw new HandshakeError(400, `:path must start with '/', not '${path}' (RFC 9113 §8.3.1)`);
  if (!(headers[":authority"] ?? "").trim()) throw new HandshakeError(400, "Missing :authority pseudo-header (RFC 8441 §4)");
  for (const name of FORBIDDEN_REQUEST_FIELDS) {
    if (headers[name] !== undefined) {
      throw new HandshakeError(400, name.startsWith("sec-")
        ? `${name} is not used over HTTP/2 (RFC 8441 §5)`
        : `${name} is a connection-specific header, malformed in HTTP/2 (RFC 9113 §8.2.2)`);
    }
  }
  const version = (headers["sec-websocket-version"] ?? "").trim();
  if (version !== HTTP2_VERSION) {
    throw new HandshakeError(400, version === ""
      ? "Missing sec-websocket-version header"
      : `Unsupported sec-websocket-version: ${version}`);
  }
}

/**
 * Custom headers as HTTP/2 fields: names in lower case (RFC 9113 §8.2.1), and none that HTTP/2
 * forbids (§8.2.2; `host` is `:authority`'s), which would make the message malformed.
 */
function customFields(custom: ReadonlyArray<readonly [string, string]>): HeaderList {
  const out: HeaderList = [];
  for (const [name, value] of custom) {
    const key = name.toLowerCase();
    if (!CONNECTION_SPECIFIC.has(key)) out.push([key, value]);
  }
  return out;
}

/** The 200 that opens the WebSocket (RFC 8441 §5), with the subprotocol and extensions chosen. */
export function http2Acceptance(
  protocol: string, extensions: string, custom: ReadonlyArray<readonly [string, string]>,
): HeaderList {
  const headers: HeaderList = [[":status", "200"]];
  if (protocol) headers.push(["sec-websocket-protocol", protocol]);
  if (extensions) headers.push(["sec-websocket-extensions", extensions]);
  return headers.concat(customFields(custom));
}

/**
 * The answer that refuses an extended CONNECT: the status, a plain-text body follows. A version
 * mismatch names the version served (RFC 6455 §4.2.2 item 4): over HTTP/2 the status is 400, as
 * 426 asks for an `Upgrade` field that HTTP/2 forbids (RFC 9113 §8.2.2).
 */
export function http2Refusal(error: HandshakeError): HeaderList {
  const headers: HeaderList = [[":status", String(error.status)], ["content-type", "text/plain; charset=utf-8"]];
  if (/sec-websocket-version/.test(error.message)) headers.push(["sec-websocket-version", HTTP2_VERSION]);
  return headers;
}

export interface Http2RequestParts {
  url: URL;
  protocols: readonly string[];
  extensions: string;
  origin?: string;
  /** `Basic …` from the URL's credentials, or null. */
  authorization: string | null;
  custom: ReadonlyArray<readonly [string, string]>;
}

/**
 * The extended CONNECT a client sends (RFC 8441 §5): `wss:` is `:scheme https`, `ws:` is `http`;
 * a custom `Host` becomes `:authority`, a custom `Origin` or `Authorization` replaces the driver's.
 */
export function http2ConnectRequest(parts: Http2RequestParts): HeaderList {
  const { url } = parts;
  const replaced = new Map<string, string>();
  const custom: Array<readonly [string, string]> = [];
  for (const [name, value] of parts.custom) {
    const key = name.toLowerCase();
    if ((key === "host" || key === "origin" || key === "authorization") && !replaced.has(key)) replaced.set(key, value);
    else custom.push([name, value]);
  }
  const headers: HeaderList = [
    [":method", "CONNECT"],
    [":protocol", "websocket"],
    [":scheme", url.protocol === "wss:" ? "https" : "http"],
    [":path", (url.pathname || "/") + url.search],
    [":authority", replaced.get("host") ?? url.host],
    ["sec-websocket-version", HTTP2_VERSION],
  ];
  if (parts.protocols.length > 0) headers.push(["sec-websocket-protocol", parts.protocols.join(", ")]);
  if (parts.extensions) headers.push(["sec-websocket-extensions", parts.extensions]);
  const origin = replaced.has("origin") ? replaced.get("origin") : parts.origin || undefined;
  if (origin !== undefined) headers.push(["origin", origin]);
  const authorization = replaced.get("authorization") ?? parts.authorization;
  if (authorization !== null) headers.push(["authorization", authorization]);
  return headers.concat(customFields(custom));
}

/**
 * Checks the answer to an extended CONNECT: any 2xx opens the WebSocket (RFC 8441 §5, RFC 9113
 * §8.5); returns the subprotocol chosen, or throws a `HandshakeError` with the status.
 */
export function checkHttp2Response(status: number, headers: HeaderMap, protocols: readonly string[]): string {
  if (!(status >= 200 && status < 300)) throw new HandshakeError(status, `Unexpected response code: ${status}`);
  const protocol = (headers["sec-websocket-protocol"] ?? "").trim();
  if (protocol && !protocols.includes(protocol)) {
    throw new HandshakeError(status, `sec-websocket-protocol '${protocol}' was not offered`);
  }
  return protocol;
}
