/**
 * An RFC 6455 client connection: writes the opening handshake, checks the server's answer, then
 * speaks frames (masked, RFC 6455 §5.3).
 */
import { CLOSED, CONNECTING } from "../base.js";
import { HandshakeError } from "../errors.js";
import { HeadReader, type ResponseHead } from "../http/head.js";
import { type HeaderMap, createHeaderMap, normalizeHeaders } from "../http/headers.js";
import type { ClientOptions, DriverIO } from "../options.js";
import { HttpConnectProxy, type ProxyOptions, type ProxyTunnel } from "../proxy.js";
import { CloseCode } from "./close.js";
import { HybiDriver } from "./driver.js";
import { acceptExtensions, checkHybiResponse, generateKey, hybiRequest } from "./handshake-client.js";

const NO_PROTOCOLS: readonly string[] = [];

export class HybiClientDriver extends HybiDriver {
  readonly url: string;
  /** The status code of the server's response, once it has been read. */
  statusCode: number | undefined = undefined;
  /** The headers of the server's response (lower-case names), once they have been read. */
  headers: HeaderMap = createHeaderMap();

  protected readonly parsedUrl: URL;
  protected readonly key = generateKey();
  protected readonly protocols: readonly string[];
  private readonly origin: string | undefined;
  /** Reads the response head; dropped once it is read, so an open connection does not keep it. */
  private reader: HeadReader<ResponseHead> | null;

  constructor(url: string | URL, io: DriverIO, options: ClientOptions = {}) {
    super(io, options);
    this.parsedUrl = new URL(String(url));
    if (this.parsedUrl.protocol !== "ws:" && this.parsedUrl.protocol !== "wss:") {
      throw new TypeError(`A WebSocket URL must be ws: or wss:, not ${this.parsedUrl.protocol}`);
    }
    this.url = this.parsedUrl.href;
    this.protocols = options.protocols ?? NO_PROTOCOLS;
    for (const protocol of this.protocols) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol)) throw new TypeError(`Invalid subprotocol name: ${protocol}`);
    }
    this.origin = options.origin;
    this.reader = new HeadReader<ResponseHead>("response", options.maxHeaderSize);
    for (const [name, value] of Object.entries(normalizeHeaders(options.headers))) this.setHeader(name, value);
  }

  protected get isClient(): boolean {
    return true;
  }

  /** Writes the opening handshake request. */
  start(): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    this.started = true;
    const request = hybiRequest({
      url: this.parsedUrl,
      key: this.key,
      protocols: this.protocols,
      extensions: this.negotiator?.offerHeader() ?? "",
      origin: this.origin,
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
    const reader = this.reader;
    if (reader === null) return;
    const result = reader.push(chunk);
    if (result.kind === "partial") return;
    this.reader = null;
    if (result.kind === "error") {
      this.failHandshake(new HandshakeError(this.statusCode ?? 0, result.message));
      return;
    }
    const response = result.head;
    this.statusCode = response.statusCode;
    this.headers = response.headers;
    try {
      this.protocol = checkHybiResponse(response, this.key, this.protocols);
      this.useExtensions(acceptExtensions(response, this.negotiator, this.extensionContext));
    } catch (error) {
      this.failHandshake(error as HandshakeError);
      return;
    }
    this.open();
    if (result.rest.length > 0) this.parse(result.rest);
  }

  protected failHandshake(error: HandshakeError): void {
    this.readyState = CLOSED;
    this.stopParser();
    this.dropQueue();
    this.emit("error", error);
    this.emit("close", { code: CloseCode.PROTOCOL_ERROR, reason: error.message });
  }
}
