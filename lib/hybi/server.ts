/**
 * An RFC 6455 server connection for a request that has been read (by our own HTTP reader or by the
 * embedder's HTTP stack).
 */
import { CLOSED, CONNECTING } from "../base.js";
import { HandshakeError, ProtocolError } from "../errors.js";
import type { Emitter } from "mitt";
import type { DriverEvents } from "../events.js";
import type { DriverIO, ServerOptions } from "../options.js";
import { CloseCode } from "./close.js";
import { HybiDriver } from "./driver.js";
import {
  type ParsedRequest, checkHybiRequest, errorResponse, hybiResponse, respondToExtensions, selectProtocol,
} from "./handshake-server.js";

const NO_PROTOCOLS: readonly string[] = [];

export class HybiServerDriver extends HybiDriver {
  override readonly version: string;
  readonly request: ParsedRequest;

  private readonly protocols: readonly string[];
  /**
   * Frames that arrive before `start()` answers the handshake wait here, up to a limit; created by
   * the first (most clients wait for the 101 before they send).
   */
  private early: Uint8Array[] | null = null;
  private earlyBytes = 0;

  constructor(request: ParsedRequest, io: DriverIO, options: ServerOptions = {}, emitter?: Emitter<DriverEvents>) {
    super(io, options, false, emitter);
    this.request = request;
    this.protocols = options.protocols ?? NO_PROTOCOLS;
    const version = (request.headers["sec-websocket-version"] ?? "13").trim();
    // The common version as a constant: one string shared by every connection, not one each.
    this.version = version === "13" || !/^\d+$/.test(version) ? "hybi-13" : `hybi-${version}`;
  }

  /** Answers the handshake: 101 and `open`, or an error status, `error` and `close`. */
  start(): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    this.started = true;
    try {
      checkHybiRequest(this.request);
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
    this.protocol = selectProtocol(headers["sec-websocket-protocol"], this.protocols);
    const response = hybiResponse(headers["sec-websocket-key"], this.protocol, negotiated.header, this.customHeaders);
    this.useExtensions(negotiated.pipeline);
    this.io.write(new TextEncoder().encode(response));
    this.open();
    const early = this.early;
    this.early = null;
    if (early !== null) for (const chunk of early) this.parse(chunk);
    return true;
  }

  /** Writes the error response, then emits `error` and `close` (1002) as websocket-driver does. */
  refuse(error: HandshakeError): void {
    this.io.write(errorResponse(error.status, error.message));
    this.readyState = CLOSED;
    this.dropQueue();
    this.emit("error", error);
    this.emit("close", { code: CloseCode.PROTOCOL_ERROR, reason: error.message });
  }

  protected parseConnecting(chunk: Uint8Array): void {
    this.earlyBytes += chunk.length;
    // A whole frame of the largest message (its header is at most 14 bytes) may arrive early.
    if (this.earlyBytes > this.maxLength + 14) {
      this.early = null;
      this.fail(new ProtocolError(CloseCode.TOO_LARGE, "Too many bytes received before the handshake was answered"));
      return;
    }
    (this.early ??= []).push(chunk);
  }
}
