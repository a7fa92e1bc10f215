/**
 * RFC 6455 over one HTTP/2 stream (RFC 8441): the same framing, closing handshake, subprotocols
 * and extensions as the HTTP/1.1 drivers, whose classes these extend; only the opening handshake
 * differs. It is a header list handed to and taken from the `io` instead of bytes: the driver
 * never speaks HTTP/2 itself, the embedder's HTTP/2 stack (Node's `node:http2`) does.
 */
import { CLOSED, CONNECTING, type DriverHandlers } from "../base.js";
import { type Rejection, rejectionHeaderList } from "../http/rejection.js";
import { HandshakeError } from "../errors.js";
import type { HeaderMap } from "../http/headers.js";
import type { ClientOptions, DriverIO, ServerOptions } from "../options.js";
import { utf8Encode } from "../util/bytes.js";
import { HybiClientDriver } from "./client.js";
import { acceptExtensions } from "./handshake-client.js";
import {
  type HeaderList, type Http2HeadersInput, checkExtendedConnect, checkHttp2Response, http2Acceptance,
  http2ConnectRequest, http2Refusal, http2Request, readHttp2Headers,
} from "./handshake-http2.js";
import { HybiServerDriver } from "./server.js";

/** A server's `io` over HTTP/2: `respond` sends the response's HEADERS, `write` the stream's DATA. */
export interface Http2ServerIO extends DriverIO {
  /** Sends the response header list (`:status` first). A refusal's body follows through `write`. */
  respond(headers: HeaderList): unknown;
}

/** A client's `io` over HTTP/2: `request` opens the stream with the extended CONNECT's header list. */
export interface Http2ClientIO extends DriverIO {
  /** Sends the request header list (pseudo-headers first) on a new stream, without END_STREAM. */
  request(headers: HeaderList): unknown;
}

/**
 * A server WebSocket on an HTTP/2 stream whose request headers have been read. `start()` checks
 * them (RFC 8441 §4–5) and answers 200 through `io.respond`, or refuses with a status, a body
 * saying why, `error` and `close` (1002). The stream's DATA goes to `parse`; when `close` fires the
 * embedder ends the stream (END_STREAM, RFC 8441 §5.1).
 */
export class Http2HybiServerDriver extends HybiServerDriver {
  /** Why the header list could not be read (a pseudo-header twice), answered by `start()`; else null. */
  private readonly malformed: HandshakeError | null;

  constructor(headers: Http2HeadersInput, io: Http2ServerIO, options: ServerOptions = {}, handlers?: DriverHandlers) {
    let map: HeaderMap;
    let malformed: HandshakeError | null = null;
    try {
      map = readHttp2Headers(headers);
    } catch (error) {
      malformed = error as HandshakeError;
      map = readHttp2Headers([]);
    }
    super(http2Request(map), io, options, handlers);
    this.malformed = malformed;
  }

  protected override checkRequest(): void {
    if (this.malformed !== null) throw this.malformed;
    checkExtendedConnect(this.request);
  }

  protected override writeAcceptance(extensions: string): void {
    (this.io as Http2ServerIO).respond(http2Acceptance(this.protocol, extensions, this.customHeaders));
  }

  protected override writeRejection(rejection: Rejection): void {
    (this.io as Http2ServerIO).respond(rejectionHeaderList(rejection));
    if (this.readyState !== CLOSED && rejection.body.length > 0) this.io.write(rejection.body);
  }

  protected override writeRefusal(error: HandshakeError): void {
    (this.io as Http2ServerIO).respond(http2Refusal(error));
    // The transport may have ended on the response: then there is no stream to write to.
    if (this.readyState !== CLOSED) this.io.write(utf8Encode(error.message));
  }
}

/**
 * A client WebSocket on an HTTP/2 stream. `start()` hands the extended CONNECT to `io.request`;
 * the embedder passes the response's header list to `receiveHeaders`, and the stream's DATA to
 * `parse`. Any 2xx opens it (RFC 8441 §5); a subprotocol or extension not offered fails it.
 */
export class Http2HybiClientDriver extends HybiClientDriver {
  constructor(url: string | URL, io: Http2ClientIO, options: ClientOptions = {}) {
    super(url, io, options);
  }

  override start(): boolean {
    const handshake = this.handshake;
    if (this.started || this.readyState !== CONNECTING || handshake === null) return false;
    this.started = true;
    (this.io as Http2ClientIO).request(http2ConnectRequest({
      url: this.parsedUrl,
      protocols: handshake.protocols,
      extensions: this.negotiator?.offerHeader() ?? "",
      origin: handshake.origin,
      authorization: handshake.authorization,
      custom: this.customHeaders,
    }));
    return true;
  }

  /**
   * The response's header list (or Node's headers object). An interim 1xx other than 101 is
   * skipped (RFC 9110 §15.2); a 2xx opens the connection; anything else fails the handshake with `error` and
   * `close` (1002). Never throws on what the server sent.
   */
  receiveHeaders(input: Http2HeadersInput): void {
    const handshake = this.handshake;
    if (this.readyState !== CONNECTING || handshake === null || !this.started) return;
    let headers: HeaderMap;
    try {
      headers = readHttp2Headers(input);
    } catch (error) {
      this.handshake = null;
      this.failHandshake(error as HandshakeError);
      return;
    }
    const status = Number(headers[":status"]);
    // RFC 9113 §8.6: 101 is not used in HTTP/2, so it is no interim answer but a failure.
    if (status >= 100 && status < 200 && status !== 101) return;
    this.handshake = null;
    this.statusCode = Number.isInteger(status) ? status : 0;
    this.headers = headers;
    try {
      if (!Number.isInteger(status)) throw new HandshakeError(0, `Missing or invalid :status pseudo-header: ${headers[":status"]}`);
      this.protocol = checkHttp2Response(status, headers, handshake.protocols);
      this.useExtensions(acceptExtensions({ statusCode: status, statusMessage: "", httpVersion: "2.0", headers }, this.negotiator, this.extensionContext));
    } catch (error) {
      this.failHandshake(error as HandshakeError);
      return;
    }
    this.open();
  }

  /** DATA before the response's HEADERS cannot happen on an HTTP/2 stream (RFC 9113 §8.1): fail. */
  protected override parseConnecting(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.handshake === null) return;
    this.handshake = null;
    this.failHandshake(new HandshakeError(0, "Stream data arrived before the response headers"));
  }
}

