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
import { Utf8Stream, decodeUtf8 } from "../util/utf8.js";
import { CloseCode } from "./close.js";
import { Opcode } from "./parser.js";

/**
 * Turns the bytes of a message whose first frame had RSV bits `rsv` set (0x40 RSV1 …) into the
 * original bytes: the seam where extensions such as permessage-deflate plug in. Throws a
 * `ProtocolError` to fail the connection.
 */
export type MessageDecoder = (payload: Uint8Array, rsv: number) => Uint8Array;

export interface MessageSink {
  onMessage(data: string | Uint8Array): void;
  onMessageError(error: ProtocolError): void;
}

export class MessageAssembler {
  /** Set when an extension that marks messages with RSV bits is active. */
  decodeCompressed: MessageDecoder | null = null;

  private opcode = 0;
  /** The RSV bits of the message being assembled: non-zero means an extension must decode it. */
  private rsv = 0;
  /** Created by the first message that arrives in pieces: most idle connections never need it. */
  private pieces: ByteAccumulator | null = null;
  private utf8: Utf8Stream | null = null;

  constructor(private readonly sink: MessageSink) {}

  /** Whether no message is being assembled (a fresh assembler would take the next piece alike). */
  get atRest(): boolean {
    return this.opcode === 0;
  }

  push(piece: Uint8Array, opcode: number, fin: boolean, rsv: number, frameEnd: boolean): void {
    if (this.opcode === 0) {
      // The first piece of a new message.
      if (frameEnd && fin) {
        this.deliverWhole(piece, opcode, rsv);
        return;
      }
      this.opcode = opcode;
      this.rsv = rsv;
    }
    if (this.opcode === Opcode.TEXT && this.rsv === 0) {
      if (this.utf8 === null) this.utf8 = new Utf8Stream();
      if (!this.utf8.push(piece)) {
        this.reset();
        this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text message"));
        return;
      }
    } else {
      (this.pieces ??= new ByteAccumulator()).push(piece);
    }
    if (!(frameEnd && fin)) return;

    if (this.opcode === Opcode.TEXT && this.rsv === 0) {
      const text = (this.utf8 as Utf8Stream).end();
      this.reset();
      if (text === null) {
        this.sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Text message ends inside a UTF-8 sequence"));
      } else {
        this.sink.onMessage(text);
      }
      return;
    }
    const payload = this.pieces === null ? new Uint8Array(0) : this.pieces.take();
    const messageOpcode = this.opcode, messageRsv = this.rsv;
    this.reset();
    this.deliverWhole(payload, messageOpcode, messageRsv);
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
        this.sink.onMessageError(error instanceof ProtocolError ? error
          : new ProtocolError(CloseCode.INVALID_DATA, `Could not decode a compressed message: ${(error as Error).message}`));
        return;
      }
    }
    deliverMessage(this.sink, payload, opcode);
  }

  private reset(): void {
    this.opcode = 0;
    this.rsv = 0;
    this.pieces?.clear();
    this.utf8 = null;
  }
}

/**
 * Hands a whole, decoded message to `sink`: binary as it is; text only if it is valid UTF-8
 * (RFC 6455 §8.1), or the connection fails with 1007.
 */
export function deliverMessage(sink: MessageSink, payload: Uint8Array, opcode: number): void {
  if (opcode === Opcode.BINARY) {
    sink.onMessage(payload);
    return;
  }
  const text = decodeUtf8(payload);
  if (text === null) {
    sink.onMessageError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text message"));
  } else {
    sink.onMessage(text);
  }
}
