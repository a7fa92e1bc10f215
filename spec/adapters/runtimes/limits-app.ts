/**
 * The application behind every server in the timeout and backpressure specs (in-process for Node,
 * in a child for Deno and Bun): it echoes, closes on "close", floods on "flood" without waiting for
 * `drained()`, answers "count" with how many other connections are still watched, and reports
 * what it saw when the connection closes.
 */
import type { AdapterConnection } from "../../../lib/adapters/connection.js";
import { watchedCount } from "../../../lib/adapters/timeouts.js";
import type { ServerDriver } from "../../../lib/types.js";

/** What the application saw of one connection, reported on its `close`. */
export interface ServerReport {
  /** The request's path, "" if none was read. */
  path: string;
  code: number;
  /** The first error: a `TimeoutError`'s option name, else the message. */
  error: string;
  /** The largest `bufferedAmount` seen after a ping or a message arrived, or after a flood's burst. */
  maxBuffered: number;
  pings: number;
  pongs: number;
  /** Milliseconds from the connection's start to its `close`. */
  ms: number;
}

const FLOOD_CHUNK = new Uint8Array(64 * 1024);

export function serveLimits(connection: AdapterConnection<ServerDriver>, report: (report: ServerReport) => void): void {
  const { driver } = connection;
  const started = Date.now();
  let maxBuffered = 0;
  let pings = 0;
  let pongs = 0;
  let error = "";
  const note = (): void => { maxBuffered = Math.max(maxBuffered, connection.bufferedAmount); };
  const fault = (cause: Error): void => {
    if (error === "") error = (cause as { option?: string }).option ?? cause.message;
  };
  connection.on("error", fault);
  driver.on("error", fault);
  driver.on("connect", () => driver.start());
  driver.on("ping", () => { pings++; note(); });
  driver.on("pong", () => { pongs++; });
  driver.on("message", ({ data }) => {
    note();
    if (data === "close") driver.close("bye");
    else if (data === "count") driver.text(String(watchedCount() - 1));
    else if (data === "flood") flood(0);
    else if (typeof data === "string") driver.text(data);
    else driver.binary(data);
    note();
  });
  // 16 messages of 64 KiB a turn, without waiting for drained(), at most 64 MiB: maxBufferedAmount stops it.
  const flood = (turn: number): void => {
    if (driver.readyState !== 1 || turn >= 64) return;
    for (let i = 0; i < 16 && driver.readyState === 1; i++) driver.binary(FLOOD_CHUNK);
    note();
    setTimeout(flood, 1, turn + 1);
  };
  driver.on("close", ({ code }) => {
    report({ path: driver.request?.url ?? "", code, error, maxBuffered, pings, pongs, ms: Date.now() - started });
  });
}
