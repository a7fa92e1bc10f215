/**
 * The typed event map every driver emits through.
 */

/** `connect`: a server driver has read a complete HTTP request (`driver.request` is set). */
export type ConnectEvent = Record<string, never>;

/** `open`: the opening handshake is complete; messages can flow. */
export type OpenEvent = Record<string, never>;

/**
 * `message`: a complete message. Text arrives as a `string`, binary as a `Uint8Array`; with the
 * `textData: "bytes"` option, text arrives as its UTF-8 bytes (checked valid, not decoded) and
 * `binary` tells the two apart.
 */
export interface MessageEvent {
  data: string | Uint8Array;
  /** Set with `textData: "bytes"`: true for a binary message, false for text. */
  binary?: boolean;
}

/**
 * `messagestart`: the first frame of a message has arrived, with a driver whose `receive` option
 * is `"stream"` or `"choose"`. With `"choose"`, calling `stream()` during the event takes this
 * message in pieces (`messagedata` … `messageend`); otherwise it arrives whole as `message`. With
 * `"stream"`, every message arrives in pieces and `stream()` changes nothing.
 */
export interface MessageStartEvent {
  /** The message's opcode as a name (RFC 6455 §5.6). */
  readonly type: "text" | "binary";
  /** Its first frame set RSV bits: an extension (permessage-deflate) decodes it piece by piece. */
  readonly compressed: boolean;
  /** Takes this message in pieces. Only during the event; false if it is too late. */
  stream(): boolean;
}

/**
 * `messagedata`: the next piece of a message being received in pieces, decoded (inflated) and, for
 * text, checked as UTF-8 (RFC 6455 §8.1): a text piece never ends inside a character, so each
 * piece decodes on its own. A view of the bytes `parse` was handed, or of the decoder's output:
 * copy it to keep it past the event's handlers.
 */
export interface MessageDataEvent {
  data: Uint8Array;
}

/**
 * `messageend`: the message received in pieces is over. `error` is null when it ended with its
 * last frame; otherwise the connection failed or closed first (the `error` event with the same
 * error, if it failed, and `close` follow). Pieces delivered before stay delivered.
 */
export interface MessageEndEvent {
  error: Error | null;
}

/** `ping` and `pong`: a control frame with its application data. */
export interface PingEvent {
  data: Uint8Array;
}
export type PongEvent = PingEvent;

/** `close`: the connection is closed; `code` and `reason` are what the peer (or failure) gave. */
export interface CloseEvent {
  code: number;
  reason: string;
}

export type DriverEvents = {
  connect: ConnectEvent;
  open: OpenEvent;
  message: MessageEvent;
  messagestart: MessageStartEvent;
  messagedata: MessageDataEvent;
  messageend: MessageEndEvent;
  ping: PingEvent;
  pong: PongEvent;
  close: CloseEvent;
  /** A protocol error, a failed handshake, or a limit exceeded; the message says what was wrong. */
  error: Error;
};

export type DriverEventType = keyof DriverEvents;
export type DriverEventHandler<K extends DriverEventType> = (event: DriverEvents[K]) => void;
