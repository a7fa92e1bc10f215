/**
 * WHATWG streams for messages in pieces, on a connection of any runtime adapter (Node, Deno, Bun):
 * a `ReadableStream` per incoming message, a `WritableStream` for an outgoing one, so a message
 * can be piped from a file or to one without being held whole.
 *
 *     const connection = acceptUpgrade(request, socket, head, { receive: "stream" });
 *     receiveStreams(connection, async ({ readable }) => {
 *       await readable.pipeTo(Writable.toWeb(createWriteStream("upload.bin")));
 *     });
 *     await Readable.toWeb(createReadStream("big.bin")).pipeTo(sendStream(connection, "binary"));
 *
 * Backpressure both ways: a message's readable holds up to `highWaterMark` bytes, handed to its
 * reader joined into one chunk per read, after which the transport is paused (`flow`) until the
 * reader takes more; a writable waits for the transport to drain (`needsDrain`, `drained()`)
 * after each piece. Uses web-standard streams only, and no runtime's sockets: how to pause
 * reading is the `flow` given, or found on the connection.
 *
 * @module wsdriver/streams
 */
import type { MessageStartEvent } from "../events.js";
import type { Driver as DriverInterface, MessageWriter } from "../types.js";
import type { AdapterConnection } from "./connection.js";
import { holdReads } from "./timeouts.js";

export type { AdapterConnection } from "./connection.js";

/**
 * How to stop and restart reading a connection's transport. `pause` may be called again while
 * paused (once per piece that arrives past the high-water mark).
 */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

/** An incoming message taken in pieces. */
export interface IncomingMessageStream {
  readonly type: "text" | "binary";
  /** The first frame set RSV bits: it is inflated piece by piece (permessage-deflate). */
  readonly compressed: boolean;
  /**
   * The message's bytes as they arrive; text as UTF-8, never cut inside a character (pipe it
   * through a `TextDecoderStream` for strings). Closes with the message's last frame; errors with
   * the driver's error if the connection fails or closes first (what was read stays read).
   */
  readonly readable: ReadableStream<Uint8Array>;
}

export interface ReceiveStreamOptions {
  /** Bytes a message's readable holds before the transport is paused. Default 1 MiB. */
  highWaterMark?: number;
  /**
   * With `receive: "choose"`, which messages to take as streams (the rest arrive whole, as
   * `message`). Default: all. With `receive: "stream"` every message is a stream anyway.
   */
  accept?(event: MessageStartEvent): boolean;
  /**
   * How to pause the transport. Default: the connection's own `pause`/`resume` (Deno), or its
   * socket's (Node, Bun). `null` reads on whatever the reader takes.
   */
  flow?: FlowControl | null;
}

const DEFAULT_HIGH_WATER_MARK = 1 << 20;

/**
 * Calls `listener` with a stream for each incoming message the driver takes in pieces (make the
 * driver with `receive: "stream"` or `"choose"`). Returns a function that stops taking new
 * messages (the one under way is still fed to its end).
 */
export function receiveStreams<D extends DriverInterface>(
  connection: AdapterConnection<D>, listener: (message: IncomingMessageStream) => void, options: ReceiveStreamOptions = {},
): () => void {
  const driver = connection.driver;
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const flow = options.flow === undefined ? flowOf(connection) : options.flow;
  let current: MessageReadable | null = null;
  let paused = false;
  // Called for each piece held past the high-water mark, even when paused already: the adapter
  // may have resumed the socket meanwhile for reasons of its own (a server that owed its peer
  // replies reads again once they are written).
  const pause = (): void => {
    if (flow === null) return;
    paused = true;
    holdReads(connection, true);
    flow.pause();
  };
  const resume = (): void => {
    if (!paused || flow === null) return;
    paused = false;
    holdReads(connection, false);
    flow.resume();
  };

  let stopped = false;
  const onStart = (event: MessageStartEvent): void => {
    if (stopped || (options.accept !== undefined && !options.accept(event))) return;
    if (!event.stream()) return;
    const message = new MessageReadable(highWaterMark, pause, resume);
    current = message;
    listener({ type: event.type, compressed: event.compressed, readable: message.readable });
  };
  const onData = ({ data }: { data: Uint8Array }): void => current?.push(data);
  const unlisten = (): void => {
    driver.off("messagestart", onStart);
    driver.off("messagedata", onData);
    driver.off("messageend", onEnd);
  };
  const onEnd = ({ error }: { error: Error | null }): void => {
    const message = current;
    current = null;
    message?.end(error);
    if (stopped) unlisten();
  };
  driver.on("messagestart", onStart);
  driver.on("messagedata", onData);
  driver.on("messageend", onEnd);
  // No new message is taken; the one under way, if any, is fed to its end.
  return () => {
    stopped = true;
    if (current === null) unlisten();
  };
}

/**
 * One incoming message's readable, and the transport's pause while it holds too much.
 *
 * The stream itself queues nothing (high-water mark 0): a piece that arrives while the reader
 * waits is handed to it as it is, with no copy; pieces that arrive while the reader is busy are
 * held here and handed over joined, as one chunk, at its next read. A slow reader (a file) thus
 * gets few large chunks instead of one per transport read (64 KiB on Node): a 256 MiB binary
 * message to disk and back went from 0.18-0.39 GB/s a leg to 0.46-0.88 (two and three runs,
 * docs/streaming.md, "Measured"). Past `highWaterMark` bytes held, the transport is paused until
 * the reader takes them.
 */
class MessageReadable {
  readonly readable: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private cancelled = false;
  /** The reader is waiting for a chunk (`pull` came, nothing was handed over since). */
  private waiting = false;
  /** Pieces that arrived while the reader was busy, and their bytes. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(private readonly highWaterMark: number, private readonly pause: () => void, private readonly resume: () => void) {
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      pull: () => this.pull(),
      // The reader wants no more of this message: the rest of it is read and dropped.
      cancel: () => {
        this.cancelled = true;
        this.held = [];
        this.heldBytes = 0;
        this.resume();
      },
    }, { highWaterMark: 0 });
  }

  push(data: Uint8Array): void {
    const controller = this.controller;
    if (this.cancelled || controller === null) return;
    if (this.waiting) {
      this.waiting = false;
      controller.enqueue(data);
      return;
    }
    this.held.push(data);
    this.heldBytes += data.length;
    if (this.heldBytes >= this.highWaterMark) this.pause();
  }

  /** The reader wants a chunk: what is held, joined, or the next piece to arrive. */
  private pull(): void {
    const controller = this.controller;
    if (controller === null) return;
    if (this.heldBytes === 0) {
      this.waiting = true;
    } else {
      controller.enqueue(this.takeHeld());
    }
    this.resume();
  }

  /** What is held, as one chunk (a copy unless it is one piece), and nothing held after. */
  private takeHeld(): Uint8Array {
    const held = this.held, length = this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
    if (held.length === 1) return held[0];
    const joined = new Uint8Array(length);
    let at = 0;
    for (const piece of held) {
      joined.set(piece, at);
      at += piece.length;
    }
    return joined;
  }

  end(error: Error | null): void {
    const controller = this.controller;
    this.controller = null;
    // The next message gets its own queue; this one's reader takes what is left at its pace.
    this.resume();
    if (controller === null || this.cancelled) return;
    if (error !== null) {
      this.held = [];
      this.heldBytes = 0;
      controller.error(error);
      return;
    }
    if (this.heldBytes > 0) controller.enqueue(this.takeHeld());
    controller.close();
  }
}

/**
 * How to pause the connection's transport: the connection's own `pause`/`resume` if it has them,
 * else its socket's (a Node socket; a Bun socket), looked up when needed, since a client's socket
 * may come after the connection. Null when there is neither.
 */
function flowOf(connection: object): FlowControl | null {
  type Pausable = Partial<FlowControl> | null | undefined;
  const own = connection as Pausable;
  if (typeof own?.pause === "function" && typeof own.resume === "function") return own as FlowControl;
  const socket = (): Pausable => (connection as { socket?: Pausable }).socket;
  if (!("socket" in connection)) return null;
  return {
    pause: () => {
      const target = socket();
      if (typeof target?.pause === "function" && typeof target.resume === "function") target.pause();
    },
    resume: () => {
      const target = socket();
      if (typeof target?.pause === "function" && typeof target.resume === "function") target.resume();
    },
  };
}

/**
 * A `WritableStream` that sends one message in pieces (`driver.startMessage`): each chunk written
 * is one frame, sent at once, then the stream waits while the transport is full. Closing it ends
 * the message; aborting it (a failed source) closes the connection with 1011, since a message
 * cut short cannot be told from a whole one by its reader. Errors at once if the connection is
 * not open or another message is being sent in pieces.
 */
export function sendStream<D extends DriverInterface>(connection: AdapterConnection<D>, type: "text" | "binary"): WritableStream<Uint8Array | string> {
  let writer: MessageWriter | null = null;
  const closed = (): Error => new Error("The connection is not open: the message was not sent whole");
  return new WritableStream<Uint8Array | string>({
    start: () => {
      writer = connection.driver.startMessage(type);
      if (writer === null) throw new Error("Cannot send a message in pieces: the connection is not open, or one is already being sent");
    },
    write: async (chunk) => {
      if (!(writer as MessageWriter).write(chunk)) throw closed();
      if (connection.needsDrain) await connection.drained();
    },
    close: () => {
      if (!(writer as MessageWriter).end()) throw closed();
    },
    abort: () => {
      if (writer !== null && !writer.ended) connection.driver.close("The message could not be sent whole", 1011);
    },
  });
}
