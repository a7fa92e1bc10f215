/**
 * A scripted peer: the other end of a connection to a real driver, played by the test. It sends
 * whatever bytes it is told to, well-formed or not, in any split, and records what the driver
 * writes back as an HTTP head, decoded frames and events. It answers nothing by itself (no pong,
 * no close reply): the script says what it does.
 */
import { getDeflateEngine } from "../extensions/codec.js";
import type { Inflater } from "../extensions/engine.js";
import type { Driver } from "../types.js";
import { latin1Decode } from "../util/bytes.js";
import { type DecodedFrame, FrameDecoder, type FrameSpec, Opcode, closeOf, closePayload, concat, frame } from "./frames.js";
import { type Draft, DRAFT_CLOSING_FRAME, draftLengthFrame, draftTextFrame } from "./handshake.js";
import { Inbox } from "./inbox.js";
import { type MaskingKeyChoice, keyChooser } from "./keys.js";
import type { Pipe, Split } from "./transport.js";

/** What a peer makes of the frames it receives. */
export type PeerEvent =
  /**
   * A complete message; text decoded as UTF-8 (invalid bytes become U+FFFD), binary as bytes. A
   * message sent with RSV1 has `compressed: true`, and is inflated if permessage-deflate was agreed
   * in the handshake the peer read or wrote (else its bytes are given as they came).
   */
  | { type: "message"; data: string | Uint8Array; compressed?: true }
  | { type: "ping"; data: Uint8Array }
  | { type: "pong"; data: Uint8Array }
  /** A close frame: its code (null if it had none) and reason. */
  | { type: "close"; code: number | null; reason: string }
  /** The driver's side closed the transport. */
  | { type: "end" };

export type PeerEventType = PeerEvent["type"];

export interface PeerOptions {
  /** Deliver what the peer sends in pieces of at most this many bytes, or as a function cuts it (each piece a `parse` call). */
  split?: Split;
  /** A client peer's masking keys (default `EXAMPLE_MASKING_KEY` on every frame; `"random"` is not allowed here). */
  maskingKey?: Exclude<MaskingKeyChoice, "random">;
}

/** Something to send: a frame spec, built (and masked, by a client peer), or bytes sent as they are. */
export type Sendable = FrameSpec | Uint8Array;

const HEAD_END = [13, 10, 13, 10];

function indexOfHeadEnd(data: Uint8Array): number {
  outer: for (let i = 0; i + 3 < data.length; i++) {
    for (let j = 0; j < 4; j++) if (data[i + j] !== HEAD_END[j]) continue outer;
    return i + 4;
  }
  return -1;
}

export class ScriptedPeer<D extends Driver = Driver> {
  /** Every frame the driver wrote after its handshake, decoded (client frames unmasked). Empty for a draft. */
  readonly frames: DecodedFrame[] = [];
  /** The driver's handshake head (a client peer reads a response, a server peer a request), once read. */
  head = "";
  /** Bytes that completed the handshake after the head: hixie-76's 16-byte answer. */
  headBody: Uint8Array = new Uint8Array(0);
  /** Whether the driver's side closed the transport. */
  ended = false;
  /** Called once the head is read (a server peer answers here). */
  onHead: ((head: string) => void) | null = null;
  /** The `Sec-WebSocket-Extensions` the server answered: read from the response, or written by a server peer. */
  agreedExtensions = "";

  private readonly frameInbox = new Inbox<DecodedFrame>();
  private readonly eventInbox = new Inbox<PeerEvent>();
  private readonly decoder = new FrameDecoder();
  private pendingHead: Uint8Array | null = new Uint8Array(0);
  private draftBuffer: Uint8Array = new Uint8Array(0);
  private message: { opcode: number; compressed: boolean; pieces: Uint8Array[] } | null = null;
  private inflater: Inflater | null = null;
  private readonly chooseKey: ((index: number) => Uint8Array) | null;
  private keyIndex = 0;

  /**
   * @param role whether the peer plays the client (it masks) or the server
   * @param out the pipe to the driver
   * @param driver the driver under test, whose `io` writes to this peer
   * @param draft a draft protocol the peer speaks instead of RFC 6455
   */
  constructor(
    readonly role: "client" | "server",
    private readonly out: Pipe,
    readonly driver: D,
    readonly draft: Draft | null = null,
    options: PeerOptions = {},
  ) {
    this.chooseKey = role === "client" ? keyChooser(options.maskingKey) : null;
  }

  /** Every event so far: messages, pings, pongs, close frames, and `end`. */
  get events(): PeerEvent[] {
    return this.eventInbox.items;
  }

  /** The data of every message so far. */
  get messages(): Array<string | Uint8Array> {
    return this.events.flatMap((event) => (event.type === "message" ? [event.data] : []));
  }

  /** The status code of the response a client peer read (0 before). */
  get status(): number {
    return Number(/^HTTP\/\d\.\d (\d{3})/.exec(this.head)?.[1] ?? 0);
  }

  /** The head's headers by lower-case name (repeated ones joined with ", "). */
  get headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const line of this.head.split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    return headers;
  }

  // --- sending ----------------------------------------------------------------------------------

  /** The bytes of a frame as this peer sends it: a client peer masks with its keys unless `mask` is given. */
  bytesOf(item: Sendable): Uint8Array {
    if (item instanceof Uint8Array) return item;
    if (item.mask !== undefined || this.chooseKey === null) return frame(item);
    return frame({ ...item, mask: this.chooseKey(this.keyIndex++) });
  }

  /** Sends frames and bytes, joined into one write. */
  send(...items: Sendable[]): this {
    this.out.write(concat(...items.map((item) => this.bytesOf(item))));
    return this;
  }

  /**
   * Sends frames and bytes, joined, in pieces the driver reads one `parse` call each: `pieces` is a
   * piece size (1 for byte by byte) or the offsets to cut at.
   */
  sendSplit(items: Sendable | Sendable[], pieces: number | number[]): this {
    const list = Array.isArray(items) ? items : [items];
    const data = concat(...list.map((item) => this.bytesOf(item)));
    const points = typeof pieces === "number" ? [] : [...pieces];
    if (typeof pieces === "number") {
      if (!(pieces >= 1)) throw new RangeError(`A piece has at least one byte, got ${pieces}`);
      for (let at = pieces; at < data.length; at += pieces) points.push(at);
    }
    let from = 0;
    for (const at of [...points, data.length]) {
      if (at > from) this.out.write(data.subarray(from, at));
      from = Math.max(from, at);
    }
    return this;
  }

  /** A text message in one frame (a draft peer sends a draft text frame). */
  text(text: string, spec: Partial<FrameSpec> = {}): this {
    if (this.draft !== null) return this.send(draftTextFrame(text));
    return this.send({ ...spec, opcode: Opcode.TEXT, payload: text });
  }

  /** A binary message in one frame (a draft peer sends a length-prefixed frame, type 0x80, which the drafts skip). */
  binary(data: Uint8Array, spec: Partial<FrameSpec> = {}): this {
    if (this.draft !== null) return this.send(draftLengthFrame(0x80, data));
    return this.send({ ...spec, opcode: Opcode.BINARY, payload: data });
  }

  ping(payload: string | Uint8Array = new Uint8Array(0)): this {
    return this.send({ opcode: Opcode.PING, payload });
  }

  pong(payload: string | Uint8Array = new Uint8Array(0)): this {
    return this.send({ opcode: Opcode.PONG, payload });
  }

  /** A close frame with `code` and `reason` (none: an empty one). A hixie-76 peer sends `FF 00`, a hixie-75 one ends. */
  close(code?: number, reason = ""): this {
    if (this.draft === "hixie-76") return this.send(DRAFT_CLOSING_FRAME);
    if (this.draft === "hixie-75") {
      this.end();
      return this;
    }
    return this.send({ opcode: Opcode.CLOSE, payload: closePayload(code, reason) });
  }

  /** Closes the peer's side of the transport: the driver's `end()` is called. */
  end(): void {
    this.out.end();
  }

  // --- waiting ----------------------------------------------------------------------------------

  /** The next frame not yet returned by `nextFrame`: at once if it has arrived. Rejects once the transport has ended without one. */
  nextFrame(): Promise<DecodedFrame> {
    return this.frameInbox.next("frame", () => true);
  }

  /**
   * The next event of `type` not yet returned by `next`. Rejects if none can come: after a close
   * frame only `close` and `end` can, after `end` nothing.
   */
  next<K extends PeerEventType>(type: K): Promise<Extract<PeerEvent, { type: K }>> {
    return this.eventInbox.next(type, (event) => event.type === type) as Promise<Extract<PeerEvent, { type: K }>>;
  }

  /** The next message's data. */
  nextMessage(): Promise<string | Uint8Array> {
    return this.next("message").then((event) => event.data);
  }

  /** The code and reason of the driver's close frame, when it comes (rejects if the transport ends without one). */
  closed(): Promise<{ code: number | null; reason: string }> {
    return this.next("close").then(({ code, reason }) => ({ code, reason }));
  }

  // --- reading what the driver wrote ------------------------------------------------------------

  /** @internal Bytes the driver wrote. */
  receiveBytes(bytes: Uint8Array): void {
    if (this.pendingHead !== null) {
      const data = concat(this.pendingHead, bytes);
      const end = indexOfHeadEnd(data);
      // hixie-76's response head is followed by its 16-byte answer to the key challenge.
      const bodyLength = this.role === "client" && this.draft === "hixie-76" ? 16 : 0;
      if (end < 0 || (bodyLength > 0 && data.length < end + bodyLength && /^HTTP\/1\.1 101/.test(latin1Decode(data, 0, end)))) {
        this.pendingHead = data;
        return;
      }
      this.head = latin1Decode(data, 0, end);
      const bodyEnd = bodyLength > 0 && this.status === 101 ? end + bodyLength : end;
      this.headBody = data.slice(end, bodyEnd);
      this.pendingHead = null;
      this.onHead?.(this.head);
      bytes = data.subarray(bodyEnd);
      if (bytes.length === 0) return;
    }
    if (this.draft !== null) this.parseDraft(bytes);
    else for (const decoded of this.decoder.push(bytes)) this.receive(decoded);
  }

  /** @internal The driver's side closed the transport. */
  receiveEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.eventInbox.push({ type: "end" });
    const error = (what: string) => new Error(`No ${what}: the transport ended first`);
    this.eventInbox.finish((kind) => error(`${kind} event`));
    this.frameInbox.finish(() => error("frame"));
  }

  private receive(decoded: DecodedFrame): void {
    this.frames.push(decoded);
    this.frameInbox.push(decoded);
    const { opcode, payload, fin } = decoded;
    if (opcode === Opcode.CLOSE) {
      this.eventInbox.push({ type: "close", ...closeOf(decoded) });
      // A driver sends nothing after its close frame (RFC 6455 §5.5.1), so only the transport's end can follow.
      this.eventInbox.finish((kind) => (kind === "close" || kind === "end" ? null : new Error(`No ${kind} event: a close frame came first`)));
    } else if (opcode === Opcode.PING || opcode === Opcode.PONG) {
      this.eventInbox.push({ type: opcode === Opcode.PING ? "ping" : "pong", data: payload });
    } else if (opcode === Opcode.TEXT || opcode === Opcode.BINARY || opcode === Opcode.CONTINUATION) {
      if (opcode !== Opcode.CONTINUATION || this.message === null) this.message = { opcode, compressed: (decoded.rsv & 0x40) !== 0, pieces: [] };
      this.message.pieces.push(payload);
      if (!fin) return;
      const { compressed, pieces } = this.message;
      const text = this.message.opcode === Opcode.TEXT;
      this.message = null;
      let data = concat(...pieces);
      if (compressed) {
        const inflated = this.inflate(data);
        if (inflated === null) {
          this.eventInbox.push({ type: "message", data, compressed: true });
          return;
        }
        data = inflated;
      }
      const event: PeerEvent = { type: "message", data: text ? new TextDecoder().decode(data) : data };
      if (compressed) event.compressed = true;
      this.eventInbox.push(event);
    }
  }

  /**
   * A compressed message's bytes inflated (RFC 7692 §7.2.2: the sync-flush tail put back), keeping
   * the window between messages unless the sender agreed not to; null if no permessage-deflate was
   * agreed, or the bytes do not inflate.
   */
  private inflate(data: Uint8Array): Uint8Array | null {
    const agreed = this.role === "client" ? this.headers["sec-websocket-extensions"] ?? "" : this.agreedExtensions;
    const deflate = agreed.split(",").map((offer) => offer.trim()).find((offer) => /^permessage-deflate\b/i.test(offer));
    if (deflate === undefined) return null;
    const sender = this.role === "client" ? "server" : "client";
    try {
      // A 15-bit window inflates what any smaller window compressed.
      this.inflater ??= getDeflateEngine().createInflater({ windowBits: 15, maxLength: 2 ** 31 - 1 });
      const out = this.inflater.inflate(concat(data, Uint8Array.of(0x00, 0x00, 0xff, 0xff)));
      if (new RegExp(`${sender}_no_context_takeover`, "i").test(deflate)) this.inflater.reset();
      return out;
    } catch {
      return null;
    }
  }

  /** Draft frames: `00 … FF` text, hixie-76's `FF 00` closing frame. */
  private parseDraft(bytes: Uint8Array): void {
    let data = concat(this.draftBuffer, bytes);
    for (;;) {
      if (data.length === 0) break;
      if (data[0] === 0x00) {
        const end = data.indexOf(0xff);
        if (end < 0) break;
        this.eventInbox.push({ type: "message", data: new TextDecoder().decode(data.subarray(1, end)) });
        data = data.subarray(end + 1);
      } else if (data[0] === 0xff) {
        if (data.length < 2) break;
        this.eventInbox.push({ type: "close", code: null, reason: "" });
        data = data.subarray(2);
      } else {
        // Our drivers write no other draft frame: keep the rest unread.
        break;
      }
    }
    this.draftBuffer = data.slice();
  }
}
