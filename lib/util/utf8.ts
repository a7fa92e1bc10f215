/**
 * UTF-8 decoding with validation (RFC 3629), on the platform's `TextDecoder` in fatal mode.
 *
 * The WHATWG decoder checks each byte against the ranges of RFC 3629 §4 as it goes (an overlong
 * lead, a surrogate, a code point above U+10FFFF are refused at the first byte that rules them
 * out), so in streaming mode it fails as soon as the bytes can no longer become valid, which is
 * what RFC 6455 §8.1 asks of a text message that arrives in fragments.
 */
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes a complete UTF-8 sequence; returns `null` if it is not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return fatal.decode(bytes);
  } catch {
    return null;
  }
}

/** Short decoded pieces are gathered this many at a time and joined into one flat string. */
const JOIN_EVERY = 1024;

/**
 * A streaming decoder for one message whose bytes arrive in pieces.
 *
 * Decoded text is kept as a list of strings joined at the end, not built with `+=`: each `+=` of a
 * short piece costs a rope node of its own, so a message of one-byte fragments would hold some
 * thirty times its length. Short pieces are joined in batches, so the list stays short too.
 */
export class Utf8Stream {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private parts: string[] = [];
  private batch: string[] = [];

  /** Adds a piece; returns false as soon as the bytes so far cannot begin valid UTF-8. */
  push(piece: Uint8Array): boolean {
    let text: string;
    try {
      text = this.decoder.decode(piece, { stream: true });
    } catch {
      return false;
    }
    if (text.length >= JOIN_EVERY) {
      this.flushBatch();
      this.parts.push(text);
    } else if (text.length > 0) {
      this.batch.push(text);
      if (this.batch.length >= JOIN_EVERY) this.flushBatch();
    }
    return true;
  }

  /** Ends the message; returns its text, or `null` if it stops inside a sequence. */
  end(): string | null {
    let last: string;
    try {
      last = this.decoder.decode();
    } catch {
      return null;
    }
    this.flushBatch();
    const parts = this.parts;
    this.parts = [];
    if (last.length > 0) parts.push(last);
    return parts.length === 1 ? parts[0] : parts.join("");
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    this.parts.push(this.batch.join(""));
    this.batch = [];
  }
}
