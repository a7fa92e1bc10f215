/**
 * What every runtime adapter hands back for one connection: the driver, its backpressure state and
 * transport-level events. Types only, shared by the Node, Deno and Bun adapters.
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
