/**
 * Turning the embedder's request object into ours, and telling whether it asks for a WebSocket.
 */
import { hasToken, normalizeHeaders } from "./http/headers.js";
import type { RequestLike } from "./options.js";
import type { HttpRequest } from "./types.js";

export function normalizeRequest(request: RequestLike & { httpVersion?: string }): HttpRequest {
  let url = request.url ?? "/";
  // Deno's and Bun's `Request.url` is absolute; the handshake needs the path and query.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = pathOf(url);
  const method = (request.method ?? "GET").toUpperCase();
  const headers = normalizeHeaders(request.headers);
  const version = request.httpVersion;
  // All the fields in one literal: a field added afterwards moves the object's fields to a
  // separate array (40 bytes more per open connection; heap snapshot of the bench's Node adapter
  // server, bench/server.mjs). "1.1" is a constant, not the HTTP stack's string for each request.
  const normalized: HttpRequest = version === undefined
    ? { method, url, headers }
    : { method, url, headers, httpVersion: version === "1.1" ? "1.1" : version };
  if (request.body instanceof Uint8Array) normalized.body = request.body;
  return normalized;
}

/**
 * The path and query of an absolute URL. Node hands a request target in absolute form (RFC 9112
 * §3.2.2) to its `upgrade` event as the peer sent it, and its parser lets through authorities the
 * URL parser refuses (`ws://h:99999/`, `http://[::1/`): their path is then the text after the
 * authority, rather than an exception in the embedder's `upgrade` handler.
 */
function pathOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").replace(/#.*$/, "");
    return rest === "" || rest.startsWith("?") ? "/" + rest : rest;
  }
}

/** Whether a request is a WebSocket upgrade: GET with `Connection: Upgrade` and `Upgrade: websocket`. */
export function isWebSocket(request: RequestLike | HttpRequest | undefined | null): boolean {
  if (!request || !request.headers) return false;
  const headers = normalizeHeaders(request.headers);
  if ((request.method ?? "GET").toUpperCase() !== "GET") return false;
  return hasToken(headers["connection"], "upgrade") && hasToken(headers["upgrade"], "websocket");
}
