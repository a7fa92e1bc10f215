/**
 * The HTTP CONNECT helper: opens a tunnel through an HTTP proxy to a WebSocket server (RFC 9110
 * §9.3.6), sans-I/O. `start()` writes the CONNECT request to the embedder's `io`, `parse()` reads
 * the proxy's answer, and `connect` says the tunnel is up: from then on the bytes on the transport
 * belong to the tunnelled stream (TLS for `wss:`, then the WebSocket handshake), which the embedder
 * feeds to the TLS layer or to the driver, not to this helper.
 */
import mitt from "mitt";
import { HandshakeError } from "./errors.js";
import { HeadReader, type ResponseHead } from "./http/head.js";
import { type HeaderMap, type HeadersInput, basicAuthorization, isSafeHeader, normalizeHeaders, serializeHead } from "./http/headers.js";
import type { DriverIO } from "./options.js";
import { type ByteSource, EMPTY, toBytes, utf8Encode } from "./util/bytes.js";

/** Options for `driver.proxy(url, options)`. */
export interface ProxyOptions {
  /** Extra headers for the CONNECT request (same as calling `setHeader` for each). */
  headers?: HeadersInput;
  /** Largest response head accepted from the proxy, in bytes. Default 16 KiB; not a non-negative number: a `RangeError`. */
  maxHeaderSize?: number;
  /**
   * Where the CONNECT request is written. Default: the driver's `io`. Give the raw transport here
   * when the driver's `io` writes into a TLS layer (a `wss:` server behind the tunnel).
   */
  io?: DriverIO;
}

/**
 * Where the helper is: `idle` until `start()`, `connecting` while it waits for the proxy's answer,
 * then `connected` (the tunnel is up) or `failed` (an `error` was emitted). Both last states are final.
 */
export type ProxyState = "idle" | "connecting" | "connected" | "failed";

/** `connect`: the proxy answered 2xx, so the tunnel to the WebSocket server is up. */
export interface ProxyConnectEvent {
  /**
   * Bytes that followed the proxy's response head in the same chunk: the first bytes of the
   * tunnelled stream, read from the transport but not by this helper. Hand them on (to the TLS layer
   * for `wss:`, or to `driver.parse` after `driver.start()` for `ws:`); usually empty.
   */
  rest: Uint8Array;
}

/**
 * Why the tunnel could not be opened. `status` is the proxy's status code (407 when it wants
 * credentials), or 0 when no status was read (a malformed or oversized response, a closed transport).
 */
export class ProxyError extends HandshakeError {
  /** The proxy's response headers (lower-case names), empty when no head was read. */
  readonly headers: HeaderMap;

  constructor(status: number, message: string, headers: HeaderMap = Object.create(null), options?: { cause?: unknown }) {
    super(status, message);
    this.name = "ProxyError";
    this.headers = headers;
    if (options && "cause" in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

export type ProxyEvents = {
  connect: ProxyConnectEvent;
  error: ProxyError;
};

export type ProxyEventType = keyof ProxyEvents;
export type ProxyEventHandler<K extends ProxyEventType> = (event: ProxyEvents[K]) => void;

/** The helper `driver.proxy(url)` returns: a CONNECT handshake with the shape of a driver. */
export interface ProxyTunnel {
  /** See `ProxyState`. */
  readonly state: ProxyState;
  /** The proxy's status code, once its response head has been read. */
  readonly statusCode: number | undefined;
  /** The proxy's response headers (lower-case names), once read. */
  readonly headers: HeaderMap;

  /** Writes the CONNECT request. False if already started. */
  start(): boolean;
  /** Feeds bytes read from the proxy. Never throws; ignored once the tunnel is up or has failed. */
  parse(chunk: ByteSource): void;
  /**
   * The transport closed (or failed with `cause`). Before the tunnel is up this is an `error`: the
   * proxy went away without answering.
   */
  end(cause?: unknown): void;
  /** Adds a header to the CONNECT request; before `start()` only, and only a safe name and value. */
  setHeader(name: string, value: string): boolean;

  on<K extends ProxyEventType>(type: K, handler: ProxyEventHandler<K>): void;
  off<K extends ProxyEventType>(type: K, handler?: ProxyEventHandler<K>): void;
}

const DEFAULT_PORTS: Record<string, string> = { "ws:": "80", "wss:": "443", "http:": "80", "https:": "443" };

/**
 * The authority-form request target `host:port` (RFC 9112 §3.2.3): the port is always given, and
 * an IPv6 literal keeps its brackets (the URL parser already writes them).
 */
export function connectAuthority(target: URL): string {
  return `${target.hostname}:${target.port || DEFAULT_PORTS[target.protocol] || "80"}`;
}

export class HttpConnectProxy implements ProxyTunnel {
  state: ProxyState = "idle";
  statusCode: number | undefined = undefined;
  headers: HeaderMap = Object.create(null);

  private readonly emitter = mitt<ProxyEvents>();
  private readonly reader: HeadReader<ResponseHead>;
  private readonly authority: string;
  private readonly authorization: string | null;
  private readonly customHeaders: Array<[string, string]> = [];

  /**
   * @param target the WebSocket URL the tunnel leads to.
   * @param proxyUrl the proxy, `http://[user:password@]host[:port]` (`https:` if the embedder speaks
   *   TLS to the proxy itself).
   */
  constructor(target: URL, proxyUrl: string | URL, private readonly io: DriverIO, options: ProxyOptions = {}) {
    let proxy: URL;
    try {
      proxy = new URL(String(proxyUrl));
    } catch {
      throw new TypeError(`Invalid proxy URL: ${String(proxyUrl)}`);
    }
    if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
      throw new TypeError(`A proxy URL must be http: or https:, not ${proxy.protocol}`);
    }
    this.authority = connectAuthority(target);
    this.authorization = basicAuthorization(proxy, "The proxy URL");
    this.reader = new HeadReader<ResponseHead>("response", options.maxHeaderSize);
    for (const [name, value] of Object.entries(normalizeHeaders(options.headers))) this.setHeader(name, value);
  }

  setHeader(name: string, value: string): boolean {
    if (this.state !== "idle") return false;
    const text = String(value);
    // RFC 9110 §5.5: a CR or LF in a value would let it smuggle headers into the request.
    if (!isSafeHeader(name, text)) return false;
    this.customHeaders.push([name, text]);
    return true;
  }

  start(): boolean {
    if (this.state !== "idle") return false;
    this.state = "connecting";
    // RFC 9110 §9.3.6 and RFC 9112 §3.2.3: CONNECT names only host and port; Host repeats them. A
    // custom Host or Proxy-Authorization takes the place of the helper's: each is sent once (RFC 9110
    // §5.3; RFC 9112 §3.2 has a recipient refuse two Host lines).
    const custom = this.customHeaders.slice();
    const take = (name: string): string | undefined => {
      const at = custom.findIndex(([customName]) => customName.toLowerCase() === name);
      return at < 0 ? undefined : custom.splice(at, 1)[0][1];
    };
    const headers: Array<readonly [string, string]> = [["Host", take("host") ?? this.authority]];
    const authorization = take("proxy-authorization") ?? this.authorization;
    if (authorization) headers.push(["Proxy-Authorization", authorization]);
    const request = serializeHead(`CONNECT ${this.authority} HTTP/1.1`, [...headers, ...custom]);
    this.io.write(utf8Encode(request));
    return true;
  }

  parse(chunk: ByteSource): void {
    if (this.state !== "connecting") return;
    let bytes = toBytes(chunk);
    for (;;) {
      const result = this.reader.push(bytes);
      if (result.kind === "partial") return;
      if (result.kind === "error") {
        this.fail(new ProxyError(0, `Invalid response from the proxy: ${result.message}`));
        return;
      }
      const response = result.head;
      this.statusCode = response.statusCode;
      this.headers = response.headers;
      const status = response.statusCode;
      // RFC 9110 §15.2: interim 1xx answers come before the final one; skip them and read on.
      // (101 switches protocols, which a CONNECT cannot ask for, so it is a refusal like any other.)
      if (status >= 100 && status < 200 && status !== 101) {
        bytes = result.rest;
        continue;
      }
      if (status >= 200 && status < 300) {
        // RFC 9110 §9.3.6: after a 2xx the connection is the tunnel; a Content-Length or
        // Transfer-Encoding in that answer is ignored, and every byte after the head is tunnelled.
        this.state = "connected";
        this.emitter.emit("connect", { rest: result.rest.length > 0 ? result.rest : EMPTY });
        return;
      }
      const reason = response.statusMessage ? ` ${response.statusMessage}` : "";
      this.fail(new ProxyError(status, `The proxy refused to open a tunnel to ${this.authority}: ${status}${reason}`,
        response.headers));
      return;
    }
  }

  end(cause?: unknown): void {
    if (this.state === "connected" || this.state === "failed") return;
    const detail = describeCause(cause);
    const message = this.state === "idle"
      ? `The connection to the proxy closed before the CONNECT request was sent${detail}`
      : `The proxy closed the connection before answering the CONNECT request${detail}`;
    this.fail(new ProxyError(this.statusCode ?? 0, message, this.headers, cause === undefined ? undefined : { cause }));
  }

  on<K extends ProxyEventType>(type: K, handler: ProxyEventHandler<K>): void {
    this.emitter.on(type, handler);
  }

  off<K extends ProxyEventType>(type: K, handler?: ProxyEventHandler<K>): void {
    this.emitter.off(type, handler);
  }

  private fail(error: ProxyError): void {
    this.state = "failed";
    this.emitter.emit("error", error);
  }
}

/**
 * ": <message>" for a transport error, or "". Duck-typed rather than `instanceof Error`, which fails
 * for errors made in another realm; an `AggregateError` (a failed connection to every address of a
 * host) may have an empty message, so its `code` stands in.
 */
function describeCause(cause: unknown): string {
  if (typeof cause !== "object" || cause === null) return "";
  const { message, code } = cause as { message?: unknown; code?: unknown };
  const text = typeof message === "string" && message ? message : typeof code === "string" ? code : "";
  return text ? `: ${text}` : "";
}
