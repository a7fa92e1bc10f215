/**
 * The server's `origins` check: which web pages may open a connection. Browsers send their cookies
 * with a WebSocket handshake to any site, and the same-origin policy does not apply to WebSockets,
 * so a page on another site can open a socket with the user's session (cross-site WebSocket
 * hijacking); the `Origin` header is the only thing that tells the server whose page it is.
 * RFC 6455 §4.2.2 step 4 and §10.2: a server that checks it answers an unacceptable origin 403.
 */
import { HandshakeError } from "../errors.js";
import type { HeaderMap } from "./headers.js";

/** The allowed origins (`scheme://host[:port]`, or `null`), or a function of the origin that says yes or no. */
export type OriginPolicy = readonly string[] | ((origin: string) => boolean);

/** The options that decide which origins a server accepts (a part of `ServerOptions`). */
export interface OriginOptions {
  origins?: OriginPolicy;
  requireOrigin?: boolean;
}

/** RFC 6454 §6.2 default ports of the schemes a page or a WebSocket URL can have. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: "80", https: "443", ws: "80", wss: "443" };

/** `scheme://host[:port]`: no user, path, query or fragment (RFC 6454 §7.1 serialized-origin). */
const ORIGIN_FORM = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#@\\\s]+)$/;

/**
 * An origin as RFC 6454 §6.2 serialises it: scheme and host in lower case, the scheme's default
 * port left out (and an IDN host as its A-label, an IPv4 address in dotted decimal, as the URL
 * parser and browsers write them). `null` for a value that is not one `scheme://host[:port]`.
 */
export function serializeOrigin(value: string): string | null {
  const match = ORIGIN_FORM.exec(value);
  if (match === null) return null;
  const scheme = match[1].toLowerCase();
  if (scheme in DEFAULT_PORTS) {
    let url: URL;
    try {
      url = new URL(`${scheme}://${match[2]}`);
    } catch {
      return null;
    }
    // The URL parser already drops the special schemes' default ports; ws: and wss: are special too.
    return url.hostname === "" ? null : `${scheme}://${url.host}`;
  }
  // Other schemes (chrome-extension:, app:): no default port is known, the host is kept as written
  // but in lower case.
  const authority = match[2].toLowerCase();
  return /^[^:]+(:\d+)?$/.test(authority) && !authority.startsWith(":") ? `${scheme}://${authority}` : null;
}

/**
 * Checks the `origins` and `requireOrigin` options when a driver is made: a list whose entries are
 * not origins would never match, silently; a `TypeError` says which one is wrong.
 */
export function checkOriginOptions(options: OriginOptions): void {
  const { origins } = options;
  if (origins === undefined || typeof origins === "function") return;
  if (!Array.isArray(origins)) {
    throw new TypeError(`origins must be a list of origins or a function of the origin, got ${typeof origins}`);
  }
  readList(origins);
}

/** A list of origins as it was written, and its entries serialised. */
interface ReadList {
  readonly written: readonly string[];
  readonly serialised: ReadonlySet<string>;
}

/**
 * Lists already read, by the array they came in: every connection of a server shares one options
 * object, and reading its list for each (a URL parse per entry) cost 7-10 us a handshake for three
 * entries. An entry is kept only while the array still holds what was read, so a list changed in
 * place is read again: a removed origin is never let in from a stale copy.
 */
const readLists = new WeakMap<readonly string[], ReadList>();

function readList(origins: readonly string[]): ReadList {
  const known = readLists.get(origins);
  if (known !== undefined && sameEntries(known.written, origins)) return known;
  const serialised = new Set<string>();
  for (const entry of origins) {
    const origin = typeof entry !== "string" ? null : entry === "null" ? entry : serializeOrigin(entry);
    if (origin === null) {
      throw new TypeError(
        `origins: ${JSON.stringify(entry)} is not an origin: give scheme://host[:port] (no path, no trailing slash), ` +
        "or \"null\"; use a function of the origin for anything else");
    }
    serialised.add(origin);
  }
  const list: ReadList = { written: origins.slice(), serialised };
  readLists.set(origins, list);
  return list;
}

function sameEntries(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The headers that carry the page's origin: `Origin` (RFC 6455 §4.1 item 8, both drafts) and
 * `Sec-WebSocket-Origin`, which browsers speaking versions 7 and 8 sent instead.
 */
const ORIGIN_HEADERS: ReadonlyArray<readonly [string, string]> = [["origin", "Origin"], ["sec-websocket-origin", "Sec-WebSocket-Origin"]];

/**
 * Whether a request's origin is allowed (RFC 6455 §10.2); throws a `HandshakeError` to answer with
 * otherwise: 403 for an origin that is not allowed, a missing one when `requireOrigin` is set, or a
 * value that is not an origin; 500 when the `origins` function throws or does not answer a boolean.
 * Every origin header the request carries must pass.
 */
export function checkOrigin(headers: HeaderMap, options: OriginOptions): void {
  const { origins, requireOrigin } = options;
  if (origins === undefined && requireOrigin !== true) return;
  let present = false;
  for (const [key, name] of ORIGIN_HEADERS) {
    const value = headers[key];
    if (value === undefined) continue;
    present = true;
    if (origins !== undefined) checkOne(name, value.trim(), origins);
  }
  if (!present && requireOrigin === true) {
    throw new HandshakeError(403, "Missing Origin header: the server requires one (requireOrigin)");
  }
}

function checkOne(name: string, value: string, origins: OriginPolicy): void {
  // A value written as an entry is (the browser's serialisation, as listed): no parsing at all.
  if (typeof origins !== "function" && origins.includes(value)) return;
  const origin = value === "null" ? value : serializeOrigin(value);
  if (origin === null) throw new HandshakeError(403, `${name} '${value}' is not an origin (scheme://host[:port])`);
  if (typeof origins === "function") {
    let answer: unknown;
    try {
      answer = origins(origin);
    } catch (error) {
      throw new HandshakeError(500, `The origins function threw on ${name} '${origin}': ${messageOf(error)}`, { cause: error });
    }
    if (answer === true) return;
    if (answer !== false) {
      // A Promise (an async function) is truthy: taken as a yes, it would let every page in.
      const what = isThenable(answer) ? "a Promise" : String(answer);
      throw new HandshakeError(500, `The origins function must return true or false at once, and returned ${what} for ${name} '${origin}'`);
    }
  } else if (listed(origins).serialised.has(origin)) {
    return;
  }
  const opaque = origin === "null" ? " (an opaque origin: a sandboxed frame, a file: or data: page)" : "";
  throw new HandshakeError(403, `${name} '${origin}'${opaque} is not allowed`);
}

/** The list read, or a 500 if it was given a bad entry after the driver was made. */
function listed(origins: readonly string[]): ReadList {
  try {
    return readList(origins);
  } catch (error) {
    throw new HandshakeError(500, (error as Error).message, { cause: error });
  }
}

function isThenable(value: unknown): boolean {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
