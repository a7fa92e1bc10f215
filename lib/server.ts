/**
 * `Driver.server`: reads the HTTP request from the byte stream, emits `connect`, then hands
 * everything to the driver for the protocol version the request asks for. Calls made before the
 * request is known are replayed on that driver in order; both share one emitter, so handlers added
 * at any time see every event.
 */
import mitt, { type Emitter } from "mitt";
import type { ReadyState } from "./base.js";
import { HandshakeError } from "./errors.js";
import type { DriverEventHandler, DriverEventType, DriverEvents } from "./events.js";
import type { Extension } from "./extensions/extension.js";
import { HeadReader, type RequestHead } from "./http/head.js";
import { CloseCode } from "./hybi/close.js";
import { errorResponse } from "./hybi/handshake-server.js";
import type { DriverIO, ServerOptions } from "./options.js";
import type { HttpRequest, Payload, ServerDriver } from "./types.js";
import { type ByteSource, toBytes } from "./util/bytes.js";

export type ServerDriverFactory = (
  request: HttpRequest, io: DriverIO, options: ServerOptions, emitter: Emitter<DriverEvents>,
) => ServerDriver;

export class HttpServerDriver implements ServerDriver {
  request: HttpRequest | undefined = undefined;

  private readonly emitter = mitt<DriverEvents>();
  /** Reads the request head; dropped once the request is read, so an open connection does not keep it. */
  private reader: HeadReader<RequestHead> | null;
  private delegate: ServerDriver | null = null;
  private pending: Array<(driver: ServerDriver) => void> = [];
  private refused = false;

  constructor(
    private readonly io: DriverIO,
    private readonly options: ServerOptions,
    private readonly createDriver: ServerDriverFactory,
  ) {
    this.reader = new HeadReader<RequestHead>("request", options.maxHeaderSize);
  }

  get readyState(): ReadyState {
    return this.delegate ? this.delegate.readyState : this.refused ? 3 : 0;
  }

  get version(): string {
    return this.delegate ? this.delegate.version : "";
  }

  get protocol(): string {
    return this.delegate ? this.delegate.protocol : "";
  }

  parse(chunk: ByteSource): void {
    if (this.delegate) {
      this.delegate.parse(chunk);
      return;
    }
    if (this.refused) return;
    const result = (this.reader as HeadReader<RequestHead>).push(toBytes(chunk));
    if (result.kind === "partial") return;
    if (result.kind === "error") {
      this.refuse(new HandshakeError(result.status, result.message));
      return;
    }
    this.reader = null;
    const request: HttpRequest = { ...result.head };
    this.request = request;
    const driver = this.createDriver(request, this.io, this.options, this.emitter);
    this.delegate = driver;
    const pending = this.pending;
    this.pending = [];
    for (const call of pending) call(driver);
    this.emitter.emit("connect", {});
    if (result.rest.length > 0) driver.parse(result.rest);
  }

  start(): boolean {
    return this.forward((driver) => driver.start());
  }

  text(message: string): boolean {
    return this.forward((driver) => driver.text(message));
  }

  binary(message: ByteSource): boolean {
    return this.forward((driver) => driver.binary(message));
  }

  ping(payload?: Payload, onPong?: () => void): boolean {
    return this.forward((driver) => driver.ping(payload, onPong));
  }

  pong(payload?: Payload): boolean {
    return this.forward((driver) => driver.pong(payload));
  }

  close(reason?: string, code?: number): boolean {
    return this.forward((driver) => driver.close(reason, code));
  }

  setHeader(name: string, value: string): boolean {
    return this.forward((driver) => driver.setHeader(name, value));
  }

  addExtension(extension: Extension): boolean {
    return this.forward((driver) => driver.addExtension(extension));
  }

  end(): void {
    if (this.delegate) {
      this.delegate.end();
      return;
    }
    if (this.refused) return;
    this.refused = true;
    this.pending = [];
    this.emitter.emit("close", { code: CloseCode.ABNORMAL, reason: "" });
  }

  on<K extends DriverEventType>(type: K, handler: DriverEventHandler<K>): void {
    this.emitter.on(type, handler);
  }

  off<K extends DriverEventType>(type: K, handler?: DriverEventHandler<K>): void {
    this.emitter.off(type, handler);
  }

  /** Calls the version driver now, or once the request has been read. */
  private forward(call: (driver: ServerDriver) => boolean): boolean {
    if (this.delegate) return call(this.delegate);
    if (this.refused) return false;
    this.pending.push(call);
    return true;
  }

  /** A head that is malformed or too large: the error status, then `error` and `close`. */
  private refuse(error: HandshakeError): void {
    this.refused = true;
    this.pending = [];
    this.io.write(errorResponse(error.status, error.message));
    this.emitter.emit("error", error);
    this.emitter.emit("close", { code: CloseCode.PROTOCOL_ERROR, reason: error.message });
  }

}
