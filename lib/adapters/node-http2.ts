/**
 * Node: WebSockets over HTTP/2 (RFC 8441) with `node:http2`. One WebSocket is one stream: its
 * DATA goes to `parse`, the driver's bytes to `stream.write` (HTTP/2 flow control applies, and
 * `needsDrain`, `bufferedAmount`, `drain` and `drained()` report it), and the extended CONNECT's
 * header lists go through `stream.respond` and `session.request`.
 *
 *     const server = http2.createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
 *     server.on("stream", (stream, headers) => {
 *       if (headers[":method"] !== "CONNECT") return; // the site's other requests
 *       const { driver } = acceptStream(stream, headers);
 *       driver.on("message", ({ data }) => driver.text(String(data)));
 *     });
 *
 * Clients to one origin share one HTTP/2 session, as browsers do; a session whose server does not
 * send SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) fails every WebSocket waiting on it.
 */
import mitt, { type Emitter } from "mitt";
import * as http2 from "node:http2";
import * as net from "node:net";
import type * as tls from "node:tls";
import { OPEN, TRANSPORT_CLOSE, failConnection } from "../base.js";
import { Driver } from "../driver.js";
import { ProtocolError } from "../errors.js";
import { CloseCode } from "../hybi/close.js";
import type { HeaderList } from "../hybi/handshake-http2.js";
import type { ClientOptions, ServerOptions } from "../options.js";
import type { Driver as DriverInterface, Http2ClientDriver, ServerDriver } from "../types.js";
import { type AdapterConnection, type AdapterConnectionEvents, clientTarget } from "./connection.js";
import {
  CLIENT_LIMITS, type ConnectionLimitOptions, type ConnectionLimits, PHASE_GONE, SERVER_LIMITS, type TimeoutError,
  type Watched, clock, overflowMessage, resolveLimits, unwatch, watch,
} from "./timeouts.js";

/**
 * A WebSocket on one HTTP/2 stream. `bufferedAmount` is the stream's `writableLength` (bytes the
 * peer's flow-control window has not let out yet among them); `stream` is null until a client's
 * extended CONNECT has been sent.
 */
export interface StreamConnection<D extends DriverInterface> extends AdapterConnection<D> {
  readonly stream: http2.Http2Stream | null;
  /** The HTTP/2 session the stream belongs to (shared with the other WebSockets to the same origin). */
  readonly session: http2.Http2Session | null;
}

/**
 * `acceptStream`'s options: the driver's, and the time and buffer limits of the HTTP/1.1 adapters
 * (defaults in `SERVER_LIMITS`), which act on this WebSocket's stream alone, never on the session
 * its neighbours share. `node:http2` has read the extended CONNECT by the `stream` event;
 * `handshakeTimeout` counts from the call until the stream opens (a `start: false` handler that
 * never calls `start()`).
 */
export interface StreamOptions extends ServerOptions, ConnectionLimitOptions {
  /**
   * Answer the extended CONNECT on the next tick, after the caller has added its handlers and
   * headers (default). With `false`, call `driver.start()` yourself, for example after an async check.
   */
  start?: boolean;
}

/**
 * A client's options over HTTP/2: the driver's, TLS, and the limits (defaults in `CLIENT_LIMITS`).
 * `handshakeTimeout` counts from `connect()`: the session (TCP, TLS, the server's SETTINGS) and
 * the 2xx together; a limit that runs out resets this WebSocket's stream, not the shared session.
 */
export interface Http2ClientOptions extends ClientOptions, ConnectionLimitOptions {
  /** TLS options for a `wss:` origin (`ca`, `rejectUnauthorized`, `servername` …); used when the session is opened. */
  tls?: Omit<tls.ConnectionOptions, "host" | "port" | "socket">;
}

/** Where a stream's listeners, shared by every stream, find the connection the stream carries. */
const CONNECTION = Symbol("wsdriver.http2Connection");

type Carrier = http2.Http2Stream & { [CONNECTION]?: Http2StreamConnection<DriverInterface> };

function onData(this: Carrier, chunk: Uint8Array): void {
  this[CONNECTION]?.read(chunk);
}

function onDrain(this: Carrier): void {
  const connection = this[CONNECTION];
  if (connection === undefined) return;
  // The peer took what we had waiting (its flow-control window opened): it is alive.
  connection.seen = clock;
  connection.drainedNow();
}

function onEnd(this: Carrier): void {
  this[CONNECTION]?.driver.end();
}

function onError(this: Carrier, error: Error): void {
  this[CONNECTION]?.failed(error);
}

function onClose(this: Carrier): void {
  this[CONNECTION]?.closed();
}

function onResponse(this: Carrier, headers: http2.IncomingHttpHeaders): void {
  (this[CONNECTION]?.driver as Http2ClientDriver | undefined)?.receiveHeaders(headers);
}

/** `StreamConnection.flags`: a `write` returned false and the stream has not drained since. */
const DRAIN_PENDING = 1;
/** `StreamConnection.flags`: the stream has closed (or was never opened and never will be). */
const CLOSED = 2;
/** `StreamConnection.flags`: a server answered the extended CONNECT with a refusal. */
const REFUSED = 4;
/** `StreamConnection.flags`: reading is paused while what we owe the peer is over the stream's high-water mark. */
const READ_PAUSED = 8;
/** `StreamConnection.flags`: `maxBufferedAmount` was crossed; the connection is being failed. */
const OVERFLOWED = 16;

/** Node's header object for a header list: a name given twice becomes an array, as Node expects. */
function headerObject(headers: HeaderList): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of headers) {
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else out[name] = Array.isArray(seen) ? [...seen, value] : [String(seen), value];
  }
  return out;
}

/**
 * One WebSocket's stream and driver; also the driver's `io`, with `respond` (server) and
 * `request` (client) for the header lists.
 */
class Http2StreamConnection<D extends DriverInterface> implements StreamConnection<D>, Watched {
  readonly driver: D;
  /** The time and buffer limits (timeouts.ts), shared with every connection that has the same; null for none. */
  readonly limits: ConnectionLimits | null;
  /** @internal Where the sweep keeps this connection (timeouts.ts). */
  slot = -1;
  /** @internal */
  seen = 0;
  /** @internal */
  since = 0;
  /** @internal The sweep's stage. */
  stage = 0;
  stream: http2.Http2Stream | null = null;
  /** A client's pooled session, until its stream has closed; null on a server. */
  private origin: OriginSession | null = null;
  private flags = 0;
  private corks = 0;
  private events: Emitter<AdapterConnectionEvents> | null = null;
  private waiters: Array<() => void> | null = null;

  constructor(create: (io: Http2StreamConnection<D>) => D, limits: ConnectionLimits | null) {
    this.limits = limits;
    this.driver = create(this);
  }

  /**
   * @internal For the sweep (timeouts.ts): the driver's ready state, closing once our half of the
   * stream is ended. A client still waiting for its session has no stream yet and is connecting.
   */
  phase(): number {
    const stream = this.stream;
    if ((this.flags & CLOSED) !== 0 || (stream !== null && stream.destroyed)) return PHASE_GONE;
    const state = this.driver.readyState;
    return state === 3 || (stream !== null && stream.writableEnded) ? 2 : state;
  }

  /** @internal For the sweep: the peer has been silent for `idleTimeout`. */
  ping(): boolean {
    return this.driver.ping();
  }

  /** @internal For the sweep: a limit ran out. Resets this stream only; the session goes on. */
  expire(error: TimeoutError): void {
    this.events?.emit("error", error);
    this.destroy();
  }

  /**
   * A DATA chunk: parsed corked, a sign of life for the sweep, and, on a server, the moment to
   * stop reading while the replies it caused (pongs, echoes) are over the stream's high-water
   * mark. Not reading holds back the peer's flow-control window (RFC 9113 §5.2), so the peer
   * stops too.
   */
  read(chunk: Uint8Array): void {
    this.parseCorked(chunk);
    this.seen = clock;
    const stream = this.stream;
    if ((this.flags & (DRAIN_PENDING | READ_PAUSED)) === DRAIN_PENDING && stream !== null
      && this.limits !== null && this.limits.pauseReading) {
      this.flags |= READ_PAUSED;
      stream.pause();
    }
  }

  /** @internal More was waiting than `maxBufferedAmount` allows: fail with 1008 if open, else reset the stream. */
  overflowed(): void {
    const limit = (this.limits as ConnectionLimits).maxBufferedAmount;
    if (this.driver.readyState === OPEN) {
      failConnection(this.driver, new ProtocolError(CloseCode.POLICY_VIOLATION, overflowMessage(limit)));
    } else if ((this.flags & CLOSED) === 0) {
      this.events?.emit("error", new Error(overflowMessage(limit)));
      this.destroy();
    }
  }

  get session(): http2.Http2Session | null {
    return this.stream?.session ?? this.origin?.session ?? null;
  }

  /**
   * Wires the stream's events to the driver. The listeners are functions shared by every stream,
   * which find the connection through the stream (as node.ts does for sockets), rather than five
   * closures per WebSocket.
   */
  bind(stream: http2.Http2Stream): void {
    this.stream = stream;
    (stream as Carrier)[CONNECTION] = this as Http2StreamConnection<DriverInterface>;
    stream.on("data", onData);
    stream.on("drain", onDrain);
    // END_STREAM before a close frame is the TCP FIN of RFC 6455: the connection closed abnormally.
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
  }

  /** @internal The stream drained: whoever waits may send again. */
  drainedNow(): void {
    this.release();
    this.events?.emit("drain", undefined);
  }

  /** @internal The stream failed (a reset with an error code, a lost session). */
  failed(error: Error): void {
    this.events?.emit("error", error);
    this.driver.end();
  }

  /** The stream has closed (reset, ended both ways, or its session lost): the driver ends, 1006 if still open. */
  closed(): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.flags |= CLOSED;
    unwatch(this);
    this.release();
    this.leaveOrigin();
    this.driver.end();
  }

  /**
   * @internal The driver is about to emit `close`. A server ends its half of the stream
   * (END_STREAM, the orderly close of RFC 8441 §5), as RFC 6455 §7.1.1 has the server close the
   * connection first. A client whose server has not ended yet resets the stream (RST_STREAM) once
   * the parse that read the close has written its answer: the closing handshake is over, and
   * Hypercorn (0.13; pgjones/hypercorn#329) drops the whole HTTP/2 connection, with every
   * WebSocket on it, when DATA or END_STREAM arrives on a WebSocket stream it has closed.
   * Node's `close(code)` would send END_STREAM before the RST_STREAM; `destroy()` sends the reset alone.
   */
  [TRANSPORT_CLOSE](): void {
    const stream = this.stream;
    if (stream === null) {
      // A client that never got its stream (refused options, no setting): nothing to end.
      this.flags |= CLOSED;
      this.leaveOrigin();
      return;
    }
    if (stream.destroyed || stream.writableEnded) return;
    if ((this.flags & REFUSED) !== 0) {
      // RFC 9113 §8.1: after a complete response a server may ask the client to stop sending its
      // request with RST_STREAM (NO_ERROR), so a refused stream does not stay half-open.
      stream.end();
      if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      return;
    }
    if (this.origin === null || stream.readableEnded) stream.end();
    // After the parse that read the close has uncorked the stream, so the reply goes out first.
    else process.nextTick(resetStream, stream);
  }

  /** The driver's `io.write`: the stream's DATA. */
  write(chunk: Uint8Array): boolean {
    const stream = this.stream;
    if (stream === null || (this.flags & CLOSED) !== 0 || stream.destroyed || !stream.writable) return false;
    const ok = stream.write(chunk);
    if (!ok) {
      if (this.corks === 0) this.flags |= DRAIN_PENDING;
      // Checked only past the high-water mark, where writes return false. The stream's buffer
      // holds what the peer's flow-control window has not let out yet too.
      const limit = this.limits === null ? 0 : this.limits.maxBufferedAmount;
      if (limit > 0 && stream.writableLength - chunk.length > limit && (this.flags & OVERFLOWED) === 0) {
        this.flags |= OVERFLOWED;
        // Not here: this write may be a frame's header with its payload still to come.
        process.nextTick(overflow, this);
      }
    }
    return ok;
  }

  /** The server driver's `io.respond`: the response HEADERS. */
  respond(headers: HeaderList): void {
    const stream = this.stream as http2.ServerHttp2Stream | null;
    if (stream === null || stream.destroyed || stream.headersSent) return;
    if (headers[0]?.[1] !== "200") this.flags |= REFUSED;
    try {
      stream.respond(headerObject(headers));
    } catch (error) {
      // Node refuses a header it cannot send (a custom one with a bad value): the stream is reset.
      this.events?.emit("error", error as Error);
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      this.closed();
    }
  }

  /** The client driver's `io.request`: opens the stream on the origin's session. */
  request(headers: HeaderList): void {
    const origin = this.origin;
    if (origin === null) return;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = origin.session.request(headerObject(headers), { endStream: false });
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.bind(stream);
    stream.on("response", onResponse);
  }

  /** A failure before there is a stream (the session could not open, or offers no extended CONNECT). */
  fail(error: Error): void {
    this.events?.emit("error", error);
    this.flags |= CLOSED;
    unwatch(this);
    this.leaveOrigin();
    this.driver.end();
  }

  cork(): void {
    this.corks++;
    this.stream?.cork();
  }

  uncork(): void {
    const stream = this.stream;
    stream?.uncork();
    if (--this.corks > 0 || stream === null || stream === undefined) return;
    // As on a socket (node.ts): a corked write reports false once the buffer reaches the mark even
    // when uncork hands it all on, so only bytes still buffered up to the mark mean "wait".
    if (stream.writableNeedDrain && stream.writableLength >= stream.writableHighWaterMark) this.flags |= DRAIN_PENDING;
  }

  /** Parses one DATA chunk with the stream corked, so the replies it provokes leave together. */
  parseCorked(chunk: Uint8Array): void {
    this.cork();
    try {
      this.driver.parse(chunk);
    } finally {
      this.uncork();
    }
  }

  startCorked(): void {
    this.cork();
    try {
      this.driver.start();
    } finally {
      this.uncork();
    }
  }

  get bufferedAmount(): number {
    return this.stream?.writableLength ?? 0;
  }

  get needsDrain(): boolean {
    return (this.flags & DRAIN_PENDING) !== 0;
  }

  drained(): Promise<void> {
    if ((this.flags & (DRAIN_PENDING | CLOSED)) !== DRAIN_PENDING) return Promise.resolve();
    return new Promise<void>((resolve) => (this.waiters ??= []).push(resolve));
  }

  on<K extends keyof AdapterConnectionEvents>(type: K, handler: (event: AdapterConnectionEvents[K]) => void): void {
    (this.events ??= mitt<AdapterConnectionEvents>()).on(type, handler);
  }

  off<K extends keyof AdapterConnectionEvents>(type: K, handler?: (event: AdapterConnectionEvents[K]) => void): void {
    this.events?.off(type, handler);
  }

  /** Resets the stream (RST_STREAM CANCEL, RFC 8441 §5.1) without a closing handshake: `close` 1006. */
  destroy(): void {
    const stream = this.stream;
    if (stream !== null && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    this.flags |= CLOSED;
    unwatch(this);
    this.release();
    this.leaveOrigin();
    this.driver.end();
  }

  /** The stream drained, or closed: whoever waits may send again, and we read again. */
  private release(): void {
    if ((this.flags & READ_PAUSED) !== 0) {
      this.flags &= ~READ_PAUSED;
      if (this.stream !== null && !this.stream.destroyed) this.stream.resume();
    }
    this.flags &= ~DRAIN_PENDING;
    const waiters = this.waiters;
    if (waiters === null) return;
    this.waiters = null;
    for (const resolve of waiters) resolve();
  }

  /** Joins a client's pooled session: started once the server's SETTINGS allow extended CONNECT. */
  joinOrigin(origin: OriginSession): void {
    this.origin = origin;
    origin.users.add(this as Http2StreamConnection<DriverInterface>);
    if (origin.state === "ready") process.nextTick(startWhenReady, this);
  }

  /** Leaves the pooled session; the last WebSocket to leave closes it. */
  private leaveOrigin(): void {
    const origin = this.origin;
    if (origin === null) return;
    this.origin = null;
    origin.users.delete(this as Http2StreamConnection<DriverInterface>);
    if (origin.users.size === 0) closeOrigin(origin);
  }

  /** @internal Whether the client has yet to send its extended CONNECT. */
  get waiting(): boolean {
    return this.stream === null && (this.flags & CLOSED) === 0;
  }
}

function resetStream(stream: http2.Http2Stream): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.readableEnded) stream.end();
  else stream.destroy();
}

function overflow(connection: Http2StreamConnection<DriverInterface>): void {
  connection.overflowed();
}

function startWhenReady(connection: Http2StreamConnection<DriverInterface>): void {
  if (connection.waiting) connection.startCorked();
}

function startCorked(connection: Http2StreamConnection<DriverInterface>): void {
  connection.startCorked();
}

/**
 * Accepts a WebSocket on a `node:http2` server's `stream` event (the server created with
 * `settings: { enableConnectProtocol: true }`): checks the extended CONNECT (RFC 8441 §4–5) and
 * answers 200, or refuses it with a status and a body saying why. As with `acceptUpgrade`, the
 * answer goes out on the next tick, so handlers added right after this call see `open`.
 */
export function acceptStream(
  stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, options: StreamOptions = {},
): StreamConnection<ServerDriver> {
  const { start = true, ...serverOptions } = options;
  const limits = resolveLimits(serverOptions, SERVER_LIMITS);
  if (serverOptions.secure === undefined && headers[":scheme"] === "https") serverOptions.secure = true;
  const connection = new Http2StreamConnection<ServerDriver>((io) => Driver.http2Server(headers, io, serverOptions), limits);
  connection.bind(stream);
  // A stream reset before it was handed over will not say so again.
  if (stream.destroyed || stream.closed) {
    process.nextTick(() => connection.closed());
    return connection;
  }
  watch(connection);
  if (start) process.nextTick(startCorked, connection);
  return connection;
}

/** A client HTTP/2 session to one origin, shared by the WebSockets to it. */
interface OriginSession {
  readonly key: string;
  readonly session: http2.ClientHttp2Session;
  /** Waiting for the server's first SETTINGS, allowed to open WebSockets, or not. */
  state: "waiting" | "ready" | "refused";
  readonly users: Set<Http2StreamConnection<DriverInterface>>;
}

/** The open sessions, by origin (`https://host:port`). */
const origins = new Map<string, OriginSession>();

function closeOrigin(origin: OriginSession): void {
  if (origins.get(origin.key) === origin) origins.delete(origin.key);
  if (!origin.session.closed && !origin.session.destroyed) origin.session.close();
}

function openOrigin(key: string, host: string, secure: boolean, tlsOptions: Http2ClientOptions["tls"]): OriginSession {
  const session = http2.connect(key, secure
    ? { servername: net.isIP(host) ? undefined : host, ...tlsOptions }
    : {});
  const origin: OriginSession = { key, session, state: "waiting", users: new Set() };
  origins.set(key, origin);
  const failWaiting = (error: Error): void => {
    for (const connection of [...origin.users]) if (connection.waiting) connection.fail(error);
  };
  session.once("remoteSettings", (settings: http2.Settings) => {
    if (settings.enableConnectProtocol === true) {
      origin.state = "ready";
      for (const connection of [...origin.users]) if (connection.waiting) connection.startCorked();
      return;
    }
    // RFC 8441 §3: without the setting a client must not send an extended CONNECT.
    origin.state = "refused";
    if (origins.get(key) === origin) origins.delete(key);
    failWaiting(new Error(`${key} does not offer WebSockets over HTTP/2: its SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)`));
  });
  session.on("error", (error: Error) => failWaiting(error));
  session.on("close", () => {
    if (origins.get(key) === origin) origins.delete(key);
    failWaiting(new Error(`The HTTP/2 session to ${key} closed before the WebSocket was opened`));
  });
  // Other streams the server might push have no place here.
  session.on("stream", (stream: http2.ClientHttp2Stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
  return origin;
}

/** The pooled session for an origin: the open one if there is one, else a new one. */
function originFor(key: string, host: string, secure: boolean, tlsOptions: Http2ClientOptions["tls"]): OriginSession {
  const open = origins.get(key);
  if (open !== undefined && !open.session.closed && !open.session.destroyed && open.state !== "refused") return open;
  return openOrigin(key, host, secure, tlsOptions);
}

/**
 * Opens a WebSocket over HTTP/2 to `url`: `wss:` is `https:` with TLS and ALPN h2, `ws:` is
 * cleartext HTTP/2 (prior knowledge). The open session to the same origin is reused; otherwise a
 * new one is opened, and the extended CONNECT is sent once the server's SETTINGS allow it. Called
 * by `connect(url, { http2: true })`.
 */
export function connectHttp2(url: string | URL, options: Http2ClientOptions = {}): StreamConnection<Http2ClientDriver> {
  const { tls: tlsOptions, ...clientOptions } = options;
  delete (clientOptions as { http2?: unknown }).http2;
  const { url: target, host, port, secure } = clientTarget(url);
  const limits = resolveLimits(clientOptions, CLIENT_LIMITS);
  // Options the driver refuses throw here, before any session is opened.
  const connection = new Http2StreamConnection<Http2ClientDriver>((io) => Driver.http2Client(target, io, clientOptions), limits);
  const key = `${secure ? "https" : "http"}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  connection.joinOrigin(originFor(key, host, secure, tlsOptions));
  watch(connection);
  return connection;
}
