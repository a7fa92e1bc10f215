/**
 * Node: a WebSocket client through an HTTP proxy in a few lines. Opens the TCP connection to the
 * proxy, runs the CONNECT helper (`driver.proxy`), starts TLS inside the tunnel for `wss:`, then
 * feeds the stream to the driver and starts it.
 *
 *     const { driver, proxy } = connectThroughProxy("wss://chat.example/", "http://u:p@proxy:3128");
 *     driver.on("open", () => driver.text("hello"));
 *
 * This module is the only part of the proxy support that touches sockets; the helper itself is in
 * the core (`lib/proxy.ts`).
 *
 * @module wsdriver/node-proxy
 */
import mitt from "mitt";
import * as net from "node:net";
import * as tls from "node:tls";
import { OPEN, failConnection } from "../base.js";
import { Driver } from "../driver.js";
import { ProtocolError } from "../errors.js";
import { CloseCode } from "../hybi/close.js";
import { clientTarget } from "./connection.js";
import {
  CLIENT_LIMITS, type ConnectionLimitOptions, PHASE_GONE, type Watched, clock, overflowMessage, resolveLimits, unwatch, watch,
} from "./timeouts.js";

export { CLIENT_LIMITS, TimeoutError } from "./timeouts.js";
export type { ConnectionLimitOptions, TimeoutOption } from "./timeouts.js";
import type { ClientOptions, DriverIO } from "../options.js";
import { type ProxyOptions, type ProxyTunnel } from "../proxy.js";
import type { ClientDriver } from "../types.js";

/**
 * The options of `connectThroughProxy`: the driver's, the proxy's, TLS, and the adapter's time and
 * buffer limits (defaults in `CLIENT_LIMITS`); `handshakeTimeout` covers the tunnel, TLS and the 101.
 */
export interface ProxiedClientOptions extends ClientOptions, ConnectionLimitOptions {
  /** Options for the CONNECT request: extra `headers`, `maxHeaderSize` of the proxy's answer. */
  proxy?: Omit<ProxyOptions, "io">;
  /**
   * TLS options for a `wss:` server (`ca`, `cert`, `rejectUnauthorized` …). The server name is
   * checked against the WebSocket URL's host unless `servername` says otherwise.
   */
  tls?: Omit<tls.ConnectionOptions, "socket" | "host" | "port" | "path">;
  /** TLS options for the connection to the proxy itself, when `proxyUrl` is `https:`. */
  proxyTls?: Omit<tls.ConnectionOptions, "socket" | "host" | "port" | "path">;
}

export type ProxiedClientEvents = {
  /**
   * Whatever failed below the WebSocket: the TCP connection, the proxy's answer (a `ProxyError`,
   * with `status` and `headers`), or TLS inside the tunnel. The driver then emits `close` (1006).
   */
  error: Error;
};

export interface ProxiedClient {
  /** The WebSocket client; listen to it as usual. It is started once the tunnel (and TLS) is up. */
  readonly driver: ClientDriver;
  /** The CONNECT helper: `statusCode`, `headers` and `state` say how the proxy answered. */
  readonly proxy: ProxyTunnel;
  /** The TCP socket to the proxy. */
  readonly socket: net.Socket;
  on<K extends keyof ProxiedClientEvents>(type: K, handler: (event: ProxiedClientEvents[K]) => void): void;
  off<K extends keyof ProxiedClientEvents>(type: K, handler?: (event: ProxiedClientEvents[K]) => void): void;
  /** Drops the connection at once (no closing handshake); the driver emits `close` (1006). */
  destroy(): void;
}

const PROXY_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** `[::1]` → `::1`: the URL parser keeps an IPv6 literal's brackets, sockets want the address. */
function unbracket(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/**
 * Connects a WebSocket client to `url` through the HTTP proxy at `proxyUrl`
 * (`http://[user:password@]host[:port]`, or `https:` to speak TLS to the proxy). Returns at once;
 * the driver opens when the tunnel, TLS (for `wss:`) and the WebSocket handshake are done. Messages
 * sent before then are queued by the driver.
 */
export function connectThroughProxy(
  url: string | URL, proxyUrl: string | URL, options: ProxiedClientOptions = {},
): ProxiedClient {
  const { proxy: proxyOptions, tls: tlsOptions, proxyTls, ...clientOptions } = options;
  // A TypeError for a URL that is not ws:/wss: or names port 0, as the direct connect() gives.
  const { url: target } = clientTarget(url);
  const proxyTarget = new URL(String(proxyUrl));
  if (proxyTarget.port === "0") throw new TypeError(`Cannot connect to port 0: ${proxyTarget.href}`);
  const proxyHost = unbracket(proxyTarget.hostname);
  const proxyPort = proxyTarget.port === "" ? PROXY_PORTS[proxyTarget.protocol] ?? 80 : Number(proxyTarget.port);
  const limits = resolveLimits(clientOptions, CLIENT_LIMITS);
  const maxBuffered = limits === null ? 0 : limits.maxBufferedAmount;

  const events = mitt<ProxiedClientEvents>();
  // The driver and the proxy helper are made before the socket: options they refuse throw here,
  // before a connection the caller would get no handle on is opened.
  let overflowed = false;
  const io: DriverIO = {
    write: (chunk) => {
      const ok = stream.write(chunk);
      // As the direct connect(): past maxBufferedAmount, fail with 1008 once this frame is out.
      if (!ok && maxBuffered > 0 && !overflowed && stream.writableLength - chunk.length > maxBuffered) {
        overflowed = true;
        process.nextTick(() => {
          if (driver.readyState === OPEN) failConnection(driver, new ProtocolError(CloseCode.POLICY_VIOLATION, overflowMessage(maxBuffered)));
          else fail(new Error(overflowMessage(maxBuffered)));
        });
      }
      return ok;
    },
  };
  const driver = Driver.client(target, io, clientOptions);
  const proxy = driver.proxy(proxyTarget, { ...proxyOptions, io: { write: (chunk) => socket.write(chunk) } });
  const socket: net.Socket = proxyTarget.protocol === "https:"
    ? tls.connect({ servername: net.isIP(proxyHost) ? undefined : proxyHost, ...proxyTls, host: proxyHost, port: proxyPort })
    : net.connect({ host: proxyHost, port: proxyPort });
  // Nagle's algorithm would hold back small frames waiting for an ACK, as on a direct connection.
  socket.setNoDelay(true);
  // Where the driver writes: the socket, or the TLS layer inside the tunnel once it exists.
  let stream: net.Socket = socket;
  let finished = false;

  const fail = (error: Error): void => {
    if (finished) return;
    finished = true;
    events.emit("error", error);
    stream.destroy();
    socket.destroy();
    driver.end();
  };

  const destroy = (): void => {
    stream.destroy();
    socket.destroy();
    driver.end();
  };
  // The sweep of timeouts.ts: the tunnel and the handshake are one handshake, bytes from the proxy
  // or the server are life.
  const watched: Watched = {
    slot: -1, seen: 0, since: 0, stage: 0, limits,
    phase: () => {
      if (socket.destroyed) return PHASE_GONE;
      const state = driver.readyState;
      return state === 3 || stream.writableEnded ? 2 : state;
    },
    ping: () => driver.ping(),
    expire: (error) => {
      if (!finished) events.emit("error", error);
      finished = true;
      destroy();
    },
  };
  watch(watched);
  const alive = (): void => { watched.seen = clock; };
  socket.on("data", alive);
  socket.on("drain", alive);

  const readProxy = (chunk: Uint8Array): void => proxy.parse(chunk);
  socket.on(proxyTarget.protocol === "https:" ? "secureConnect" : "connect", () => proxy.start());
  socket.on("data", readProxy);
  // Before the tunnel is up, a lost connection is the proxy helper's error to report (unless the
  // driver was closed on purpose); after, it is the transport's.
  const waiting = (): boolean => !finished && (proxy.state === "idle" || proxy.state === "connecting");
  socket.on("error", (error) => {
    if (waiting()) proxy.end(error);
    else fail(error);
  });
  socket.on("close", () => {
    unwatch(watched);
    if (waiting()) proxy.end();
    finished = true;
    driver.end();
  });
  proxy.on("error", fail);

  proxy.on("connect", ({ rest }) => {
    socket.off("data", readProxy);
    if (target.protocol === "ws:") {
      socket.on("data", (chunk: Uint8Array) => driver.parse(chunk));
      driver.start();
      if (rest.length > 0) driver.parse(rest);
      return;
    }
    // wss: TLS runs inside the tunnel. A TLS server never speaks first, so bytes that came with the
    // proxy's answer cannot be TLS; they would be lost when the socket is wrapped.
    if (rest.length > 0) {
      fail(new Error(`The proxy sent ${rest.length} bytes after its answer, before the TLS handshake`));
      return;
    }
    const host = unbracket(target.hostname);
    const secure = tls.connect({ servername: net.isIP(host) ? undefined : host, ...tlsOptions, host, socket });
    stream = secure;
    secure.on("secureConnect", () => driver.start());
    secure.on("data", (chunk: Uint8Array) => driver.parse(chunk));
    // TLS reads the socket itself from here on: its plaintext is the sign of life.
    secure.on("data", alive);
    secure.on("drain", alive);
    secure.on("error", fail);
    secure.on("close", () => {
      finished = true;
      driver.end();
    });
  });

  // The closing handshake is over (or the driver gave up): end our side of the TCP connection.
  driver.on("close", () => {
    finished = true;
    if (proxy.state === "connected") stream.end();
    else socket.destroy();
  });

  return {
    driver,
    proxy,
    socket,
    on: (type, handler) => events.on(type, handler),
    off: (type, handler) => events.off(type, handler),
    destroy,
  };
}
