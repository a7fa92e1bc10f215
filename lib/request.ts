/**
 * Turning the embedder's request object into ours, and telling whether it asks for a WebSocket.
 */
import { hasToken, normalizeHeaders } from "./http/headers.js";
import type { RequestLike } from "./options.js";
import type { HttpRequest } from "./types.js";

export function normalizeRequest(request: RequestLike & { httpVersion?: string }): HttpRequest {
  let url = request.url ?? "/";
  // Deno's and Bun's `Request.url` is absolute; the handshake needs the path and query.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    const parsed = new URL(url);
    url = parsed.pathname + parsed.search;
  }
  const normalized: HttpRequest = {
    method: (request.method ?? "GET").toUpperCase(),
    url,
    headers: normalizeHeaders(request.headers),
  };
  if (request.httpVersion !== undefined) normalized.httpVersion = request.httpVersion;
  if (request.body instanceof Uint8Array) normalized.body = request.body;
  return normalized;
}

/** Whether a request is a WebSocket upgrade: GET with `Connection: Upgrade` and `Upgrade: websocket`. */
export function isWebSocket(request: RequestLike | HttpRequest | undefined | null): boolean {
  if (!request || !request.headers) return false;
  const headers = normalizeHeaders(request.headers);
  if ((request.method ?? "GET").toUpperCase() !== "GET") return false;
  return hasToken(headers["connection"], "upgrade") && hasToken(headers["upgrade"], "websocket");
}
