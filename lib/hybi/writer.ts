/**
 * A message sent in pieces (RFC 6455 §5.4): each `write` is one frame, the first with the
 * message's opcode, the rest continuation frames, the last (`end`) with FIN set. Control frames
 * (pings, pongs, a close) may go out between them (§5.4); whole messages sent meanwhile wait until
 * this one ends, since a data frame of another message would break it in two (§5.4, §5.5).
 *
 * The driver writes each frame at once: backpressure is the transport's, read by the runtime
 * adapters (`needsDrain`, `drained()`), as for whole messages.
 */
import type { PreparedMessage } from "../prepared.js";
import type { MessageWriter } from "../types.js";
import { type ByteSource, EMPTY, toBytes, utf8Encode } from "../util/bytes.js";
import { Opcode } from "./parser.js";

/** What a message sent in pieces needs of its driver. */
export interface MessageOutlet {
  /** Whether frames can go out now (the connection is open). */
  readonly canSend: boolean;
  /** Writes one frame of the message: `first` gets the opcode, `last` sets FIN. */
  sendPiece(opcode: number, payload: Uint8Array, first: boolean, last: boolean): void;
  /** The message has ended (or been given up): whole messages may go out again. */
  finishMessage(writer: OutgoingMessage): void;
}

export class OutgoingMessage implements MessageWriter {
  private started = false;
  private done = false;
  /** A high surrogate that ended the last text piece, kept until the low one arrives. */
  private highSurrogate = "";
  /** Whole messages (prepared ones too) sent while this one is under way, in order: sent once it ends. */
  held: Array<{ opcode: number; data: string | Uint8Array | PreparedMessage }> | null = null;
  /** The pieces so far, when the extensions cannot encode piece by piece (sent whole at the end). */
  gathered: Uint8Array[] | null = null;

  constructor(private readonly outlet: MessageOutlet, private readonly opcode: number) {}

  get ended(): boolean {
    return this.done;
  }

  write(piece: string | ByteSource): boolean {
    if (this.done || !this.outlet.canSend) return false;
    const bytes = this.bytesOf(piece, false);
    // An empty piece says nothing: no frame for it.
    if (bytes.length === 0) return true;
    this.outlet.sendPiece(this.opcode, bytes, !this.started, false);
    this.started = true;
    return true;
  }

  end(piece: string | ByteSource = EMPTY): boolean {
    if (this.done) return false;
    if (!this.outlet.canSend) {
      this.giveUp();
      return false;
    }
    const bytes = this.bytesOf(piece, true);
    this.done = true;
    this.outlet.sendPiece(this.opcode, bytes, !this.started, true);
    this.started = true;
    this.outlet.finishMessage(this);
    return true;
  }

  /** The connection closed first: the message will never end, and what waited for it is dropped. */
  giveUp(): void {
    this.done = true;
    this.held = this.gathered = null;
  }

  /**
   * A piece's bytes: UTF-8 for a string. A string piece may end between the two halves of a
   * surrogate pair: the high half waits for the next piece, so the pair is encoded as one character.
   */
  private bytesOf(piece: string | ByteSource, last: boolean): Uint8Array {
    if (typeof piece !== "string") {
      if (this.highSurrogate === "") return toBytes(piece);
      const high = utf8Encode(this.takeHigh());
      const bytes = toBytes(piece);
      const joined = new Uint8Array(high.length + bytes.length);
      joined.set(high);
      joined.set(bytes, high.length);
      return joined;
    }
    let text = this.highSurrogate === "" ? piece : this.takeHigh() + piece;
    if (!last && text.length > 0) {
      const code = text.charCodeAt(text.length - 1);
      if (code >= 0xd800 && code <= 0xdbff) {
        this.highSurrogate = text.slice(-1);
        text = text.slice(0, -1);
      }
    }
    return text.length === 0 ? EMPTY : utf8Encode(text);
  }

  private takeHigh(): string {
    const high = this.highSurrogate;
    this.highSurrogate = "";
    return high;
  }
}

/** The opcode of a message type. */
export function messageOpcode(type: "text" | "binary"): number {
  if (type === "text") return Opcode.TEXT;
  if (type === "binary") return Opcode.BINARY;
  throw new TypeError(`A message is "text" or "binary", not ${String(type)}`);
}
