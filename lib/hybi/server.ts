/**
 * An RFC 6455 server connection for a request that has been read (by our own HTTP reader or by the
 * embedder's HTTP stack).
 */
import { CLOSED, CONNECTING, type DriverHandlers } from "../base.js";
import { HandshakeError, ProtocolError } from "../errors.js";
import { type DriverIO, MAX_EARLY_BYTES, type ServerOptions } from "../options.js";
import { ByteAccumulator } from "../util/accumulator.js";
import { CloseCode } from "./close.js";
import { checkOrigin } from "../http/origin.js";
import { type RejectOptions, type Rejection, checkRejection, rejectionResponse } from "../http/rejection.js";
import { HybiDriver } from "./driver.js";
import {
  type ParsedRequest, checkHybiRequest, errorResponse, hybiResponse, respondToExtensions, selectProtocol,
} from "./handshake-server.js";

const NO_PROTOCOLS: readonly string[] = [];

/**
 * What only the opening handshake needs (the subprotocols accepted, frames that arrive before
 * `start()` answers) is kept in `BaseDriver.opening`, which is dropped once the connection opens:
 * an open connection keeps its request and the RFC 6455 driver's fields only (bench/heap.mjs).
 */
export class HybiServerDriver extends HybiDriver {
  readonly request: ParsedRequest;

  constructor(request: ParsedRequest, io: DriverIO, options: ServerOptions = {}, handlers?: DriverHandlers) {
    super(io, options, handlers);
    this.request = request;
    if (options.protocols !== undefined) this.openingState().protocols = options.protocols;
    if (options.origins !== undefined || options.requireOrigin === true) this.openingState().originOptions = options;
  }

  /**
   * "hybi-13", or "hybi-8" / "hybi-7" for those versions' requests: read from the request when
   * asked, rather than kept in a field of every connection.
   */
  override get version(): string {
    const version = (this.request.headers["sec-websocket-version"] ?? "13").trim();
    return version === "13" || !/^\d+$/.test(version) ? "hybi-13" : `hybi-${version}`;
  }

  protected get isClient(): boolean {
    return false;
  }

  /** Answers the handshake: 101 and `open`, or an error status, `error` and `close`. */
  start(): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    this.started = true;
    try {
      this.checkRequest();
      // After the request's own checks: a malformed request is a 400 whoever sent it.
      const originOptions = this.opening?.originOptions;
      if (originOptions) checkOrigin(this.request.headers, originOptions);
    } catch (error) {
      this.refuse(error as HandshakeError);
      return false;
    }
    const headers = this.request.headers;
    let negotiated: ReturnType<typeof respondToExtensions>;
    try {
      negotiated = respondToExtensions(headers["sec-websocket-extensions"], this.negotiator, this.extensionContext);
    } catch (error) {
      this.refuse(error as HandshakeError);
      return false;
    }
    this.protocol = selectProtocol(headers["sec-websocket-protocol"], this.opening?.protocols ?? NO_PROTOCOLS);
    this.useExtensions(negotiated.pipeline);
    this.writeAcceptance(negotiated.header);
    // The transport may have ended (`end()`) while the response was written: it stays closed.
    if (this.readyState !== CONNECTING) return true;
    // Frames that came early are read once open, which drops the opening state that held them.
    const early = this.opening?.early ?? null;
    this.open(early === null ? undefined : early.take());
    return true;
  }

  /** Refuses the handshake with the application's own status (`ServerDriver.reject`). */
  reject(status: number, options: RejectOptions = {}): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    const rejection = checkRejection(status, options, this.customHeaders);
    this.started = true;
    this.writeRejection(rejection);
    // A transport that failed on that write has ended the connection, and emitted `close`, already.
    if ((this.readyState as number) === CLOSED) return true;
    this.readyState = CLOSED;
    this.dropQueue();
    this.emit("close", { code: CloseCode.POLICY_VIOLATION, reason: `Refused with ${status} ${rejection.reason}` });
    return true;
  }

  /** Writes the application's refusal: an HTTP/1.1 response. */
  protected writeRejection(rejection: Rejection): void {
    this.io.write(rejectionResponse(rejection));
  }

  /** Checks the request (RFC 6455 §4.2.1); throws a `HandshakeError` with the status to answer. */
  protected checkRequest(): void {
    checkHybiRequest(this.request);
  }

  /** Writes the answer that opens the connection: the 101 of RFC 6455 §4.2.2. */
  protected writeAcceptance(extensions: string): void {
    const response = hybiResponse(this.request.headers["sec-websocket-key"], this.protocol, extensions, this.customHeaders);
    this.io.write(new TextEncoder().encode(response));
  }

  /** Writes the answer that refuses the handshake: an HTTP/1.1 error status and a body saying why. */
  protected writeRefusal(error: HandshakeError): void {
    this.io.write(errorResponse(error.status, error.message));
  }

  /** Writes the error response, then emits `error` and `close` (1002) as websocket-driver does. */
  refuse(error: HandshakeError): void {
    this.writeRefusal(error);
    // A transport that failed on that write has ended the connection, and emitted `close`, already.
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.dropQueue();
    this.emit("error", error);
    this.emit("close", { code: CloseCode.PROTOCOL_ERROR, reason: error.message });
  }

  /**
   * Frames that arrive before `start()` answers the handshake wait, up to a limit, in a list made
   * by the first (most clients wait for the 101 before they send).
   */
  protected parseConnecting(chunk: Uint8Array): void {
    const opening = this.openingState();
    opening.earlyBytes += chunk.length;
    // A frame of up to 64 KiB, or of the largest message if smaller, and its header (at most 14
    // bytes) may arrive early (MAX_EARLY_BYTES).
    if (opening.earlyBytes > Math.min(this.maxLength, MAX_EARLY_BYTES) + 14) {
      opening.early = null;
      this.fail(new ProtocolError(CloseCode.TOO_LARGE, "Too many bytes received before the handshake was answered"));
      return;
    }
    (opening.early ??= new ByteAccumulator()).push(chunk);
  }
}
