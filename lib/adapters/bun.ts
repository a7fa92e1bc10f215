/**
 * Bun: drivers on the sockets of `Bun.listen` and `Bun.connect`, which report through a handlers
 * object (`open`, `data`, `drain`, `close`, `error`, `end`) rather than streams. Bun's
 * `socket.write` may take only part of a chunk; the adapter keeps the rest and writes it on
 * `drain`, and exposes that as backpressure (`needsDrain`, `bufferedAmount`, `drained()`).
 *
 *     Bun.listen({
 *       hostname: "127.0.0.1", port: 8080,
 *       socket: serverHandlers({}, ({ driver }) => {
 *         driver.on("connect", () => driver.start());
 *         driver.on("message", ({ data }) => driver.text(String(data)));
 *       }),
 *     });
 *
 * Bun's own `Bun.serve` upgrades with its built-in WebSocket server; to speak the protocol
 * yourself, listen with `Bun.listen` as above.
 *
 * @module wsdriver/bun
 */
import mitt from "mitt";
import "../bun/fast-paths.js";
import { OPEN, failConnection } from "../base.js";
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

/** The part of a Bun `Socket` the adapter uses. */
export interface BunSocket {
  /** Returns how many bytes were taken (fewer when the kernel buffer is full), or -1 when closed. */
  write(data: Uint8Array): number;
  end(): unknown;
  terminate?(): unknown;
  /** Stops and starts reading (Bun's sockets have both): a server stops while the peer does not read its replies. */
  pause?(): unknown;
  resume?(): unknown;
}

/** The handlers object `Bun.listen` and `Bun.connect` take as `socket`. */
export interface BunSocketHandlers<S extends BunSocket = BunSocket> {
  open(socket: S): void;
  data(socket: S, data: Uint8Array): void;
  drain(socket: S): void;
  end(socket: S): void;
  close(socket: S, error?: Error): void;
  error(socket: S, error: Error): void;
  connectError(socket: S, error: Error): void;
  /**
   * TLS only: the handshake is over. Bun reports a certificate it does not trust, or one that does
   * not name the host, here (and only here) when `rejectUnauthorized` is on: `success` is false.
   */
  handshake?(socket: S, success: boolean, authorizationError: Error | null): void;
}

/** `drain` once Bun's socket took everything that was waiting; `error` when the socket failed or could not connect. */
export type BunConnectionEvents = AdapterConnectionEvents;

/**
 * A driver on a Bun socket. `bufferedAmount` counts bytes Bun's socket has not taken yet;
 * `needsDrain` holds while bytes wait for the socket's `drain`.
 */
export type BunConnection<D extends DriverInterface> = AdapterConnection<D>;

class BunLink<D extends DriverInterface> implements BunConnection<D>, Watched {
  readonly driver: D;
  private readonly events = mitt<BunConnectionEvents>();
  private socket: BunSocket | null = null;
  /** What Bun's socket has not taken yet, in order; also what was written before it opened. */
  private queue: Uint8Array[] = [];
  private queued = 0;
  private closed = false;
  /** The driver has closed: end the socket once it has taken everything queued (the last close frame). */
  private ending = false;
  private waiters: Array<() => void> = [];
  /**
   * Chunks written while corked (a chunk being parsed, a frame's header and payload), handed to
   * the socket together on the last `uncork` (`batch.ts`): a 64 B echo went from 0.08-0.11x
   * Bun.serve's rate to 0.39-0.75x (text) and 0.60-1.03x (binary), four runs.
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
  /** Reading is paused while the peer does not take what we owe it; `maxBufferedAmount` was crossed. */
  private paused = false;
  private overflowed = false;

  constructor(create: (io: DriverIO) => D, limits: ConnectionLimits | null = null) {
    this.limits = limits;
    // The link is the driver's `io`, with no closures of its own per connection. The framer sees
    // `cork`/`uncork` and writes a large frame's header and payload apart, trusting them to leave
    // together.
    const io: DriverIO & { cork(): void; uncork(): void } = this;
    this.driver = create(io);
    // The closing handshake is over (or the connection failed): end our side of the connection.
    this.driver.on("close", () => {
      this.ending = true;
      this.endIfFlushed();
    });
  }

  get bufferedAmount(): number {
    return this.queued + this.corkedBytes;
  }

  get needsDrain(): boolean {
    return this.queued > 0 && this.socket !== null && !this.closed;
  }

  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  on<K extends keyof BunConnectionEvents>(type: K, handler: (event: BunConnectionEvents[K]) => void): void {
    this.events.on(type, handler);
  }

  off<K extends keyof BunConnectionEvents>(type: K, handler?: (event: BunConnectionEvents[K]) => void): void {
    this.events.off(type, handler);
  }

  destroy(): void {
    const socket = this.socket;
    this.finish();
    if (socket) (socket.terminate ?? socket.end).call(socket);
  }

  opened(socket: BunSocket): void {
    this.socket = socket;
    // Destroyed while `Bun.connect` was under way: nobody wants this socket any more.
    if (this.closed) {
      (socket.terminate ?? socket.end).call(socket);
      return;
    }
    this.flush();
  }

  read(data: Uint8Array): void {
    // The driver unmasks frames in place and may hand out views of the chunk. Bun hands every
    // `data` call a buffer of its own (copied out of its receive buffer, never reused), so the
    // chunk is the driver's without a copy of ours.
    this.cork();
    try {
      this.driver.parse(data);
    } finally {
      this.uncork();
    }
    this.seen = clock;
    // A server stops reading while Bun holds more of its replies than the kernel would take.
    if (!this.paused && this.queued > READ_PAUSE_BYTES && this.limits !== null && this.limits.pauseReading && this.socket?.pause) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** @internal For the sweep: 0 connecting, 1 open, 2 closing (or ending), PHASE_GONE. */
  phase(): number {
    if (this.closed) return PHASE_GONE;
    const state = this.driver.readyState;
    return state === 3 ? 2 : state;
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
    } else if (!this.closed) {
      this.events.emit("error", new Error(overflowMessage(limit)));
      this.destroy();
    }
  }

  /** @internal */
  cork(): void {
    if (this.corks++ === 0) this.corked = [];
  }

  /** @internal */
  uncork(): void {
    if (--this.corks > 0) return;
    this.flushCorked();
    // The driver closed while corked: its last frames have just gone to the socket.
    this.endIfFlushed();
  }

  /** Hands what is corked to the socket now, in as few writes as is cheap. */
  private flushCorked(): void {
    const corked = this.corked;
    if (corked === null) return;
    this.corked = this.corks > 0 ? [] : null;
    this.corkedBytes = 0;
    if (corked.length > 0) sendBatch(corked, (chunk) => this.send(chunk));
  }

  flush(): void {
    const socket = this.socket;
    if (!socket || this.closed) return;
    const waited = this.queue.length > 0;
    while (this.queue.length > 0) {
      const chunk = this.queue[0];
      const taken = socket.write(chunk);
      if (taken < 0) return this.finish();
      this.queued -= Math.max(taken, 0);
      if (taken < chunk.length) {
        this.queue[0] = chunk.subarray(taken);
        return;
      }
      this.queue.shift();
    }
    this.release();
    if (waited) {
      // The peer took what was waiting: it is alive, and a paused server reads again.
      this.seen = clock;
      if (this.paused) {
        this.paused = false;
        socket.resume?.();
      }
      this.events.emit("drain", undefined);
    }
    this.endIfFlushed();
  }

  /**
   * Ends the socket once the driver has closed and Bun has taken all that was queued: Bun's `end`
   * sends nothing the adapter still holds, and the peer would miss the messages and the close frame
   * written before it (RFC 6455 §7.1.1: the TCP connection closes after the closing handshake).
   */
  private endIfFlushed(): void {
    const socket = this.socket;
    if (!this.ending || socket === null || this.closed || this.queue.length > 0 || this.corks > 0) return;
    this.ending = false;
    socket.end();
  }

  fail(error: Error): void {
    if (!this.closed) this.events.emit("error", error);
    this.finish();
  }

  finish(): void {
    this.closed = true;
    unwatch(this);
    this.queue = [];
    this.queued = 0;
    this.release();
    this.driver.end();
  }

  /** @internal The driver's `io.write`: gathered while corked, else handed on at once. */
  write(chunk: Uint8Array): boolean {
    if (this.closed) return false;
    const corked = this.corked;
    if (corked !== null) {
      corked.push(chunk);
      this.corkedBytes += chunk.length;
      if (this.corkedBytes >= BATCH_LIMIT) this.flushCorked();
      return this.queue.length === 0;
    }
    return this.send(chunk);
  }

  private send(chunk: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.socket && this.queue.length === 0) {
      const taken = this.socket.write(chunk);
      if (taken < 0) {
        this.finish();
        return false;
      }
      if (taken === chunk.length) return true;
      chunk = chunk.subarray(taken);
    }
    const limit = this.limits === null ? 0 : this.limits.maxBufferedAmount;
    if (limit > 0 && this.queued > limit && !this.overflowed) {
      this.overflowed = true;
      // After this frame: this write may be its header, with the payload still to come.
      queueMicrotask(() => this.overflow());
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    return false;
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Handlers that route each socket's callbacks to its own link. */
function handlersFor<S extends BunSocket>(links: WeakMap<S, BunLink<DriverInterface>>, onOpen: (socket: S) => void): BunSocketHandlers<S> {
  return {
    open: onOpen,
    data: (socket, data) => links.get(socket)?.read(data),
    drain: (socket) => links.get(socket)?.flush(),
    end: (socket) => links.get(socket)?.finish(),
    close: (socket) => links.get(socket)?.finish(),
    error: (socket, error) => links.get(socket)?.fail(error),
    connectError: (socket, error) => links.get(socket)?.fail(error),
    // Bun then closes the socket with no error of its own, so a refused certificate would look
    // like a dropped connection. With `rejectUnauthorized: false`, success is true and the
    // connection goes on whatever `authorizationError` says: the caller chose that.
    handshake: (socket, success, authorizationError) => {
      if (!success) links.get(socket)?.fail(authorizationError ?? new Error("TLS handshake failed"));
    },
  };
}

/**
 * The `socket` handlers for `Bun.listen`: each accepted socket gets a server driver that reads the
 * HTTP request itself and emits `connect`; `onConnection` receives it to add handlers and call
 * `driver.start()`.
 */
export function serverHandlers<S extends BunSocket>(
  options: BunServerOptions, onConnection: (connection: BunConnection<ServerDriver>) => void,
): BunSocketHandlers<S> {
  const links = new WeakMap<S, BunLink<DriverInterface>>();
  const limits = resolveLimits(options, SERVER_LIMITS);
  return handlersFor(links, (socket) => {
    const link = new BunLink((io) => Driver.server(io, options), limits);
    links.set(socket, link);
    link.opened(socket);
    watch(link);
    onConnection(link);
  });
}

interface BunConnectOptions<S extends BunSocket> {
  hostname: string;
  port: number;
  tls?: boolean | Record<string, unknown>;
  socket: BunSocketHandlers<S>;
}

interface BunNamespace {
  connect<S extends BunSocket>(options: BunConnectOptions<S>): Promise<S>;
}

/**
 * A server's options: the driver's, and the adapter's time and buffer limits (`handshakeTimeout`,
 * `idleTimeout`, `closeTimeout`, `maxBufferedAmount`; defaults in `SERVER_LIMITS`).
 */
export interface BunServerOptions extends ServerOptions, ConnectionLimitOptions {}

/** A client's options: the driver's, TLS, and the adapter's limits (defaults in `CLIENT_LIMITS`: no `idleTimeout`). */
export interface BunClientOptions extends ClientOptions, ConnectionLimitOptions {
  /** TLS options for `wss:`, as `Bun.connect`'s `tls` (`{ ca, rejectUnauthorized, serverName }` …). */
  tls?: Record<string, unknown>;
}

/**
 * Connects to `url` with `Bun.connect` (TLS for `wss:`) and starts a client driver once the socket
 * opens. Messages sent before then are queued by the driver; a failure to connect is an `error`
 * event, then `close` (1006).
 */
export function connect(url: string | URL, options: BunClientOptions = {}): BunConnection<ClientDriver> {
  const bun = (globalThis as { Bun?: BunNamespace }).Bun;
  if (!bun) throw new Error("wsdriver/bun's connect() needs the Bun runtime");
  const { tls, ...clientOptions } = options;
  const { url: target, host: hostname, port, secure: isTls } = clientTarget(url);
  const link = new BunLink((io) => Driver.client(target, io, clientOptions), resolveLimits(clientOptions, CLIENT_LIMITS));
  // The handshake's time counts from here: connecting, TLS and the 101.
  watch(link);
  const links = new WeakMap<BunSocket, BunLink<DriverInterface>>();
  const socket = handlersFor(links, (opened) => {
    links.set(opened, link);
    link.opened(opened);
    link.driver.start();
  });
  // Bun reports a refused connection by rejecting the promise (and, in some versions, connectError).
  socket.connectError = (_socket, error) => link.fail(error);
  // Bun.connect reads a `tls` object that sets no option it knows (`{}`, `{ ca: undefined }`) as
  // "no TLS" and would send the handshake to a wss: server in plain text. `rejectUnauthorized`
  // (true unless the caller says otherwise, as Bun's own default) keeps TLS on.
  const secure = isTls ? { tls: { ...tls, rejectUnauthorized: tls?.rejectUnauthorized ?? true } } : {};
  bun.connect({ hostname, port, socket, ...secure }).catch((error: unknown) =>
    link.fail(error instanceof Error ? error : new Error(String(error))));
  return link;
}
