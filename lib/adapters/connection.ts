/**
 * What every runtime adapter hands back for one connection: the driver, its backpressure state and
 * transport-level events, and where a client connects to. Shared by the Node, Deno and Bun adapters.
 */
import type { Driver as DriverInterface } from "../types.js";

export type AdapterConnectionEvents = {
  /** The transport took everything that was waiting after it was full: send more. */
  drain: undefined;
  /** The transport failed (reset, TLS error, refused, could not connect). The driver then emits `close` (1006). */
  error: Error;
};

export interface AdapterConnection<D extends DriverInterface> {
  readonly driver: D;
  /** Bytes the driver wrote that the transport has not handed on yet. */
  readonly bufferedAmount: number;
  /** True while the transport is full: a fast sender should wait (see `drained()` and `drain`). */
  readonly needsDrain: boolean;
  /** Resolves once the transport can take more (at once if it can now, or once it has closed). */
  drained(): Promise<void>;
  on<K extends keyof AdapterConnectionEvents>(type: K, handler: (event: AdapterConnectionEvents[K]) => void): void;
  off<K extends keyof AdapterConnectionEvents>(type: K, handler?: (event: AdapterConnectionEvents[K]) => void): void;
  /** Drops the connection at once, without a closing handshake; the driver emits `close` (1006). */
  destroy(): void;
}

const DEFAULT_PORTS: Record<string, number> = { "ws:": 80, "wss:": 443 };

/** Where a client connects for a `ws:` or `wss:` URL (RFC 6455 §3: ports 80 and 443 by default). */
export interface ClientTarget {
  readonly url: URL;
  /** The host name, an IPv6 address without its brackets. */
  readonly host: string;
  readonly port: number;
  /** `wss:`: the connection runs over TLS. */
  readonly secure: boolean;
}

/** Reads a client's target from its URL; throws a TypeError for a URL that is not `ws:` or `wss:`. */
export function clientTarget(url: string | URL): ClientTarget {
  const target = new URL(String(url));
  if (!(target.protocol in DEFAULT_PORTS)) throw new TypeError(`Not a WebSocket URL: ${target.href}`);
  // An empty port is the default; "0" is kept by the URL parser, and no server listens on it.
  if (target.port === "0") throw new TypeError(`Cannot connect to port 0: ${target.href}`);
  return {
    url: target,
    host: target.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: target.port === "" ? DEFAULT_PORTS[target.protocol] : Number(target.port),
    secure: target.protocol === "wss:",
  };
}
