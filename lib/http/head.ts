/**
 * Reads one HTTP/1.1 head (a request or a response) from bytes that arrive in any split.
 *
 * The reader buffers at most `maxHeaderSize` bytes while it looks for the empty line that ends the
 * head (RFC 9112 §2.1), so a peer that trickles or floods a header costs memory in proportion to
 * what it sent, capped by the limit. The complete head is then parsed by `http-parser-js`, and the
 * bytes after it are handed back untouched: they belong to the WebSocket stream.
 */
import { HTTPParser } from "http-parser-js";
import { EMPTY, latin1Decode, latin1Encode } from "../util/bytes.js";
import { type HeaderMap, createHeaderMap, shareValue } from "./headers.js";

export interface RequestHead {
  method: string;
  url: string;
  /** "1.1", "1.0" … */
  httpVersion: string;
  headers: HeaderMap;
}

export interface ResponseHead {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  headers: HeaderMap;
}

export type HeadResult<T> =
  | { kind: "partial" }
  | { kind: "complete"; head: T; rest: Uint8Array }
  | { kind: "error"; status: number; message: string };

/**
 * http-parser-js reads its input through the `Buffer` methods `toString(encoding, start, end)` and
 * `slice`; this view supplies them over a plain `Uint8Array`, so the core needs no `Buffer`.
 */
class ParserInput extends Uint8Array {
  override toString(_encoding?: string, start = 0, end = this.length): string {
    return latin1Decode(this, start, end);
  }
}

export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

const PARTIAL = { kind: "partial" } as const;

export class HeadReader<T extends RequestHead | ResponseHead> {
  /**
   * Bytes of the head so far; grows by doubling, so a trickled head is copied O(n) times in all.
   * Empty, it is the shared `EMPTY` (never written: `append` grows it first), not a buffer each.
   */
  private buffer: Uint8Array = EMPTY;
  private buffered = 0;
  /** How far the search for CRLFCRLF has got, so each byte is scanned once. */
  private scanned = 0;

  constructor(
    private readonly kind: "request" | "response",
    private readonly maxHeaderSize: number = DEFAULT_MAX_HEADER_SIZE,
  ) {
    // NaN would lift the limit (no comparison with it is true), and a head would be buffered whole.
    if (!(maxHeaderSize >= 0)) throw new RangeError(`maxHeaderSize must be a non-negative number, got ${maxHeaderSize}`);
  }

  push(chunk: Uint8Array): HeadResult<T> {
    let bytes: Uint8Array;
    /** Where `chunk` starts in `bytes`. */
    const chunkAt = this.buffered;
    if (this.buffered === 0) {
      // The common case, a whole head in one chunk: no copy.
      bytes = chunk;
    } else {
      // Only the bytes that could still end a head within the limit (and one more, to tell that it
      // does not) are copied: a large chunk after a partial head is not buffered whole, and the
      // frames that follow a head are handed back as a view of `chunk`.
      const room = this.maxHeaderSize + 1 - this.buffered;
      this.append(chunk.length > room ? chunk.subarray(0, room) : chunk);
      bytes = this.buffer.subarray(0, this.buffered);
    }
    const end = findHeadEnd(bytes, this.scanned);
    if (end < 0) {
      if (bytes.length > this.maxHeaderSize) return this.tooLarge();
      if (this.buffered === 0) this.append(chunk);
      // Keep the last 3 bytes for a CRLFCRLF split across chunks.
      this.scanned = Math.max(0, bytes.length - 3);
      return PARTIAL;
    }
    if (end > this.maxHeaderSize) return this.tooLarge();
    const head = bytes.subarray(0, end);
    const rest = chunk.subarray(end - chunkAt);
    this.reset();
    const parsed = parseHead(this.kind, head);
    if (typeof parsed === "string") return { kind: "error", status: 400, message: parsed };
    return { kind: "complete", head: parsed as T, rest };
  }

  private append(chunk: Uint8Array): void {
    const needed = this.buffered + chunk.length;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2, 256));
      grown.set(this.buffer.subarray(0, this.buffered));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.buffered);
    this.buffered = needed;
  }

  private reset(): void {
    this.buffer = EMPTY;
    this.buffered = 0;
    this.scanned = 0;
  }

  private tooLarge(): HeadResult<T> {
    this.reset();
    return {
      kind: "error",
      status: 431,
      message: `HTTP head is larger than maxHeaderSize (${this.maxHeaderSize} bytes)`,
    };
  }
}

/** Index just past the CRLFCRLF that ends the head, or -1. */
function findHeadEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i + 4;
  }
  return -1;
}

interface HeadInfo {
  method?: string | number;
  url?: string;
  statusCode?: number;
  statusMessage?: string;
  versionMajor: number;
  versionMinor: number;
  headers: string[];
}

const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^\s]+ HTTP\/\d\.\d$/;
/** RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ); no CR, LF or other control. */
const STATUS_LINE = /^HTTP\/\d\.\d \d{3}(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const FIELD_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\0\r\n]*$/;

/**
 * The line grammar http-parser-js is lenient about: it reads `HTTP/1.1 2000` as status 200 and
 * drops field lines with no colon. RFC 9112 §3 and §4 fix the start lines; §5.1 says a field name
 * is a token followed at once by a colon (whitespace before it is a 400); §5.2 lets a recipient
 * refuse obsolete line folding, which a handshake never needs.
 */
function checkLines(kind: "request" | "response", head: Uint8Array): string | null {
  const lines = latin1Decode(head, 0, head.length - 4).split("\r\n");
  const start = lines[0];
  if (!(kind === "request" ? REQUEST_LINE : STATUS_LINE).test(start)) {
    return `Malformed HTTP ${kind}: invalid ${kind === "request" ? "request" : "status"} line`;
  }
  for (let i = 1; i < lines.length; i++) {
    if (!FIELD_LINE.test(lines[i])) {
      const why = /^[ \t]/.test(lines[i]) ? "a folded header line" : "a header line that is not name: value";
      return `Malformed HTTP ${kind}: ${why} (line ${i + 1})`;
    }
  }
  return null;
}

/**
 * A copy of a header value that holds no more than its own characters. http-parser-js cuts values
 * out of the header line, and V8 makes a cut of 13 or more characters a view that keeps the whole
 * line alive ("sec-websocket-key: " and all) for as long as the request is kept: the copy drops
 * the line. (The values are latin-1, as the head is decoded, so the round trip is exact.)
 */
function ownString(value: string): string {
  return value.length < 13 ? value : latin1Decode(latin1Encode(value));
}

/** Parses a complete head; returns the parsed head or a message saying why it is malformed. */
function parseHead(kind: "request" | "response", head: Uint8Array): RequestHead | ResponseHead | string {
  const malformed = checkLines(kind, head);
  if (malformed !== null) return malformed;
  const parser = new HTTPParser(kind === "request" ? HTTPParser.REQUEST : HTTPParser.RESPONSE);
  const found: { info: HeadInfo | null } = { info: null };
  parser[HTTPParser.kOnHeadersComplete] = (parsed: HeadInfo) => { found.info = parsed; };
  const input = new ParserInput(head.length);
  input.set(head);
  let outcome: unknown;
  try {
    outcome = parser.execute(input as unknown as Parameters<typeof parser.execute>[0]);
  } catch (error) {
    outcome = error;
  }
  const done = found.info;
  // Once the head is complete, the only error left is http-parser-js's own 80 KiB cap, which it
  // checks after the whole input and resets on every message: the reader has already held the head
  // to `maxHeaderSize`, so a larger limit the embedder chose is honoured.
  if (!done) return outcome instanceof Error ? `Malformed HTTP ${kind}: ${outcome.message}` : `Malformed HTTP ${kind}: incomplete head`;
  const headers = createHeaderMap();
  for (let i = 0; i + 1 < done.headers.length; i += 2) {
    const name = done.headers[i].toLowerCase();
    // RFC 9112 §3.2: a request with more than one Host line is a 400 (joined, the two would read as
    // one host with a comma in it).
    if (name === "host" && kind === "request" && name in headers) return `Malformed HTTP ${kind}: more than one Host header`;
    const value = shareValue(name, done.headers[i + 1], ownString);
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const httpVersion = done.versionMajor === 1 && done.versionMinor === 1 ? "1.1" : `${done.versionMajor}.${done.versionMinor}`;
  if (kind === "request") {
    const method = typeof done.method === "number" ? HTTPParser.methods[done.method] : String(done.method);
    return { method, url: done.url ?? "", httpVersion, headers };
  }
  return { statusCode: done.statusCode ?? 0, statusMessage: done.statusMessage ?? "", httpVersion, headers };
}
