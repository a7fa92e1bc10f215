/**
 * What every driver shares: the typed event handlers (mitt), the ready state, custom handshake
 * headers and the queue of messages sent before the connection opens.
 */
import mitt, { type EventHandlerMap } from "mitt";
import type { DriverEventHandler, DriverEventType, DriverEvents } from "./events.js";
import type { ExtensionNegotiator } from "./extensions/pipeline.js";
import { isSafeHeader } from "./http/headers.js";
import type { ProtocolError } from "./errors.js";
import type { OriginOptions } from "./http/origin.js";
import type { DriverIO } from "./options.js";
import type { ByteAccumulator } from "./util/accumulator.js";

/** 0 connecting, 1 open, 2 closing, 3 closed — the values of the browser `WebSocket.readyState`. */
export type ReadyState = 0 | 1 | 2 | 3;

export const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;

/**
 * @internal An optional method of the `io`, called with no arguments just before a driver emits
 * `close`: how the runtime adapters learn that the connection is over, to end their transport,
 * without a `close` handler in every connection's handler list (the Node adapter's idle heap per
 * connection with its socket went 2019 -> 1923 B, `BENCH_ONLY=heap npm run bench`). A symbol, so
 * no `io` has it by chance.
 */
export const TRANSPORT_CLOSE: unique symbol = Symbol("wsdriver.transportClose");

/** @internal An `io` that wants to hear of `close` first (see `TRANSPORT_CLOSE`). */
export interface ClosableIO extends DriverIO {
  [TRANSPORT_CLOSE]?(): void;
}

/** @internal Tells the `io`, if it asked to know, that the driver is about to emit `close`. */
export function closeTransport(io: DriverIO): void {
  const close = (io as ClosableIO)[TRANSPORT_CLOSE];
  if (close !== undefined) close.call(io);
}

/**
 * @internal A driver's method, keyed by this symbol, that fails the connection for a reason found
 * outside the protocol (an adapter's `maxBufferedAmount`): as for a protocol error (RFC 6455
 * §7.1.7), a close frame with the error's code if open, then `error` and `close` with that code.
 */
export const FAIL_CONNECTION: unique symbol = Symbol("wsdriver.failConnection");

/** @internal A driver that can be failed from outside (see `FAIL_CONNECTION`). */
export interface FailableDriver {
  [FAIL_CONNECTION]?(error: ProtocolError): void;
}

/** @internal Fails `driver`'s connection with `error` (see `FAIL_CONNECTION`); false if the driver cannot be. */
export function failConnection(driver: object, error: ProtocolError): boolean {
  const fail = (driver as FailableDriver)[FAIL_CONNECTION];
  if (fail === undefined) return false;
  fail.call(driver, error);
  return true;
}

/** The handlers of a driver's events, as mitt keeps them: one list per event type. */
export type DriverHandlers = EventHandlerMap<DriverEvents>;

/**
 * A send made before the connection opened, kept as plain data until `open`: `type` says what it
 * is (each driver uses its own values: hybi uses the frame's opcode), `data` its payload.
 */
export interface QueuedSend {
  readonly type: number;
  readonly data: string | Uint8Array;
  readonly onPong: (() => void) | undefined;
}

/**
 * What a driver needs only while the opening handshake is under way, in one object made by the
 * first call that needs it and dropped once the connection opens (or closes first). An open
 * connection keeps one null field instead of seven (48 bytes less per connection; heap snapshot).
 */
export class Opening {
  /** Set once the opening handshake has been written (client) or answered (server). */
  started = false;
  /** Headers added by `setHeader`. */
  addedHeaders: Array<[string, string]> | null = null;
  /** Sends made before the connection opened, in order. */
  queue: QueuedSend[] | null = null;
  /** Extensions added before `start()`, to negotiate (RFC 6455 §9). */
  negotiator: ExtensionNegotiator | null = null;
  /** Subprotocols a server accepts, when the options name any. */
  protocols: readonly string[] | null = null;
  /** A server's `origins` and `requireOrigin` options, when either is set. */
  originOptions: OriginOptions | null = null;
  /**
   * Bytes that arrived before a server answered the handshake, and their total length. Collected,
   * not kept as the chunks they came in: a chunk of one byte kept as it is holds over 200 (its
   * view and its buffer), so a peer trickling bytes made a server hold far more than the limit.
   */
  early: ByteAccumulator | null = null;
  earlyBytes = 0;
}

/**
 * mitt's `emit`, without its two array copies when a single handler listens: mitt copies the list
 * (`slice`) and walks it with `map` on every event: 98–142 ns per emit against 36–46 ns here
 * (Node 20, one handler), 6.5% of the time on 16 B text frames (--cpu-prof). The single handler is
 * read before it runs, so handlers added or removed meanwhile take effect from the next event on,
 * as with mitt. With several handlers, or a `*` one, mitt emits.
 */
export function emitEvent<K extends DriverEventType>(handlers: DriverHandlers, type: K, event: DriverEvents[K]): void {
  if (!handlers.has("*")) {
    const list = handlers.get(type);
    // No handler, or none left after `off`: mitt would call nothing either.
    if (list === undefined || list.length === 0) return;
    if (list.length === 1) {
      (list[0] as (event: DriverEvents[K]) => void)(event);
      return;
    }
  }
  mitt<DriverEvents>(handlers).emit(type, event);
}

/**
 * Emits an event that fires at most once per connection (`connect`, `open`), then forgets its
 * handlers: they can never run again, and an open connection would keep each one (with its
 * closure, 112 bytes for the bench's `connect` handler; heap snapshot) for nothing. A later `off` of one of them
 * finds none, which changes nothing; a later `on` adds one that never runs, as before.
 */
export function emitOnce<K extends "connect" | "open">(handlers: DriverHandlers, type: K, event: DriverEvents[K]): void {
  emitEvent(handlers, type, event);
  handlers.delete(type);
}

export abstract class BaseDriver {
  readyState: ReadyState = CONNECTING;
  /** The negotiated subprotocol, or "" if none; set by the time `open` fires. */
  protocol = "";
  abstract readonly version: string;

  /**
   * The event handlers. Only mitt's Map is kept, not a mitt instance: mitt's object, its three
   * closures and their context are 288 bytes an idle connection would hold for nothing (heap
   * snapshot of open `Driver.server` connections). `on`, `off` and `emit` wrap the Map in mitt
   * when they run, so mitt's rules (order, duplicates, `off`, `*`) are mitt's own.
   */
  protected readonly handlers: DriverHandlers;
  /** What only the opening handshake needs; null before the first use and once open or closed. */
  protected opening: Opening | null = null;

  constructor(protected readonly io: DriverIO, handlers?: DriverHandlers) {
    this.handlers = handlers ?? new Map();
  }

  /** The opening handshake's state, made by the first call that needs it. */
  protected openingState(): Opening {
    return (this.opening ??= new Opening());
  }

  /**
   * Whether the opening handshake has been written (client) or answered (server). Read only while
   * connecting: once open or closed, `readyState` says more (and this reads false).
   */
  protected get started(): boolean {
    return this.opening !== null && this.opening.started;
  }

  protected set started(value: boolean) {
    this.openingState().started = value;
  }

  /** The headers added by `setHeader`, in order. */
  protected get customHeaders(): Array<[string, string]> {
    return this.opening?.addedHeaders ?? [];
  }

  on<K extends DriverEventType>(type: K, handler: DriverEventHandler<K>): void {
    mitt<DriverEvents>(this.handlers).on(type, handler);
  }

  off<K extends DriverEventType>(type: K, handler?: DriverEventHandler<K>): void {
    mitt<DriverEvents>(this.handlers).off(type, handler);
  }

  /**
   * Adds a header to the opening handshake. Returns false once the handshake has been sent, or if
   * the name is not an HTTP token or the value holds CR, LF or NUL (which would inject headers).
   */
  setHeader(name: string, value: string): boolean {
    if (this.started || this.readyState !== CONNECTING) return false;
    const text = String(value);
    if (!isSafeHeader(name, text)) return false;
    const opening = this.openingState();
    (opening.addedHeaders ??= []).push([name, text]);
    return true;
  }

  /** Emits an event to its handlers (see `emitEvent`); before `close`, tells the `io` (see `TRANSPORT_CLOSE`). */
  protected emit<K extends DriverEventType>(type: K, event: DriverEvents[K]): void {
    if (type === "close") closeTransport(this.io);
    emitEvent(this.handlers, type, event);
  }

  /** Emits `connect` or `open`, then forgets their handlers (see `emitOnce`). */
  protected emitOnce<K extends "connect" | "open">(type: K, event: DriverEvents[K]): void {
    emitOnce(this.handlers, type, event);
  }

  /**
   * Keeps a send made while connecting, to make (in order) on open. False once closing or closed.
   * Sends made while open do not come here: they go out at once, and allocate nothing to do so
   * (a closure per `text` call before: one allocation per message).
   */
  protected queueSend(type: number, data: string | Uint8Array, onPong?: () => void): boolean {
    if (this.readyState !== CONNECTING) return false;
    const opening = this.openingState();
    (opening.queue ??= []).push({ type, data, onPong });
    return true;
  }

  /** Makes one send that was queued while connecting. */
  protected abstract sendQueued(send: QueuedSend): void;

  /** Fails the connection: a close frame with the error's code if open, then `error` and `close`. */
  protected abstract fail(error: ProtocolError): void;

  /** @internal See `FAIL_CONNECTION`. */
  [FAIL_CONNECTION](error: ProtocolError): void {
    this.fail(error);
  }

  /**
   * Sends what was queued before the connection opened, in order, and drops what only the opening
   * handshake needed.
   */
  protected flushQueue(): void {
    const queue = this.opening?.queue ?? null;
    this.opening = null;
    if (queue === null) return;
    for (const send of queue) {
      if (this.readyState !== OPEN) return;
      this.sendQueued(send);
    }
  }

  protected dropQueue(): void {
    this.opening = null;
  }
}
