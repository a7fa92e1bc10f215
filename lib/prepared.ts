/**
 * A message prepared once and sent to many connections (a broadcast): its UTF-8 bytes are encoded
 * once, its unmasked frame is built once and written as the same bytes to every server connection
 * that sends it as it is, and its compressed frame is built once for all the connections whose
 * permessage-deflate keeps no context on the sending side with the same parameters (RFC 7692
 * §7.1.1: each such message is compressed on its own, so it compresses alike on each of them).
 * Other connections encode it themselves, as `text`/`binary` would: a connection that keeps
 * context compresses with its own window, a client masks with a key of its own (RFC 6455 §5.3).
 *
 *     const message = prepareMessage(JSON.stringify(update));
 *     for (const driver of drivers) driver.sendPrepared(message);
 */
import { buildFrame } from "./hybi/framer.js";
import { type ByteSource, toBytes, utf8Encode } from "./util/bytes.js";

/** RFC 6455 §5.2 opcodes of the two data frames. */
const TEXT = 1, BINARY = 2;

/** A message's encoding by a set of extensions, and its frame once built. */
interface Encoding {
  payload: Uint8Array;
  rsv: number;
  frame: Uint8Array | null;
}

export class PreparedMessage {
  /** 1 for a text message, 2 for a binary one (the frame's opcode, RFC 6455 §5.2). */
  readonly opcode: number;
  /** The message as text, for a text message; null for a binary one. */
  readonly text: string | null;
  /** The message's bytes (UTF-8 for text). Not to be changed once prepared. */
  readonly payload: Uint8Array;
  private plainFrame: Uint8Array | null = null;
  /** Encodings by the key of the extensions that made them (`ExtensionSession.encodingKey`). */
  private encodings: Map<unknown, Encoding> | null = null;

  constructor(data: string | ByteSource) {
    if (typeof data === "string") {
      this.opcode = TEXT;
      this.text = data;
      this.payload = utf8Encode(data);
    } else {
      this.opcode = BINARY;
      this.text = null;
      // A copy: the caller may reuse its buffer while the message is still being sent.
      this.payload = toBytes(data).slice();
    }
  }

  /** Whether this is a binary message. */
  get binary(): boolean {
    return this.opcode === BINARY;
  }

  /** The message's unmasked frame with no RSV bit: what a server without extensions writes. */
  frame(): Uint8Array {
    return (this.plainFrame ??= buildFrame(this.opcode, this.payload, 0));
  }

  /**
   * The payload and RSV bits extensions whose encoding key is `key` give this message, made by
   * `encode` the first time that key is asked for.
   */
  encoded(key: unknown, encode: () => { payload: Uint8Array; rsv: number }): Encoding {
    const encodings = (this.encodings ??= new Map());
    let encoding = encodings.get(key);
    if (encoding === undefined) {
      const { payload, rsv } = encode();
      encodings.set(key, encoding = { payload, rsv, frame: null });
    }
    return encoding;
  }

  /** The unmasked frame of an encoding, built once. */
  encodedFrame(encoding: Encoding): Uint8Array {
    return (encoding.frame ??= buildFrame(this.opcode, encoding.payload, encoding.rsv));
  }
}

/**
 * Prepares a message to send to many connections with `driver.sendPrepared(message)`: a string
 * is a text message, bytes a binary one (copied, so the caller may reuse its buffer).
 */
export function prepareMessage(data: string | ByteSource): PreparedMessage {
  return new PreparedMessage(data);
}
