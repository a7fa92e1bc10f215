/**
 * Errors that carry the close code they map to (RFC 6455 §7.4.1), so that the driver has one place
 * that turns a protocol error into an `error` event and a close frame.
 */
export class ProtocolError extends Error {
  /** The close code sent to the peer for this error. */
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/**
 * A failed opening handshake. On the server side `status` is the HTTP status sent back
 * (400, 426, 431 …); on the client side it is the status the server answered with, if any.
 */
export class HandshakeError extends Error {
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HandshakeError";
    this.status = status;
  }
}
