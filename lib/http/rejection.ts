/**
 * A handshake the application refuses with a status of its own (`driver.reject`): an authentication
 * that failed (401), a rate limit (429), a server shutting down (503). Checked here once, then
 * written as an HTTP/1.1 response or an HTTP/2 header list by the driver that answers.
 */
import { utf8Encode } from "../util/bytes.js";
import { isSafeHeader, serializeHead } from "./headers.js";

/** What `reject` may add to the response. */
export interface RejectOptions {
  /**
   * Response headers (`WWW-Authenticate`, `Retry-After` …), after those added with `setHeader`.
   * A name that is not an HTTP token, or a value holding CR, LF or NUL, is refused with a `TypeError`.
   */
  headers?: Record<string, string>;
  /** The response body: text is sent as UTF-8. By default, the status's reason phrase. */
  body?: string | Uint8Array;
}

/** A refusal checked and ready to write. */
export interface Rejection {
  status: number;
  reason: string;
  /** `setHeader`'s headers and the options', without Content-Length or Connection (the writer's). */
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** Reason phrases (RFC 9110 §15) of the statuses an application is likely to refuse with. */
const REASONS: Record<number, string> = {
  400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
  409: "Conflict", 410: "Gone", 412: "Precondition Failed", 413: "Content Too Large", 421: "Misdirected Request",
  426: "Upgrade Required", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
  503: "Service Unavailable", 504: "Gateway Timeout",
};

/** The reason phrase for `status`, or a generic one for its class. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status >= 500 ? "Server Error" : "Client Error");
}

/** Headers the writer sets itself: one the application gave would contradict the response. */
const WRITER_HEADERS = /^(content-length|connection|transfer-encoding|upgrade)$/i;

/**
 * Checks a refusal: `status` must be an error status (an integer from 400 to 599; a 1xx, 2xx or 3xx
 * answer to an upgrade would be misread by the client), the headers must be safe. Throws a
 * `RangeError` or `TypeError` for the application's mistake, before anything is written.
 */
export function checkRejection(status: number, options: RejectOptions, added: ReadonlyArray<readonly [string, string]>): Rejection {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`reject() takes an HTTP error status, 400 to 599; got ${String(status)}`);
  }
  const headers: Array<[string, string]> = added.filter(([name]) => !WRITER_HEADERS.test(name)).map(([name, value]) => [name, value]);
  for (const [name, raw] of Object.entries(options.headers ?? {})) {
    const value = String(raw);
    if (!isSafeHeader(name, value)) throw new TypeError(`reject(): header ${JSON.stringify(name)} is not a token with a value free of CR, LF and NUL`);
    if (WRITER_HEADERS.test(name)) throw new TypeError(`reject(): ${name} is set by the driver`);
    headers.push([name, value]);
  }
  const reason = reasonPhrase(status);
  const body = options.body === undefined ? utf8Encode(reason) : typeof options.body === "string" ? utf8Encode(options.body) : options.body;
  return { status, reason, headers, body };
}

/** The refusal as an HTTP/1.1 response (RFC 9112): the status, the headers, the body, then the connection closes. */
export function rejectionResponse(rejection: Rejection): Uint8Array {
  const headers: Array<readonly [string, string]> = [...rejection.headers];
  if (rejection.body.length > 0 && !headers.some(([name]) => /^content-type$/i.test(name))) {
    headers.push(["Content-Type", "text/plain; charset=utf-8"]);
  }
  headers.push(["Content-Length", String(rejection.body.length)], ["Connection", "close"]);
  const head = utf8Encode(serializeHead(`HTTP/1.1 ${rejection.status} ${rejection.reason}`, headers));
  const out = new Uint8Array(head.length + rejection.body.length);
  out.set(head);
  out.set(rejection.body, head.length);
  return out;
}

/** The refusal as an HTTP/2 response header list (RFC 9113 §8.3.2: lower-case names); the body follows as DATA. */
export function rejectionHeaderList(rejection: Rejection): Array<[string, string]> {
  const list: Array<[string, string]> = [[":status", String(rejection.status)]];
  for (const [name, value] of rejection.headers) list.push([name.toLowerCase(), value]);
  if (rejection.body.length > 0 && !list.some(([name]) => name === "content-type")) list.push(["content-type", "text/plain; charset=utf-8"]);
  return list;
}
