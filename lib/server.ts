/**
 * `Driver.server`: reads the HTTP request from the byte stream, emits `connect`, then hands
 * everything to the driver for the protocol version the request asks for. Calls made before the
 * request is known are replayed on that driver in order; both share one set of handlers (mitt's
 * Map), so handlers added at any time see every event.
 */
import { type DriverHandlers, FAIL_CONNECTION, type ReadyState, closeTransport, emitEvent, emitOnce, failConnection } from "./base.js";
import type { RejectOptions } from "./http/rejection.js";
import { HandshakeError, type ProtocolError } from "./errors.js";
import type { DriverEventHandler, DriverEventType, DriverEvents } from "./events.js";
import type { Extension } from "./extensions/extension.js";
import { checkExtension } from "./extensions/pipeline.js";
import { HeadReader, type RequestHead } from "./http/head.js";
import { isSafeHeader } from "./http/headers.js";
import { checkOriginOptions } from "./http/origin.js";
import { CloseCode } from "./hybi/close.js";
import { errorResponse } from "./hybi/handshake-server.js";
import mitt from "mitt";
import { type DriverIO, type ServerOptions, resolveMaxLength, resolveMaxStreamLength, resolveReceiveMode, resolveTextBytes } from "./options.js";
import type { PreparedMessage } from "./prepared.js";
import type { HttpRequest, MessageWriter, Payload, ServerDriver } from "./types.js";
import { type ByteSource, toBytes, utf8Encode } from "./util/bytes.js";
import { utf8Bytes } from "./util/utf8.js";

export type ServerDriverFactory = (
  request: HttpRequest, io: DriverIO, options: ServerOptions, handlers: DriverHandlers,
) => ServerDriver;

/** What the wrapper needs only until the request is read: an open connection does not keep it. */
interface RequestReading {
  readonly io: DriverIO;
  readonly options: ServerOptions;
  readonly createDriver: ServerDriverFactory;
  readonly reader: HeadReader<RequestHead>;
  /** The event handlers, handed to the version driver once it exists. */
  readonly handlers: DriverHandlers;
  /** Calls made before the request was read; created by the first one (most connections make none). */
  pending: Array<(driver: ServerDriver) => void> | null;
  /** The names of the extensions kept in `pending`, and whether `start()` was kept there. */
  extensionNames?: string[];
  startCalled?: boolean;
}

/**
 * Once the version driver exists it holds everything, the event handlers included, so the wrapper
 * keeps two fields (40 bytes, 48 with an emitter of its own; bench/heap.mjs).
 */
export class HttpServerDriver implements ServerDriver {
  /**
   * What is held before there is a version driver: the request reader while the request is read,
   * then, if it was refused or the transport ended first, the handlers alone; null once the
   * version driver exists. While the version driver is being handed the chunk that ended the
   * request (the calls made before it, `connect`, the bytes after the head), the bytes that
   * handlers pass to `parse` meanwhile, read once that chunk is (see `parse`).
   */
  private before: RequestReading | DriverHandlers | Uint8Array[] | null;
  private delegate: ServerDriver | null = null;

  constructor(io: DriverIO, options: ServerOptions, createDriver: ServerDriverFactory) {
    // Checked now, not when the request has been read: the version driver's check would throw out
    // of `parse()`, on the peer's bytes.
    resolveMaxLength(options);
    checkOriginOptions(options);
    resolveMaxStreamLength(options);
    resolveReceiveMode(options);
    resolveTextBytes(options);
    const reader = new HeadReader<RequestHead>("request", options.maxHeaderSize);
    this.before = { io, options, createDriver, reader, handlers: new Map(), pending: null };
  }

  /** The request, once read: the version driver's, so it is held once. */
  get request(): HttpRequest | undefined {
    return this.delegate ? this.delegate.request : undefined;
  }

  get readyState(): ReadyState {
    return this.delegate ? this.delegate.readyState : this.reading() === null ? 3 : 0;
  }

  get version(): string {
    return this.delegate ? this.delegate.version : "";
  }

  get protocol(): string {
    return this.delegate ? this.delegate.protocol : "";
  }

  parse(chunk: ByteSource): void {
    if (this.delegate) {
      if (this.before === null) this.delegate.parse(chunk);
      else (this.before as Uint8Array[]).push(toBytes(chunk));
      return;
    }
    const reading = this.reading();
    if (reading === null) return;
    const result = reading.reader.push(toBytes(chunk));
    if (result.kind === "partial") return;
    if (result.kind === "error") {
      this.refuse(reading, new HandshakeError(result.status, result.message));
      return;
    }
    const request: HttpRequest = result.head;
    const driver = reading.createDriver(request, reading.io, reading.options, reading.handlers);
    // Bytes a handler passes to `parse` from here on come after the rest of this chunk: they wait
    // in `handedOver` until it has been read (a `connect` handler's bytes read first would cut in
    // front of frames that came with the head).
    const handedOver: Uint8Array[] = [];
    this.before = handedOver;
    this.delegate = driver;
    try {
      const pending = reading.pending;
      if (pending !== null) for (const call of pending) call(driver);
      // `connect` fires once: its handlers are then dropped (see emitOnce).
      emitOnce(reading.handlers, "connect", {});
      if (result.rest.length > 0) driver.parse(result.rest);
      for (let i = 0; i < handedOver.length; i++) driver.parse(handedOver[i]);
    } finally {
      this.before = null;
    }
  }

  start(): boolean {
    const reading = this.delegate ? null : this.reading();
    if (reading !== null) reading.startCalled = true;
    return this.forward((driver) => driver.start());
  }

  reject(status: number, options?: RejectOptions): boolean {
    // Before the request is read there is nothing to answer yet; a malformed one is refused by the reader.
    return this.delegate ? this.delegate.reject(status, options) : false;
  }

  text(message: string | ByteSource): boolean {
    if (this.delegate) return this.delegate.text(message);
    // Bytes are checked now: replayed later, a TypeError would come out of `parse`.
    const data = typeof message === "string" ? message : utf8Bytes(message);
    return this.forward((driver) => driver.text(data));
  }

  binary(message: ByteSource): boolean {
    if (this.delegate) return this.delegate.binary(message);
    return this.forward((driver) => driver.binary(message));
  }

  /** See `Driver.startMessage`: null until the version driver has opened the connection. */
  startMessage(type: "text" | "binary"): MessageWriter | null {
    return this.delegate ? this.delegate.startMessage(type) : null;
  }

  sendPrepared(message: PreparedMessage): boolean {
    if (this.delegate) return this.delegate.sendPrepared(message);
    return this.forward((driver) => driver.sendPrepared(message));
  }

  ping(payload?: Payload, onPong?: () => void): boolean {
    if (this.delegate) return this.delegate.ping(payload, onPong);
    if (isTooLongForControl(payload)) return false;
    return this.forward((driver) => driver.ping(payload, onPong));
  }

  pong(payload?: Payload): boolean {
    if (this.delegate) return this.delegate.pong(payload);
    if (isTooLongForControl(payload)) return false;
    return this.forward((driver) => driver.pong(payload));
  }

  close(reason = "", code: number = CloseCode.NORMAL): boolean {
    if (this.delegate) return this.delegate.close(reason, code);
    // Before the connection opens, close() closes at once (as the version driver does while
    // connecting), rather than when a request the peer may never send arrives.
    const reading = this.reading();
    if (reading === null) return false;
    this.before = reading.handlers;
    closeTransport(reading.io);
    emitEvent(reading.handlers, "close", { code, reason });
    return true;
  }

  setHeader(name: string, value: string): boolean {
    // Refused now as the version driver would refuse it: a kept call can only answer true.
    if (!this.delegate && !isSafeHeader(name, String(value))) return false;
    return this.forward((driver) => driver.setHeader(name, value));
  }

  /**
   * Before the request is read, an extension is checked and kept as the RFC 6455 driver would keep
   * it (a kept call can only answer true, and a bad one would throw out of `parse()` later). The
   * drafts negotiate no extensions: if the request is a draft's, the kept call is refused then.
   */
  addExtension(extension: Extension): boolean {
    if (this.delegate) return this.delegate.addExtension(extension);
    const reading = this.reading();
    if (reading === null) return false;
    checkExtension(extension);
    if (reading.startCalled) return false;
    const names = (reading.extensionNames ??= []);
    if (names.includes(extension.name)) return false;
    names.push(extension.name);
    return this.forward((driver) => driver.addExtension(extension));
  }

  end(): void {
    if (this.delegate) {
      this.delegate.end();
      return;
    }
    const reading = this.reading();
    if (reading === null) return;
    this.before = reading.handlers;
    closeTransport(reading.io);
    emitEvent(reading.handlers, "close", { code: CloseCode.ABNORMAL, reason: "" });
  }

  /** @internal See `FAIL_CONNECTION`: the version driver's, or, before there is one, `close` with the error's code. */
  [FAIL_CONNECTION](error: ProtocolError): void {
    if (this.delegate) {
      failConnection(this.delegate, error);
      return;
    }
    const reading = this.reading();
    if (reading === null) return;
    this.before = reading.handlers;
    emitEvent(reading.handlers, "error", error);
    closeTransport(reading.io);
    emitEvent(reading.handlers, "close", { code: error.code, reason: error.message });
  }

  on<K extends DriverEventType>(type: K, handler: DriverEventHandler<K>): void {
    if (this.delegate) this.delegate.on(type, handler);
    else mitt<DriverEvents>(this.handlers()).on(type, handler);
  }

  off<K extends DriverEventType>(type: K, handler?: DriverEventHandler<K>): void {
    if (this.delegate) this.delegate.off(type, handler);
    else mitt<DriverEvents>(this.handlers()).off(type, handler);
  }

  /** The request reader, while the request is being read. */
  private reading(): RequestReading | null {
    const before = this.before;
    return before === null || before instanceof Map || Array.isArray(before) ? null : before;
  }

  /** The handlers, while there is no version driver to hold them. */
  private handlers(): DriverHandlers {
    const before = this.before as RequestReading | DriverHandlers;
    return before instanceof Map ? before : before.handlers;
  }

  /**
   * Calls the version driver now, or once the request has been read. (The sends check for the
   * driver first, so an open connection allocates no closure per message.)
   */
  private forward(call: (driver: ServerDriver) => boolean): boolean {
    if (this.delegate) return call(this.delegate);
    const reading = this.reading();
    if (reading === null) return false;
    (reading.pending ??= []).push(call);
    return true;
  }

  /** A head that is malformed or too large: the error status, then `error` and `close`. */
  private refuse(reading: RequestReading, error: HandshakeError): void {
    const handlers = reading.handlers;
    this.before = handlers;
    reading.io.write(errorResponse(error.status, error.message));
    emitEvent(handlers, "error", error);
    closeTransport(reading.io);
    emitEvent(handlers, "close", { code: CloseCode.PROTOCOL_ERROR, reason: error.message });
  }

}

/**
 * Whether a ping or pong payload is over the 125 bytes of RFC 6455 §5.5, which every version driver
 * refuses: a call kept until the request is read could only answer true.
 */
function isTooLongForControl(payload: Payload | undefined): boolean {
  if (payload === undefined) return false;
  return (typeof payload === "string" ? utf8Encode(payload) : toBytes(payload)).length > 125;
}
