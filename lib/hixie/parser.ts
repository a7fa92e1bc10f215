/**
 * The draft frame reader (draft-hixie-75 §4.3, draft-hixie-76 §5.3), a state machine over any split
 * of its input. A frame starts with a type byte:
 *
 * - high bit clear: bytes up to a 0xFF sentinel. Type 0x00 is a UTF-8 text message; the drafts
 *   define no other, and say to discard those.
 * - high bit set: a length in 7-bit groups, most significant first, each byte with the high bit set
 *   while more follow, then that many bytes, which are discarded. In draft-76 the type 0xFF with
 *   length 0 is the closing frame (§5.3).
 *
 * Every frame counts against `maxLength`, so a peer cannot make the reader skip or collect without
 * bound.
 */
import { ProtocolError } from "../errors.js";
import { CloseCode } from "../hybi/close.js";
import { decodeUtf8, Utf8Stream } from "../util/utf8.js";

export interface DraftFrameSink {
  onText(text: string): void;
  /** draft-76's 0xFF 0x00. Nothing more is read after it. */
  onClosingFrame(): void;
  /** A frame over `maxLength` or invalid UTF-8. Nothing more is read after it. */
  onFrameError(error: ProtocolError): void;
}

export interface DraftParserOptions {
  /** Whether 0xFF 0x00 closes the connection (draft-76) or is an empty frame to skip (draft-75). */
  closingFrame: boolean;
  maxLength: number;
}

type State = "type" | "length" | "skip" | "sentinel" | "stopped";

const SENTINEL = 0xff;

export class DraftParser {
  private state: State = "type";
  private frameType = 0;
  /** Length read so far (state "length"), or bytes left to skip (state "skip"). */
  private length = 0;
  /** Bytes of the current sentinel-terminated frame so far. */
  private received = 0;
  /** The text of a type-0x00 frame that spans `parse` calls; null for a frame to discard. */
  private utf8: Utf8Stream | null = null;

  constructor(private readonly sink: DraftFrameSink, private readonly options: DraftParserOptions) {}

  /** Stops reading: later input is ignored. */
  stop(): void {
    this.state = "stopped";
    this.utf8 = null;
  }

  parse(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      switch (this.state) {
        case "stopped":
          return;
        case "type":
          this.frameType = bytes[at++];
          if (this.frameType & 0x80) {
            this.length = 0;
            this.state = "length";
          } else {
            at = this.startSentinelFrame(bytes, at);
          }
          break;
        case "length": {
          const byte = bytes[at++];
          this.length = this.length * 128 + (byte & 0x7f);
          if (this.length > this.options.maxLength) return this.tooLarge();
          if (byte & 0x80) break;
          if (this.length === 0) {
            // draft-hixie-76 §5.3: type 0xFF with length 0 starts (or answers) the closing handshake.
            if (this.frameType === 0xff && this.options.closingFrame) {
              this.stop();
              this.sink.onClosingFrame();
              return;
            }
            this.state = "type";
          } else {
            this.state = "skip";
          }
          break;
        }
        case "skip": {
          const taken = Math.min(this.length, bytes.length - at);
          at += taken;
          this.length -= taken;
          if (this.length === 0) this.state = "type";
          break;
        }
        case "sentinel":
          at = this.continueSentinelFrame(bytes, at);
          break;
      }
    }
  }

  /** Just after a type byte with the high bit clear: the whole frame is often in this chunk. */
  private startSentinelFrame(bytes: Uint8Array, at: number): number {
    this.received = 0;
    const end = bytes.indexOf(SENTINEL, at);
    if (end >= 0) {
      if (end - at > this.options.maxLength) {
        this.tooLarge();
        return bytes.length;
      }
      if (this.frameType === 0x00) this.deliver(decodeUtf8(bytes.subarray(at, end)));
      return end + 1;
    }
    this.utf8 = this.frameType === 0x00 ? new Utf8Stream() : null;
    this.state = "sentinel";
    return this.continueSentinelFrame(bytes, at);
  }

  private continueSentinelFrame(bytes: Uint8Array, at: number): number {
    const end = bytes.indexOf(SENTINEL, at);
    const stop = end >= 0 ? end : bytes.length;
    this.received += stop - at;
    if (this.received > this.options.maxLength) {
      this.tooLarge();
      return bytes.length;
    }
    // Fail as soon as the bytes so far cannot become valid UTF-8, as RFC 6455 §8.1 asks of hybi.
    if (this.utf8 && !this.utf8.push(bytes.subarray(at, stop))) {
      this.invalidUtf8();
      return bytes.length;
    }
    if (end < 0) return bytes.length;
    this.state = "type";
    const utf8 = this.utf8;
    this.utf8 = null;
    if (utf8) this.deliver(utf8.end());
    return end + 1;
  }

  private deliver(text: string | null): void {
    if (text === null) this.invalidUtf8();
    else this.sink.onText(text);
  }

  private tooLarge(): void {
    this.stop();
    this.sink.onFrameError(new ProtocolError(CloseCode.TOO_LARGE, `Frame is larger than maxLength (${this.options.maxLength} bytes)`));
  }

  /** draft-hixie-76 §5.4 leaves invalid UTF-8 to the server; like hybi (RFC 6455 §8.1), we fail. */
  private invalidUtf8(): void {
    this.stop();
    this.sink.onFrameError(new ProtocolError(CloseCode.INVALID_DATA, "Invalid UTF-8 in text frame"));
  }
}
