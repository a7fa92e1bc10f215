/**
 * Run by spec/adapters/cancel.spec.ts with `bun`: two clients on the Bun adapter give up before
 * `Bun.connect` has opened their sockets, one with `driver.close()`, one with `destroy()`. A plain
 * `Bun.listen` server counts the sockets that open and close; once both have closed it prints the
 * counts and what each driver emitted.
 */
import { connect } from "../../../lib/adapters/bun.js";
import { Bun } from "./bun-runtime.js";

let opened = 0, closed = 0;
let allClosed: () => void = () => undefined;
const done = new Promise<void>((resolve) => { allClosed = resolve; });
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open: () => { opened++; },
    data: () => undefined,
    drain: () => undefined,
    end: () => undefined,
    error: () => undefined,
    connectError: () => undefined,
    close: () => { if (++closed === 2) allClosed(); },
  },
});
const url = `ws://127.0.0.1:${listener.port}/`;
const events: string[] = [];
const closedByDriver = connect(url);
closedByDriver.driver.on("close", ({ code }) => events.push(`close() ${code}`));
closedByDriver.driver.close();
const destroyed = connect(url);
destroyed.driver.on("close", ({ code }) => events.push(`destroy() ${code}`));
destroyed.destroy();
await done;
listener.stop();
console.log(JSON.stringify({ opened, closed, events }));
