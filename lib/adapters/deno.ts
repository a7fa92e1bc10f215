/**
 * Deno: a driver on a `Deno.Conn` from `Deno.listen`/`Deno.listenTls` or `Deno.connect`/
 * `Deno.connectTls`. What the connection reads goes to `parse`, what the driver writes to the
 * connection, through the `Deno.Conn`'s own `read` and `write` (any other duplex through its
 * `readable` and `writable` streams); what waits to be written is the backpressure signal
 * (`needsDrain`, `bufferedAmount`, `drained()`), and `pause()`/`resume()` stop and restart reading.
 * Nothing here is Deno-only but `connect`: `attach` works with any pair of web streams.
 *
 *     for await (const conn of Deno.listen({ port: 8080 })) {
 *       const { driver } = accept(conn);
 *       driver.on("connect", () => driver.start());
 *       driver.on("message", ({ data }) => driver.text(String(data)));
 *     }
 *
 * Deno's own `Deno.serve` hides the socket behind `Deno.upgradeWebSocket`; to speak the protocol
 * yourself, listen with `Deno.listen` as above.
 *
 * @module wsdriver/deno
 */
import mitt from "mitt";
import { OPEN, failConnection } from "../base.js";
import "../deno/fast-paths.js";
import { Driver } from "../driver.js";
import { ProtocolError } from "../errors.js";
import { CloseCode } from "../hybi/close.js";
import type { ClientOptions, DriverIO, ServerOptions } from "../options.js";
import type { ClientDriver, Driver as DriverInterface, ServerDriver } from "../types.js";
import { BATCH_LIMIT, sendBatch } from "./batch.js";
import { type AdapterConnection, type AdapterConnectionEvents, clientTarget } from "./connection.js";
import {
  CLIENT_LIMITS, type ConnectionLimitOptions, type ConnectionLimits, PHASE_GONE, READ_PAUSE_BYTES, SERVER_LIMITS,
  type TimeoutError, type Watched, clock, overflowMessage, resolveLimits, unwatch, watch,
} from "./timeouts.js";


export { CLIENT_LIMITS, SERVER_LIMITS, TimeoutError } from "./timeouts.js";
export type { ConnectionLimitOptions, ConnectionLimits, TimeoutOption } from "./timeouts.js";

/**
 * A server stops reading while more than this is handed to the writer and not yet written. Unlike
 * Bun's count (bytes the kernel refused), it counts writes merely in flight: at READ_PAUSE_BYTES
 * (64 KiB), the four 16 KiB echoes of one 64 KiB read (65,552 B) paused reading after nearly every
 * read, until the writes completed; at 256 KiB a 16 KiB echo ran 0.78x Deno.serve against 0.70x
 * (binary) and 0.86x against 0.74x (text), medians of five rounds. A peer that never reads is
 * still held to this plus one read's replies.
 */
const PAUSE_PENDING = 4 * READ_PAUSE_BYTES;

/** The part of a `Deno.Conn` (or any duplex web stream) the adapter uses. */
export interface StreamConn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  close?(): void;
  /**
   * `Deno.Conn`'s own reads and writes. When a connection has both, the adapter uses them instead
   * of the two streams (see `ConnWriter`); any other duplex goes through its streams.
   */
  read?(buffer: Uint8Array): Promise<number | null>;
  write?(bytes: Uint8Array): Promise<number>;
}

/** What the link needs of a writer: a `WritableStreamDefaultWriter`, or a `ConnWriter`. */
interface LinkWriter {
  readonly desiredSize: number | null;
  readonly ready: Promise<unknown>;
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** What the link needs of a reader: a `ReadableStreamDefaultReader`, or a `ConnReader`. */
interface LinkReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(): Promise<void>;
}

/** A connection with `Deno.Conn`'s own `read` and `write`. */
interface DirectConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Bytes a read asks for at first: what `Deno.Conn.readable` asks for, in a buffer of its own per
 * read (the driver unmasks it in place and may keep views of it).
 */
const READ_SIZE = 64 * 1024;

/**
 * The most a read asks for: each read asks for twice what the last one got, from READ_SIZE up to
 * this. Fewer reads, and the replies to more frames in one write: a 16 KiB echo ran 1.50x Deno.serve
 * (binary) and 1.41x (text) against 0.95x and 0.79x at a fixed 64 KiB (A/B, medians of five rounds,
 * two runs); a fixed 256 KiB cost the 64 B echo (9-11x against 14x), zero-filling room that small
 * reads never use.
 */
const READ_MAX = 256 * 1024;

/** A `ConnWriter` with more than this waiting or in flight is full (`needsDrain`). */
const WRITE_HIGH_WATER = 64 * 1024;

/**
 * Writes straight to `Deno.Conn.write`, one write at a time and in order, a short write's rest
 * written again; writes made meanwhile wait in a queue. The web streams' machinery cost more than
 * the writes it orders: with this and `ConnReader`, a 16 KiB echo ran 0.86-0.90x Deno.serve
 * against 0.66-0.77x through `conn.readable` and `conn.writable` (A/B, medians of five rounds).
 */
class ConnWriter implements LinkWriter {
  private queue: Uint8Array[] = [];
  private settle: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  /** Bytes queued or being written. */
  private held = 0;
  private writing = false;
  private failure: unknown = null;
  private waiters: Array<() => void> = [];

  constructor(private readonly conn: DirectConn) {}

  get desiredSize(): number {
    return WRITE_HIGH_WATER - this.held;
  }

  get ready(): Promise<void> {
    if (this.held < WRITE_HIGH_WATER || this.failure !== null) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    this.held += chunk.length;
    this.queue.push(chunk);
    const done = new Promise<void>((resolve, reject) => this.settle.push({ resolve, reject }));
    if (!this.writing) void this.pump();
    return done;
  }

  /** Resolves once everything queued has been written (or the writer failed). */
  close(): Promise<void> {
    if (!this.writing || this.failure !== null) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.close());
  }

  /** Drops what is queued: its writes fail. */
  abort(): Promise<void> {
    this.stop(new Error("The connection was closed"));
    return Promise.resolve();
  }

  private async pump(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0 && this.failure === null) {
      const chunk = this.queue.shift() as Uint8Array;
      const settled = this.settle.shift() as { resolve: () => void; reject: (error: unknown) => void };
      try {
        for (let at = 0; at < chunk.length;) at += await this.conn.write(at === 0 ? chunk : chunk.subarray(at));
      } catch (error) {
        this.stop(error);
        settled.reject(error);
        break;
      }
      this.held -= chunk.length;
      settled.resolve();
      if (this.held < WRITE_HIGH_WATER) this.wake();
    }
    this.writing = false;
    this.wake();
  }

  private stop(error: unknown): void {
    if (this.failure !== null) return;
    this.failure = error;
    const settle = this.settle;
    this.queue = [];
    this.settle = [];
    this.held = 0;
    for (const { reject } of settle) reject(error);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Reads straight from `Deno.Conn.read` (see `ConnWriter`), into a buffer of its own per read of
 * twice what the last read got, from READ_SIZE to READ_MAX bytes.
 */
class ConnReader implements LinkReader {
  private size = READ_SIZE;

  constructor(private readonly conn: DirectConn) {}

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const buffer = new Uint8Array(this.size);
    const length = await this.conn.read(buffer);
    if (length === null) return { done: true, value: undefined };
    this.size = Math.min(READ_MAX, Math.max(READ_SIZE, 2 * length));
    return { done: false, value: buffer.subarray(0, length) };
  }

  cancel(): Promise<void> {
    return Promise.resolve();
  }
}

/** `conn`'s own reads and writes, if it has them (`Deno.Conn`), else null. */
function directOf(conn: StreamConn): DirectConn | null {
  return typeof conn.read === "function" && typeof conn.write === "function" ? conn as DirectConn : null;
}

/** `drain` once the writer's queue has emptied after it was full; `error` when reading, writing or connecting failed. */
export type StreamConnectionEvents = AdapterConnectionEvents;

/**
 * A driver on a pair of web streams. `bufferedAmount` counts bytes given to the writable stream that
 * it has not finished writing; `needsDrain` holds while its queue is full (`desiredSize <= 0`).
 */
export interface StreamConnection<D extends DriverInterface> extends AdapterConnection<D> {
  /**
   * Stops reading the readable stream after the chunk being parsed, until `resume()`: what a
   * consumer that lags (a message's web stream, `wsdriver/streams`) uses to bound what it holds,
   * as a Node or Bun socket's `pause()`. The peer then meets TCP's own backpressure.
   */
  pause(): void;
  /** Reads again after `pause()`. */
  resume(): void;
}

/** The connection, and what it lacks until a client's `Deno.connect` has resolved. */
class StreamLink<D extends DriverInterface> implements StreamConnection<D>, Watched {
  readonly driver: D;
  private readonly events = mitt<StreamConnectionEvents>();
  private conn: StreamConn | null = null;
  private writer: LinkWriter | null = null;
  private reader: LinkReader | null = null;
  /** Bytes the driver wrote before there was a connection to write them to. */
  private early: Uint8Array[] = [];
  private pending = 0;
  private full = false;
  private closed = false;
  /** The connection has been closed (by `shut` once the writer closed, or at once by `destroy`). */
  private released = false;
  /**
   * Chunks written while corked (a chunk being parsed, a frame's header and payload), handed to
   * the writer together on the last `uncork` (`batch.ts`).
   */
  private corked: Uint8Array[] | null = null;
  private corkedBytes = 0;
  private corks = 0;
  /** The time and buffer limits (timeouts.ts); null for none. */
  readonly limits: ConnectionLimits | null;
  /** @internal The sweep's fields (timeouts.ts). */
  slot = -1;
  seen = 0;
  since = 0;
  stage = 0;
  /** Wakes the read loop, paused while the writer holds more than PAUSE_PENDING (servers), or by `pause()`. */
  private resumeReading: (() => void) | null = null;
  /** `pause()` was called, and `resume()` not since. */
  private readPaused = false;
  private overflowed = false;

  constructor(create: (io: DriverIO) => D, limits: ConnectionLimits | null = null) {
    this.limits = limits;
    // The link is the driver's `io`, with no closures of its own per connection. The framer sees
    // `cork`/`uncork` and writes a large frame's header and payload apart, trusting them to leave
    // together.
    const io: DriverIO & { cork(): void; uncork(): void } = this;
    this.driver = create(io);
    // The closing handshake is over (or the connection failed): close the transport.
    this.driver.on("close", () => this.shut());
  }

  get bufferedAmount(): number {
    return this.pending + this.corkedBytes;
  }

  get needsDrain(): boolean {
    return this.full && !this.closed;
  }

  drained(): Promise<void> {
    if (!this.needsDrain || !this.writer) return Promise.resolve();
    return this.writer.ready.then(() => undefined, () => undefined);
  }

  on<K extends keyof StreamConnectionEvents>(type: K, handler: (event: StreamConnectionEvents[K]) => void): void {
    this.events.on(type, handler);
  }

  off<K extends keyof StreamConnectionEvents>(type: K, handler?: (event: StreamConnectionEvents[K]) => void): void {
    this.events.off(type, handler);
  }

  destroy(): void {
    this.shut();
    // At once: `shut` waits for the writer to finish, which a peer that stops reading never lets it.
    this.release();
    this.driver.end();
  }

  pause(): void {
    this.readPaused = true;
  }

  resume(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.wakeReader();
  }

  /** Connects the link to its transport and starts reading. */
  use(conn: StreamConn): void {
    if (this.closed) {
      closeQuietly(conn);
      return;
    }
    this.conn = conn;
    watch(this);
    const direct = directOf(conn);
    this.writer = direct !== null ? new ConnWriter(direct) : conn.writable.getWriter();
    const reader: LinkReader = direct !== null ? new ConnReader(direct) : conn.readable.getReader();
    this.reader = reader;
    const early = this.early;
    this.early = [];
    for (const chunk of early) this.write(chunk);
    void this.read(reader);
  }

  fail(error: Error): void {
    if (!this.closed) this.events.emit("error", error);
    this.shut();
    this.driver.end();
  }

  /** @internal */
  cork(): void {
    if (this.corks++ === 0) this.corked = [];
  }

  /** @internal */
  uncork(): void {
    if (--this.corks > 0) return;
    this.flushCorked();
  }

  /** Hands what is corked to the writer now, in as few writes as is cheap. */
  private flushCorked(): void {
    const corked = this.corked;
    if (corked === null) return;
    this.corked = this.corks > 0 ? [] : null;
    this.corkedBytes = 0;
    if (corked.length > 0) sendBatch(corked, (chunk) => this.send(chunk));
  }

  /** @internal The driver's `io.write`: gathered while corked, else handed on at once. */
  write(chunk: Uint8Array): boolean {
    if (this.closed) return false;
    const corked = this.corked;
    if (corked !== null) {
      corked.push(chunk);
      this.corkedBytes += chunk.length;
      if (this.corkedBytes >= BATCH_LIMIT) this.flushCorked();
      return !this.full;
    }
    return this.send(chunk);
  }

  private send(chunk: Uint8Array): boolean {
    if (this.closed) return false;
    const writer = this.writer;
    if (!writer) {
      this.early.push(chunk);
      return true;
    }
    const limit = this.limits === null ? 0 : this.limits.maxBufferedAmount;
    if (limit > 0 && this.pending > limit && !this.overflowed) {
      this.overflowed = true;
      // After this frame: this write may be its header, with the payload still to come.
      queueMicrotask(() => this.overflow());
    }
    this.pending += chunk.length;
    writer.write(chunk).then(
      () => {
        // The peer took bytes from a backlog: it is alive. (Not any write: the kernel takes a ping to
        // a silent peer at once.)
        if (this.pending > READ_PAUSE_BYTES) this.seen = clock;
        this.pending -= chunk.length;
        if (this.resumeReading !== null && this.pending <= PAUSE_PENDING) this.wakeReader();
        if (this.full && (writer.desiredSize ?? 0) > 0) {
          this.full = false;
          this.events.emit("drain", undefined);
        }
      },
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
    );
    if ((writer.desiredSize ?? 0) <= 0) this.full = true;
    return !this.full;
  }

  private async read(reader: LinkReader): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // Every frame written while the chunk is read leaves in one write: a 64 B echo went from
        // 0.94-1.15x Deno.serve's rate to 5.4-5.6x (text), 1.6-2.3x to 7-28x (binary).
        this.cork();
        try {
          this.driver.parse(value);
        } finally {
          this.uncork();
        }
        this.seen = clock;
        // A server stops reading while the writer holds more of its replies than PAUSE_PENDING;
        // any connection, while `pause()` holds (a reader of a message in pieces lags). Each wake
        // checks both again.
        while (!this.closed && (this.readPaused || (this.pending > PAUSE_PENDING && this.limits !== null && this.limits.pauseReading))) {
          await new Promise<void>((resolve) => { this.resumeReading = resolve; });
        }
      }
    } catch (error) {
      // Reading fails once we have closed the connection ourselves; that is not news.
      if (!this.closed) this.events.emit("error", error instanceof Error ? error : new Error(String(error)));
    }
    this.shut();
    this.driver.end();
  }

  /** @internal For the sweep: 0 connecting, 1 open, 2 closing (or the writer closing), PHASE_GONE. */
  phase(): number {
    if (this.released || (this.closed && this.conn === null)) return PHASE_GONE;
    const state = this.driver.readyState;
    return state === 3 || this.closed ? 2 : state;
  }

  /** @internal For the sweep: the peer has been silent for `idleTimeout`. */
  ping(): boolean {
    return this.driver.ping();
  }

  /** @internal For the sweep: a limit ran out. */
  expire(error: TimeoutError): void {
    if (!this.closed) this.events.emit("error", error);
    this.destroy();
  }

  /** A write found more than `maxBufferedAmount` waiting: fail with 1008 if open, else drop. */
  private overflow(): void {
    const limit = (this.limits as ConnectionLimits).maxBufferedAmount;
    if (this.driver.readyState === OPEN) {
      failConnection(this.driver, new ProtocolError(CloseCode.POLICY_VIOLATION, overflowMessage(limit)));
    } else if (!this.released) {
      if (!this.closed) this.events.emit("error", new Error(overflowMessage(limit)));
      this.destroy();
    }
  }

  private wakeReader(): void {
    const resume = this.resumeReading;
    this.resumeReading = null;
    resume?.();
  }

  private shut(): void {
    if (this.closed) return;
    // The driver closes while a chunk is read: its last frames (the close frame) go first.
    this.flushCorked();
    this.closed = true;
    this.full = false;
    this.wakeReader();
    const { conn, writer } = this;
    if (!conn) {
      unwatch(this);
      return;
    }
    // Let what the driver wrote (the last close frame) go out before the connection is closed.
    const done = writer ? writer.close().catch(() => undefined) : Promise.resolve();
    void done.then(() => this.release());
  }

  /** Closes the connection now, dropping what the writer still holds. */
  private release(): void {
    const { conn, writer, reader } = this;
    if (!conn || this.released) return;
    this.released = true;
    unwatch(this);
    this.wakeReader();
    writer?.abort().catch(() => undefined);
    reader?.cancel().catch(() => undefined);
    closeQuietly(conn);
  }
}

function closeQuietly(conn: StreamConn): void {
  try {
    conn.close?.();
  } catch {
    // Already closed by the other side or by closing the writable stream.
  }
}

/**
 * Wires a driver, made by `create` with the `io` it must write to, to a connection's streams.
 * The end of the readable stream, or an error, ends the driver; its `close` closes the connection.
 */
export function attach<D extends DriverInterface>(conn: StreamConn, create: (io: DriverIO) => D): StreamConnection<D> {
  const link = new StreamLink(create);
  link.use(conn);
  return link;
}

/**
 * A server's options: the driver's, and the adapter's time and buffer limits (`handshakeTimeout`,
 * `idleTimeout`, `closeTimeout`, `maxBufferedAmount`; defaults in `SERVER_LIMITS`).
 */
export interface DenoServerOptions extends ServerOptions, ConnectionLimitOptions {}

/** A server connection on an accepted `Deno.Conn`: the driver reads the HTTP request and emits `connect`. */
export function accept(conn: StreamConn, options: DenoServerOptions = {}): StreamConnection<ServerDriver> {
  const link = new StreamLink((io) => Driver.server(io, options), resolveLimits(options, SERVER_LIMITS));
  link.use(conn);
  return link;
}

interface DenoConnectOptions {
  hostname: string;
  port: number;
  caCerts?: string[];
}

interface DenoNamespace {
  connect(options: DenoConnectOptions): Promise<StreamConn>;
  connectTls(options: DenoConnectOptions): Promise<StreamConn>;
}

/** A client's options: the driver's, TLS, and the adapter's limits (defaults in `CLIENT_LIMITS`: no `idleTimeout`). */
export interface DenoClientOptions extends ClientOptions, ConnectionLimitOptions {
  /** Extra PEM certificates to trust for `wss:` (as `Deno.connectTls`'s `caCerts`). */
  caCerts?: string[];
}

/**
 * Connects to `url` with `Deno.connect` (`Deno.connectTls` for `wss:`) and starts a client driver
 * once connected. Messages sent before then are queued by the driver; a failure to connect is an
 * `error` event, then `close` (1006).
 */
export function connect(url: string | URL, options: DenoClientOptions = {}): StreamConnection<ClientDriver> {
  const deno = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (!deno) throw new Error("wsdriver/deno's connect() needs the Deno runtime");
  const { caCerts, ...clientOptions } = options;
  const { url: target, host: hostname, port, secure } = clientTarget(url);
  const link = new StreamLink((io) => Driver.client(target, io, clientOptions), resolveLimits(clientOptions, CLIENT_LIMITS));
  // The handshake's time counts from here: connecting, TLS and the 101.
  watch(link);
  const opening = secure
    ? deno.connectTls(caCerts ? { hostname, port, caCerts } : { hostname, port })
    : deno.connect({ hostname, port });
  opening.then(
    (conn) => {
      link.use(conn);
      link.driver.start();
    },
    (error: unknown) => link.fail(error instanceof Error ? error : new Error(String(error))),
  );
  return link;
}
