/**
 * What an extension is (RFC 6455 §9): a name, the RSV bits it gives meaning to, how it builds its
 * offer (client) or its response (server) from `Sec-WebSocket-Extensions` parameters, and, once
 * negotiated, a session that transforms messages in and out. Everything here is synchronous, so
 * `parse` stays synchronous and events stay in order.
 */
import type { ExtensionParams } from "./negotiation.js";

/** RSV bits as they sit in a frame's first byte (RFC 6455 §5.2). */
export const RSV1 = 0x40, RSV2 = 0x20, RSV3 = 0x10;

/** What a session learns about the connection it runs on. */
export interface ExtensionContext {
  /** True on the client side of the connection. */
  readonly isClient: boolean;
  /** The driver's `maxLength`: no incoming message may grow past it, however it was encoded. */
  readonly maxLength: number;
}

/** An outgoing message after a session has encoded it. */
export interface EncodedMessage {
  payload: Uint8Array;
  /** RSV bits to set on the message's first frame (only bits the extension owns). */
  rsv: number;
}

/** A negotiated extension on one connection. */
export interface ExtensionSession {
  /**
   * Decodes an incoming data message whose first frame carried the RSV bits `rsv` (0x40 RSV1 …).
   * Called only for messages with at least one RSV bit set. Throw a `ProtocolError` to fail the
   * connection with its code (1009 when the message grows past `maxLength`).
   */
  decode(payload: Uint8Array, rsv: number): Uint8Array;
  /**
   * Encodes an outgoing data message (opcode 1 text, 2 binary) and says which RSV bits mark it;
   * `rsv` is what earlier extensions in the pipeline have set.
   */
  encode(payload: Uint8Array, rsv: number, opcode: number): EncodedMessage;
  /**
   * Optional: decodes an incoming message piece by piece, for a message received in pieces
   * (`receive: "stream"`). Called with each piece of the payload as it arrives, `last` true with
   * the message's last piece (which may be empty); hands what it decodes to `emit`, in pieces of
   * bounded size, so a message is never held whole. Throws as `decode` does. A session without it
   * has such a message gathered and handed to `decode` whole at its end.
   */
  decodePiece?(piece: Uint8Array, rsv: number, last: boolean, emit: (bytes: Uint8Array) => void): void;
  /**
   * Optional: encodes an outgoing message piece by piece, for a message sent in pieces
   * (`driver.sendMessage`): each piece becomes one frame, `last` true with the message's last.
   * The RSV bits returned with the first piece mark the message (RFC 7692 §6.1: the first frame
   * only). A session without it has such a message gathered and handed to `encode` whole.
   */
  encodePiece?(piece: Uint8Array, rsv: number, opcode: number, last: boolean): EncodedMessage;
  /**
   * Optional. For a session whose encoding of `payload` depends on nothing but its bytes (no
   * state carried from one message to the next): a value (compared with `===`) that every
   * session encoding it to the same bytes returns alike, so a `PreparedMessage` encodes it once
   * for all of them. Null, or no method, when this session must encode the message itself.
   */
  encodingKey?(payload: Uint8Array, opcode: number): unknown;
  /** The connection is over: release what the session holds. */
  close(): void;
}

/** The server's answer to one offer: the parameters for its response, and the session they start. */
export interface ExtensionResponse {
  params: ExtensionParams;
  session: ExtensionSession;
}

/** An extension a driver can negotiate: `driver.addExtension(extension)` before `start()`. */
export interface Extension {
  /** The extension token in `Sec-WebSocket-Extensions` (`permessage-deflate`). */
  readonly name: string;
  /**
   * The RSV bits it owns, as in a frame's first byte (0x40 RSV1, 0x20 RSV2, 0x10 RSV3, or'ed).
   * Two extensions that want the same bit are not both activated.
   */
  readonly rsv: number;

  /** Client: the offers to send, most preferred first. */
  offer(): ExtensionParams[];
  /**
   * Client: the server accepted with `params`, answering one of `offers`. Returns the session, or
   * throws an `Error` whose message says why the response is unacceptable (the handshake then fails).
   */
  activate(params: ExtensionParams, offers: readonly ExtensionParams[], context: ExtensionContext): ExtensionSession;
  /**
   * Server: the response to one offer from the client, or null to decline that offer (the next offer
   * for this extension is tried, then none).
   */
  respond(offer: ExtensionParams, context: ExtensionContext): ExtensionResponse | null;
}
