/**
 * An RFC 6455 client connection: writes the opening handshake, checks the server's answer, then
 * speaks frames (masked, RFC 6455 §5.3).
 */
import { CLOSED, CONNECTING } from "../base.js";
import { HandshakeError } from "../errors.js";
import { HeadReader, type ResponseHead } from "../http/head.js";
import { type HeaderMap, basicAuthorization, createHeaderMap, isSafeHeader, normalizeHeaders } from "../http/headers.js";
import type { ClientOptions, DriverIO } from "../options.js";
import { HttpConnectProxy, type ProxyOptions, type ProxyTunnel } from "../proxy.js";
import { CloseCode } from "./close.js";
import { HybiDriver } from "./driver.js";
import { acceptExtensions, checkHybiResponse, generateKey, hybiRequest } from "./handshake-client.js";

const NO_PROTOCOLS: readonly string[] = [];

/** What the client needs until the server's response has been read, and not after. */
export interface ClientHandshake {
  /** The Sec-WebSocket-Key sent (RFC 6455 §4.1), to check the accept value against. */
  readonly key: string;
  /** The subprotocols offered, in order of preference. */
  readonly protocols: readonly string[];
  readonly origin: string | undefined;
  /** `Basic …` from the URL's credentials, or null. */
  readonly authorization: string | null;
  /** Reads the response head. */
  readonly reader: HeadReader<ResponseHead>;
}

export class HybiClientDriver extends HybiDriver {
  readonly url: string;
  /** The status code of the server's response, once it has been read. */
  statusCode: number | undefined = undefined;
  /** The headers of the server's response (lower-case names), once they have been read. */
  headers: HeaderMap = createHeaderMap();

  /**
   * The key, the offered subprotocols, the origin and the response reader, in one object dropped
   * once the response is read: an open client keeps one null field instead of four fields and the
   * key (64 bytes; heap snapshot of open `Driver.client` connections).
   */
  protected handshake: ClientHandshake | null;

  constructor(url: string | URL, io: DriverIO, options: ClientOptions = {}) {
    super(io, options);
    const parsed = new URL(String(url));
    if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
      throw new TypeError(`A WebSocket URL must be ws: or wss:, not ${parsed.protocol}`);
    }
    // The credentials become `Authorization: Basic` (RFC 7617): made here, so that a URL that cannot
    // give one is refused now rather than thrown out of start().
    const authorization = basicAuthorization(parsed, "The URL");
    this.url = parsed.href;
    const protocols = options.protocols ?? NO_PROTOCOLS;
    for (const [index, protocol] of protocols.entries()) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol)) throw new TypeError(`Invalid subprotocol name: ${protocol}`);
      // RFC 6455 §4.1: the subprotocols offered "MUST all be unique strings".
      if (protocols.indexOf(protocol) !== index) throw new TypeError(`Subprotocol offered twice: ${protocol}`);
    }
    // RFC 9110 §5.5: a CR or LF in the Origin value would let it smuggle header lines into the request.
    if (options.origin !== undefined && !isSafeHeader("Origin", options.origin)) {
      throw new TypeError(`Invalid origin: ${JSON.stringify(options.origin)} holds CR, LF or NUL`);
    }
    this.handshake = {
      key: generateKey(),
      protocols,
      origin: options.origin,
      authorization,
      reader: new HeadReader<ResponseHead>("response", options.maxHeaderSize),
    };
    for (const [name, value] of Object.entries(normalizeHeaders(options.headers))) this.setHeader(name, value);
  }

  protected get isClient(): boolean {
    return true;
  }

  /**
   * The URL as an object, made when the handshake or a proxy needs it: an open connection keeps
   * only `url`, a `URL` and its internal state being 208 bytes more per client (heap snapshot of
   * open `Driver.client` connections). `url` is the `href` of the URL given, so it parses the same.
   */
  protected get parsedUrl(): URL {
    return new URL(this.url);
  }

  /** Writes the opening handshake request. */
  start(): boolean {
    const handshake = this.handshake;
    if (this.started || this.readyState !== CONNECTING || handshake === null) return false;
    this.started = true;
    const request = hybiRequest({
      url: this.parsedUrl,
      key: handshake.key,
      protocols: handshake.protocols,
      extensions: this.negotiator?.offerHeader() ?? "",
      origin: handshake.origin,
      authorization: handshake.authorization,
      custom: this.customHeaders,
    });
    this.io.write(new TextEncoder().encode(request));
    return true;
  }

  /**
   * A helper that opens a tunnel to this driver's server through an HTTP proxy (HTTP CONNECT). It
   * writes to this driver's `io` unless `options.io` says otherwise; once it emits `connect`, call
   * `start()` on this driver.
   */
  proxy(proxyUrl: string | URL, options: ProxyOptions = {}): ProxyTunnel {
    return new HttpConnectProxy(this.parsedUrl, proxyUrl, options.io ?? this.io, options);
  }

  protected parseConnecting(chunk: Uint8Array): void {
    const handshake = this.handshake;
    if (handshake === null) return;
    let result = handshake.reader.push(chunk);
    // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received prior to a
    // final response": interim answers (100 Continue, 103 Early Hints) before the 101 are skipped.
    while (result.kind === "complete" && isInterim(result.head.statusCode)) result = handshake.reader.push(result.rest);
    if (result.kind === "partial") return;
    this.handshake = null;
    if (result.kind === "error") {
      this.failHandshake(new HandshakeError(this.statusCode ?? 0, result.message));
      return;
    }
    const response = result.head;
    this.statusCode = response.statusCode;
    this.headers = response.headers;
    try {
      this.protocol = checkHybiResponse(response, handshake.key, handshake.protocols);
      this.useExtensions(acceptExtensions(response, this.negotiator, this.extensionContext));
    } catch (error) {
      this.failHandshake(error as HandshakeError);
      return;
    }
    this.open(result.rest);
  }

  protected failHandshake(error: HandshakeError): void {
    this.readyState = CLOSED;
    this.stopParser();
    this.dropQueue();
    this.emit("error", error);
    this.emit("close", { code: CloseCode.PROTOCOL_ERROR, reason: error.message });
  }
}

/** A 1xx status other than 101: an interim answer, with the final one still to come. */
function isInterim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}
