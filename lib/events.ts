/**
 * The typed event map every driver emits through.
 */

/** `connect`: a server driver has read a complete HTTP request (`driver.request` is set). */
export type ConnectEvent = Record<string, never>;

/** `open`: the opening handshake is complete; messages can flow. */
export type OpenEvent = Record<string, never>;

/** `message`: a complete message. Text arrives as a `string`, binary as a `Uint8Array`. */
export interface MessageEvent {
  data: string | Uint8Array;
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
  ping: PingEvent;
  pong: PongEvent;
  close: CloseEvent;
  /** A protocol error, a failed handshake, or a limit exceeded; the message says what was wrong. */
  error: Error;
};

export type DriverEventType = keyof DriverEvents;
export type DriverEventHandler<K extends DriverEventType> = (event: DriverEvents[K]) => void;
