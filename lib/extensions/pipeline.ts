/**
 * The extensions of one connection: negotiation on either side (RFC 6455 §9.1) and, once open, the
 * synchronous pipeline every data message goes through. "The order of extensions listed in the
 * server's response ... is the order in which they operate on data" (§9.1): outgoing messages
 * pass through the sessions in that order, incoming ones in reverse.
 */
import type { Extension, ExtensionContext, ExtensionSession } from "./extension.js";
import {
  type ExtensionElement, type ExtensionParams, isExtensionToken, paramsOf, parseExtensions, repeatedParam,
  serializeElement,
} from "./negotiation.js";

const EMPTY = new Uint8Array(0);

/** An active session and the extension it came from. */
interface Active {
  extension: Extension;
  session: ExtensionSession;
}

/** A `Sec-WebSocket-Extensions` problem in the handshake: the message says what was wrong. */
export class NegotiationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NegotiationError";
  }
}

export class ExtensionNegotiator {
  private readonly extensions: Extension[] = [];
  private readonly offers = new Map<Extension, ExtensionParams[]>();

  /** Registers an extension; a second one with the same name is refused (false). */
  add(extension: Extension): boolean {
    if (this.extensions.some((existing) => existing.name === extension.name)) return false;
    checkExtension(extension);
    this.extensions.push(extension);
    return true;
  }

  /** Client: the header value offering every registered extension, each offer in its order. */
  offerHeader(): string {
    const parts: string[] = [];
    for (const extension of this.extensions) {
      const offers = extension.offer();
      this.offers.set(extension, offers);
      for (const params of offers) parts.push(serializeElement(extension.name, params));
    }
    return parts.join(", ");
  }

  /**
   * Client: checks the server's response and starts the sessions it accepted. Throws a
   * `NegotiationError` if the header is malformed, names an extension that was not offered (or one
   * twice), repeats a parameter, gives two extensions the same RSV bit, or has parameters the
   * extension refuses.
   */
  activate(header: string | undefined, context: ExtensionContext): ExtensionPipeline | null {
    const elements = readHeader(header);
    const active: Active[] = [];
    let rsv = 0;
    try {
      for (const element of elements) {
        const extension = this.extensions.find((candidate) => candidate.name === element.name);
        if (extension === undefined) throw new NegotiationError(`Server accepted extension '${element.name}', which was not offered`);
        if (active.some((entry) => entry.extension === extension)) {
          throw new NegotiationError(`Server accepted extension '${element.name}' more than once`);
        }
        const repeated = repeatedParam(element);
        if (repeated !== undefined) {
          throw new NegotiationError(`Server's '${element.name}' response repeats the parameter '${repeated}'`);
        }
        if ((rsv & extension.rsv) !== 0) {
          throw new NegotiationError(`Server accepted extension '${element.name}', whose RSV bits another accepted extension uses`);
        }
        let session: ExtensionSession;
        try {
          session = extension.activate(paramsOf(element), this.offers.get(extension) ?? [], context);
        } catch (error) {
          throw new NegotiationError(`Server's '${element.name}' response is not acceptable: ${(error as Error).message}`);
        }
        active.push({ extension, session });
        rsv |= extension.rsv;
      }
    } catch (error) {
      for (const entry of active) entry.session.close();
      throw error;
    }
    return active.length > 0 ? new ExtensionPipeline(active, rsv) : null;
  }

  /**
   * Server: answers the client's offers. Extensions are taken in the order the client first offers
   * them; each one's offers are tried in order until one is accepted; an extension whose RSV bits
   * an accepted one already uses is skipped, and so is an offer that repeats a parameter. Returns
   * the response header value ("" for none) and the pipeline. Throws a `NegotiationError` for a
   * malformed header (a 400).
   */
  respond(header: string | undefined, context: ExtensionContext): { header: string; pipeline: ExtensionPipeline | null } {
    const elements = readHeader(header);
    const byName = new Map<string, ExtensionElement[]>();
    for (const element of elements) {
      const list = byName.get(element.name);
      if (list) list.push(element);
      else byName.set(element.name, [element]);
    }
    const active: Active[] = [];
    const parts: string[] = [];
    let rsv = 0;
    for (const [name, offers] of byName) {
      const extension = this.extensions.find((candidate) => candidate.name === name);
      if (extension === undefined || (rsv & extension.rsv) !== 0) continue;
      for (const offer of offers) {
        if (repeatedParam(offer) !== undefined) continue;
        const response = extension.respond(paramsOf(offer), context);
        if (response === null) continue;
        parts.push(serializeElement(extension.name, response.params));
        active.push({ extension, session: response.session });
        rsv |= extension.rsv;
        break;
      }
    }
    return { header: parts.join(", "), pipeline: active.length > 0 ? new ExtensionPipeline(active, rsv) : null };
  }
}

function readHeader(header: string | undefined): ExtensionElement[] {
  try {
    return parseExtensions(header);
  } catch (error) {
    throw new NegotiationError((error as Error).message);
  }
}

/** The negotiated sessions of an open connection. */
export class ExtensionPipeline {
  constructor(private readonly active: readonly Active[], readonly rsv: number) {}

  /** An outgoing data message through every session, in order; returns the payload and its RSV bits. */
  encode(payload: Uint8Array, opcode: number): { payload: Uint8Array; rsv: number } {
    let rsv = 0;
    for (const { session } of this.active) {
      const encoded = session.encode(payload, rsv, opcode);
      payload = encoded.payload;
      rsv = encoded.rsv;
    }
    return { payload, rsv };
  }

  /**
   * The key every pipeline that encodes `payload` to the same bytes shares, or null if this one
   * must encode it itself (a session keeps context, or has no `encodingKey`). Only a pipeline of
   * one session shares: keys of several would need combining for a case no extension has yet.
   */
  encodingKey(payload: Uint8Array, opcode: number): unknown {
    if (this.active.length !== 1) return null;
    const { session } = this.active[0];
    return session.encodingKey === undefined ? null : (session.encodingKey(payload, opcode) ?? null);
  }

  /** An incoming message with RSV bits set, through every session in reverse order. */
  decode(payload: Uint8Array, rsv: number): Uint8Array {
    for (let i = this.active.length - 1; i >= 0; i--) payload = this.active[i].session.decode(payload, rsv);
    return payload;
  }

  /** Whether every session decodes piece by piece (`ExtensionSession.decodePiece`). */
  get decodesPieces(): boolean {
    return this.active.every(({ session }) => session.decodePiece !== undefined);
  }

  /** Whether every session encodes piece by piece (`ExtensionSession.encodePiece`). */
  get encodesPieces(): boolean {
    return this.active.every(({ session }) => session.encodePiece !== undefined);
  }

  /**
   * A piece of an incoming message with RSV bits set, through every session in reverse order as
   * it arrives: each session's output goes on to the next as it is made, and each learns of the
   * message's end (`last`) once the ones before it have handed on all they had.
   */
  decodePiece(piece: Uint8Array, rsv: number, last: boolean, emit: (bytes: Uint8Array) => void): void {
    this.decodeFrom(this.active.length - 1, piece, rsv, last, emit);
  }

  private decodeFrom(index: number, piece: Uint8Array, rsv: number, last: boolean, emit: (bytes: Uint8Array) => void): void {
    if (index < 0) {
      if (piece.length > 0) emit(piece);
      return;
    }
    const session = this.active[index].session;
    (session.decodePiece as NonNullable<ExtensionSession["decodePiece"]>).call(session, piece, rsv, last,
      (bytes) => this.decodeFrom(index - 1, bytes, rsv, false, emit));
    if (last) this.decodeFrom(index - 1, EMPTY, rsv, true, emit);
  }

  /** A piece of an outgoing message through every session, in order (see `encode`). */
  encodePiece(payload: Uint8Array, opcode: number, last: boolean): { payload: Uint8Array; rsv: number } {
    let rsv = 0;
    for (const { session } of this.active) {
      const encoded = (session.encodePiece as NonNullable<ExtensionSession["encodePiece"]>).call(session, payload, rsv, opcode, last);
      payload = encoded.payload;
      rsv = encoded.rsv;
    }
    return { payload, rsv };
  }

  close(): void {
    for (const { session } of this.active) {
      try {
        session.close();
      } catch {
        // Releasing one session must not stop the others from being released.
      }
    }
  }
}

/**
 * Throws for an extension no driver can register: a name that is not an RFC 9110 token (RFC 6455
 * §9.1), or bits other than RSV1-3. A TypeError or RangeError, as for any bad argument.
 */
export function checkExtension(extension: Extension): void {
  if (!isExtensionToken(extension.name)) {
    throw new TypeError(`Extension name '${extension.name}' is not a token`);
  }
  if ((extension.rsv & ~0x70) !== 0) throw new RangeError(`Extension '${extension.name}' claims bits other than RSV1-3 (0x70)`);
}
