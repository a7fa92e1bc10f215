/**
 * The RFC 6455 connection once the opening handshake is done (and the parts of it both roles
 * share): frames in through the parser and assembler, frames out through the framer, the ping/pong
 * bookkeeping, and the closing handshake of §7.
 */
import { BaseDriver, CLOSED, CLOSING, CONNECTING, type DriverHandlers, OPEN, type QueuedSend } from "../base.js";
import { ProtocolError } from "../errors.js";
import type { Extension, ExtensionContext } from "../extensions/extension.js";
import { ExtensionNegotiator, type ExtensionPipeline } from "../extensions/pipeline.js";
import type { DriverIO, DriverOptions } from "../options.js";
import { resolveMaxLength, resolveMaxStreamLength, resolveReceiveMode, resolveTextBytes } from "../options.js";
import type { PreparedMessage } from "../prepared.js";
import type { MessageWriter, Payload } from "../types.js";
import { type ByteSource, EMPTY, concatBytes, latin1Decode, toBytes, utf8Encode } from "../util/bytes.js";
import { decodeUtf8, utf8Bytes } from "../util/utf8.js";
import {
  type AssemblerLimits, MessageAssembler, type MessageSink, STOP, TAKE_IN_PIECES, TAKE_WHOLE, deliverMessage, wholeMessages,
} from "./assembler.js";
import { CloseCode, isValidCloseCode } from "./close.js";
import { Framer } from "./framer.js";
import { FrameParser, type FrameSink, Opcode } from "./parser.js";
import { type MessageOutlet, OutgoingMessage, messageOpcode } from "./writer.js";

/**
 * Every field below is 8 bytes of every open connection, so what can be read elsewhere is not a
 * field: `version` and `isClient` are getters, and whether a close frame was sent is the ready
 * state (sent ⇔ CLOSING while the parser runs); what only the opening handshake needs is in
 * `BaseDriver.opening`. 192 -> 120 bytes per server connection (heap snapshot of 50 open
 * `Driver.server` connections; bench/heap.mjs measures the whole driver).
 */
export abstract class HybiDriver extends BaseDriver implements FrameSink, MessageSink, MessageOutlet {
  /** The largest incoming message, all its fragments together. */
  protected readonly maxLength: number;
  /**
   * How messages are received, shared by the connection's assemblers: in pieces (`receive:
   * "stream"` or `"choose"`: `announce` is set), or whole only (the default, which the parser
   * limits: one of two shared objects, text as strings or as bytes).
   */
  private readonly receiving: AssemblerLimits;
  /** The message being sent in pieces (`startMessage`), if one is. */
  private outgoing: OutgoingMessage | null = null;
  /**
   * The frame parser, the message assembler and the framer are made by the first bytes read once
   * open, the first data frame in and the first frame out: a connection that has read and sent
   * nothing since it opened holds none of them (288 bytes less per idle connection: 160 for the
   * parser, 72 for the assembler, 56 for the framer; heap snapshot of open `Driver.server`
   * connections). The framer is kept once made, as every send needs it. The parser (and an
   * assembler with no extension behind it) is dropped again whenever a `parse` call leaves it at
   * rest between frames, and made afresh by the next bytes: a connection that has carried traffic
   * and gone quiet holds neither, at the cost of one small object per `parse` call.
   */
  private parserOrNull: FrameParser | null = null;
  private assemblerOrNull: MessageAssembler | null = null;
  private framerOrNull: Framer | null = null;
  /** The negotiated extensions, once open; null (the fast path) when there are none. */
  protected extensions: ExtensionPipeline | null = null;
  /** Created by the first `ping` with a callback: an idle connection is 200 bytes smaller without it. */
  private pongCallbacks: Map<string, Array<() => void>> | null = null;

  constructor(io: DriverIO, options: DriverOptions, handlers?: DriverHandlers) {
    super(io, handlers);
    this.maxLength = resolveMaxLength(options);
    const mode = resolveReceiveMode(options);
    const maxStreamLength = resolveMaxStreamLength(options);
    const textBytes = resolveTextBytes(options);
    this.receiving = mode === "whole" ? wholeMessages(textBytes) : {
      textBytes,
      announce: true,
      choose: mode === "choose",
      // "choose": the parser checks the larger limit, and the assembler `maxLength` for whole messages.
      maxLength: mode === "choose" ? this.maxLength : Infinity,
      maxStreamLength,
    };
  }

  /** The limit the frame parser checks: the largest message that may arrive, whole or in pieces. */
  private get parserLimit(): number {
    const receiving = this.receiving;
    if (!receiving.announce) return this.maxLength;
    return receiving.choose ? Math.max(this.maxLength, receiving.maxStreamLength) : receiving.maxStreamLength;
  }

  /** Reads the frames that arrive (RFC 6455 §5.2). */
  protected get parser(): FrameParser {
    let parser = this.parserOrNull;
    if (parser === null) {
      // RFC 6455 §5.1: a client masks its frames, a server does not; each refuses the other kind.
      parser = this.parserOrNull = new FrameParser(this, {
        expectMasked: !this.isClient, maxLength: this.parserLimit, gatherBinary: !this.receiving.announce,
      });
      if (this.extensions !== null) parser.allowedRsv = this.extensions.rsv;
    }
    return parser;
  }

  /** Reads bytes once open, then lets go of the parser and assembler if they are at rest (see above). */
  private parseOpen(bytes: Uint8Array): void {
    const parser = this.parser;
    parser.parse(bytes);
    this.letGoAtRest(parser);
  }

  /** Drops `parser` (and an assembler with no extension) if it is the driver's and at rest. */
  private letGoAtRest(parser: FrameParser): void {
    if (this.parserOrNull !== parser || !parser.atRest) return;
    this.parserOrNull = null;
    const assembler = this.assemblerOrNull;
    if (assembler !== null && this.extensions === null && assembler.atRest) this.assemblerOrNull = null;
  }

  /** Stops reading: nothing more is parsed (a parser not made yet has nothing to stop). */
  protected stopParser(): void {
    this.parserOrNull?.stop();
  }

  /** Reassembles the data frames that arrive into messages. */
  protected get assembler(): MessageAssembler {
    return (this.assemblerOrNull ??= new MessageAssembler(this, this.receiving));
  }

  /** Builds the frames this end sends (masked on a client, RFC 6455 §5.3). */
  protected get framer(): Framer {
    return (this.framerOrNull ??= new Framer(this.io, this.isClient));
  }

  get version(): string {
    return "hybi-13";
  }

  /** Whether this is the client's end (it masks what it sends, RFC 6455 §5.3). */
  protected abstract get isClient(): boolean;

  abstract start(): boolean;

  /** Bytes read while still connecting: the handshake (client) or early frames (server). */
  protected abstract parseConnecting(chunk: Uint8Array): void;

  /**
   * Feeds bytes read from the transport. Never throws on what the peer sent: bad input becomes an
   * `error` event and a close. Payloads are unmasked in place and messages may be views of `chunk`,
   * so hand over a buffer the transport will not reuse.
   */
  parse(chunk: ByteSource): void {
    if (this.readyState === CLOSED) return;
    const bytes = toBytes(chunk);
    if (this.readyState === CONNECTING) this.parseConnecting(bytes);
    else this.parseOpen(bytes);
  }

  text(message: string | ByteSource): boolean {
    const data = typeof message === "string" ? message : utf8Bytes(message);
    if (this.readyState !== OPEN) return this.queueSend(Opcode.TEXT, data);
    if (this.outgoing !== null) return this.holdSend(Opcode.TEXT, data);
    this.sendText(data);
    return true;
  }

  binary(message: ByteSource): boolean {
    const bytes = toBytes(message);
    if (this.readyState !== OPEN) return this.queueSend(Opcode.BINARY, bytes);
    if (this.outgoing !== null) return this.holdSend(Opcode.BINARY, bytes);
    this.sendBinary(bytes);
    return true;
  }

  startMessage(type: "text" | "binary"): MessageWriter | null {
    const opcode = messageOpcode(type);
    if (this.readyState !== OPEN || this.outgoing !== null) return null;
    return (this.outgoing = new OutgoingMessage(this, opcode));
  }

  /** A whole message sent while one goes out in pieces waits for it to end (RFC 6455 §5.4). */
  private holdSend(opcode: number, data: string | Uint8Array | PreparedMessage): boolean {
    ((this.outgoing as OutgoingMessage).held ??= []).push({ opcode, data });
    return true;
  }

  /** @internal (`MessageOutlet`) */
  get canSend(): boolean {
    return this.readyState === OPEN;
  }

  /**
   * @internal (`MessageOutlet`) One frame of a message sent in pieces: through the extensions
   * piece by piece when they can (RFC 7692 §6.1: their RSV bits on the first frame only), else
   * gathered and sent as one frame at the end.
   */
  sendPiece(opcode: number, payload: Uint8Array, first: boolean, last: boolean): void {
    const extensions = this.extensions;
    const frameOpcode = first ? opcode : Opcode.CONTINUATION;
    if (extensions === null) {
      this.framer.frame(frameOpcode, payload, last, 0);
    } else if (extensions.encodesPieces) {
      const encoded = extensions.encodePiece(payload, opcode, last);
      this.framer.frame(frameOpcode, encoded.payload, last, first ? encoded.rsv : 0);
    } else {
      // Extensions that cannot encode piece by piece: the pieces are gathered, and sent whole at the end.
      const writer = this.outgoing as OutgoingMessage;
      (writer.gathered ??= []).push(payload.slice());
      if (!last) return;
      const whole = concatBytes(writer.gathered);
      writer.gathered = null;
      this.sendEncoded(opcode, whole);
    }
  }

  /** @internal (`MessageOutlet`) The message sent in pieces has ended: what waited for it goes out. */
  finishMessage(writer: OutgoingMessage): void {
    if (this.outgoing !== writer) return;
    this.outgoing = null;
    const held = writer.held;
    writer.held = null;
    if (held === null) return;
    for (let i = 0; i < held.length; i++) {
      if (this.readyState !== OPEN) return;
      if (this.outgoing !== null) {
        // A handler started another message in pieces meanwhile: the rest waits for that one.
        for (; i < held.length; i++) this.holdSend(held[i].opcode, held[i].data);
        return;
      }
      const { opcode, data } = held[i];
      if (typeof data === "object" && !(data instanceof Uint8Array)) this.sendPrepared(data);
      else if (opcode === Opcode.TEXT) this.sendText(data as string | Uint8Array);
      else this.sendBinary(data as Uint8Array);
    }
  }

  /** The connection is over: a message being sent in pieces never ends, and what waited is dropped. */
  private dropOutgoing(): void {
    const writer = this.outgoing;
    if (writer === null) return;
    this.outgoing = null;
    writer.giveUp();
  }

  /**
   * The connection failed or closed: a message being received in pieces ends with `error` before
   * `error` and `close` are emitted; one being sent in pieces is given up.
   */
  private abandonMessages(error: Error): void {
    this.dropOutgoing();
    const assembler = this.assemblerOrNull;
    if (assembler !== null && assembler.abandon()) this.emit("messageend", { error });
  }

  /**
   * Sends a message prepared for many connections (`prepareMessage`): a server writes the frame
   * built once for every connection that encodes it alike, a client masks it with a key of its
   * own; a connection whose extensions keep context encodes it itself. Queued until open.
   */
  sendPrepared(message: PreparedMessage): boolean {
    if (this.readyState !== OPEN) {
      return message.text !== null ? this.queueSend(Opcode.TEXT, message.text) : this.queueSend(Opcode.BINARY, message.payload);
    }
    // As `text` and `binary`: a message going out in pieces is not cut in two (RFC 6455 §5.4).
    if (this.outgoing !== null) return this.holdSend(message.opcode, message);
    const extensions = this.extensions;
    if (extensions === null) {
      if (this.isClient) this.framer.frame(message.opcode, message.payload);
      else this.io.write(message.frame());
      return true;
    }
    const key = extensions.encodingKey(message.payload, message.opcode);
    if (key === null) {
      this.sendEncoded(message.opcode, message.payload);
      return true;
    }
    const encoding = message.encoded(key, () => extensions.encode(message.payload, message.opcode));
    if (this.isClient) this.framer.frame(message.opcode, encoding.payload, true, encoding.rsv);
    else this.io.write(message.encodedFrame(encoding));
    return true;
  }

  /** A text message as a string, or as UTF-8 bytes already checked (`text(bytes)`): no encode. */
  private sendText(message: string | Uint8Array): void {
    if (typeof message !== "string") {
      if (this.extensions === null) this.framer.frame(Opcode.TEXT, message);
      else this.sendEncoded(Opcode.TEXT, message);
    } else if (this.extensions === null) {
      this.framer.text(Opcode.TEXT, message);
    } else {
      this.sendEncoded(Opcode.TEXT, utf8Encode(message));
    }
  }

  private sendBinary(bytes: Uint8Array): void {
    if (this.extensions === null) this.framer.frame(Opcode.BINARY, bytes);
    else this.sendEncoded(Opcode.BINARY, bytes);
  }

  /** A send queued while connecting: its `type` is the frame's opcode. */
  protected sendQueued(send: QueuedSend): void {
    switch (send.type) {
      case Opcode.TEXT: this.sendText(send.data); break;
      case Opcode.BINARY: this.sendBinary(send.data as Uint8Array); break;
      case Opcode.PING: this.sendPing(send.data as Uint8Array, send.onPong); break;
      default: this.framer.frame(Opcode.PONG, send.data as Uint8Array);
    }
  }

  /**
   * Adds an extension to negotiate in the opening handshake (RFC 6455 §9), such as
   * `deflate()`. False once the handshake has been sent, or if one of that name was added already.
   */
  addExtension(extension: Extension): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    const opening = this.openingState();
    return (opening.negotiator ??= new ExtensionNegotiator()).add(extension);
  }

  /** Extensions added before `start()`, to negotiate; null if none were. */
  protected get negotiator(): ExtensionNegotiator | null {
    return this.opening === null ? null : this.opening.negotiator;
  }

  /** What negotiated extensions learn about this connection. */
  protected get extensionContext(): ExtensionContext {
    return { isClient: this.isClient, maxLength: this.maxLength };
  }

  /** Starts the negotiated extensions: their RSV bits become legal, and messages pass through them. */
  protected useExtensions(pipeline: ExtensionPipeline | null): void {
    if (pipeline === null) return;
    this.extensions = pipeline;
    this.parser.allowedRsv = pipeline.rsv;
    const assembler = this.assembler;
    assembler.decodeCompressed = (payload, rsv) => pipeline.decode(payload, rsv);
    if (pipeline.decodesPieces) {
      assembler.decodePieces = (piece, rsv, last, emit) => pipeline.decodePiece(piece, rsv, last, emit);
    }
  }

  /** A data message through the extensions, then out as one frame with the RSV bits they set. */
  private sendEncoded(opcode: number, payload: Uint8Array): void {
    const encoded = (this.extensions as ExtensionPipeline).encode(payload, opcode);
    this.framer.frame(opcode, encoded.payload, true, encoded.rsv);
  }

  /** Releases what the extensions hold (compressors) once the connection is closed. */
  private releaseExtensions(): void {
    if (this.extensions === null) return;
    this.extensions.close();
    this.extensions = null;
  }

  /**
   * Sends a ping; `onPong` runs when a pong with the same payload comes back. False if the payload
   * is over 125 bytes (RFC 6455 §5.5) or the connection is closing.
   */
  ping(payload: Payload = EMPTY, onPong?: () => void): boolean {
    const bytes = payloadBytes(payload);
    if (bytes.length > 125) return false;
    if (this.readyState !== OPEN) return this.queueSend(Opcode.PING, bytes, onPong);
    this.sendPing(bytes, onPong);
    return true;
  }

  private sendPing(bytes: Uint8Array, onPong: (() => void) | undefined): void {
    if (onPong) {
      const key = latin1Decode(bytes);
      const callbacks = (this.pongCallbacks ??= new Map());
      const waiting = callbacks.get(key);
      if (waiting) waiting.push(onPong);
      else callbacks.set(key, [onPong]);
    }
    this.framer.frame(Opcode.PING, bytes);
  }

  /** Sends an unsolicited pong (pings are answered automatically). */
  pong(payload: Payload = EMPTY): boolean {
    const bytes = payloadBytes(payload);
    if (bytes.length > 125) return false;
    if (this.readyState !== OPEN) return this.queueSend(Opcode.PONG, bytes);
    this.framer.frame(Opcode.PONG, bytes);
    return true;
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2); `close` fires when the peer answers. Before the
   * connection opens it closes at once. False if already closing, if `code` may not be sent
   * (§7.4.1), or if the reason is over 123 bytes of UTF-8.
   */
  close(reason = "", code: number = CloseCode.NORMAL): boolean {
    if (this.readyState === CONNECTING) {
      this.readyState = CLOSED;
      this.dropQueue();
      this.emit("close", { code, reason });
      return true;
    }
    if (this.readyState !== OPEN) return false;
    const reasonBytes = utf8Encode(reason);
    if (!isValidCloseCode(code) || reasonBytes.length > 123) return false;
    // CLOSING first: a transport that ends while the frame is written (`end()`) leaves it CLOSED.
    this.readyState = CLOSING;
    this.sendClose(code, reasonBytes);
    return true;
  }

  /** The transport has closed. Emits `close` (1006) unless the closing handshake already finished. */
  end(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.stopParser();
    this.dropQueue();
    this.abandonMessages(new ProtocolError(CloseCode.ABNORMAL, "The connection closed before the message ended"));
    this.releaseExtensions();
    this.emit("close", { code: CloseCode.ABNORMAL, reason: "" });
  }

  /**
   * Called by subclasses once the handshake succeeds, with the frames that came with it (`rest`).
   * What was queued goes out before `open` fires, so what an `open` handler sends (or a `close` it
   * starts) comes after it, in the order it was asked for. Both happen inside the parser's read of
   * `rest`: frames a peer wired in memory sends back meanwhile are read after `open` and `rest`.
   * A transport that ends (`end()`) while the queue is written closes the connection: no `open`.
   */
  protected open(rest: Uint8Array = EMPTY): void {
    this.readyState = OPEN;
    const parser = this.parser;
    parser.parseAfter(() => {
      this.flushQueue();
      if (this.readyState !== CLOSED) this.emitOnce("open", {});
    }, rest);
    this.letGoAtRest(parser);
  }

  // --- FrameSink and MessageSink -------------------------------------------------------------

  onData(piece: Uint8Array, opcode: number, fin: boolean, rsv: number, frameEnd: boolean): void {
    const assembler = this.assemblerOrNull;
    const receiving = this.receiving;
    if (assembler === null && fin && frameEnd && rsv === 0 && !receiving.announce) {
      // A whole message in one piece, not compressed, with no assembler made yet (so none in
      // progress): nothing to reassemble, so it is delivered here as the assembler would, and a
      // connection that only ever receives such messages never makes one (72 bytes per idle
      // connection after traffic; bench/heap.mjs "after a message each way" 968 -> 892 B).
      deliverMessage(this, piece, opcode, receiving.textBytes);
      return;
    }
    (assembler ?? this.assembler).push(piece, opcode, fin, rsv, frameEnd);
  }

  onMessage(data: string | Uint8Array, binary: boolean): void {
    this.emit("message", this.receiving.textBytes ? { data, binary } : { data });
  }

  onMessageError(error: ProtocolError): void {
    this.fail(error);
  }

  onMessageStart(opcode: number, rsv: number): number {
    let streamed = !this.receiving.choose;
    let during = true;
    this.emit("messagestart", {
      type: opcode === Opcode.TEXT ? "text" : "binary",
      compressed: rsv !== 0,
      stream: () => {
        if (during) streamed = true;
        return during;
      },
    });
    during = false;
    if (this.readyState === CLOSED) return STOP;
    return streamed ? TAKE_IN_PIECES : TAKE_WHOLE;
  }

  onMessageData(piece: Uint8Array): void {
    this.emit("messagedata", { data: piece });
  }

  onMessageEnd(): void {
    this.emit("messageend", { error: null });
  }

  onProtocolError(error: ProtocolError): void {
    this.fail(error);
  }

  onControl(opcode: number, payload: Uint8Array): void {
    if (opcode === Opcode.CLOSE) {
      this.receiveClose(payload);
    } else if (opcode === Opcode.PING) {
      // RFC 6455 §5.5.2: answer with a pong carrying the same data, unless we have sent a close.
      if (this.readyState === OPEN) this.framer.frame(Opcode.PONG, payload);
      this.emit("ping", { data: payload });
    } else {
      this.emit("pong", { data: payload });
      const callbacks = this.pongCallbacks;
      if (callbacks === null) return;
      const key = latin1Decode(payload);
      const waiting = callbacks.get(key);
      if (waiting) {
        callbacks.delete(key);
        for (const callback of waiting) callback();
      }
    }
  }

  /** RFC 6455 §5.5.1 and §7.1.5: read the status code and reason, answer if we have not closed. */
  private receiveClose(payload: Uint8Array): void {
    let code: number = CloseCode.NO_STATUS;
    let reason = "";
    if (payload.length === 1) {
      return this.fail(new ProtocolError(CloseCode.PROTOCOL_ERROR, "Close frame with a 1-byte payload"));
    }
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isValidCloseCode(code)) {
        return this.fail(new ProtocolError(CloseCode.PROTOCOL_ERROR, `Invalid close code ${code}`));
      }
      const text = decodeUtf8(payload.subarray(2));
      if (text === null) return this.fail(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in close reason"));
      reason = text;
    }
    // §5.5.1: after a close frame nothing more is read.
    this.stopParser();
    this.abandonMessages(new ProtocolError(code === CloseCode.NO_STATUS ? CloseCode.NORMAL : code,
      "The peer closed the connection before the message ended"));
    // §5.5.1: answer a close we did not start, echoing its status code (an empty close gets an empty
    // one). The parser runs only while OPEN or CLOSING, and CLOSING means our close was sent.
    if (this.readyState === OPEN && !this.writeClose(code === CloseCode.NO_STATUS ? null : code, EMPTY)) return;
    this.readyState = CLOSED;
    this.dropQueue();
    this.releaseExtensions();
    this.emit("close", { code, reason });
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): a close frame with the error's code, unless one was
   * sent already, then `error` and `close`.
   */
  protected fail(error: ProtocolError): void {
    if (this.readyState === CLOSED) return;
    this.stopParser();
    // CLOSING means our close frame was sent already.
    if (this.readyState === OPEN && !this.writeClose(error.code, truncateUtf8(error.message, 123))) return;
    this.readyState = CLOSED;
    this.dropQueue();
    this.abandonMessages(error);
    this.releaseExtensions();
    this.emit("error", error);
    this.emit("close", { code: error.code, reason: error.message });
  }

  /**
   * Sends a close frame; false if the transport ended the connection while it was written (an
   * adapter's `end()` on a refused write), which has then emitted its one `close` (1006) already.
   */
  private writeClose(code: number | null, reason: Uint8Array): boolean {
    this.sendClose(code, reason);
    return this.readyState !== CLOSED;
  }

  private sendClose(code: number | null, reason: Uint8Array): void {
    if (code === null) {
      this.framer.frame(Opcode.CLOSE, EMPTY);
      return;
    }
    const payload = new Uint8Array(2 + reason.length);
    payload[0] = code >>> 8;
    payload[1] = code & 0xff;
    payload.set(reason, 2);
    this.framer.frame(Opcode.CLOSE, payload);
  }
}

function payloadBytes(payload: Payload): Uint8Array {
  return typeof payload === "string" ? utf8Encode(payload) : toBytes(payload);
}

/** The UTF-8 bytes of `text`, cut to at most `limit` bytes on a character boundary. */
function truncateUtf8(text: string, limit: number): Uint8Array {
  const bytes = utf8Encode(text);
  if (bytes.length <= limit) return bytes;
  let end = limit;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
