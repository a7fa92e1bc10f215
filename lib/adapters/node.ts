/**
 * Node: a driver on a `net.Socket` or `tls.TLSSocket`. The socket's bytes go to `parse`, the
 * driver's bytes to `socket.write`, and a socket that ends, errs or closes ends the driver. When
 * `socket.write` returns false the connection says so (`needsDrain`, `bufferedAmount`, a `drain`
 * event and `drained()`), so a fast sender can wait instead of filling memory.
 *
 *     server.on("upgrade", (request, socket, head) => {
 *       const { driver } = acceptUpgrade(request, socket, head);
 *       driver.on("message", ({ data }) => driver.text(String(data)));
 *     });
 *
 * This file and its siblings are the only ones that touch a runtime's sockets; the core is sans-I/O.
 *
 * @module wsdriver/node
 */
import mitt, { type Emitter } from "mitt";
import type { IncomingMessage } from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { OPEN, TRANSPORT_CLOSE, failConnection } from "../base.js";
import { Driver } from "../driver.js";
import { ProtocolError } from "../errors.js";
import { CloseCode } from "../hybi/close.js";
// Node's fast paths (bufferutil, uninitialised buffers) for users who import only this adapter.
import "../node/fast-paths.js";
import type { ClientOptions, DriverIO, ServerOptions } from "../options.js";
import type { ClientDriver, Driver as DriverInterface, Http2ClientDriver, ServerDriver } from "../types.js";
import { type AdapterConnection, type AdapterConnectionEvents, clientTarget } from "./connection.js";
import { type StreamConnection, connectHttp2 } from "./node-http2.js";

export { acceptStream, connectHttp2 } from "./node-http2.js";
export type { Http2ClientOptions, StreamConnection, StreamOptions } from "./node-http2.js";
import {
  CLIENT_LIMITS, type ConnectionLimitOptions, type ConnectionLimits, PHASE_GONE, SERVER_LIMITS, type TimeoutError,
  type Watched, clock, overflowMessage, resolveLimits, unwatch, watch,
} from "./timeouts.js";

export { CLIENT_LIMITS, SERVER_LIMITS, TimeoutError } from "./timeouts.js";
export type { ConnectionLimitOptions, ConnectionLimits, TimeoutOption } from "./timeouts.js";

/** `drain` once the socket's buffer has emptied after a `write` returned false; `error` on a reset, TLS error or refusal. */
export type ConnectionEvents = AdapterConnectionEvents;

/**
 * A driver on a Node socket. `bufferedAmount` is `socket.writableLength`; `needsDrain` holds from a
 * `write` that returned false (judged after the socket is uncorked) until the socket drains.
 */
export interface Connection<D extends DriverInterface> extends AdapterConnection<D> {
  readonly socket: Duplex;
}

/** Where a socket's listeners, shared by every connection, find the connection the socket carries. */
const CONNECTION = Symbol("wsdriver.connection");

type Carrier = Duplex & { [CONNECTION]?: NodeConnection<DriverInterface> };

/** `NodeConnection.flags`: a `write` returned false and the socket has not drained since. */
const DRAIN_PENDING = 1;
/** `NodeConnection.flags`: one of the corks is a write's, outside a parse, undone at the end of the tick. */
const TICK_CORKED = 2;
/** `NodeConnection.flags`: the socket has closed. */
const CLOSED = 4;
/** `NodeConnection.flags`: reading is paused while what we owe the peer is over the socket's high-water mark. */
const READ_PAUSED = 8;
/** `NodeConnection.flags`: `maxBufferedAmount` was crossed; the connection is being failed. */
const OVERFLOWED = 16;
/** `NodeConnection.flags`: two bits for the sweep's `stage` (timeouts.ts), from bit 5. */
const STAGE_SHIFT = 5;
const STAGE_BITS = 3 << STAGE_SHIFT;
/** `NodeConnection.flags`: the nesting depth of our own `cork()` calls, counted from bit 7. */
const CORK = 1 << 7;

/** What only some connections need: their own event handlers, and promises waiting for `drain`. */
interface Listeners {
  events: Emitter<ConnectionEvents> | null;
  waiters: Array<() => void> | null;
}

/**
 * One connection: the socket, its driver, and the backpressure state. It is also the driver's `io`,
 * and the socket's listeners are functions shared by every connection (they find it through the
 * socket), and the driver tells it of `close` through the `io` (`TRANSPORT_CLOSE`), so an idle
 * connection holds this object and its driver: no `close` handler (a closure, its context and a
 * handler list were 152 bytes per connection). The three yes/no states share one number, and the
 * connection's own emitter and `drained()` waiters one object made on first use: 88 -> 64 bytes
 * per connection (heap snapshots of idle connections, bench/server.mjs's Node adapter server).
 */
class NodeConnection<D extends DriverInterface> implements Connection<D>, Watched {
  readonly socket: Duplex;
  readonly driver: D;
  /**
   * DRAIN_PENDING, TICK_CORKED, CLOSED, READ_PAUSED, OVERFLOWED, the sweep's stage, and above them
   * the nesting depth of our own `cork()` calls (a chunk being parsed, a large frame being written):
   * one field, not three (16 bytes per connection; bench/index.mjs "idle heap").
   */
  private flags = 0;
  private listeners: Listeners | null = null;
  /** The time and buffer limits (timeouts.ts), shared with every connection that has the same; null for none. */
  readonly limits: ConnectionLimits | null;
  /** @internal Where the sweep keeps this connection (timeouts.ts). */
  slot = -1;
  /** @internal */
  seen = 0;
  /** @internal */
  since = 0;

  /** @internal The sweep's stage, kept in `flags`. */
  get stage(): number {
    return (this.flags & STAGE_BITS) >>> STAGE_SHIFT;
  }

  set stage(stage: number) {
    this.flags = (this.flags & ~STAGE_BITS) | (stage << STAGE_SHIFT);
  }

  constructor(socket: Duplex, create: (io: DriverIO) => D, limits: ConnectionLimits | null = null) {
    this.socket = socket;
    this.limits = limits;
    const io: DriverIO & { cork(): void; uncork(): void } = this;
    this.driver = create(io);
    (socket as Carrier)[CONNECTION] = this as NodeConnection<DriverInterface>;
    socket.on("data", onData);
    socket.on("drain", onDrain);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
    // A socket whose `close` or `end` came before it was handed over (an upgrade handler awaited
    // something while the client went away) will not say so again: end the driver once the caller
    // has added its handlers, before a handshake answered on the next tick can open it. So too for
    // one our side has already ended (a timeout gave up meanwhile): the 101 could never be sent,
    // and a peer that keeps its half open would leave the driver open for good.
    if (socket.destroyed) {
      this.flags |= CLOSED;
      process.nextTick(endGone, this);
      return;
    } else if (socket.readableEnded || socket.writableEnded) {
      process.nextTick(endGone, this);
    }
    watch(this);
  }

  /** @internal For the sweep (timeouts.ts): the driver's ready state, closing once our side is ended. */
  phase(): number {
    if ((this.flags & CLOSED) !== 0 || this.socket.destroyed) return PHASE_GONE;
    const state = this.driver.readyState;
    return state === 3 || this.socket.writableEnded ? 2 : state;
  }

  /** @internal For the sweep: the peer has been silent for `idleTimeout`. */
  ping(): boolean {
    return this.driver.ping();
  }

  /** @internal For the sweep: a limit ran out. */
  expire(error: TimeoutError): void {
    this.emit("error", error);
    this.destroy();
  }

  /**
   * @internal The driver is about to emit `close`: the closing handshake is over (or the
   * connection failed), so end our half of the TCP connection.
   */
  [TRANSPORT_CLOSE](): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  /** The driver's `io.write`. */
  write(chunk: Uint8Array): boolean {
    const socket = this.socket;
    // A write after the socket is gone would only raise ERR_STREAM_DESTROYED; the driver hears of
    // the loss through `end()` instead.
    if ((this.flags & CLOSED) !== 0 || socket.destroyed || !socket.writable) return false;
    // Outside a chunk's parse (a timer, after an await), the first write corks until the end of
    // this tick, so a burst of sends leaves in one writev too: 10 messages of 64 B per tick went
    // from 88-109 k to 314-346 k messages/s; one per tick from 35-40 k to 43 k. process.nextTick
    // runs before any I/O, so nothing waits for a timer or a packet.
    if (this.flags < CORK) {
      this.cork();
      this.flags |= TICK_CORKED;
      process.nextTick(uncorkAtTickEnd, this);
    }
    const ok = socket.write(chunk);
    if (!ok) {
      if ((this.flags & TICK_CORKED) !== 0) {
        // A sender looping until needsDrain must hear it now, not at the end of the tick: hand the
        // gathered bytes to the kernel and let `uncork` say whether they all left.
        this.flags &= ~TICK_CORKED;
        this.uncork();
      }
      // Checked only past the high-water mark, where writes return false: the fast path pays nothing.
      const limit = this.limits === null ? 0 : this.limits.maxBufferedAmount;
      if (limit > 0 && socket.writableLength - chunk.length > limit && (this.flags & OVERFLOWED) === 0) {
        this.flags |= OVERFLOWED;
        // Not here: this write may be a frame's header with its payload still to come.
        process.nextTick(overflow, this);
      }
    }
    // Every write is corked (by a parse, the framer or the tick), and a corked write returns false
    // once the buffered bytes reach the high-water mark even when all of them leave on `uncork()`:
    // the outermost `uncork` sets needsDrain instead.
    return ok;
  }

  /** @internal The end of the tick in which a write outside a parse corked the socket. */
  uncorkTick(): void {
    if ((this.flags & TICK_CORKED) === 0) return;
    this.flags &= ~TICK_CORKED;
    this.uncork();
  }

  /**
   * The driver's `io.cork`: the framer gathers a large frame's header and payload into one
   * `writev`, and `parseCorked` every frame written while one chunk is handled.
   */
  cork(): void {
    this.flags += CORK;
    this.socket.cork();
  }

  uncork(): void {
    const socket = this.socket;
    socket.uncork();
    this.flags -= CORK;
    if (this.flags >= CORK) return;
    // uncork() hands the gathered bytes to the kernel at once; what it could not take stays in
    // writableLength. Node's needDrain, set by the corked write that crossed the high-water mark,
    // stays true until its `drain` on the next tick even when nothing is left, so only bytes still
    // buffered up to the mark mean the sender should wait (`drain` follows once they have gone).
    if (socket.writableNeedDrain && socket.writableLength >= socket.writableHighWaterMark) this.flags |= DRAIN_PENDING;
  }

  /**
   * Parses one chunk with the socket corked, so every frame written meanwhile (the echoes of all
   * the messages in the chunk, say) leaves in one `writev`.
   */
  parseCorked(chunk: Uint8Array): void {
    this.cork();
    try {
      this.driver.parse(chunk);
    } finally {
      this.uncork();
    }
  }

  /**
   * A chunk from the socket: parsed corked, a sign of life for the sweep, and, on a server, the
   * moment to stop reading while the replies it caused (pongs, echoes) are over the high-water mark.
   */
  read(chunk: Uint8Array): void {
    this.parseCorked(chunk);
    this.seen = clock;
    if ((this.flags & (DRAIN_PENDING | READ_PAUSED)) === DRAIN_PENDING && this.limits !== null && this.limits.pauseReading) {
      this.flags |= READ_PAUSED;
      this.socket.pause();
    }
  }

  /** @internal More was waiting than `maxBufferedAmount` allows: fail with 1008 if open, else drop. */
  overflowed(): void {
    const limit = (this.limits as ConnectionLimits).maxBufferedAmount;
    if (this.driver.readyState === OPEN) {
      failConnection(this.driver, new ProtocolError(CloseCode.POLICY_VIOLATION, overflowMessage(limit)));
    } else if (!this.socket.destroyed) {
      this.emit("error", new Error(overflowMessage(limit)));
      this.destroy();
    }
  }

  /** Answers the handshake corked: the 101 and the replies to frames that came with it in one `writev`. */
  startCorked(): void {
    this.cork();
    try {
      this.driver.start();
    } finally {
      this.uncork();
    }
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  get needsDrain(): boolean {
    return (this.flags & DRAIN_PENDING) !== 0;
  }

  drained(): Promise<void> {
    if ((this.flags & (DRAIN_PENDING | CLOSED)) !== DRAIN_PENDING) return Promise.resolve();
    const listeners = (this.listeners ??= { events: null, waiters: null });
    return new Promise<void>((resolve) => (listeners.waiters ??= []).push(resolve));
  }

  on<K extends keyof ConnectionEvents>(type: K, handler: (event: ConnectionEvents[K]) => void): void {
    const listeners = (this.listeners ??= { events: null, waiters: null });
    (listeners.events ??= mitt<ConnectionEvents>()).on(type, handler);
  }

  off<K extends keyof ConnectionEvents>(type: K, handler?: (event: ConnectionEvents[K]) => void): void {
    this.listeners?.events?.off(type, handler);
  }

  destroy(): void {
    this.socket.destroy();
    this.driver.end();
  }

  /** @internal The socket drained, or closed: whoever waits may send again, and we read again. */
  release(): void {
    if ((this.flags & READ_PAUSED) !== 0) {
      this.flags &= ~READ_PAUSED;
      this.socket.resume();
    }
    this.flags &= ~DRAIN_PENDING;
    const listeners = this.listeners;
    const ready = listeners === null ? null : listeners.waiters;
    if (ready === null) return;
    (listeners as Listeners).waiters = null;
    for (const resolve of ready) resolve();
  }

  /** @internal */
  emit<K extends keyof ConnectionEvents>(type: K, event: ConnectionEvents[K]): void {
    this.listeners?.events?.emit(type, event);
  }

  /** @internal */
  markClosed(): void {
    this.flags |= CLOSED;
  }
}

function endGone(connection: NodeConnection<DriverInterface>): void {
  connection.driver.end();
}

function overflow(connection: NodeConnection<DriverInterface>): void {
  connection.overflowed();
}

function uncorkAtTickEnd(connection: NodeConnection<DriverInterface>): void {
  connection.uncorkTick();
}

function onData(this: Carrier, chunk: Uint8Array): void {
  const connection = this[CONNECTION];
  if (connection !== undefined) connection.read(chunk);
}

function onDrain(this: Carrier): void {
  const connection = this[CONNECTION];
  if (connection === undefined) return;
  // The peer took what we had waiting: it is alive, even if it sent nothing.
  connection.seen = clock;
  connection.release();
  connection.emit("drain", undefined);
}

function onEnd(this: Carrier): void {
  this[CONNECTION]?.driver.end();
}

function onError(this: Carrier, error: Error): void {
  const connection = this[CONNECTION];
  if (connection === undefined) return;
  connection.emit("error", error);
  connection.driver.end();
}

function onClose(this: Carrier): void {
  const connection = this[CONNECTION];
  if (connection === undefined) return;
  connection.markClosed();
  unwatch(connection);
  connection.release();
  connection.driver.end();
}

/**
 * Wires a driver, made by `create` with the `io` it must write to, to a connected socket. The socket's
 * `data` goes to `parse`, with the socket corked meanwhile so that all the frames written while one
 * chunk is handled leave in one `writev`; `end`, `error` and `close` call `end()`; the driver's
 * `close` ends the socket. Writes made elsewhere (a timer sending a message) go out at once.
 */
export function attach<D extends DriverInterface>(socket: Duplex, create: (io: DriverIO) => D): Connection<D> {
  return new NodeConnection(socket, create);
}

/**
 * A server connection on a raw socket from `net.createServer` or `tls.createServer`: the driver reads
 * the HTTP request itself and emits `connect`; call `driver.start()` to accept it.
 */
export function acceptSocket(socket: Duplex, options: NodeServerOptions = {}): Connection<ServerDriver> {
  const limits = resolveLimits(options, SERVER_LIMITS);
  // Nagle's algorithm would hold back small frames waiting for an ACK, as in acceptUpgrade.
  if (socket instanceof net.Socket) socket.setNoDelay(true);
  return new NodeConnection(socket, (io) => Driver.server(io, options), limits);
}

/**
 * A server's options: the driver's, and the adapter's time and buffer limits (`handshakeTimeout`,
 * `idleTimeout`, `closeTimeout`, `maxBufferedAmount`; defaults in `SERVER_LIMITS`).
 */
export interface NodeServerOptions extends ServerOptions, ConnectionLimitOptions {}

/**
 * `acceptUpgrade`'s options. node:http has read the request by the time of the `upgrade` event
 * (its `headersTimeout` and `requestTimeout` bound that); `handshakeTimeout` counts from the call
 * until the connection opens (a `start: false` handler that never calls `start()`).
 */
export interface UpgradeOptions extends NodeServerOptions {
  /**
   * Answer the handshake on the next tick, after the caller has added its handlers and headers
   * (default). With `false`, call `driver.start()` yourself, for example after an async check.
   */
  start?: boolean;
}

/**
 * Accepts an upgrade from a `node:http` or `node:https` server's `upgrade` event for the request
 * Node has already read, and feeds the driver the `head` bytes that followed it (frames a fast
 * client sent at once; RFC 6455 §4.1 lets it). The handshake is answered on the next tick, so
 * `open` and those first messages reach handlers added right after this call. Check
 * `Driver.isWebSocket(request)` first if the server also upgrades to other protocols.
 */
export function acceptUpgrade(
  request: IncomingMessage, socket: Duplex, head: Uint8Array = new Uint8Array(0), options: UpgradeOptions = {},
): Connection<ServerDriver> {
  const { start = true, ...serverOptions } = options;
  const limits = resolveLimits(serverOptions, SERVER_LIMITS);
  // A TLS socket (node:https) means wss: locations in the drafts' handshakes.
  if (serverOptions.secure === undefined && (socket as { encrypted?: boolean }).encrypted === true) serverOptions.secure = true;
  const connection = new NodeConnection(socket, (io) => Driver.fromRequest(request, io, serverOptions), limits);
  // Nagle's algorithm would hold back small frames waiting for an ACK; WebSocket messages are latency-bound.
  if (socket instanceof net.Socket) socket.setNoDelay(true);
  // Before start() the driver keeps these bytes and reads them once the handshake is answered.
  if (head.length > 0) connection.driver.parse(head);
  if (start) process.nextTick(startCorked, connection);
  return connection;
}

function startCorked(connection: NodeConnection<ServerDriver>): void {
  connection.startCorked();
}

/**
 * A client's options: the driver's, TLS, and the adapter's time and buffer limits (defaults in
 * `CLIENT_LIMITS`: no `idleTimeout`).
 */
export interface NodeClientOptions extends ClientOptions, ConnectionLimitOptions {
  /** TLS options for `wss:` (`ca`, `rejectUnauthorized`, `servername` …). */
  tls?: Omit<tls.ConnectionOptions, "host" | "port" | "socket">;
  /**
   * Open the WebSocket over HTTP/2 (RFC 8441) instead of an HTTP/1.1 upgrade, on the open session
   * to the same origin if there is one (see `connectHttp2` and docs/http2.md).
   */
  http2?: boolean;
}

/**
 * Opens a TCP (or, for `wss:`, TLS) connection to `url` and starts a client driver on it once
 * connected. Messages sent before the handshake completes are queued by the driver. With
 * `http2: true` the WebSocket is a stream of an HTTP/2 session instead (`connectHttp2`).
 */
export function connect(url: string | URL, options: NodeClientOptions & { http2: true }): StreamConnection<Http2ClientDriver>;
export function connect(url: string | URL, options?: NodeClientOptions & { http2?: false }): Connection<ClientDriver>;
export function connect(url: string | URL, options: NodeClientOptions): Connection<ClientDriver> | StreamConnection<Http2ClientDriver>;
export function connect(
  url: string | URL, options: NodeClientOptions = {},
): Connection<ClientDriver> | StreamConnection<Http2ClientDriver> {
  if (options.http2 === true) return connectHttp2(url, options);
  const { tls: tlsOptions, ...clientOptions } = options;
  const { url: target, host, port, secure } = clientTarget(url);
  const limits = resolveLimits(clientOptions, CLIENT_LIMITS);
  const socket: net.Socket = secure
    ? tls.connect({ servername: net.isIP(host) ? undefined : host, ...tlsOptions, host, port })
    : net.connect({ host, port });
  socket.setNoDelay(true);
  let connection: Connection<ClientDriver>;
  try {
    connection = new NodeConnection(socket, (io) => Driver.client(target, io, clientOptions), limits);
  } catch (error) {
    // Options the driver refuses throw here: drop the socket (it connects on a later tick), or it
    // would open a connection the caller has no handle on.
    socket.destroy();
    throw error;
  }
  socket.once(secure ? "secureConnect" : "connect", () => connection.driver.start());
  return connection;
}
