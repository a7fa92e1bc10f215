/**
 * Options and the I/O contract shared by every driver.
 */
import type { HeadersInput } from "./http/headers.js";
import type { OriginPolicy } from "./http/origin.js";

/** Where a driver's outgoing bytes go. A Node `net.Socket` satisfies it as it is. */
export interface DriverIO {
  write(chunk: Uint8Array): unknown;
}

export interface DriverOptions {
  /**
   * Largest incoming message in bytes, all fragments together. Default 2^26 − 1 (64 MiB less a byte).
   * A value that is not a non-negative number is a `RangeError` when the driver is made.
   */
  maxLength?: number;
  /**
   * How incoming messages are delivered (RFC 6455 drivers). `"whole"` (the default): one `message`
   * event per message, held whole, up to `maxLength`. `"stream"`: every message in pieces, as it
   * arrives (`messagestart`, `messagedata` …, `messageend`), never held whole, up to
   * `maxStreamLength`. `"choose"`: `messagestart` fires for every message, and its handler decides
   * (`event.stream()`); a message not taken in pieces arrives whole, up to `maxLength`.
   */
  receive?: ReceiveMode;
  /**
   * What a whole text message's `data` is. `"string"` (the default): the decoded text.
   * `"bytes"`: its UTF-8 bytes, checked valid as they arrive (RFC 6455 §8.1; the connection fails
   * with 1007 otherwise) but never decoded, as ws hands text to its users; the `message` event's
   * `binary` then tells text from binary. Decode with a `TextDecoder` when a string is needed, or
   * hand the bytes to `text()` to send them on without an encode. A view of the bytes `parse` was
   * handed, like a binary message's. The drafts (`allowDrafts`) deliver their text so too.
   */
  textData?: TextDataMode;
  /**
   * Largest incoming message received in pieces (`receive: "stream"` or `"choose"`), in bytes, all
   * fragments together, before and after decoding. Memory stays bounded whatever it is, so the
   * default is no limit (`Infinity`). A value that is not a non-negative number is a `RangeError`.
   */
  maxStreamLength?: number;
  /**
   * Subprotocols offered (client) or accepted (server), in order of preference. A client refuses,
   * with a `TypeError`, a name that is not a token or one given twice (RFC 6455 §4.1).
   */
  protocols?: readonly string[];
  /**
   * Largest HTTP head accepted during the opening handshake, in bytes. Default 16 KiB. A value that
   * is not a non-negative number is a `RangeError` when the driver is made.
   */
  maxHeaderSize?: number;
}

export interface ServerOptions extends DriverOptions {
  /** Serve the old hixie-75 and hixie-76 drafts too. Off by default: they have no masking and weak framing. */
  allowDrafts?: boolean;
  /** The connection is over TLS, so locations the drafts send back are `wss:`. A sans-I/O driver cannot see this. */
  secure?: boolean;
  /**
   * The web pages that may connect, by their `Origin` (RFC 6455 §10.2): a list of origins, each
   * `scheme://host[:port]` as RFC 6454 serialises it (case and a default port do not matter), or a
   * function given the request's origin, so serialised, that returns true or false (synchronously).
   * A request from any other origin is answered 403 on `start()`, with an `error` event; a function
   * that throws, or answers anything but a boolean, 500. The literal `null` origin (sandboxed
   * frames, `file:` and `data:` pages) is refused unless the list holds `"null"` (a function is
   * given it). A request with no `Origin` (not a browser) is allowed unless `requireOrigin` is set.
   * Default: every origin is allowed. An entry that is not an origin is a `TypeError` when the
   * driver is made.
   */
  origins?: OriginPolicy;
  /** Refuse (403) a request that carries no `Origin` (nor `Sec-WebSocket-Origin`): browsers only. Default false. */
  requireOrigin?: boolean;
}

export interface ClientOptions extends DriverOptions {
  /** Sent as the `Origin` header. A value holding CR, LF or NUL is refused with a `TypeError`. */
  origin?: string;
  /**
   * Extra headers for the opening handshake (same as calling `setHeader` for each). A `Host`,
   * `Origin` or `Authorization` replaces the one the driver writes (from the URL, `origin`, or the
   * URL's credentials), so that each is sent once.
   */
  headers?: HeadersInput;
}

/** See `DriverOptions.receive`. */
export type ReceiveMode = "whole" | "stream" | "choose";

export const DEFAULT_MAX_LENGTH = 2 ** 26 - 1;

/**
 * The most a server holds of what a peer sends before `start()` answers its handshake: 64 KiB (or
 * `maxLength`, if smaller) of frames and their headers. A conforming client sends nothing before
 * the 101 (RFC 6455 §4.1: it "MUST wait for a response"), and while an embedder authenticates the
 * request the peer is nobody yet: it could otherwise make each connection hold `maxLength`.
 */
export const MAX_EARLY_BYTES = 64 * 1024;

/** A request as the embedder's HTTP stack parsed it: Node's `IncomingMessage`, a web `Request`, or a plain object. */
export interface RequestLike {
  method?: string;
  url?: string;
  headers: HeadersInput;
  /** Bytes that followed the head, if the HTTP stack read them (the 8-byte body of a hixie-76 request). */
  body?: Uint8Array;
}

export function resolveMaxLength(options: DriverOptions): number {
  const value = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (!(value >= 0)) throw new RangeError(`maxLength must be a non-negative number, got ${value}`);
  return value;
}

/** `maxStreamLength`, checked. */
export function resolveMaxStreamLength(options: DriverOptions): number {
  const value = options.maxStreamLength ?? Infinity;
  if (!(value >= 0)) throw new RangeError(`maxStreamLength must be a non-negative number, got ${value}`);
  return value;
}

/** See `DriverOptions.textData`. */
export type TextDataMode = "string" | "bytes";

/** `textData`, checked: true for `"bytes"`. */
export function resolveTextBytes(options: DriverOptions): boolean {
  const mode = options.textData ?? "string";
  if (mode !== "string" && mode !== "bytes") throw new RangeError(`textData must be "string" or "bytes", got ${String(mode)}`);
  return mode === "bytes";
}

/** `receive`, checked. */
export function resolveReceiveMode(options: DriverOptions): ReceiveMode {
  const mode = options.receive ?? "whole";
  if (mode !== "whole" && mode !== "stream" && mode !== "choose") {
    throw new RangeError(`receive must be "whole", "stream" or "choose", got ${String(mode)}`);
  }
  return mode;
}
