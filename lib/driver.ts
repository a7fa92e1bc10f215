/**
 * The `Driver` factory: the one entry point for servers and clients of every protocol version.
 */
import { HybiClientDriver } from "./hybi/client.js";
import { draftVersionOf } from "./hixie/handshake.js";
import { Hixie75Driver } from "./hixie/hixie75.js";
import { Hixie76Driver } from "./hixie/hixie76.js";
import { HybiServerDriver } from "./hybi/server.js";
import type { Http2HeadersInput } from "./hybi/handshake-http2.js";
import { Http2HybiClientDriver, Http2HybiServerDriver, type Http2ClientIO, type Http2ServerIO } from "./hybi/http2.js";
import type { DriverHandlers } from "./base.js";
import type { ClientOptions, DriverIO, RequestLike, ServerOptions } from "./options.js";
import { isWebSocket, normalizeRequest } from "./request.js";
import { HttpServerDriver } from "./server.js";
import { checkOriginOptions } from "./http/origin.js";
import type { ClientDriver, Driver as DriverInterface, Http2ClientDriver, HttpRequest, ServerDriver } from "./types.js";

/**
 * Picks the driver for a request's protocol version. A draft request is given a draft driver even
 * when drafts are not served, so that its refusal says so (and `version` names the draft).
 */
function createServerDriver(
  request: HttpRequest, io: DriverIO, options: ServerOptions, handlers?: DriverHandlers,
): ServerDriver {
  const draft = draftVersionOf(request, options.allowDrafts === true);
  if (draft === "hixie-76") return new Hixie76Driver(request, io, options, handlers);
  if (draft === "hixie-75") return new Hixie75Driver(request, io, options, handlers);
  return new HybiServerDriver(request, io, options, handlers);
}

export type Driver = DriverInterface;

/** The options of a server given none: one object for every such connection (it is only read). */
const NO_OPTIONS: ServerOptions = Object.freeze({});

export const Driver = {
  /**
   * A server driver that reads the HTTP request from the bytes given to `parse`, emits `connect`
   * once it is complete (`driver.request` is then set), and answers on `start()`.
   */
  server(io: DriverIO, options: ServerOptions = NO_OPTIONS): ServerDriver {
    return new HttpServerDriver(io, options, createServerDriver);
  },

  /**
   * A server driver for a request the embedder's HTTP stack has already read (Node's `upgrade`
   * event, Deno, Bun). Pass any bytes that followed the head to `parse`.
   */
  fromRequest(request: RequestLike, io: DriverIO, options: ServerOptions = NO_OPTIONS): ServerDriver {
    checkOriginOptions(options);
    return createServerDriver(normalizeRequest(request), io, options);
  },

  /** A client driver for a `ws:` or `wss:` URL; `start()` writes the opening handshake. */
  client(url: string | URL, io: DriverIO, options: ClientOptions = {}): ClientDriver {
    return new HybiClientDriver(url, io, options);
  },

  /**
   * A server driver for a WebSocket over HTTP/2 (RFC 8441): `headers` are the request's header
   * list (or Node's headers object) of an extended CONNECT stream. `start()` checks them and
   * answers through `io.respond`; the stream's DATA goes to `parse`, and `io.write` sends DATA.
   */
  http2Server(headers: Http2HeadersInput, io: Http2ServerIO, options: ServerOptions = NO_OPTIONS): ServerDriver {
    checkOriginOptions(options);
    return new Http2HybiServerDriver(headers, io, options);
  },

  /**
   * A client driver for a WebSocket over HTTP/2 (RFC 8441): `start()` hands the extended CONNECT
   * to `io.request`; pass the response's headers to `receiveHeaders` and its DATA to `parse`.
   */
  http2Client(url: string | URL, io: Http2ClientIO, options: ClientOptions = {}): Http2ClientDriver {
    return new Http2HybiClientDriver(url, io, options);
  },

  /** Whether a request asks for a WebSocket upgrade. */
  isWebSocket,
};
