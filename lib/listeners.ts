/**
 * The event handlers of one connection, kept in as little memory as an idle connection can hold:
 * one slot per event type, empty, holding one handler, or holding a list once a second handler is
 * added. (mitt, used before, cost an idle connection about 450 bytes: its object, three closures
 * and their context, a `Map` and its table, and a 17-slot array for the first handler.)
 *
 * The behaviour is mitt's: handlers run in the order they were added, a handler added twice runs
 * twice, `off(type, handler)` removes its first registration, `off(type)` removes all of that type,
 * and the handlers an `emit` calls are fixed when it starts (added ones run from the next event
 * on, removed ones still run this once).
 */
import type { DriverEventHandler, DriverEventType, DriverEvents } from "./events.js";

type Handler = (event: never) => void;
type Slot = Handler | Handler[] | undefined;

export class Listeners {
  connect: Slot = undefined;
  open: Slot = undefined;
  message: Slot = undefined;
  ping: Slot = undefined;
  pong: Slot = undefined;
  close: Slot = undefined;
  error: Slot = undefined;

  on<K extends DriverEventType>(type: K, handler: DriverEventHandler<K>): void {
    const slot = this[type];
    if (slot === undefined) this[type] = handler;
    else if (typeof slot === "function") this[type] = [slot, handler];
    else slot.push(handler);
  }

  off<K extends DriverEventType>(type: K, handler?: DriverEventHandler<K>): void {
    const slot = this[type];
    if (slot === undefined) return;
    if (handler === undefined) {
      this[type] = undefined;
    } else if (typeof slot === "function") {
      if (slot === handler) this[type] = undefined;
    } else {
      const index = slot.indexOf(handler);
      if (index >= 0) slot.splice(index, 1);
    }
  }

  emit<K extends DriverEventType>(type: K, event: DriverEvents[K]): void {
    const slot = this[type];
    if (slot === undefined) return;
    if (typeof slot === "function") {
      (slot as DriverEventHandler<K>)(event);
      return;
    }
    for (const handler of slot.slice()) (handler as DriverEventHandler<K>)(event);
  }
}
