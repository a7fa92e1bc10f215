/**
 * Recording a driver's events, and awaiting the next one of a kind.
 */
import type { CloseEvent, DriverEvents, DriverEventType } from "../events.js";
import type { Driver } from "../types.js";
import { Inbox } from "./inbox.js";

/** One event as `[type, event]`, in the order the driver emitted it. */
export type RecordedEvent = { [K in DriverEventType]: [K, DriverEvents[K]] }[DriverEventType];

const TYPES: readonly DriverEventType[] = [
  "connect", "open", "message", "messagestart", "messagedata", "messageend", "ping", "pong", "close", "error",
];

/** Every event a driver emits, from the moment it is made, in order; and promises of the next ones. */
export class EventLog {
  private readonly inbox = new Inbox<RecordedEvent>();

  constructor(driver: Driver) {
    for (const type of TYPES) {
      driver.on(type, (event: DriverEvents[typeof type]) => {
        this.inbox.push([type, event] as RecordedEvent);
        if (type === "close") {
          const { code, reason } = event as CloseEvent;
          this.inbox.finish((kind) => new Error(`No ${kind} event: the connection closed (${code}${reason ? ` ${JSON.stringify(reason)}` : ""}) first`));
        }
      });
    }
  }

  /** Every event so far, as `[type, event]`. */
  get all(): RecordedEvent[] {
    return this.inbox.items;
  }

  /** The events of one type so far. */
  of<K extends DriverEventType>(type: K): Array<DriverEvents[K]> {
    return this.inbox.items.filter(([t]) => t === type).map(([, event]) => event as DriverEvents[K]);
  }

  /** Every type in order: `["open", "message", "close"]`. */
  get types(): DriverEventType[] {
    return this.inbox.items.map(([type]) => type);
  }

  /** The data of every message so far: text as strings, binary as `Uint8Array`s. */
  get messages(): Array<string | Uint8Array> {
    return this.of("message").map((event) => event.data);
  }

  get errors(): Error[] {
    return this.of("error");
  }

  /** The `close` event, once there was one. */
  get close(): CloseEvent | undefined {
    return this.of("close")[0];
  }

  /**
   * The next event of `type` not yet returned by `next`: at once if it has happened, else when it
   * does. Rejects if the connection closes without one (so a test never hangs on it).
   */
  next<K extends DriverEventType>(type: K): Promise<DriverEvents[K]> {
    return this.inbox.next(type, ([t]) => t === type).then(([, event]) => event as DriverEvents[K]);
  }

  /** The next message's data. */
  nextMessage(): Promise<string | Uint8Array> {
    return this.next("message").then((event) => event.data);
  }

  /** The `close` event, when it comes. */
  closed(): Promise<CloseEvent> {
    return this.next("close");
  }
}

const logs = new WeakMap<Driver, EventLog>();

/**
 * The event log of `driver`: the one the kit has kept since it made the driver, or one that starts
 * recording now (and is returned again on later calls).
 */
export function events(driver: Driver): EventLog {
  let log = logs.get(driver);
  if (log === undefined) {
    log = new EventLog(driver);
    logs.set(driver, log);
  }
  return log;
}

/** The next event of `type` a driver emits (see `EventLog.next`). */
export function nextEvent<K extends DriverEventType>(driver: Driver, type: K): Promise<DriverEvents[K]> {
  return events(driver).next(type);
}

/** The next message's data. */
export function nextMessage(driver: Driver): Promise<string | Uint8Array> {
  return events(driver).nextMessage();
}

/** The driver's `close` event, when it comes. */
export function closed(driver: Driver): Promise<CloseEvent> {
  return events(driver).closed();
}
