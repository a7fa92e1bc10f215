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

/** A streaming decoder for one message whose bytes arrive in pieces. */
export class Utf8Stream {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private text = "";

  /** Adds a piece; returns false as soon as the bytes so far cannot begin valid UTF-8. */
  push(piece: Uint8Array): boolean {
    try {
      this.text += this.decoder.decode(piece, { stream: true });
      return true;
    } catch {
      return false;
    }
  }

  /** Ends the message; returns its text, or `null` if it stops inside a sequence. */
  end(): string | null {
    try {
      return this.text + this.decoder.decode();
    } catch {
      return null;
    }
  }
}
