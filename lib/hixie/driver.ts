/**
 * What the two draft server drivers share: the opening handshake up to the response head, holding
 * bytes that arrive before it is complete, text frames out, the frame reader in, and closing. The
 * drafts have no binary messages, pings or close codes, so `binary`, `ping` and `pong` return false
 * and a `close` event carries the code and reason given to `close()` (1000 and "" by default).
 */
import { BaseDriver, CLOSED, CONNECTING, type DriverHandlers, OPEN, type QueuedSend } from "../base.js";
import { type RejectOptions, checkRejection, rejectionResponse } from "../http/rejection.js";
import { HandshakeError, ProtocolError } from "../errors.js";
import { checkOrigin } from "../http/origin.js";
import { CloseCode } from "../hybi/close.js";
import { errorResponse, selectProtocol } from "../hybi/handshake-server.js";
import { type DriverIO, MAX_EARLY_BYTES, type ServerOptions, resolveMaxLength } from "../options.js";
import type { PreparedMessage } from "../prepared.js";
import type { HttpRequest, ServerDriver } from "../types.js";
import { type ByteSource, concatBytes, latin1Encode, toBytes, utf8Encode } from "../util/bytes.js";
import { type DraftVersion, checkDraftRequest, draftResponse, locationOf } from "./handshake.js";
import { utf8Bytes } from "../util/utf8.js";
import { type DraftFrameSink, DraftParser } from "./parser.js";

/** draft-hixie-76 §1.4: the closing frame, a 0xFF type byte and a zero length. */
const CLOSING_FRAME = Uint8Array.of(0xff, 0x00);

/** The type byte of a text frame (draft-hixie-76 §5.3), as the queue of early sends records it. */
const TEXT_FRAME = 0x00;

export abstract class DraftDriver extends BaseDriver implements ServerDriver, DraftFrameSink {
  abstract override readonly version: DraftVersion;
  readonly request: HttpRequest;

  protected readonly options: ServerOptions;
  protected readonly maxLength: number;
  private readonly parser: DraftParser;
  /** Bytes read before the handshake completes: the draft-76 key body, then any early frames. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(
    request: HttpRequest,
    io: DriverIO,
    options: ServerOptions,
    handlers: DriverHandlers | undefined,
    /** Whether this draft has the 0xFF 0x00 closing frame (draft-76 does, draft-75 does not). */
    private readonly closingFrame: boolean,
    /** How many body bytes the handshake needs after the head (8 in draft-76). */
    private readonly bodyLength: number,
  ) {
    super(io, handlers);
    this.request = request;
    this.options = options;
    this.maxLength = resolveMaxLength(options);
    this.parser = new DraftParser(this, { closingFrame, maxLength: this.maxLength });
    // Bytes the embedder's HTTP stack read after the head: already in memory, so held without the limit.
    if (request.body && request.body.length > 0) {
      this.held.push(request.body);
      this.heldBytes = request.body.length;
    }
  }

  /** Draft-specific checks of the request, after the shared ones; throws a `HandshakeError`. */
  protected abstract checkRequest(): void;

  /** What follows the response head once the body is in (the draft-76 digest), or nothing. */
  protected abstract handshakeTail(body: Uint8Array): Uint8Array | null;

  /**
   * Answers the handshake: the response head at once, then (once the body is in, for draft-76) the
   * rest of it and `open`. A refused request gets an error status, `error` and `close`.
   */
  start(): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    this.started = true;
    try {
      checkDraftRequest(this.request, this.version, this.options.allowDrafts === true);
      this.checkRequest();
      // After the request's own checks, as RFC 6455 requests are (draft-hixie-76 §5.2 leaves the
      // origin to the server; a refused one gets no handshake, so the page sees a failure).
      checkOrigin(this.request.headers, this.options);
    } catch (error) {
      this.refuse(error as HandshakeError);
      return false;
    }
    const headers = this.request.headers;
    const offered = this.version === "hixie-76" ? headers["sec-websocket-protocol"] : headers["websocket-protocol"];
    this.protocol = selectProtocol(offered, this.options.protocols ?? []);
    const head = draftResponse(this.version, {
      origin: headers["origin"],
      location: locationOf(this.request, this.options.secure === true),
      protocol: this.protocol,
      custom: this.customHeaders,
    });
    // The echoed Origin was read as Latin-1 (as HTTP heads are), so Latin-1 gives back its bytes; a
    // header added with setHeader that needs more than Latin-1 is sent as UTF-8, as hybi does.
    this.io.write(/[^\x00-\xff]/.test(head) ? utf8Encode(head) : latin1Encode(head));
    this.proceed();
    return true;
  }

  /**
   * Feeds bytes read from the transport. Never throws on what the peer sent: bad input becomes an
   * `error` event and a close.
   */
  parse(chunk: ByteSource): void {
    if (this.readyState === CLOSED) return;
    const bytes = toBytes(chunk);
    if (bytes.length === 0) return;
    if (this.readyState === CONNECTING) {
      this.hold(bytes);
      if (this.readyState === CONNECTING) this.proceed();
    } else {
      this.parser.parse(bytes);
    }
  }

  /**
   * Sends a text frame, 0x00, the UTF-8 bytes, 0xFF (draft-hixie-76 §5.3); queued until open. A
   * string, or UTF-8 bytes (a `TypeError` if they are not valid).
   */
  text(message: string | ByteSource): boolean {
    const text = typeof message === "string" ? message : utf8Bytes(message);
    if (this.readyState !== OPEN) return this.queueSend(TEXT_FRAME, text);
    this.sendText(text);
    return true;
  }

  /** A send queued while connecting: the drafts queue text only. */
  protected sendQueued(send: QueuedSend): void {
    this.sendText(send.data);
  }

  private sendText(message: string | Uint8Array): void {
    const data = typeof message === "string" ? utf8Encode(message) : message;
    const frame = new Uint8Array(data.length + 2);
    frame.set(data, 1);
    frame[frame.length - 1] = 0xff;
    this.io.write(frame);
  }

  /** A prepared text message is sent as `text` sends it; the drafts have no binary message. */
  sendPrepared(message: PreparedMessage): boolean {
    return message.text !== null && this.text(message.text);
  }

  /** The drafts' length-prefixed frames are discarded by their readers: there is no binary message. */
  binary(_message: ByteSource): boolean {
    return false;
  }

  /** The drafts' frames cannot be fragmented: no message is sent in pieces. */
  startMessage(_type: "text" | "binary"): null {
    return null;
  }

  /** The drafts have no ping. */
  ping(): boolean {
    return false;
  }

  /** The drafts have no pong. */
  pong(): boolean {
    return false;
  }

  /** The drafts negotiate no extensions. */
  addExtension(_extension: unknown): boolean {
    return false;
  }

  /**
   * Closes the connection and emits `close` at once. draft-76 sends its closing frame first
   * (§1.4); draft-75 has none, so the embedder's closing the socket is the close.
   */
  close(reason = "", code: number = CloseCode.NORMAL): boolean {
    if (this.readyState === CLOSED) return false;
    if (this.readyState === OPEN && this.closingFrame && !this.writeClosingFrame()) return true;
    this.finish();
    this.emit("close", { code, reason });
    return true;
  }

  /** The transport has closed. Emits `close` (1006) unless the connection is already closed. */
  end(): void {
    if (this.readyState === CLOSED) return;
    this.finish();
    this.emit("close", { code: CloseCode.ABNORMAL, reason: "" });
  }

  // --- DraftFrameSink ------------------------------------------------------------------------

  onText(text: string): void {
    // `textData: "bytes"` is kept here too, so one handler serves every version.
    this.emit("message", this.options.textData === "bytes" ? { data: utf8Encode(text), binary: false } : { data: text });
  }

  /** draft-hixie-76 §5.3: answer the peer's closing frame with ours, then the connection is closed. */
  onClosingFrame(): void {
    if (!this.writeClosingFrame()) return;
    this.finish();
    this.emit("close", { code: CloseCode.NORMAL, reason: "" });
  }

  onFrameError(error: ProtocolError): void {
    this.fail(error);
  }

  /** Fails the connection: draft-76's closing frame if open, then `error` and `close` with the error's code. */
  protected fail(error: ProtocolError): void {
    if (this.readyState === CLOSED) return;
    if (this.readyState === OPEN && this.closingFrame && !this.writeClosingFrame()) return;
    this.finish();
    this.emit("error", error);
    this.emit("close", { code: error.code, reason: error.message });
  }

  /**
   * Writes draft-76's closing frame; false if the transport ended the connection meanwhile (an
   * adapter's `end()` on a refused write), which has then emitted its `close` already.
   */
  private writeClosingFrame(): boolean {
    this.io.write(CLOSING_FRAME);
    return this.readyState !== CLOSED;
  }

  /** Refuses the handshake with the application's own status (`ServerDriver.reject`), as the hybi driver does. */
  reject(status: number, options: RejectOptions = {}): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    const rejection = checkRejection(status, options, this.customHeaders);
    this.started = true;
    this.io.write(rejectionResponse(rejection));
    // A transport that failed on that write has ended the connection, and emitted `close`, already.
    if ((this.readyState as number) === CLOSED) return true;
    this.finish();
    this.emit("close", { code: CloseCode.POLICY_VIOLATION, reason: `Refused with ${status} ${rejection.reason}` });
    return true;
  }

  /** Writes the error response, then emits `error` and `close` (1002), as the hybi driver does. */
  private refuse(error: HandshakeError): void {
    this.io.write(errorResponse(error.status, error.message));
    // A transport that failed on that write has ended the connection, and emitted `close`, already.
    if (this.readyState === CLOSED) return;
    this.finish();
    this.emit("error", error);
    this.emit("close", { code: CloseCode.PROTOCOL_ERROR, reason: error.message });
  }

  private finish(): void {
    this.readyState = CLOSED;
    this.parser.stop();
    this.held = [];
    this.heldBytes = 0;
    this.dropQueue();
  }

  /**
   * Keeps bytes until the handshake completes, up to the body, then a frame of 64 KiB (or
   * `maxLength`, if smaller) and its framing (MAX_EARLY_BYTES).
   */
  private hold(bytes: Uint8Array): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    if (this.heldBytes > this.bodyLength + Math.min(this.maxLength, MAX_EARLY_BYTES) + 2) {
      this.fail(new ProtocolError(CloseCode.TOO_LARGE, "Too many bytes received before the handshake was answered"));
    }
  }

  /** Completes the handshake once `start()` has answered and the body is in, then reads what followed. */
  private proceed(): void {
    if (!this.started || this.readyState !== CONNECTING || this.heldBytes < this.bodyLength) return;
    const held = concatBytes(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    const tail = this.handshakeTail(held.subarray(0, this.bodyLength));
    if (tail) this.io.write(tail);
    // A transport that failed on that write has ended the connection already.
    if (this.readyState !== CONNECTING) return;
    this.readyState = OPEN;
    // Sends queued while connecting go out before `open` fires, so one made by an `open` handler
    // follows them; a write that fails may close the connection meanwhile.
    this.flushQueue();
    if (this.readyState !== OPEN) return;
    this.emitOnce("open", {});
    const rest = held.subarray(this.bodyLength);
    if (rest.length > 0 && this.readyState === OPEN) this.parser.parse(rest);
  }
}
