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
 */
import mitt from "mitt";
import type { IncomingMessage } from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { Driver } from "../driver.js";
import type { ClientOptions, DriverIO, ServerOptions } from "../options.js";
import type { ClientDriver, Driver as DriverInterface, ServerDriver } from "../types.js";

export type ConnectionEvents = {
  /** The socket's buffer has emptied after a `write` returned false: send more. */
  drain: undefined;
  /** The socket failed (reset, TLS error, refused). The driver then emits `close` (1006). */
  error: Error;
};

export interface Connection<D extends DriverInterface> {
  readonly driver: D;
  readonly socket: Duplex;
  /** Bytes written to the socket that it has not yet handed to the kernel (`socket.writableLength`). */
  readonly bufferedAmount: number;
  /** True after `socket.write` returned false, until the socket drains: a fast sender should wait. */
  readonly needsDrain: boolean;
  /** Resolves once the socket can take more (at once if it can now, or once the socket has closed). */
  drained(): Promise<void>;
  on<K extends keyof ConnectionEvents>(type: K, handler: (event: ConnectionEvents[K]) => void): void;
  off<K extends keyof ConnectionEvents>(type: K, handler?: (event: ConnectionEvents[K]) => void): void;
  /** Drops the connection at once, without a closing handshake; the driver emits `close` (1006). */
  destroy(): void;
}

/**
 * Wires a driver, made by `create` with the `io` it must write to, to a connected socket. The socket's
 * `data` goes to `parse`; `end`, `error` and `close` call `end()`; the driver's `close` ends the socket.
 */
export function attach<D extends DriverInterface>(socket: Duplex, create: (io: DriverIO) => D): Connection<D> {
  const events = mitt<ConnectionEvents>();
  let needsDrain = false;
  let closed = false;
  let waiters: Array<() => void> = [];

  const release = (): void => {
    needsDrain = false;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };

  const io: DriverIO = {
    write(chunk) {
      // A write after the socket is gone would only raise ERR_STREAM_DESTROYED; the driver hears of
      // the loss through `end()` instead.
      if (closed || socket.destroyed || !socket.writable) return false;
      const ok = socket.write(chunk);
      if (!ok) needsDrain = true;
      return ok;
    },
  };
  const driver = create(io);

  socket.on("data", (chunk: Uint8Array) => driver.parse(chunk));
  socket.on("drain", () => {
    release();
    events.emit("drain", undefined);
  });
  socket.on("end", () => driver.end());
  socket.on("error", (error: Error) => {
    events.emit("error", error);
    driver.end();
  });
  socket.on("close", () => {
    closed = true;
    release();
    driver.end();
  });
  // The closing handshake is over (or the connection failed): end our half of the TCP connection.
  driver.on("close", () => {
    if (!socket.destroyed) socket.end();
  });

  return {
    driver,
    socket,
    get bufferedAmount() {
      return socket.writableLength;
    },
    get needsDrain() {
      return needsDrain;
    },
    drained() {
      if (!needsDrain || closed) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    on: (type, handler) => events.on(type, handler),
    off: (type, handler) => events.off(type, handler),
    destroy: () => {
      socket.destroy();
      driver.end();
    },
  };
}

/**
 * A server connection on a raw socket from `net.createServer` or `tls.createServer`: the driver reads
 * the HTTP request itself and emits `connect`; call `driver.start()` to accept it.
 */
export function acceptSocket(socket: Duplex, options: ServerOptions = {}): Connection<ServerDriver> {
  return attach(socket, (io) => Driver.server(io, options));
}

export interface UpgradeOptions extends ServerOptions {
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
  // A TLS socket (node:https) means wss: locations in the drafts' handshakes.
  if (serverOptions.secure === undefined && (socket as { encrypted?: boolean }).encrypted === true) serverOptions.secure = true;
  const connection = attach(socket, (io) => Driver.fromRequest(request, io, serverOptions));
  // Nagle's algorithm would hold back small frames waiting for an ACK; WebSocket messages are latency-bound.
  if (socket instanceof net.Socket) socket.setNoDelay(true);
  // Before start() the driver keeps these bytes and reads them once the handshake is answered.
  if (head.length > 0) connection.driver.parse(head);
  if (start) process.nextTick(() => connection.driver.start());
  return connection;
}

export interface NodeClientOptions extends ClientOptions {
  /** TLS options for `wss:` (`ca`, `rejectUnauthorized`, `servername` …). */
  tls?: Omit<tls.ConnectionOptions, "host" | "port" | "socket">;
}

const DEFAULT_PORTS: Record<string, number> = { "ws:": 80, "wss:": 443 };

/**
 * Opens a TCP (or, for `wss:`, TLS) connection to `url` and starts a client driver on it once
 * connected. Messages sent before the handshake completes are queued by the driver.
 */
export function connect(url: string | URL, options: NodeClientOptions = {}): Connection<ClientDriver> {
  const { tls: tlsOptions, ...clientOptions } = options;
  const target = new URL(String(url));
  if (!(target.protocol in DEFAULT_PORTS)) throw new TypeError(`Not a WebSocket URL: ${target.href}`);
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(target.port) || DEFAULT_PORTS[target.protocol];
  const secure = target.protocol === "wss:";
  const socket: net.Socket = secure
    ? tls.connect({ servername: net.isIP(host) ? undefined : host, ...tlsOptions, host, port })
    : net.connect({ host, port });
  socket.setNoDelay(true);
  const connection = attach(socket, (io) => Driver.client(target, io, clientOptions));
  socket.once(secure ? "secureConnect" : "connect", () => connection.driver.start());
  return connection;
}
