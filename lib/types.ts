/**
 * The public shape of a driver, whichever protocol version it speaks.
 */
import type { ReadyState } from "./base.js";
import type { RejectOptions } from "./http/rejection.js";
import type { DriverEventHandler, DriverEventType } from "./events.js";
import type { Extension } from "./extensions/extension.js";
import type { HeaderMap } from "./http/headers.js";
import type { Http2HeadersInput } from "./hybi/handshake-http2.js";
import type { PreparedMessage } from "./prepared.js";
import type { ProxyOptions, ProxyTunnel } from "./proxy.js";
import type { ByteSource } from "./util/bytes.js";

/** What a user may pass as a ping, pong or close payload. */
export type Payload = string | ByteSource;

export interface Driver {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: ReadyState;
  /** "hybi-13" (or "hybi-8", "hybi-7"), "hixie-76" or "hixie-75"; "" until a server knows. */
  readonly version: string;
  /** The negotiated subprotocol, or "". */
  readonly protocol: string;

  /** Feeds bytes read from the transport. Never throws on what the peer sent. */
  parse(chunk: ByteSource): void;
  /** Sends the opening handshake (client) or answers it (server). */
  start(): boolean;
  /**
   * Sends a text message; queued until open. False once closing. The text is a string, or its
   * UTF-8 bytes (a `message` event's `data` with `textData: "bytes"`, say), sent as they are
   * without an encode: they must be valid UTF-8, else a `TypeError`. Bytes are written as they
   * are where the transport allows (no copy): do not change them afterwards.
   */
  text(message: string | ByteSource): boolean;
  /** Sends a binary message; queued until open. False once closing, or where the protocol has none. */
  binary(message: ByteSource): boolean;
  /**
   * Starts sending a message in pieces (RFC 6455 §5.4): each `write` of the writer returned is one
   * frame, `end` sends the last. Pings, pongs and a close can go out between the pieces; whole
   * messages sent meanwhile wait until it ends. Compressed as a stream when permessage-deflate is
   * on (RFC 7692 §6.1). Null unless the connection is open, while another message is being sent
   * in pieces, or where the protocol has no fragments (the drafts).
   */
  startMessage(type: "text" | "binary"): MessageWriter | null;
  /**
   * Sends a message prepared once for many connections (`prepareMessage`, a broadcast): the same
   * frame bytes go to every connection that would encode it alike. Queued until open. False once
   * closing, or for a binary message where the protocol has none.
   */
  sendPrepared(message: PreparedMessage): boolean;
  /** Sends a ping; `onPong` runs when the matching pong arrives. False where impossible. */
  ping(payload?: Payload, onPong?: () => void): boolean;
  /** Sends an unsolicited pong. */
  pong(payload?: Payload): boolean;
  /** Starts the closing handshake. */
  close(reason?: string, code?: number): boolean;
  /** The transport closed: emits `close` (1006) unless the closing handshake finished. */
  end(): void;
  /** Adds a header to the opening handshake; before `start()` only. */
  setHeader(name: string, value: string): boolean;
  /**
   * Adds an extension to negotiate in the opening handshake, such as `deflate()` (RFC 7692);
   * before `start()` only. False once started, or if one of the same name was added already.
   */
  addExtension(extension: Extension): boolean;

  on<K extends DriverEventType>(type: K, handler: DriverEventHandler<K>): void;
  off<K extends DriverEventType>(type: K, handler?: DriverEventHandler<K>): void;
}

/** A message being sent in pieces (`driver.startMessage`). */
export interface MessageWriter {
  /**
   * Sends the next piece as one frame, at once (an empty piece sends nothing). Text is a string,
   * or UTF-8 bytes cut anywhere (the message as a whole must be valid UTF-8). False, and nothing
   * sent, once the message has ended or the connection is no longer open. The bytes are written
   * as they are where the transport allows (no copy): do not change them afterwards.
   */
  write(piece: string | ByteSource): boolean;
  /** Sends the last piece (empty by default) with FIN set, ending the message. False as for `write`. */
  end(piece?: string | ByteSource): boolean;
  /** Whether `end` has been called, or the connection closed before it was. */
  readonly ended: boolean;
}

/** The request a server driver answers: method, URL path and lower-case headers. */
export interface HttpRequest {
  method: string;
  url: string;
  httpVersion?: string;
  headers: HeaderMap;
  /** Bytes that came with the request after its head (a hixie-76 key body), if the HTTP stack read them. */
  body?: Uint8Array;
}

export interface ServerDriver extends Driver {
  /** The request, once read (`connect` has fired). */
  readonly request: HttpRequest | undefined;
  /**
   * Refuses the opening handshake with an HTTP error status of the application's choosing, in
   * place of `start()`: an authentication that failed (401), a rate limit (429). Writes the status,
   * the headers added with `setHeader` and `options.headers`, `Connection: close` and the body (the
   * reason phrase by default); over HTTP/2, the status and headers as the stream's response. Then
   * emits `close` (1008, "Refused with 401 Unauthorized"), no `error`. Returns false if the
   * handshake was answered already or the request is not read yet. A status outside 400-599 throws
   * a `RangeError`, an unsafe header a `TypeError`, before anything is written.
   */
  reject(status: number, options?: RejectOptions): boolean;
}

export interface ClientDriver extends Driver {
  /** The URL connected to. */
  readonly url: string;
  /** The status code of the server's response, once read. */
  readonly statusCode: number | undefined;
  /** The server's response headers (lower-case names), once read. */
  readonly headers: HeaderMap;

  /**
   * A sans-I/O helper that opens an HTTP CONNECT tunnel through the proxy at `proxyUrl`
   * (`http://user:password@host:port`) to this driver's server. Call its `start()`, feed it the
   * proxy's bytes with `parse()`, and on its `connect` event call this driver's `start()`, handing
   * the event's `rest` bytes on to the tunnelled stream. See docs/proxy.md.
   */
  proxy(proxyUrl: string | URL, options?: ProxyOptions): ProxyTunnel;
}

/**
 * A client over one HTTP/2 stream (RFC 8441): `start()` hands the extended CONNECT's header list to
 * `io.request`; pass the response's headers to `receiveHeaders`, the stream's DATA to `parse`.
 */
export interface Http2ClientDriver extends ClientDriver {
  /** The response's header list (or headers object): a 2xx opens the WebSocket. Never throws on it. */
  receiveHeaders(headers: Http2HeadersInput): void;
}
