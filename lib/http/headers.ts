/**
 * Header helpers. Requests and responses are exposed with header names in lower case, as Node's
 * `IncomingMessage.headers` does; repeated headers are joined with ", " (RFC 9110 §5.3).
 */
import { base64Encode } from "../util/base64.js";
import { utf8Encode } from "../util/bytes.js";

/** A plain header object with names in any case (Node's `req.headers` is one). */
export type HeaderRecord = Record<string, string | string[] | number | undefined>;

/** Headers as the embedder may hand them over: a plain object or a web `Headers`. */
export type HeadersInput = HeaderRecord | Headers;

/** Headers as the driver exposes them: lower-case names, one string each. */
export type HeaderMap = Record<string, string>;

/**
 * `Basic …` from a URL's user and password (RFC 7617, UTF-8), or null when it has neither: the
 * `Authorization` of a client, the `Proxy-Authorization` of a CONNECT. A `TypeError` naming
 * `whose` URL when they are not valid percent-encoding.
 */
export function basicAuthorization(url: URL, whose: string): string | null {
  if (!url.username && !url.password) return null;
  let credentials: string;
  try {
    credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  } catch {
    throw new TypeError(`${whose}'s credentials are not valid percent-encoding`);
  }
  return `Basic ${base64Encode(utf8Encode(credentials))}`;
}

/**
 * The objects a `HeaderMap` is made of: nothing inherited (no `constructor`, no `__proto__`
 * setter, so any header name is safe as a key) like `Object.create(null)`, but in V8's fast mode.
 * A request's headers in an `Object.create(null)` object (a hash table) cost an idle connection
 * about 490 bytes for 7 headers; in one of these, about 80.
 */
class HeaderFields {}
Object.setPrototypeOf(HeaderFields.prototype, null);
delete (HeaderFields.prototype as { constructor?: unknown }).constructor;

/** An empty header map: no inherited properties, compact in memory. */
export function createHeaderMap(): HeaderMap {
  return new HeaderFields() as HeaderMap;
}

/**
 * Values every WebSocket handshake carries (RFC 6455 §4.1, §4.2.2), as constants: a request keeps
 * its headers while the connection is open, and these are then one string shared by every
 * connection instead of one string each.
 */
const COMMON_VALUES: ReadonlyMap<string, string> = new Map(
  ["websocket", "Upgrade", "upgrade", "13", "keep-alive, Upgrade", "permessage-deflate; client_max_window_bits"]
    .map((value) => [value, value]),
);

/**
 * Headers whose values tend to repeat from one connection to the next: the same site, the same
 * browsers. Not the key, cookies or anything else that differs per connection.
 */
const REPEATING = new Set([
  "host", "origin", "user-agent", "sec-websocket-protocol", "sec-websocket-extensions", "accept-encoding",
  "accept-language", "cache-control", "pragma",
]);

/** Values of `REPEATING` headers seen lately, to hand out again; emptied when it reaches its limit. */
const recent = new Map<string, string>();
const RECENT_LIMIT = 256;
/** Longer values are not kept: the table stays small whatever the peers send. */
const RECENT_VALUE_LIMIT = 256;

/**
 * The string to keep for a header value: one already held for an earlier request when the value
 * repeats (a common constant, or a recent value of a header such as `Host`), so 10,000 connections
 * to one host hold one `Host` string, not 10,000 (32 bytes each for "127.0.0.1"; heap snapshot).
 * `own` makes the string to keep when the value is new. Which string is kept is invisible: equal
 * strings are interchangeable.
 */
export function shareValue(name: string, value: string, own: (value: string) => string = (v) => v): string {
  const common = COMMON_VALUES.get(value);
  if (common !== undefined) return common;
  if (!REPEATING.has(name) || value.length > RECENT_VALUE_LIMIT) return own(value);
  const seen = recent.get(value);
  if (seen !== undefined) return seen;
  if (recent.size >= RECENT_LIMIT) recent.clear();
  const kept = own(value);
  recent.set(kept, kept);
  return kept;
}

export function normalizeHeaders(input: HeadersInput | undefined): HeaderMap {
  const out = createHeaderMap();
  if (!input) return out;
  if (typeof Headers !== "undefined" && input instanceof Headers) {
    input.forEach((value, name) => {
      const key = name.toLowerCase();
      out[key] = shareValue(key, value);
    });
    return out;
  }
  for (const [name, raw] of Object.entries(input as HeaderRecord)) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(", ") : String(raw);
    const key = name.toLowerCase();
    out[key] = key in out ? `${out[key]}, ${value}` : shareValue(key, value);
  }
  return out;
}

/**
 * Splits a comma-separated list header into its trimmed, non-empty elements (RFC 9110 §5.6.1).
 */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(",").map((part) => part.trim()).filter((part) => part.length > 0);
}

/** Whether a list header contains `token`, compared case-insensitively. */
export function hasToken(value: string | undefined, token: string): boolean {
  const wanted = token.toLowerCase();
  return splitList(value).some((part) => part.toLowerCase() === wanted);
}

/** RFC 9110 §5.6.2 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/**
 * Whether a header name and value can be written into a head without breaking it: a name must be a
 * token, a value must not hold CR, LF or NUL (RFC 9110 §5.5), which would let it smuggle headers.
 */
export function isSafeHeader(name: string, value: string): boolean {
  return isToken(name) && !/[\r\n\0]/.test(value);
}

/** Serialises a start line and headers into an HTTP/1.1 head, ending with the empty line. */
export function serializeHead(startLine: string, headers: ReadonlyArray<readonly [string, string]>): string {
  let head = startLine + "\r\n";
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  return head + "\r\n";
}
