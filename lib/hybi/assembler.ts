/**
 * Reassembles data frames into messages (RFC 6455 §5.4, §6.2): pieces of one message are collected
 * until the frame with FIN set ends; text is checked as UTF-8 while it arrives, so an invalid
 * message fails at the first byte that makes it invalid, not at its end (RFC 6455 §8.1).
 *
 * A message that arrives as one piece (one frame, in one chunk: the common case) is handed on
 * without a copy; a message in several pieces is copied once (small pieces twice: see
 * `ByteAccumulator`, which keeps a message of tiny fragments from costing more than its length).
 */
import { ProtocolError } from "../errors.js";
import { ByteAccumulator } from "../util/accumulator.js";
import { Utf8Cutter, Utf8Stream, decodeUtf8, validUtf8 } from "../util/utf8.js";
import { CloseCode } from "./close.js";
import { Opcode } from "./parser.js";

/**
 * Turns the bytes of a message whose first frame had RSV bits `rsv` set (0x40 RSV1 …) into the
 * original bytes: the seam where extensions such as permessage-deflate plug in. Throws a
 * `ProtocolError` to fail the connection.
 */
export type MessageDecoder = (payload: Uint8Array, rsv: number) => Uint8Array;

/**
 * A piece by piece decoder for messages whose first frame had RSV bits set: `last` comes with the
 * message's last piece; decoded bytes go to `emit` as they are made (see `ExtensionSession.decodePiece`).
 */
export type PieceDecoder = (piece: Uint8Array, rsv: number, last: boolean, emit: (bytes: Uint8Array) => void) => void;

export interface MessageSink {
  /** A whole message: text as a string, or (`textData: "bytes"`) as its checked bytes with `binary` false. */
  onMessage(data: string | Uint8Array, binary: boolean): void;
  onMessageError(error: ProtocolError): void;
  /**
   * A message begins (only when `announce` is set): returns `TAKE_IN_PIECES`, `TAKE_WHOLE`, or
   * `STOP` if a handler ended the connection meanwhile (nothing more is read).
   */
  onMessageStart(opcode: number, rsv: number): number;
  /** The next piece of a message taken in pieces: decoded, and for text complete characters only. */
  onMessageData(piece: Uint8Array): void;
  /** A message taken in pieces ended with its last frame. */
  onMessageEnd(): void;
}

/** How the assembler treats messages: see `DriverOptions.receive`. */
export interface AssemblerLimits {
  /** Ask the sink at each message's start whether to take it in pieces. */
  announce: boolean;
  /** `receive: "choose"`: the sink's `messagestart` handlers decide (else every message is taken in pieces). */
  choose: boolean;
  /**
   * The largest message gathered whole, checked here as pieces arrive: the frame parser checks
   * the larger `maxStreamLength` when messages may be taken in pieces. Infinity when the parser
   * checks `maxLength` itself.
   */
  maxLength: number;
  /** The largest message taken in pieces, counted before and after decoding. */
  maxStreamLength: number;
  /** `textData: "bytes"`: whole text messages are handed on as their checked UTF-8 bytes. */
  textBytes: boolean;
}

/** What `MessageSink.onMessageStart` answers. */
export const TAKE_WHOLE = 0, TAKE_IN_PIECES = 1, STOP = 2;

const WHOLE: AssemblerLimits = { announce: false, choose: false, maxLength: Infinity, maxStreamLength: Infinity, textBytes: false };
const WHOLE_BYTES: AssemblerLimits = { ...WHOLE, textBytes: true };

/** The limits of an assembler that takes every message whole, text as a string or as bytes. */
export function wholeMessages(textBytes: boolean): AssemblerLimits {
  return textBytes ? WHOLE_BYTES : WHOLE;
}

export class MessageAssembler {
  /** Set when an extension that marks messages with RSV bits is active. */
  decodeCompressed: MessageDecoder | null = null;
  /** Set with `decodeCompressed` when the extensions can decode a message piece by piece. */
  decodePieces: PieceDecoder | null = null;
  /** The message being taken in pieces (handed on as it arrives), if it is. */
  private stream: StreamedMessage | null = null;
  /** Bytes of the message gathered whole so far, when this assembler checks `maxLength`. */
  private gathered = 0;

  private opcode = 0;
  /** The RSV bits of the message being assembled: non-zero means an extension must decode it. */
  private rsv = 0;
  /** Created by the first message that arrives in pieces: most idle connections never need it. */
  private pieces: ByteAccumulator | null = null;
  private utf8: Utf8Stream | null = null;
  /** `textData: "bytes"`: checks a text message in pieces whose bytes `pieces` gathers. */
  private utf8Check: Utf8Cutter | null = null;

  constructor(private readonly sink: MessageSink, private readonly limits: AssemblerLimits = WHOLE) {}

  /** Forgets the message under way (the connection failed or closed); true if it was taken in pieces. */
  abandon(): boolean {
    const streaming = this.stream !== null;
    this.reset();
    return streaming;
  }

  /** Whether no message is being assembled (a fresh assembler would take the next piece alike). */
  get atRest(): boolean {
    return this.opcode === 0;
  }

  push(piece: Uint8Array, opcode: number, fin: boolean, rsv: number, frameEnd: boolean): void {
    if (this.opcode === 0) {
      // The first piece of a new message.
      const limits = this.limits;
      if (limits.announce) {
        const take = this.sink.onMessageStart(opcode, rsv);
        if (take === STOP) return;
        if (take === TAKE_IN_PIECES) {
          this.opcode = opcode;
          this.rsv = rsv;
          this.stream = new StreamedMessage();
          this.pushStreamed(piece, frameEnd && fin);
          return;
        }
      }
      if (frameEnd && fin) {
        if (piece.length > limits.maxLength) return this.tooLarge(piece.length, limits.maxLength);
        this.deliverWhole(piece, opcode, rsv);
        return;
      }
      this.opcode = opcode;
      this.rsv = rsv;
    } else if (this.stream !== null) {
      this.pushStreamed(piece, frameEnd && fin);
      return;
    }
    if (this.limits.maxLength !== Infinity) {
      this.gathered += piece.length;
      if (this.gathered > this.limits.maxLength) return this.tooLarge(this.gathered, this.limits.maxLength);
    }
    const textBytes = this.limits.textBytes;
    if (this.opcode === Opcode.TEXT && this.rsv === 0 && !textBytes) {
      if (this.utf8 === null) this.utf8 = new Utf8Stream();
      if (!this.utf8.push(piece)) {
        this.reset();
        this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text message"));
        return;
      }
    } else {
      if (this.opcode === Opcode.TEXT && this.rsv === 0 && !(this.utf8Check ??= new Utf8Cutter()).push(piece, ignore)) {
        this.reset();
        this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text message"));
        return;
      }
      (this.pieces ??= new ByteAccumulator()).push(piece);
    }
    if (!(frameEnd && fin)) return;

    if (this.utf8Check !== null) {
      const complete = this.utf8Check.complete;
      const payload = (this.pieces as ByteAccumulator).take();
      this.reset();
      if (complete) this.sink.onMessage(payload, false);
      else this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Text message ends inside a UTF-8 sequence"));
      return;
    }
    if (this.opcode === Opcode.TEXT && this.rsv === 0) {
      const text = (this.utf8 as Utf8Stream).end();
      this.reset();
      if (text === null) {
        this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Text message ends inside a UTF-8 sequence"));
      } else {
        this.sink.onMessage(text, false);
      }
      return;
    }
    const payload = this.pieces === null ? new Uint8Array(0) : this.pieces.take();
    const messageOpcode = this.opcode, messageRsv = this.rsv;
    this.reset();
    this.deliverWhole(payload, messageOpcode, messageRsv);
  }

  /** A piece of a message taken in pieces: decoded if it must be, checked, and handed on at once. */
  private pushStreamed(piece: Uint8Array, last: boolean): void {
    const limit = this.limits.maxStreamLength;
    const stream = this.stream as StreamedMessage;
    stream.received += piece.length;
    if (stream.received > limit) return this.tooLarge(stream.received, limit);
    if (this.rsv === 0) {
      if (piece.length > 0 && !this.handOn(piece)) return;
    } else if (!this.decodePiece(piece, last)) {
      return;
    }
    if (!last) return;
    if (stream.cutter !== null && !stream.cutter.complete) {
      this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Text message ends inside a UTF-8 sequence"));
      return;
    }
    this.reset();
    this.sink.onMessageEnd();
  }

  /** Decodes a piece of a compressed message taken in pieces; false if the connection failed. */
  private decodePiece(piece: Uint8Array, last: boolean): boolean {
    if (this.decodePieces === null) {
      // No extension that decodes piece by piece: gather the message, decode it whole at its end.
      (this.pieces ??= new ByteAccumulator()).push(piece);
      if (!last) return true;
      if (this.decodeCompressed === null) {
        this.sink.onMessageError(new ProtocolError(CloseCode.PROTOCOL_ERROR, "Compressed message with no extension to decode it"));
        return false;
      }
      let decoded: Uint8Array;
      try {
        decoded = this.decodeCompressed(this.pieces.take(), this.rsv);
      } catch (error) {
        this.sink.onMessageError(decodeError(error));
        return false;
      }
      return decoded.length === 0 || this.handOn(decoded);
    }
    let failed = false;
    try {
      this.decodePieces(piece, this.rsv, last, (bytes) => {
        if (!failed && !this.handOn(bytes)) failed = true;
      });
    } catch (error) {
      if (!failed) this.sink.onMessageError(decodeError(error));
      return false;
    }
    return !failed;
  }

  /**
   * Hands decoded bytes on, text through the UTF-8 check; false (the connection failed) if they
   * are invalid, or the message grew past `maxStreamLength`.
   */
  private handOn(bytes: Uint8Array): boolean {
    const stream = this.stream;
    if (stream === null) return false;
    const limit = this.limits.maxStreamLength;
    stream.handedOn += bytes.length;
    if (stream.handedOn > limit) {
      this.tooLarge(stream.handedOn, limit);
      return false;
    }
    if (this.opcode !== Opcode.TEXT) {
      this.sink.onMessageData(bytes);
      return this.stream === stream;
    }
    const cutter = (stream.cutter ??= new Utf8Cutter());
    // A handler may end the connection meanwhile (the message is then abandoned): nothing more then.
    if (!cutter.push(bytes, (text) => {
      if (this.stream === stream) this.sink.onMessageData(text);
    })) {
      if (this.stream === stream) this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text message"));
      return false;
    }
    return this.stream === stream;
  }

  private tooLarge(length: number, limit: number): void {
    this.sink.onMessageError(new ProtocolError(CloseCode.TOO_LARGE, `Message of ${length} bytes or more exceeds the limit (${limit})`));
  }

  private deliverWhole(payload: Uint8Array, opcode: number, rsv: number): void {
    if (rsv !== 0) {
      if (this.decodeCompressed === null) {
        this.sink.onMessageError(new ProtocolError(CloseCode.PROTOCOL_ERROR, "Compressed message with no extension to decode it"));
        return;
      }
      try {
        payload = this.decodeCompressed(payload, rsv);
      } catch (error) {
        this.sink.onMessageError(decodeError(error));
        return;
      }
      if (payload.length > this.limits.maxLength) return this.tooLarge(payload.length, this.limits.maxLength);
    }
    deliverMessage(this.sink, payload, opcode, this.limits.textBytes);
  }

  private reset(): void {
    this.opcode = 0;
    this.rsv = 0;
    this.pieces?.clear();
    this.utf8 = null;
    this.utf8Check = null;
    this.gathered = 0;
    this.stream = null;
  }
}

/** A message being taken in pieces: its bytes so far, received and handed on, and its text check. */
class StreamedMessage {
  received = 0;
  handedOn = 0;
  cutter: Utf8Cutter | null = null;
}

/** An extension's failure to decode, as the protocol error that fails the connection. */
function decodeError(error: unknown): ProtocolError {
  return error instanceof ProtocolError ? error
    : new ProtocolError(CloseCode.INVALID_DATA, `Could not decode a compressed message: ${(error as Error).message}`);
}

function ignore(): void {}

/**
 * Hands a whole, decoded message to `sink`: binary as it is; text only if it is valid UTF-8
 * (RFC 6455 §8.1), or the connection fails with 1007. With `textBytes`, text is checked and
 * handed on as its bytes: decode and encode were 22% of the Node adapter's CPU profile in a 16 KiB
 * text echo, which went from 0.72x ws to 0.84-0.96x (three runs); Bun's 64 B text echo from 0.48x
 * Bun.serve to 0.68-0.84x.
 */
export function deliverMessage(sink: MessageSink, payload: Uint8Array, opcode: number, textBytes: boolean): void {
  if (opcode === Opcode.BINARY) {
    sink.onMessage(payload, true);
    return;
  }
  if (textBytes) {
    if (validUtf8(payload)) sink.onMessage(payload, false);
    else sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text message"));
    return;
  }
  const text = decodeUtf8(payload);
  if (text === null) {
    sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text message"));
  } else {
    sink.onMessage(text, false);
  }
}
