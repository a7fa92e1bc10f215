/**
 * Time and bounds for the runtime adapters: how long a peer may take over the opening handshake,
 * stay silent, or keep a closing connection open, and how much may wait to be sent to it. The core
 * is sans-I/O and has no timers; its ready state says what is due (CONNECTING: the handshake is
 * waiting; CLOSING: our close frame went out and the peer's is awaited), and the adapters act on
 * it here.
 *
 * One interval timer, shared by every connection of every adapter in the process, sweeps the
 * connections that have a limit (a `setTimeout` per connection per event would cost more than the
 * connection: a Node `Timeout` is about 180 bytes). A connection costs five fields and a slot in one
 * array; a byte from the peer costs one store of a number (`seen`).
 */

/** The adapters' time and buffer limits. Milliseconds and bytes; `0` turns one off. */
export interface ConnectionLimitOptions {
  /**
   * The opening handshake must complete within this many milliseconds, else the socket is
   * destroyed (the driver emits `close` 1006, the connection an `error`, a `TimeoutError`). A server
   * counts from the moment it gets the socket, so a peer that trickles its request (slowloris) or
   * a handler that never calls `start()` is dropped; a client counts from `connect()`: TCP, TLS,
   * a proxy's tunnel and the 101 together. Default 10 000 (servers and clients).
   */
  handshakeTimeout?: number;
  /**
   * When nothing has arrived from the peer for this many milliseconds, a ping is sent; when nothing
   * arrives within another `idleTimeout` either, the peer is gone (a phone that left the network, a
   * half-open TCP connection): the socket is destroyed, the driver emits `close` 1006 and the
   * connection an `error` (a `TimeoutError`). Any byte from the peer counts as life, and so does
   * the peer taking bytes we were waiting to send. Default 120 000 for servers (as `Bun.serve`),
   * 0 (off) for clients.
   */
  idleTimeout?: number;
  /**
   * Once our close frame has gone (RFC 6455 §7.1.1), or our side of the TCP connection has been
   * ended, the peer has this many milliseconds to answer and close; then the socket is destroyed
   * (the driver emits `close` 1006 if the closing handshake had not finished). Default 10 000.
   */
  closeTimeout?: number;
  /**
   * When a write finds more than this many bytes already waiting to be sent (the application sent
   * faster than the peer reads, or the peer does not read at all), the connection is failed: a
   * close frame with 1008 (RFC 6455 §7.4.1, policy violation) goes after what is waiting, the
   * driver emits `error` and `close` 1008, and `closeTimeout` drops the socket if the peer never
   * takes it. Before the connection opens, or once our close frame has gone, the socket is
   * destroyed instead. A single message larger than this still goes when the buffer was under it.
   * Senders that wait for `drained()` never reach it. Default 16 MiB (as `Bun.serve`'s
   * `backpressureLimit`).
   */
  maxBufferedAmount?: number;
}

/** The limits one connection runs with, resolved from the options. Shared by every connection with the same values. */
export interface ConnectionLimits {
  readonly handshakeTimeout: number;
  readonly idleTimeout: number;
  readonly closeTimeout: number;
  readonly maxBufferedAmount: number;
  /**
   * Stop reading from the peer while what we owe it is over the transport's high-water mark, so
   * that TCP pushes back on a peer that sends (pings, messages to echo) and never reads. Servers
   * only: two ends that both stopped reading while both had much to send would wait on each other
   * for ever, and the peer of a client is the server it chose.
   */
  readonly pauseReading: boolean;
}

/**
 * Where the Deno and Bun adapters, which have no high-water mark of their own to ask, stop reading
 * (with `pauseReading`): bytes written that the transport has not taken. Node's sockets use theirs
 * (16 KiB on Node 20).
 */
export const READ_PAUSE_BYTES = 64 * 1024;

/** What a server's adapter uses when an option is not given. */
export const SERVER_LIMITS: ConnectionLimits = Object.freeze({
  handshakeTimeout: 10_000,
  idleTimeout: 120_000,
  closeTimeout: 10_000,
  maxBufferedAmount: 16 * 1024 * 1024,
  pauseReading: true,
});

/** What a client's adapter uses when an option is not given. */
export const CLIENT_LIMITS: ConnectionLimits = Object.freeze({
  handshakeTimeout: 10_000,
  idleTimeout: 0,
  closeTimeout: 10_000,
  maxBufferedAmount: 16 * 1024 * 1024,
  pauseReading: false,
});

/** Which limit ran out: the `TimeoutError`'s `option`. */
export type TimeoutOption = "handshakeTimeout" | "idleTimeout" | "closeTimeout";

/** A connection dropped because a peer took longer than one of the limits allows. */
export class TimeoutError extends Error {
  /** The option whose limit ran out. */
  readonly option: TimeoutOption;
  /** Its value in milliseconds. */
  readonly timeout: number;

  /** `pinged`: for `idleTimeout`, whether a ping went (false on the drafts, which have none). */
  constructor(option: TimeoutOption, timeout: number, pinged = true) {
    super(option === "handshakeTimeout"
      ? `The opening handshake did not complete within ${timeout} ms (handshakeTimeout)`
      : option === "idleTimeout"
        ? pinged
          ? `Nothing received for ${timeout} ms, nor within ${timeout} ms of a ping (idleTimeout)`
          : `Nothing received for ${timeout} ms, nor within ${timeout} ms more (idleTimeout; this protocol version has no ping)`
        : `The peer did not close the connection within ${timeout} ms of our close (closeTimeout)`);
    this.name = "TimeoutError";
    this.option = option;
    this.timeout = timeout;
  }
}

/** What a `maxBufferedAmount` that was crossed says, as the driver's `error` (code 1008) or the connection's. */
export function overflowMessage(limit: number): string {
  return `More than ${limit} bytes waiting to be sent (maxBufferedAmount)`;
}

const cache = new Map<string, ConnectionLimits>();

function check(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || value === Infinity) throw new RangeError(`${name} must be a non-negative finite number, got ${value}`);
  return value;
}

/**
 * The limits for `options` over `defaults`; null when all of them are off (nothing to watch). A
 * `RangeError` for a value that is not a non-negative finite number. Connections that pass no
 * option share the defaults; others share one object per set of values.
 */
export function resolveLimits(options: ConnectionLimitOptions, defaults: ConnectionLimits): ConnectionLimits | null {
  const { handshakeTimeout, idleTimeout, closeTimeout, maxBufferedAmount } = options;
  if (handshakeTimeout === undefined && idleTimeout === undefined && closeTimeout === undefined && maxBufferedAmount === undefined) {
    return defaults;
  }
  const limits: ConnectionLimits = {
    handshakeTimeout: check("handshakeTimeout", handshakeTimeout, defaults.handshakeTimeout),
    idleTimeout: check("idleTimeout", idleTimeout, defaults.idleTimeout),
    closeTimeout: check("closeTimeout", closeTimeout, defaults.closeTimeout),
    maxBufferedAmount: check("maxBufferedAmount", maxBufferedAmount, defaults.maxBufferedAmount),
    pauseReading: defaults.pauseReading,
  };
  if (limits.handshakeTimeout === 0 && limits.idleTimeout === 0 && limits.closeTimeout === 0
    && limits.maxBufferedAmount === 0 && !limits.pauseReading) return null;
  const key = `${limits.handshakeTimeout},${limits.idleTimeout},${limits.closeTimeout},${limits.maxBufferedAmount},${limits.pauseReading}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  // A few distinct sets in practice; a program making ever new ones gets fresh objects, not a growing map.
  if (cache.size < 64) cache.set(key, Object.freeze(limits));
  return limits;
}

/** `Watched.stage`: the handshake is under way (counted from `since`). */
export const STAGE_CONNECTING = 0;
/** `Watched.stage`: open; idle since `seen`. */
export const STAGE_OPEN = 1;
/** `Watched.stage`: open, and a ping went at `since` for lack of anything from the peer. */
export const STAGE_PINGED = 2;
/** `Watched.stage`: closing (our close frame went, or our side was ended), since `since`. */
export const STAGE_CLOSING = 3;

/** `Watched.phase()`: the transport is gone; the sweep forgets the connection. */
export const PHASE_GONE = 3;

/** A connection the sweep looks after: fields it reads and writes, and what it asks of the adapter. */
export interface Watched {
  /** @internal The connection's index in the sweep's list; -1 when not watched. */
  slot: number;
  /** @internal `clock` when a byte last came from the peer (or the peer last took our bytes). */
  seen: number;
  /** @internal When the current stage began (the handshake, the ping, the closing). */
  since: number;
  /** @internal One of the `STAGE_` values. */
  stage: number;
  readonly limits: ConnectionLimits | null;
  /** 0 connecting, 1 open, 2 closing (our close frame went, or our side of the transport was ended), `PHASE_GONE`. */
  phase(): number;
  /** Sends a ping; false where the protocol has none (the drafts). */
  ping(): boolean;
  /** Drops the transport at once: `error` is what to report. */
  expire(error: TimeoutError): void;
}

/**
 * Connections whose reads the application holds paused for a slow reader (`wsdriver/streams`):
 * nothing from the peer can be seen meanwhile, its pong included, so the silence is ours and their
 * idle time does not count. A weak set, looked at only when a connection has been idle a period:
 * no field on every connection, and nothing kept once one is gone.
 */
const heldReads = new WeakSet<object>();
/** Connections whose last idle period found no ping to send (the drafts), for the error's message. */
const unpinged = new WeakSet<object>();

/** Marks `connection`'s reads as held for a reader (`held`), or released. */
export function holdReads(connection: object, held: boolean): void {
  if (held) heldReads.add(connection);
  else heldReads.delete(connection);
}

/**
 * Milliseconds since the sweep's origin, as of the last sweep (or `watch`): what adapters store in
 * `seen` when bytes arrive. Kept small, so it stays a small integer and a store allocates nothing.
 */
export let clock = 0;

let origin = 0;
const members: Watched[] = [];
let timer: ReturnType<typeof setInterval> | null = null;
/** The sweep's period: a quarter of the shortest limit watched, between 10 ms and 1 s. */
let period = 0;
/** When the last sweep ran. */
let lastSweep = 0;
/** The last sweep ran late and judged nobody. */
let skipped = false;

function current(): number {
  return Math.floor(performance.now() - origin);
}

/** How often to sweep for `limits`: a quarter of the shortest of them, between 10 ms and 1 s. */
function periodFor(limits: ConnectionLimits): number {
  let shortest = 4000;
  const { handshakeTimeout, idleTimeout, closeTimeout } = limits;
  if (handshakeTimeout > 0 && handshakeTimeout < shortest) shortest = handshakeTimeout;
  if (idleTimeout > 0 && idleTimeout < shortest) shortest = idleTimeout;
  if (closeTimeout > 0 && closeTimeout < shortest) shortest = closeTimeout;
  return Math.max(10, Math.floor(shortest / 4));
}

function hasTimeouts(limits: ConnectionLimits): boolean {
  return limits.handshakeTimeout > 0 || limits.idleTimeout > 0 || limits.closeTimeout > 0;
}

/** Starts watching `member` (its handshake counts from now). Nothing happens if it has no time limit. */
export function watch(member: Watched): void {
  const limits = member.limits;
  if (limits === null || member.slot >= 0 || !hasTimeouts(limits)) return;
  if (members.length === 0) origin = performance.now() - 1;
  clock = current();
  member.since = clock;
  member.seen = clock;
  member.stage = STAGE_CONNECTING;
  member.slot = members.length;
  if (members.length === 0) lastSweep = clock;
  members.push(member);
  const wanted = periodFor(limits);
  if (timer === null || wanted < period) {
    if (timer !== null) clearInterval(timer);
    period = wanted;
    timer = setInterval(sweep, period);
    unref(timer);
  }
}

/** Stops watching `member` (its transport closed). */
export function unwatch(member: Watched): void {
  const slot = member.slot;
  if (slot < 0) return;
  member.slot = -1;
  const last = members.pop() as Watched;
  if (last !== member) {
    members[slot] = last;
    last.slot = slot;
  }
  if (members.length === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

/** The number of connections being watched (for tests: none is left once every socket has closed). */
export function watchedCount(): number {
  return members.length;
}

function unref(handle: ReturnType<typeof setInterval>): void {
  if (typeof handle === "object" && handle !== null && "unref" in handle) {
    (handle as { unref(): void }).unref();
    return;
  }
  // Deno's timers are numbers, let go of with Deno.unrefTimer.
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  deno?.unrefTimer?.(handle as unknown as number);
}

function sweep(): void {
  let now = current();
  // Past 2^30 ms (12 days) shift every time back, so stored times stay small integers.
  if (now > 2 ** 30) {
    const shift = now - period;
    for (const member of members) {
      member.seen = Math.max(member.seen - shift, 0);
      member.since = Math.max(member.since - shift, 0);
    }
    origin += shift;
    now = current();
  }
  clock = now;
  // A sweep that runs late (the event loop was held up: a long task, a GC pause) may find bytes
  // that arrived meanwhile still unread: judge nobody now, after a turn of I/O the next one will
  // (once: a loop that is always late still has its limits enforced).
  const late = now - lastSweep > 2 * period && !skipped;
  lastSweep = now;
  skipped = late;
  if (late) return;
  // Backwards: a member that leaves (or is left by an `expire`) swaps in one already visited.
  for (let i = members.length - 1; i >= 0; i--) {
    if (i >= members.length) continue;
    const member = members[i];
    check1(member, now);
  }
}

function check1(member: Watched, now: number): void {
  const limits = member.limits as ConnectionLimits;
  const phase = member.phase();
  if (phase === PHASE_GONE) {
    unwatch(member);
    return;
  }
  if (phase === 2) {
    // The sweep sees the close at most one period late; the peer gets at least `closeTimeout`.
    if (member.stage !== STAGE_CLOSING) {
      member.stage = STAGE_CLOSING;
      member.since = now;
    } else if (limits.closeTimeout > 0 && now - member.since >= limits.closeTimeout) {
      unwatch(member);
      member.expire(new TimeoutError("closeTimeout", limits.closeTimeout));
    }
    return;
  }
  if (phase === 0) {
    if (limits.handshakeTimeout > 0 && now - member.since >= limits.handshakeTimeout) {
      unwatch(member);
      member.expire(new TimeoutError("handshakeTimeout", limits.handshakeTimeout));
    }
    return;
  }
  if (member.stage === STAGE_CONNECTING) {
    // The handshake just completed: that was the peer's last sign of life.
    member.stage = STAGE_OPEN;
    member.seen = now;
  }
  const idle = limits.idleTimeout;
  if (idle === 0) return;
  if (heldReads.has(member)) {
    // Reads are paused for a reader: idle time counts again from when they resume.
    member.stage = STAGE_OPEN;
    member.seen = now;
    return;
  }
  if (member.stage === STAGE_PINGED) {
    // A byte stored after the ping holds the clock of the ping's sweep or later.
    if (member.seen < member.since) {
      if (now - member.since >= idle) {
        unwatch(member);
        member.expire(new TimeoutError("idleTimeout", idle, !unpinged.has(member)));
      }
      return;
    }
    member.stage = STAGE_OPEN;
  }
  // `seen` holds the clock of the sweep before the byte arrived, up to one period early: wait
  // that much longer, so a ping never goes before `idleTimeout` of real silence.
  if (now - member.seen >= idle + period) {
    member.stage = STAGE_PINGED;
    member.since = now;
    if (!member.ping()) unpinged.add(member);
  }
}
